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
