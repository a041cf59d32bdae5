package e2e

// Types: every SORACOM credential type is validated, stored as the API documents it and
// masked field by field; credentials come inline or from a file in the workspace.

import (
	"encoding/json"
	"maps"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/credtypes/credtypestest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// typeFields are the credentials fields of every type, plain and secret, written here
// independently of internal/credtypes from the request examples of SORACOM's published
// API description, so a wrong table in the code cannot make its own test pass.
var typeFields = map[string]struct{ plain, secret []string }{
	"aws-credentials":                {[]string{"accessKeyId"}, []string{"secretAccessKey"}},
	"aws-iam-role-credentials":       {[]string{"roleArn"}, []string{"externalId"}},
	"azure-credentials":              {[]string{"policyName"}, []string{"key"}},
	"azureIoT-credentials":           {[]string{"sharedAccessKeyName"}, []string{"sharedAccessKey"}},
	"api-token-credentials":          {nil, []string{"token"}},
	"esrij-credentials":              {[]string{"refererUrl"}, nil},
	"google-service-account-json":    {nil, []string{"credentials"}},
	"googleIoT-credentials":          {[]string{"algorithm", "deviceId", "projectId", "region", "registryId"}, []string{"privateKey"}},
	"infoteria-platio-credentials":   {[]string{"tokenId"}, []string{"secretToken"}},
	"kii-thingif-credentials":        {[]string{"app_id", "client_id"}, []string{"app_key", "client_secret"}},
	"landlog-credentials":            {[]string{"client_id"}, []string{"client_secret"}},
	"mmcloud-credentials":            {[]string{"commandcode", "customerid", "machineid", "machineidtype"}, nil},
	"motionboard-credentials":        {[]string{"tenant", "template"}, []string{"authkey"}},
	"optim-cloud-IoT-OS-credentials": {[]string{"client_id"}, []string{"client_secret"}},
	"psk":                            {nil, []string{"key"}},
	"pubnub-credentials":             {nil, []string{"pubKey", "subKey"}},
	"sensorcorpus-credentials":       {nil, []string{"session_code"}},
	"username-password-credentials":  {[]string{"username"}, []string{"password"}},
	"x509":                           {[]string{"cert", "ca"}, []string{"key"}},
	"private-key-pem":                {nil, []string{"privateKey"}},
}

func typeNames() []string {
	var n []string
	for k := range typeFields {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// runType registers creds as a set of type typ, and checks that every secret field of
// the type (per typeFields) is masked and never printed.
func runType(t *testing.T, typ string, creds map[string]any, opts ...soracomtest.Option) (*soracomtest.Server, runResult) {
	t.Helper()
	text, _ := json.Marshal(creds)
	s, in := registration(t, map[string]string{"credential-type": typ, "aws-access-key-id": "", "aws-secret-access-key": "", "credentials": string(text)}, opts...)
	r := runAction(t, runOpts{inputs: in, secrets: typeSecrets(typ, creds)})
	return s, r
}

// typeSecrets are the AuthKey and the values of creds that typeFields says are secret
// (for a service-account key file given as an object, its private key and key id).
func typeSecrets(typ string, creds map[string]any) []string {
	secrets := []string{authKeySecret}
	for _, f := range typeFields[typ].secret {
		switch v := creds[f].(type) {
		case string:
			secrets = append(secrets, v)
		case map[string]any:
			for _, k := range []string{"private_key", "private_key_id"} {
				if s, ok := v[k].(string); ok {
					secrets = append(secrets, s)
				}
			}
		}
	}
	return secrets
}

func TestEveryTypeValidStoredMaskedAndContract(t *testing.T) {
	t.Parallel()
	contract := soracomtest.RequireContract(t)
	for _, typ := range typeNames() {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			creds := credtypestest.Valid(t, typ, time.Now())
			// multi-line secret for types with a plain string secret
			if typ == "username-password-credentials" {
				creds["password"] = "first-Secret-line\nsecond-Secret-line"
			}
			s, r := runType(t, typ, creds, soracomtest.WithContract(contract))
			mustSucceed(t, r)
			checkStored(t, s, typ, creds)
			if vs := s.ContractViolations(); len(vs) != 0 {
				t.Errorf("contract violations: %v", vs)
			}
			lines := strings.Split(r.stdout, "\n")
			for _, f := range typeFields[typ].plain {
				if v, ok := creds[f].(string); ok && !strings.Contains(v, "\n") && maskIndex(lines, v) >= 0 {
					t.Errorf("non-secret field %s was masked", f)
				}
			}
			checkCertificateNotAfter(t, typ, r)
		})
	}
}

// checkStored checks that the set was stored as typ with every field of creds; a
// service-account key file given as an object is sent as its JSON text.
func checkStored(t *testing.T, s *soracomtest.Server, typ string, creds map[string]any) {
	t.Helper()
	set, ok := s.CredentialSet("funnel-aws")
	if !ok || set.Type != typ {
		t.Fatalf("not stored as %s", typ)
	}
	for k, v := range creds {
		got := set.Credentials[k]
		switch v := v.(type) {
		case string:
			if gs, _ := got.(string); strings.TrimSpace(gs) != strings.TrimSpace(v) {
				t.Errorf("stored %s differs", k)
			}
		case map[string]any:
			gs, isStr := got.(string)
			var back map[string]any
			if !isStr || json.Unmarshal([]byte(gs), &back) != nil || back["private_key"] != v["private_key"] {
				t.Errorf("%s not sent as a JSON string of the key file: %T", k, got)
			}
		}
	}
}

// checkCertificateNotAfter checks that certificate-not-after is an RFC 3339 time for
// x509 and is not set for any other type.
func checkCertificateNotAfter(t *testing.T, typ string, r runResult) {
	t.Helper()
	got := r.outputs["certificate-not-after"]
	if typ != "x509" {
		if got != "" {
			t.Errorf("certificate-not-after set for %s", typ)
		}
		return
	}
	if _, err := time.Parse(time.RFC3339, got); err != nil {
		t.Errorf("certificate-not-after %q", got)
	}
}

// typeFieldNames are the fields of typ per typeFields, plain then secret, and those of
// them that are required (all but x509's ca and aws-iam-role-credentials' externalId).
func typeFieldNames(typ string) (fields, required []string) {
	fields = append(append([]string{}, typeFields[typ].plain...), typeFields[typ].secret...)
	for _, f := range fields {
		if !(typ == "x509" && f == "ca") && !(typ == "aws-iam-role-credentials" && f == "externalId") {
			required = append(required, f)
		}
	}
	return fields, required
}

func TestEveryTypeMissingAndUnknownField(t *testing.T) {
	t.Parallel()
	for _, typ := range typeNames() {
		if typ == "private-key-pem" {
			continue
		}
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			fields, required := typeFieldNames(typ)
			// missing: drop the first required field
			creds := credtypestest.Valid(t, typ, time.Now())
			delete(creds, required[0])
			s, r := runType(t, typ, creds)
			if r.code != 1 || len(s.Requests()) != 0 {
				t.Fatalf("missing %s: exit %d", required[0], r.code)
			}
			quoted := make([]string, len(required))
			for i, f := range required {
				quoted[i] = "`" + f + "`"
			}
			checkContains(t, "missing-field error", oneError(t, r), quoted...)
			// unknown: misspell the last field (drop its 2nd char)
			creds = credtypestest.Valid(t, typ, time.Now())
			last := fields[len(fields)-1]
			v := creds[last]
			delete(creds, last)
			typo := last[:1] + last[2:]
			creds[typo] = v
			s, r = runType(t, typ, creds)
			if r.code != 1 || len(s.Requests()) != 0 {
				t.Fatalf("unknown %s: exit %d", typo, r.code)
			}
			if msg := oneError(t, r); !strings.Contains(msg, "did you mean `"+last+"`") {
				t.Errorf("no suggestion for %s → %s: %s", typo, last, msg)
			}
		})
	}
}

