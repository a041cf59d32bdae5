package credtypes_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/credtypes"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/credtypes/credtypestest"
)

// x509Cases are the TestParse cases for x509, with certificates made at test time.
func x509Cases(t *testing.T) []parseCase {
	valid := func(opts credtypestest.CertOptions) credtypestest.Cert {
		if opts.NotBefore.IsZero() {
			opts.NotBefore = now.Add(-time.Hour)
		}
		if opts.NotAfter.IsZero() {
			opts.NotAfter = now.AddDate(1, 0, 0)
		}
		return credtypestest.NewCert(t, opts)
	}
	ca := valid(credtypestest.CertOptions{CommonName: "Example CA", IsCA: true})
	intermediate := valid(credtypestest.CertOptions{CommonName: "Example Intermediate CA", IsCA: true, Parent: &ca})
	leaf := valid(credtypestest.CertOptions{CommonName: "device-1", Parent: &intermediate})
	other := valid(credtypestest.CertOptions{})
	raw := map[string]any{"cert": leaf.CertPEM, "key": leaf.KeyPEM, "ca": ca.CertPEM}

	cases := []parseCase{
		{
			name: "x509/reports the certificate's expiry and sends cert, key and ca", typ: "x509", raw: raw,
			check: func(t *testing.T, c credtypes.Credentials) {
				if !c.CertificateNotAfter.Equal(leaf.Certificate.NotAfter) {
					t.Errorf("CertificateNotAfter = %v, want %v", c.CertificateNotAfter, leaf.Certificate.NotAfter)
				}
				wantFields(raw)(t, c)
				wantSummary(
					credtypes.SummaryItem{Name: "key", Value: "***"},
					credtypes.SummaryItem{Name: "certificate subject", Value: "CN=device-1"},
					credtypes.SummaryItem{Name: "certificate issuer", Value: "CN=Example Intermediate CA"},
					credtypes.SummaryItem{Name: "certificate not after", Value: now.AddDate(1, 0, 0).Format(time.RFC3339)},
					credtypes.SummaryItem{Name: "ca certificate", Value: "CN=Example CA"},
				)(t, c)
			},
		},
		{
			name: "x509/accepts a ca chain of several certificates", typ: "x509",
			raw: map[string]any{"cert": leaf.CertPEM, "key": leaf.KeyPEM, "ca": intermediate.CertPEM + ca.CertPEM},
		},
		{
			name: "x509/accepts a cert followed by its intermediates, matching the key to the first", typ: "x509",
			raw: map[string]any{"cert": leaf.CertPEM + intermediate.CertPEM, "key": leaf.KeyPEM},
		},
		{
			name: "x509/trims surrounding whitespace and sends \\n line endings", typ: "x509",
			raw: map[string]any{
				"cert": "\n  " + strings.ReplaceAll(leaf.CertPEM, "\n", "\r\n") + "\r\n\n",
				"key":  strings.ReplaceAll(leaf.KeyPEM, "\n", "\r\n"),
			},
			check: wantFields(map[string]any{"cert": leaf.CertPEM, "key": leaf.KeyPEM}),
		},
		{
			name: "x509/refuses an expired certificate, giving the dates", typ: "x509",
			raw:     with(raw, "cert", valid(credtypestest.CertOptions{NotBefore: now.AddDate(-1, 0, 0), NotAfter: now.Add(-time.Minute)}).CertPEM, "key", deleted),
			wantErr: []string{"the certificate expired at " + now.Add(-time.Minute).Format(time.RFC3339), "it is now " + now.Format(time.RFC3339)},
		},
		{
			name: "x509/refuses a certificate not valid yet, giving the dates", typ: "x509",
			raw:     with(raw, "cert", valid(credtypestest.CertOptions{NotBefore: now.Add(time.Hour)}).CertPEM, "key", deleted),
			wantErr: []string{"not valid until " + now.Add(time.Hour).Format(time.RFC3339)},
		},
		{
			name: "x509/refuses a key that does not match the certificate", typ: "x509",
			raw: with(raw, "key", other.KeyPEM), wantErr: []string{"`key` for type x509 does not match the certificate"},
		},
		{
			name: "x509/refuses a key of another algorithm than the certificate's", typ: "x509",
			raw:     with(raw, "key", credtypestest.KeyPEM(t, credtypestest.NewKey(t, credtypestest.Ed25519), credtypestest.PKCS8)),
			wantErr: []string{"does not match the certificate"},
		},
		{
			name: "x509/refuses a cert that is not PEM", typ: "x509",
			raw: with(raw, "cert", "MIIB...not pem"), wantErr: []string{"`cert` for type x509 is not a PEM certificate", "does not start with a PEM"},
		},
		{
			name: "x509/refuses a truncated PEM certificate", typ: "x509",
			raw: with(raw, "cert", leaf.CertPEM[:len(leaf.CertPEM)-30]), wantErr: []string{"malformed or truncated"},
		},
		{
			name: "x509/refuses text after the certificate", typ: "x509",
			raw: with(raw, "cert", leaf.CertPEM+"Bag Attributes\n"), wantErr: []string{"text after a PEM block"},
		},
		{
			name: "x509/refuses a private key given as cert, without quoting it", typ: "x509",
			raw: with(raw, "cert", leaf.KeyPEM), wantErr: []string{"PEM block 1 is a \"PRIVATE KEY\", not a \"CERTIFICATE\""},
		},
		{
			name: "x509/refuses a certificate given as key", typ: "x509",
			raw: with(raw, "key", leaf.CertPEM), wantErr: []string{"`key` for type x509 is not a PEM private key", "not a private key"},
		},
		{
			name: "x509/refuses an encrypted key", typ: "x509",
			raw:     with(raw, "key", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n"),
			wantErr: []string{"encrypted private key"},
		},
		{
			name: "x509/refuses a key PEM block whose content is not a key", typ: "x509",
			raw:     with(raw, "key", "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"),
			wantErr: []string{"its \"PRIVATE KEY\" PEM block does not parse as one"},
		},
		{
			name: "x509/refuses a ca that is not certificates", typ: "x509",
			raw: with(raw, "ca", "Example CA"), wantErr: []string{"`ca` for type x509 is not one or more PEM certificates"},
		},
		{
			name: "x509/reports a bad cert, key and ca at once", typ: "x509",
			raw:     map[string]any{"cert": "x509-Secret-cert", "key": "x509-Secret-key", "ca": "x509-Secret-ca"},
			wantErr: []string{"`cert` for type x509 is not", "`key` for type x509 is not", "`ca` for type x509 is not"},
		},
		{
			name: "x509/suggests `key` for `privateKey`", typ: "x509",
			raw: with(raw, "privateKey", leaf.KeyPEM, "key", deleted), wantErr: []string{"did you mean `key`?"},
		},
		{
			name: "x509/suggests `cert` for `certificate`", typ: "x509",
			raw: with(raw, "certificate", leaf.CertPEM, "cert", deleted), wantErr: []string{"did you mean `cert`?"},
		},
	}

	// Every key algorithm in every encoding that holds it.
	for _, k := range []struct {
		name string
		alg  credtypestest.Algorithm
		enc  credtypestest.Encoding
	}{
		{"an RSA key in PKCS#1", credtypestest.RSA, credtypestest.PKCS1},
		{"an RSA key in PKCS#8", credtypestest.RSA, credtypestest.PKCS8},
		{"an ECDSA key in SEC 1", credtypestest.ECDSA, credtypestest.SEC1},
		{"an ECDSA key in PKCS#8", credtypestest.ECDSA, credtypestest.PKCS8},
		{"an Ed25519 key in PKCS#8", credtypestest.Ed25519, credtypestest.PKCS8},
	} {
		c := valid(credtypestest.CertOptions{Algorithm: k.alg, Encoding: k.enc})
		cases = append(cases, parseCase{
			name: "x509/accepts " + k.name, typ: "x509",
			raw: map[string]any{"cert": c.CertPEM, "key": c.KeyPEM},
		})
	}
	sec1 := valid(credtypestest.CertOptions{Encoding: credtypestest.SEC1})
	cases = append(cases, parseCase{
		name: "x509/accepts an ECDSA key after openssl's EC PARAMETERS block", typ: "x509",
		raw: map[string]any{"cert": sec1.CertPEM, "key": "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n" + sec1.KeyPEM},
	})
	return cases
}

// serviceAccountCases are the TestParse cases for google-service-account-json.
func serviceAccountCases(t *testing.T) []parseCase {
	key := credtypestest.ServiceAccountKey(t)
	text, err := json.MarshalIndent(key, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, text); err != nil {
		t.Fatal(err)
	}
	typ := "google-service-account-json"
	sentAs := func(want string) func(*testing.T, credtypes.Credentials) {
		return func(t *testing.T, c credtypes.Credentials) {
			got, ok := c.Fields["credentials"].(string)
			if !ok || got != want {
				t.Errorf("credentials.credentials = %.40q…, want %.40q…", got, want)
			}
			if len(c.Fields) != 1 {
				t.Errorf("Fields has %d fields, want credentials only", len(c.Fields))
			}
		}
	}
	without := func(name string) map[string]any { return with(key, name, deleted) }
	return []parseCase{
		{
			name: typ + "/sends a key file given as an object as its JSON text", typ: typ,
			raw: map[string]any{"credentials": key},
			check: func(t *testing.T, c credtypes.Credentials) {
				var got map[string]any
				if err := json.Unmarshal([]byte(c.Fields["credentials"].(string)), &got); err != nil {
					t.Fatalf("credentials.credentials is not JSON: %v", err)
				}
				if got["private_key"] != key["private_key"] || got["client_email"] != key["client_email"] {
					t.Errorf("credentials.credentials does not hold the key file")
				}
				wantSummary(
					credtypes.SummaryItem{Name: "credentials", Value: "***"},
					credtypes.SummaryItem{Name: "client_email", Value: key["client_email"].(string)},
					credtypes.SummaryItem{Name: "project_id", Value: key["project_id"].(string)},
				)(t, c)
			},
		},
		{
			name: typ + "/sends a key file given as text on one line, so that it is masked as one", typ: typ,
			raw: map[string]any{"credentials": "\n" + string(text) + "\n"}, check: sentAs(compact.String()),
		},
		{
			name: typ + "/refuses text that is not JSON, quoting none of it", typ: typ,
			raw: map[string]any{"credentials": "{" + key["private_key"].(string)}, wantErr: []string{"is a string but not a JSON object (syntax error at byte 2)"},
		},
		{
			name: typ + "/refuses another kind of Google credential", typ: typ,
			raw:     map[string]any{"credentials": map[string]any{"type": "authorized_user", "client_secret": "gcs-Secret-11", "refresh_token": "grt-Secret-22"}},
			wantErr: []string{"\"type\" is \"authorized_user\", not \"service_account\"", "no \"client_email\"", "no \"private_key\""},
		},
		{
			name: typ + "/refuses a key file without a type", typ: typ,
			raw: map[string]any{"credentials": without("type")}, wantErr: []string{"has no \"type\""},
		},
		{
			name: typ + "/refuses a key file without client_email", typ: typ,
			raw: map[string]any{"credentials": without("client_email")}, wantErr: []string{"no \"client_email\""},
		},
		{
			name: typ + "/refuses a key file without private_key", typ: typ,
			raw: map[string]any{"credentials": without("private_key")}, wantErr: []string{"no \"private_key\""},
		},
		{
			name: typ + "/refuses a private_key that is not PEM", typ: typ,
			raw:     map[string]any{"credentials": with(key, "private_key", "gpk-Secret-not-a-key")},
			wantErr: []string{"\"private_key\" is not a PEM private key"},
		},
		{
			name: typ + "/refuses a private_key that is a damaged PEM key", typ: typ,
			raw:     map[string]any{"credentials": with(key, "private_key", "-----BEGIN PRIVATE KEY-----\nZ3BrLVNlY3JldC1kYW1hZ2Vk\n-----END PRIVATE KEY-----\n")},
			wantErr: []string{"\"private_key\" is not a PEM private key"},
		},
		{
			name: typ + "/refuses an array", typ: typ,
			raw: map[string]any{"credentials": []any{"x"}}, wantErr: []string{"must be the service-account key file's JSON, as an object or as a string, not an array"},
		},
	}
}

// privateKeyPEMCases are the TestParse cases for private-key-pem, whose field names
// SORACOM does not document.
func privateKeyPEMCases(t *testing.T) []parseCase {
	typ := "private-key-pem"
	key := credtypestest.KeyPEM(t, credtypestest.NewKey(t, credtypestest.ECDSA), credtypestest.SEC1)
	return []parseCase{
		{
			name: typ + "/accepts a PEM private key under any field name and sends it normalized", typ: typ,
			raw:   map[string]any{"pem": " " + key, "label": "pkp-Secret-lbl"},
			check: wantFields(map[string]any{"pem": key, "label": "pkp-Secret-lbl"}),
		},
		{
			name: typ + "/refuses an empty object", typ: typ,
			raw: map[string]any{}, wantErr: []string{"give at least one field holding a PEM private key"},
		},
		{
			name: typ + "/refuses values without a PEM private key", typ: typ,
			raw: map[string]any{"privateKey": "pkp-Secret-plain"}, wantErr: []string{"no field holds one"},
		},
		{
			name: typ + "/refuses a PEM value that is not a private key", typ: typ,
			raw:     map[string]any{"privateKey": "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n"},
			wantErr: []string{"the PEM value given is not one", "not a private key"},
		},
		{
			name: typ + "/refuses a number and an empty value", typ: typ,
			raw:     map[string]any{"privateKey": key, "n": 1.0, "e": ""},
			wantErr: []string{"`n` for type private-key-pem must be a JSON string, not a number", "`e` for type private-key-pem is empty"},
		},
	}
}
