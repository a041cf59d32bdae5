package inputs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const roleARN = "arn:aws:iam::123456789012:role/rotator"

// withEnv adds environment variables to the variables of a run.
func withEnv(vars map[string]string, extra map[string]string) map[string]string {
	for k, v := range extra {
		vars[k] = v
	}
	return vars
}

func TestReadRefusesPlainHTTPToEveryEndpointTheModeUses(t *testing.T) {
	const remote = "http://sts.example.com:8080/path?x=secret-query"
	tests := []struct {
		name string
		vars map[string]string
		want []string // each must appear; none means the run is valid
	}{
		{"rotation: AWS_ENDPOINT_URL", withEnv(rotationVars(nil), map[string]string{"AWS_ENDPOINT_URL": remote}), []string{`AWS_ENDPOINT_URL "http://sts.example.com:8080" uses plain http`}},
		{"rotation: AWS_ENDPOINT_URL_STS", withEnv(rotationVars(nil), map[string]string{"AWS_ENDPOINT_URL_STS": remote}), []string{"AWS_ENDPOINT_URL_STS"}},
		{"rotation: AWS_ENDPOINT_URL_IAM", withEnv(rotationVars(nil), map[string]string{"AWS_ENDPOINT_URL_IAM": remote}), []string{"AWS_ENDPOINT_URL_IAM"}},
		{"rotation with a role: the OIDC request URL", withEnv(rotationVars(map[string]string{RoleToAssume: roleARN}), map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": remote}), []string{"ACTIONS_ID_TOKEN_REQUEST_URL"}},
		{"audit: the IAM endpoint", withEnv(auditVars(nil), map[string]string{"AWS_ENDPOINT_URL_IAM": remote}), []string{"AWS_ENDPOINT_URL_IAM"}},
		{"registration with key verification: STS", withEnv(valid(nil), map[string]string{"AWS_ENDPOINT_URL_STS": remote}), []string{"AWS_ENDPOINT_URL_STS"}},
		{"every problem at once, with the SORACOM endpoint's", withEnv(rotationVars(map[string]string{RoleToAssume: roleARN, Endpoint: "http://api.example.com"}), map[string]string{
			"AWS_ENDPOINT_URL": remote, "AWS_ENDPOINT_URL_STS": remote, "AWS_ENDPOINT_URL_IAM": remote, "ACTIONS_ID_TOKEN_REQUEST_URL": remote}),
			[]string{"soracom-endpoint", "AWS_ENDPOINT_URL \"", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_IAM", "ACTIONS_ID_TOKEN_REQUEST_URL", "5 invalid inputs"}},
		{"user info and query of soracom-endpoint are not shown", rotationVars(map[string]string{Endpoint: "https://user:secret-query@api.example.com/x?k=secret-query"}), []string{`soracom-endpoint "https://api.example.com/x" must be a plain base URL`}},
		{"not a URL", withEnv(rotationVars(nil), map[string]string{"AWS_ENDPOINT_URL_IAM": "iam.example.com"}), []string{"AWS_ENDPOINT_URL_IAM is not an http(s) URL"}},
		{"loopback and localhost are fine over http", withEnv(rotationVars(map[string]string{RoleToAssume: roleARN}), map[string]string{
			"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ENDPOINT_URL_STS": "http://localhost:2", "AWS_ENDPOINT_URL_IAM": "http://[::1]:3",
			"ACTIONS_ID_TOKEN_REQUEST_URL": "http://127.0.0.2:4/token?api-version=2.0"}), nil},
		{"https anywhere is fine", withEnv(rotationVars(nil), map[string]string{"AWS_ENDPOINT_URL_IAM": "https://iam.example.com"}), nil},
		{"a subdomain of localhost is not loopback", withEnv(rotationVars(nil), map[string]string{"AWS_ENDPOINT_URL_IAM": "http://evil.localhost:1"}), []string{"AWS_ENDPOINT_URL_IAM"}},
		{"registration without verification does not use STS", withEnv(valid(map[string]string{VerifyAWSKey: "false"}), map[string]string{"AWS_ENDPOINT_URL_STS": remote, "AWS_ENDPOINT_URL": remote}), nil},
		{"registration does not use IAM", withEnv(valid(nil), map[string]string{"AWS_ENDPOINT_URL_IAM": remote}), nil},
		{"no role, no OIDC", withEnv(rotationVars(nil), map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": remote}), nil},
		{"the SDK told to ignore the endpoint variables", withEnv(rotationVars(nil), map[string]string{"AWS_ENDPOINT_URL_IAM": remote, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(env(t, tt.vars), &masks{}, time.Now())
			wantProblems(t, err, tt.want...)
			if err != nil && strings.Contains(err.Error(), "secret-query") {
				t.Errorf("error shows the URL's query: %v", err)
			}
		})
	}
}

func TestReadRefusesSecretsThatAreNotUTF8(t *testing.T) {
	const bad = "secret-\xff\xfe-0123456789abcdef"
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "psk.json"), []byte("{\"key\":\"psk-\xc3\x28-value\"}"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		vars map[string]string
		want string
	}{
		{"the AuthKey secret", valid(map[string]string{AuthKey: bad}), "soracom-auth-key is not valid UTF-8 text (byte 8 of"},
		{"the AWS secret key", valid(map[string]string{AWSSecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLE\xffY"}), "aws-secret-access-key is not valid UTF-8"},
		{"credentials", valid(map[string]string{AWSAccessKeyID: "", AWSSecretAccessKey: "", CredentialType: "psk", Credentials: "{\"key\":\"psk-\xc3\x28-value\"}"}), "credentials is not valid UTF-8"},
		{"credentials-file", valid(map[string]string{AWSAccessKeyID: "", AWSSecretAccessKey: "", CredentialType: "psk", CredentialsFile: "psk.json"}), `credentials-file "psk.json" is not valid UTF-8`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.vars["GITHUB_WORKSPACE"] = dir
			_, err := Read(env(t, tt.vars), &masks{}, time.Now())
			ie, ok := asError(err)
			if !ok || len(ie.Problems) != 1 || !strings.Contains(ie.Problems[0], tt.want) {
				t.Fatalf("want one problem saying %q, got %v", tt.want, err)
			}
			for _, s := range []string{"\xff", "\xc3", "psk-", "0123456789abcdef"} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("the error shows part of the value (%q): %q", s, err)
				}
			}
		})
	}
}

func TestReadSuggestsToJSONWhenCredentialsAreNotJSON(t *testing.T) {
	// What `credentials: '{"username": "u", "password": "${{ secrets.P }}"}'` becomes
	// when the password holds a quote.
	creds := `{"username": "device", "password": "pa"ss\word"}`
	var m masks
	_, err := Read(env(t, valid(map[string]string{AWSAccessKeyID: "", AWSSecretAccessKey: "", CredentialType: "username-password-credentials", Credentials: creds})), &m, time.Now())
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"not valid JSON", "${{ toJSON(secrets.NAME) }}", "credentials-file", "docs/credential-types.md"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), `ss\word`) {
		t.Errorf("error shows the value: %v", err)
	}
	// A JSON value that is not an object is another mistake: no quoting hint.
	_, err = Read(env(t, valid(map[string]string{AWSAccessKeyID: "", AWSSecretAccessKey: "", CredentialType: "psk", Credentials: `["k"]`})), &m, time.Now())
	if err == nil || strings.Contains(err.Error(), "toJSON") {
		t.Errorf("err = %v", err)
	}
}

func TestReadRefusesSecretsTooShortToBeOne(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		want string
	}{
		{"a one-letter AuthKey secret", valid(map[string]string{AuthKey: "s"}), "soracom-auth-key is only 1 character long"},
		{"a three-letter AWS secret key", valid(map[string]string{AWSSecretAccessKey: "abc"}), "aws-secret-access-key is only 3 characters long; an AWS secret access key has 40"},
		{"a short secretAccessKey in credentials", valid(map[string]string{AWSAccessKeyID: "", AWSSecretAccessKey: "", Credentials: `{"accessKeyId":"AKIAIOSFODNN7EXAMPLE","secretAccessKey":"in"}`}), "field `secretAccessKey` for type aws-credentials is only 2 characters long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(env(t, tt.vars), &masks{}, time.Now())
			ie, ok := asError(err)
			if !ok || len(ie.Problems) != 1 || !strings.Contains(ie.Problems[0], tt.want) {
				t.Fatalf("want one problem saying %q, got %v", tt.want, err)
			}
		})
	}
}

// Every input Specs marks secret is masked when it is given, whatever else is wrong.
func TestReadMasksEverySecretInput(t *testing.T) {
	for _, spec := range specs {
		if !spec.Secret {
			continue
		}
		t.Run(spec.Name, func(t *testing.T) {
			value := "masked-" + spec.Name + "-0123456789"
			var m masks
			_, _ = Read(env(t, map[string]string{EnvName(spec.Name): value}), &m, time.Now())
			if !contains(m, value) {
				t.Errorf("not masked; masks: %q", m)
			}
		})
	}
}