// An x509 set read from credentials-file (an RSA key under a CA) is parsed, stored and
// its expiry reported in the output and the summary.
func TestX509FromCredentialsFile(t *testing.T) {
	t.Parallel()
	ca := credtypestest.NewCert(t, credtypestest.CertOptions{CommonName: "fleet CA", IsCA: true})
	notAfter := time.Now().Add(90 * 24 * time.Hour).UTC().Truncate(time.Second)
	device := credtypestest.NewCert(t, credtypestest.CertOptions{CommonName: "device-1", NotAfter: notAfter, Parent: &ca, Algorithm: credtypestest.RSA})
	text, err := json.Marshal(map[string]any{"cert": device.CertPEM, "key": device.KeyPEM, "ca": ca.CertPEM})
	if err != nil {
		t.Fatal(err)
	}
	s, in := registration(t, map[string]string{"credential-type": "x509", "aws-access-key-id": "", "aws-secret-access-key": "", "credentials-file": "creds/x509.json"})
	r := runWithWorkspaceFile(t, runOpts{inputs: in, secrets: []string{authKeySecret, device.KeyPEM}}, "creds/x509.json", text)
	mustSucceed(t, r)
	set, ok := s.CredentialSet("funnel-aws")
	if !ok || set.Type != "x509" {
		t.Fatalf("set not stored as x509")
	}
	if cert, _ := set.Credentials["cert"].(string); !strings.Contains(cert, "BEGIN CERTIFICATE") {
		t.Errorf("cert not stored")
	}
	if r.outputs["certificate-not-after"] != notAfter.Format(time.RFC3339) {
		t.Errorf("certificate-not-after = %q, want %s", r.outputs["certificate-not-after"], notAfter.Format(time.RFC3339))
	}
	if !strings.Contains(r.summary, notAfter.Format(time.RFC3339)) {
		t.Errorf("summary does not show the expiry")
	}
}

