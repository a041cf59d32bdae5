package e2e

// Inputs that would send a secret somewhere unsafe, read a file outside the workspace,
// or store a garbled secret: each is refused before the first network call, with every
// problem in one error and exit code 1.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlainHTTPToAnAWSOrOIDCEndpointIsRefusedBeforeAnyCall(t *testing.T) {
	t.Parallel()
	rotation := map[string]string{"aws-access-key-id": "", "aws-secret-access-key": "", "iam-user-name": rotUser, "role-to-assume": rotRole}
	cases := []struct {
		name    string
		changes map[string]string
		env     map[string]string
		want    []string
	}{
		{"a rotation, every endpoint it uses", rotation, map[string]string{
			"AWS_ENDPOINT_URL": "http://aws.example.com", "AWS_ENDPOINT_URL_STS": "http://sts.example.com:8080",
			"AWS_ENDPOINT_URL_IAM": "http://10.0.0.1", "ACTIONS_ID_TOKEN_REQUEST_URL": "http://token.example.com/?api-version=2.0",
			"ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-token-value",
		}, []string{"4 invalid inputs", "AWS_ENDPOINT_URL \"http://aws.example.com\"", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_IAM", "ACTIONS_ID_TOKEN_REQUEST_URL", "plain http"}},
		{"a registration that verifies the key with STS", map[string]string{"verify-aws-key": "true"},
			map[string]string{"AWS_ENDPOINT_URL_STS": "http://sts.example.com"}, []string{"AWS_ENDPOINT_URL_STS"}},
		{"an audit reading IAM", map[string]string{"aws-access-key-id": "", "aws-secret-access-key": "", "description": "", "credential-id": "", "verify-aws-key": "true", "audit": "true"},
			map[string]string{"AWS_ENDPOINT_URL_IAM": "http://iam.example.com"}, []string{"AWS_ENDPOINT_URL_IAM"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, in := registration(t, tc.changes)
			r := runAction(t, runOpts{inputs: in, env: tc.env, secrets: []string{authKeySecret}})
			if r.code != 1 {
				t.Fatalf("exit %d", r.code)
			}
			if strings.Contains(r.stdout+r.stderr, "request-token-value") || strings.Contains(r.stdout+r.stderr, "?api-version") {
				t.Errorf("the OIDC request token or URL query was printed")
			}
			msg := oneError(t, r)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
			if n := len(s.Requests()); n != 0 {
				t.Errorf("%d requests sent to SORACOM: %s", n, requestLine(s))
			}
		})
	}
}

func TestCredentialsFileOutsideTheWorkspaceIsRefused(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	ws := filepath.Join(root, "workspace")
	writeWorkspaceFile(t, root, "outside.json", []byte(`{"key":"outside-psk-Secret-value"}`))
	writeWorkspaceFile(t, ws, "inside.json", []byte(`{"key":"inside-psk-Secret-value"}`))
	if err := os.Symlink(filepath.Join(root, "outside.json"), filepath.Join(ws, "link.json")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ file, want string }{
		{"../outside.json", "is outside the workspace (GITHUB_WORKSPACE)"},
		{filepath.Join(root, "outside.json"), "is outside the workspace"},
		{"link.json", "once its symbolic links are followed"},
		{"/etc/passwd", "is outside the workspace"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			s, in := registration(t, map[string]string{"aws-access-key-id": "", "aws-secret-access-key": "", "credential-type": "psk", "credentials-file": tc.file})
			// The file is never read, so its secret is never masked: it must not appear.
			r := runAction(t, runOpts{inputs: in, env: map[string]string{"GITHUB_WORKSPACE": ws}, secrets: []string{authKeySecret}})
			if r.code != 1 {
				t.Fatalf("exit %d", r.code)
			}
			if strings.Contains(r.stdout+r.stderr, "outside-psk") {
				t.Errorf("the file outside the workspace was read")
			}
			if msg := oneError(t, r); !strings.Contains(msg, "credentials-file") || !strings.Contains(msg, tc.want) {
				t.Errorf("error = %s, want %q", msg, tc.want)
			}
			if n := len(s.Requests()); n != 0 {
				t.Errorf("%d requests sent to SORACOM: %s", n, requestLine(s))
			}
		})
	}
	t.Run("an absolute path inside the workspace is read", func(t *testing.T) {
		t.Parallel()
		s, in := registration(t, map[string]string{"aws-access-key-id": "", "aws-secret-access-key": "", "credential-type": "psk", "credentials-file": filepath.Join(ws, "inside.json")})
		r := runAction(t, runOpts{inputs: in, env: map[string]string{"GITHUB_WORKSPACE": ws}, secrets: []string{authKeySecret, "inside-psk-Secret-value"}})
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stdout)
		}
		if set, ok := s.CredentialSet("funnel-aws"); !ok || set.Credentials["key"] != "inside-psk-Secret-value" {
			t.Errorf("set = %+v", set)
		}
	})
}

func TestASecretThatIsNotUTF8IsRefusedBeforeAnyCall(t *testing.T) {
	t.Parallel()
	const bad = "secret-\xff\xfee2eAuthKey0123456789"
	s, in := registration(t, map[string]string{"soracom-auth-key": bad})
	r := runAction(t, runOpts{inputs: in, secrets: []string{bad, awsSecret}})
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	failedBeforeNetwork(t, s, r, []string{"soracom-auth-key is not valid UTF-8"})
}

func TestCredentialsThatAreNotJSONSuggestToJSON(t *testing.T) {
	t.Parallel()
	// What '{"username": "u", "password": "${{ secrets.P }}"}' becomes for a password
	// with a quote and a backslash in it. Not being JSON, all of it is masked.
	creds := `{"username": "device-fleet", "password": "pa"ss\word-e2e"}`
	s, in := registration(t, map[string]string{"aws-access-key-id": "", "aws-secret-access-key": "", "credential-type": "username-password-credentials", "credentials": creds})
	r := runAction(t, runOpts{inputs: in, secrets: []string{authKeySecret, creds}})
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	failedBeforeNetwork(t, s, r, []string{"not valid JSON", "${{ toJSON(secrets.NAME) }}", "credentials-file"})
}
