package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/credtypes/credtypestest"
)

// The README's examples beyond aws-credentials, run as the built binary.
func TestE2EOtherCredentialTypes(t *testing.T) {
	ca := credtypestest.NewCert(t, credtypestest.CertOptions{CommonName: "fleet CA", IsCA: true})
	notAfter := time.Now().Add(90 * 24 * time.Hour).UTC().Truncate(time.Second)
	device := credtypestest.NewCert(t, credtypestest.CertOptions{CommonName: "device-1", NotAfter: notAfter, Parent: &ca, Algorithm: credtypestest.RSA})
	expired := credtypestest.NewCert(t, credtypestest.CertOptions{CommonName: "old", NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})

	tests := []struct {
		name    string
		typ     string
		creds   map[string]any
		viaFile bool
		secrets []string
		want    map[string]any // stored fields that must match
		code    int
		errSays []string
	}{
		{
			name: "aws-iam-role-credentials: role ARN and a secret external id",
			typ:  "aws-iam-role-credentials", creds: map[string]any{"roleArn": "arn:aws:iam::123456789012:role/soracom-funnel", "externalId": "ext-id-Secret-0123"},
			secrets: []string{"ext-id-Secret-0123"}, want: map[string]any{"roleArn": "arn:aws:iam::123456789012:role/soracom-funnel", "externalId": "ext-id-Secret-0123"},
		},
		{
			name: "aws-iam-role-credentials: a user ARN is refused",
			typ:  "aws-iam-role-credentials", creds: map[string]any{"roleArn": "arn:aws:iam::123456789012:user/someone", "externalId": "ext-id-Secret-0123"},
			secrets: []string{"ext-id-Secret-0123"}, code: 1, errSays: []string{"roleArn"},
		},
		{
			name: "x509 from credentials-file: parsed, stored, expiry reported",
			typ:  "x509", creds: map[string]any{"cert": device.CertPEM, "key": device.KeyPEM, "ca": ca.CertPEM}, viaFile: true,
			secrets: []string{device.KeyPEM},
		},
		{
			name: "x509: a key that does not match the certificate is refused",
			typ:  "x509", creds: map[string]any{"cert": device.CertPEM, "key": ca.KeyPEM},
			secrets: []string{ca.KeyPEM}, code: 1, errSays: []string{"does not match"},
		},
		{
			name: "x509: an expired certificate is refused",
			typ:  "x509", creds: map[string]any{"cert": expired.CertPEM, "key": expired.KeyPEM},
			secrets: []string{expired.KeyPEM}, code: 1, errSays: []string{"expired"},
		},
		{
			name: "username-password-credentials: multi-line password masked line by line",
			typ:  "username-password-credentials", creds: map[string]any{"username": "device-fleet", "password": "first-line-Secret\nsecond-line-Secret"},
			secrets: []string{"first-line-Secret\nsecond-line-Secret"}, want: map[string]any{"username": "device-fleet", "password": "first-line-Secret\nsecond-line-Secret"},
		},
		{
			name: "username-password-credentials: a misspelt field gets a suggestion",
			typ:  "username-password-credentials", creds: map[string]any{"username": "device-fleet", "pasword": "pw-Secret-0123456"},
			secrets: []string{"pw-Secret-0123456"}, code: 1, errSays: []string{"did you mean `password`"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, err := json.Marshal(tt.creds)
			if err != nil {
				t.Fatal(err)
			}
			s, in := registration(t, map[string]string{"credential-type": tt.typ, "aws-access-key-id": "", "aws-secret-access-key": "", "credentials": string(text)})
			o := runOpts{inputs: in, secrets: append([]string{e2eKeySecret}, tt.secrets...)}
			var r runResult
			if tt.viaFile {
				delete(in, "credentials")
				in["credentials-file"] = "creds/x509.json"
				r = runWithWorkspaceFile(t, o, "creds/x509.json", text)
			} else {
				r = runAction(t, o)
			}
			if r.code != tt.code {
				t.Fatalf("exit %d", r.code)
			}
			if tt.code != 0 {
				msg := oneError(t, r)
				for _, w := range tt.errSays {
					if !strings.Contains(msg, w) {
						t.Errorf("error does not say %q: %s", w, msg)
					}
				}
				if len(s.Requests()) != 0 {
					t.Errorf("requests were sent for invalid credentials")
				}
				return
			}
			set, ok := s.CredentialSet("funnel-aws")
			if !ok || set.Type != tt.typ {
				t.Fatalf("set not stored as %s", tt.typ)
			}
			for k, v := range tt.want {
				if set.Credentials[k] != v {
					t.Errorf("stored %s differs", k)
				}
			}
			if tt.typ == "x509" {
				if r.outputs["certificate-not-after"] != notAfter.Format(time.RFC3339) {
					t.Errorf("certificate-not-after = %q, want %s", r.outputs["certificate-not-after"], notAfter.Format(time.RFC3339))
				}
				if !strings.Contains(r.summary, notAfter.Format(time.RFC3339)) {
					t.Errorf("summary does not show the expiry")
				}
				if !strings.Contains(set.Credentials["cert"].(string), "BEGIN CERTIFICATE") {
					t.Errorf("cert not stored")
				}
			}
		})
	}
}

// runWithWorkspaceFile runs the action with a file in its workspace.
func runWithWorkspaceFile(t *testing.T, o runOpts, rel string, content []byte) runResult {
	t.Helper()
	ws := t.TempDir()
	if err := os.MkdirAll(filepath.Join(ws, filepath.Dir(rel)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ws, rel), content, 0o600); err != nil {
		t.Fatal(err)
	}
	if o.env == nil {
		o.env = map[string]string{}
	}
	o.env["GITHUB_WORKSPACE"] = ws
	return runAction(t, o)
}