func TestX509(t *testing.T) {
	t.Parallel()
	ca := credtypestest.NewCert(t, credtypestest.CertOptions{CommonName: "CA", IsCA: true})
	notAfter := time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Second)
	leaf := credtypestest.NewCert(t, credtypestest.CertOptions{Parent: &ca, NotAfter: notAfter})
	other := credtypestest.NewCert(t, credtypestest.CertOptions{})
	expired := credtypestest.NewCert(t, credtypestest.CertOptions{NotBefore: time.Now().Add(-72 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	future := credtypestest.NewCert(t, credtypestest.CertOptions{NotBefore: time.Now().Add(48 * time.Hour), NotAfter: time.Now().Add(96 * time.Hour)})
	cases := []struct {
		name  string
		creds map[string]any
		code  int
		says  []string
	}{
		{"valid with CRLF", map[string]any{"cert": strings.ReplaceAll(leaf.CertPEM, "\n", "\r\n"), "key": strings.ReplaceAll(leaf.KeyPEM, "\n", "\r\n"), "ca": ca.CertPEM}, 0, nil},
		{"valid without ca", map[string]any{"cert": leaf.CertPEM, "key": leaf.KeyPEM}, 0, nil},
		{"expired", map[string]any{"cert": expired.CertPEM, "key": expired.KeyPEM}, 1, []string{"cert", "expired"}},
		{"not yet valid", map[string]any{"cert": future.CertPEM, "key": future.KeyPEM}, 1, []string{"cert"}},
		{"key mismatch", map[string]any{"cert": leaf.CertPEM, "key": other.KeyPEM}, 1, []string{"key", "does not match"}},
		{"cert garbage", map[string]any{"cert": "not a pem", "key": leaf.KeyPEM}, 1, []string{"cert"}},
		{"ca garbage", map[string]any{"cert": leaf.CertPEM, "key": leaf.KeyPEM, "ca": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}, 1, []string{"ca"}},
		{"key garbage", map[string]any{"cert": leaf.CertPEM, "key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}, 1, []string{"key"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, r := runType(t, "x509", tc.creds)
			if r.code != tc.code {
				t.Fatalf("exit %d\n%s", r.code, r.stdout)
			}
			if tc.code == 0 {
				if r.outputs["certificate-not-after"] != notAfter.Format(time.RFC3339) {
					t.Errorf("certificate-not-after %q want %s", r.outputs["certificate-not-after"], notAfter.Format(time.RFC3339))
				}
				if !strings.Contains(r.summary, notAfter.Format(time.RFC3339)) {
					t.Errorf("summary lacks expiry")
				}
				return
			}
			failedBeforeNetwork(t, s, r, tc.says)
		})
	}
}

func TestGoogleServiceAccount(t *testing.T) {
	t.Parallel()
	sa := credtypestest.ServiceAccountKey(t)
	pretty, _ := json.MarshalIndent(sa, "", "  ")
	without := func(k string) map[string]any {
		m := maps.Clone(sa)
		delete(m, k)
		return m
	}
	other := without("type")
	other["type"] = "authorized_user"
	cases := []struct {
		name string
		v    any
		code int
		says string
	}{
		{"object", sa, 0, ""},
		{"string (pretty JSON text)", string(pretty), 0, ""},
		{"no type", without("type"), 1, "type"},
		{"wrong type", other, 1, "service_account"},
		{"no client_email", without("client_email"), 1, "client_email"},
		{"no private_key", without("private_key"), 1, "private_key"},
		{"string not JSON", "this is not json at all", 1, "credentials"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			text, _ := json.Marshal(map[string]any{"credentials": tc.v})
			s, in := registration(t, map[string]string{"credential-type": "google-service-account-json", "aws-access-key-id": "", "aws-secret-access-key": "", "credentials": string(text)})
			r := runAction(t, runOpts{inputs: in, secrets: serviceAccountSecrets(sa, tc.v, tc.code)})
			if r.code != tc.code {
				t.Fatalf("exit %d\n%s", r.code, r.stdout)
			}
			if tc.code == 1 {
				if msg := oneError(t, r); !strings.Contains(msg, tc.says) {
					t.Errorf("error lacks %q: %s", tc.says, msg)
				}
				return
			}
			set, _ := s.CredentialSet("funnel-aws")
			if !isKeyFileText(set.Credentials["credentials"], sa) {
				t.Errorf("credentials.credentials not the key file as a JSON string: %T", set.Credentials["credentials"])
			}
			if strings.Contains(r.summary, "PRIVATE KEY") {
				t.Errorf("summary shows the private key")
			}
		})
	}
}

// serviceAccountSecrets are the secrets of a run given v as the key file: the private
// key and its id when v holds them (as an object, or as the text of a valid key file),
// and the whole text when it is not a usable key file.
func serviceAccountSecrets(sa map[string]any, v any, code int) []string {
	secrets := []string{authKeySecret}
	switch v := v.(type) {
	case map[string]any:
		for _, k := range []string{"private_key", "private_key_id"} {
			if s, ok := v[k].(string); ok {
				secrets = append(secrets, s)
			}
		}
	case string:
		if code == 0 {
			return append(secrets, sa["private_key"].(string), sa["private_key_id"].(string))
		}
		secrets = append(secrets, v)
	}
	return secrets
}

// isKeyFileText says whether stored is the service-account key file sa as JSON text.
func isKeyFileText(stored any, sa map[string]any) bool {
	str, ok := stored.(string)
	var back map[string]any
	return ok && json.Unmarshal([]byte(str), &back) == nil &&
		back["client_email"] == sa["client_email"] && back["private_key"] == sa["private_key"]
}

func TestPSKAndRoleArn(t *testing.T) {
	t.Parallel()
	cases := []struct {
		typ   string
		creds map[string]any
		code  int
		says  string
	}{
		{"psk", map[string]any{"key": ""}, 1, "key"},
		{"psk", map[string]any{"key": "   "}, 1, "key"},
		{"psk", map[string]any{"key": 12345}, 1, "key"},
		{"psk", map[string]any{}, 1, "key"},
		{"psk", map[string]any{"key": "psk-Secret-value-1"}, 0, ""},
		{"aws-iam-role-credentials", map[string]any{"roleArn": "arn:aws:iam::123456789012:role/r", "externalId": "ext-Secret-aaaa"}, 0, ""},
		{"aws-iam-role-credentials", map[string]any{"roleArn": "arn:aws-cn:iam::123456789012:role/path/r", "externalId": "ext-Secret-aaaa"}, 0, ""},
		{"aws-iam-role-credentials", map[string]any{"roleArn": "arn:aws-us-gov:iam::123456789012:role/r", "externalId": "ext-Secret-aaaa"}, 0, ""},
		{"aws-iam-role-credentials", map[string]any{"roleArn": "arn:aws-iso-b:iam::123456789012:role/r", "externalId": "ext-Secret-aaaa"}, 0, ""},
		{"aws-iam-role-credentials", map[string]any{"roleArn": "arn:aws-eusc:iam::123456789012:role/r", "externalId": "ext-Secret-aaaa"}, 0, ""},
		{"aws-iam-role-credentials", map[string]any{"roleArn": "arn:aws:iam::12345678901:role/r", "externalId": "ext-Secret-aaaa"}, 1, "roleArn"},
		{"aws-iam-role-credentials", map[string]any{"roleArn": "arn:aws:sts::123456789012:assumed-role/r/s", "externalId": "ext-Secret-aaaa"}, 1, "roleArn"},
		{"aws-iam-role-credentials", map[string]any{"roleArn": "arn:aws:iam::123456789012:user/r", "externalId": "ext-Secret-aaaa"}, 1, "roleArn"},
		{"aws-iam-role-credentials", map[string]any{"roleArn": "role/r", "externalId": "ext-Secret-aaaa"}, 1, "roleArn"},
	}
	for i, tc := range cases {
		t.Run(tc.typ+string(rune('a'+i)), func(t *testing.T) {
			t.Parallel()
			s, r := runType(t, tc.typ, tc.creds)
			if r.code != tc.code {
				t.Fatalf("%v: exit %d\n%s", tc.creds, r.code, r.stdout)
			}
			if tc.code == 1 {
				if len(s.Requests()) != 0 {
					t.Errorf("requests sent")
				}
				if msg := oneError(t, r); !strings.Contains(msg, tc.says) {
					t.Errorf("error lacks %q: %s", tc.says, msg)
				}
			}
			if ext, ok := tc.creds["externalId"].(string); ok && maskIndex(strings.Split(r.stdout, "\n"), ext) < 0 {
				t.Errorf("externalId not masked")
			}
		})
	}
}

func TestCredentialsFile(t *testing.T) {
	t.Parallel()
	good := `{"username":"device-fleet","password":"file-PW-Secret-0001"}`
	// The password is masked when the file is read as JSON: not from a directory or
	// a file that does not parse.
	pw := []string{"file-PW-Secret-0001"}
	cases := []struct {
		name    string
		rel     string // file written at this path in the workspace
		content string
		input   string   // credentials-file input
		masked  []string // secrets masked once the file is read as JSON
		code    int
		says    []string
	}{
		{"relative ok", "cfg/creds.json", good, "cfg/creds.json", pw, 0, nil},
		{"./ relative ok", "creds.json", good, "./creds.json", pw, 0, nil},
		{"missing", "", "", "cfg/nope.json", nil, 1, []string{"credentials-file", "cfg/nope.json"}},
		{"invalid JSON", "bad.json", `{"username": "device-fleet", "password": "file-PW-Secret-0001"`, "bad.json", nil, 1, []string{"credentials-file", "bad.json"}},
		{"array", "arr.json", `["a"]`, "arr.json", nil, 1, []string{"credentials-file", "arr.json"}},
		{"empty", "empty.json", "", "empty.json", nil, 1, []string{"credentials-file", "empty.json"}},
		{"directory", "dir/x.json", good, "dir", nil, 1, []string{"credentials-file", "dir"}},
		{"unknown field in file", "typo.json", `{"username":"device-fleet","pasword":"file-PW-Secret-0001"}`, "typo.json", pw, 1, []string{"did you mean `password`"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, in := registration(t, map[string]string{"credential-type": "username-password-credentials", "aws-access-key-id": "", "aws-secret-access-key": "", "credentials-file": tc.input})
			ws := t.TempDir()
			if tc.rel != "" {
				writeWorkspaceFile(t, ws, tc.rel, []byte(tc.content))
			}
			secrets := append([]string{authKeySecret}, tc.masked...)
			r := runAction(t, runOpts{inputs: in, env: map[string]string{"GITHUB_WORKSPACE": ws}, secrets: secrets})
			if r.code != tc.code {
				t.Fatalf("exit %d\n%s", r.code, r.stdout)
			}
			if tc.code == 0 {
				if set, ok := s.CredentialSet("funnel-aws"); !ok || set.Credentials["password"] != "file-PW-Secret-0001" {
					t.Errorf("not stored from file")
				}
				return
			}
			msg := failedBeforeNetwork(t, s, r, tc.says)
			unusable := tc.name != "unknown field in file"
			if unusable && strings.Contains(msg, "missing field") {
				t.Errorf("an unusable file is also reported as missing fields: %s", msg)
			}
		})
	}
}

func TestUnknownTypeSuggests(t *testing.T) {
	t.Parallel()
	s, in := registration(t, map[string]string{"credential-type": "aws-credential", "aws-access-key-id": "", "aws-secret-access-key": "", "credentials": `{"accessKeyId":"AKIAE2ETESTKEY000001","secretAccessKey":"abcdefghSecretQA1"}`})
	r := runAction(t, runOpts{inputs: in, secrets: []string{authKeySecret, "abcdefghSecretQA1"}})
	if r.code != 1 || len(s.Requests()) != 0 {
		t.Fatalf("exit %d", r.code)
	}
	if msg := oneError(t, r); !strings.Contains(msg, "credential-type") || !strings.Contains(msg, "`aws-credentials`") {
		t.Errorf("no suggestion: %s", msg)
	}
}
