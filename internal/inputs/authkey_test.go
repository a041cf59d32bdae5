package inputs_test

import (
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/ghsecrets"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
)

func authKeyEnv(extra map[string]string) func(string) string {
	env := map[string]string{
		"INPUT_CREDENTIAL-ID":         "set-1",
		"INPUT_SORACOM-AUTH-KEY-ID":   "keyId-abc",
		"INPUT_SORACOM-AUTH-KEY":      "secret-0123456789",
		"INPUT_AWS-ACCESS-KEY-ID":     "AKIAIOSFODNN7EXAMPLE",
		"INPUT_AWS-SECRET-ACCESS-KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"INPUT_VERIFY-AWS-KEY":        "false",
		"INPUT_ROTATE-AUTH-KEY":       "true",
		"INPUT_GITHUB-TOKEN":          "github_pat_11AAAA0123456789",
		"GITHUB_REPOSITORY":           "octo/app",
	}
	for k, v := range extra {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

func TestRotateAuthKeyInputs(t *testing.T) {
	var masked []string
	m := secret.MaskFunc(func(v string) { masked = append(masked, v) })
	c, err := inputs.Read(authKeyEnv(map[string]string{"INPUT_AUTH-KEY-MAX-AGE": "90d", "INPUT_SECRETS-SCOPE": "environment:prod"}), m, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	a := c.AuthKeyRotation
	if !a.Enabled || a.MaxAge != 90*24*time.Hour || a.IDSecret != "SORACOM_AUTH_KEY_ID" || a.KeySecret != "SORACOM_AUTH_KEY" ||
		a.Scope.Kind != ghsecrets.Environment || a.Scope.Environment != "prod" || a.APIURL != ghsecrets.DefaultAPIURL {
		t.Errorf("config %+v", a)
	}
	if !strings.Contains(strings.Join(masked, "\n"), "github_pat_11AAAA0123456789") {
		t.Error("github-token was not masked")
	}
}

// Every problem of the rotation's inputs comes in the one all-at-once report.
func TestRotateAuthKeyInputProblemsAreReportedTogether(t *testing.T) {
	_, err := inputs.Read(authKeyEnv(map[string]string{
		"INPUT_GITHUB-TOKEN":        "",
		"INPUT_AUTH-KEY-SECRET":     "GITHUB_KEY",
		"INPUT_AUTH-KEY-ID-SECRET":  "1ID",
		"INPUT_SECRETS-SCOPE":       "org",
		"INPUT_AUTH-KEY-MAX-AGE":    "soon",
		"GITHUB_API_URL":            "http://github.example.com/api/v3",
		"INPUT_SORACOM-AUTH-KEY-ID": "keyId-a/b",
	}), secret.MaskFunc(func(string) {}), time.Now())
	for _, want := range []string{"github-token is required", "GITHUB_TOKEN cannot write secrets", "auth-key-secret \"GITHUB_KEY\"",
		"auth-key-id-secret \"1ID\"", "secrets-scope", "auth-key-max-age", "GITHUB_API_URL", "cannot be rotated"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
}

func TestAuthKeyInputsWithoutRotateAuthKeyAreRefused(t *testing.T) {
	_, err := inputs.Read(authKeyEnv(map[string]string{"INPUT_ROTATE-AUTH-KEY": "false", "INPUT_SECRETS-SCOPE": "organization"}), secret.MaskFunc(func(string) {}), time.Now())
	if err == nil || !strings.Contains(err.Error(), "secrets-scope applies to rotate-auth-key: true") {
		t.Errorf("err %v", err)
	}
}

// The token goes to GITHUB_API_URL and nowhere else: https unless loopback, and a
// plain base URL that the request paths extend.
func TestGitHubAPIURL(t *testing.T) {
	tests := []struct{ url, want, err string }{
		{"", ghsecrets.DefaultAPIURL, ""},
		{"https://ghes.example.com/api/v3/", "https://ghes.example.com/api/v3", ""},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", ""},
		{"http://github.example.com/api/v3", "", "plain http"},
		{"ftp://github.example.com", "", "not an http(s) URL"},
		{"https://ghes.example.com/api/v3?x=1", "", "without query, fragment or user info"},
		{"https://ghes.example.com/api/v3#@evil.example", "", "without query, fragment or user info"},
		{"https://user:pass@ghes.example.com/api/v3", "", "without query, fragment or user info"},
	}
	for _, tt := range tests {
		c, err := inputs.Read(authKeyEnv(map[string]string{"GITHUB_API_URL": tt.url}), secret.MaskFunc(func(string) {}), time.Now())
		switch {
		case tt.err == "" && (err != nil || c.AuthKeyRotation.APIURL != tt.want):
			t.Errorf("GITHUB_API_URL %q: %v, %v; want %s", tt.url, c, err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("GITHUB_API_URL %q: %v; want an error saying %q", tt.url, err, tt.err)
		case tt.err != "" && strings.Contains(err.Error(), "pass"):
			t.Errorf("GITHUB_API_URL %q: the error shows the user info: %v", tt.url, err)
		}
	}
}
