package e2e

// Masking: every secret is masked with the runner before anything else is printed, the
// API key and token the moment they arrive, and none appears in what a run prints or
// writes, even when the server echoes it back.

import (
	"strings"
	"testing"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

func TestMasksSecretsBeforePrintingAnythingElse(t *testing.T) {
	_, in := registration(t, nil)
	r := runAction(t, runOpts{inputs: in, secrets: inputSecrets})
	lines := strings.Split(r.stdout, "\n")
	for i, want := range []string{"::add-mask::" + authKeySecret, "::add-mask::" + awsSecret} {
		if i >= len(lines) || lines[i] != want {
			t.Errorf("line %d is %q, want the mask of an input secret first", i+1, lines[i])
		}
	}
}

func TestMaskingInputSecretsFirstAndSessionOnArrival(t *testing.T) {
	t.Parallel()
	creds := `{"username":"device-fleet","password":"line-one-PW-Secret\nline-two \"quoted\" \\ PW"}`
	s, in := registration(t, map[string]string{"credential-type": "username-password-credentials", "aws-access-key-id": "", "aws-secret-access-key": "", "credentials": creds},
		soracomtest.WithLoggedHeaders("X-Soracom-API-Key", "X-Soracom-Token"))
	r := runAction(t, runOpts{inputs: in, secrets: []string{authKeySecret, "line-one-PW-Secret\nline-two \"quoted\" \\ PW"}})
	mustSucceed(t, r)
	lines := strings.Split(r.stdout, "\n")
	first := firstNonMask(lines)
	for _, v := range []string{authKeySecret, "line-one-PW-Secret", `line-two "quoted" \ PW`, `line-two \"quoted\" \\ PW`} {
		i := maskIndex(lines, v)
		if i < 0 || i > first {
			t.Errorf("mask of %q at line %d, first other line %d", v, i, first)
		}
	}
	if i := maskIndex(lines, "device-fleet"); i >= 0 {
		t.Errorf("non-secret username was masked")
	}
	// API key and token masked before "Authenticated" line, never printed otherwise
	var apiKey, token string
	for _, rq := range s.Requests() {
		if rq.Path == "/v1/credentials/funnel-aws" {
			apiKey, token = rq.Header.Get("X-Soracom-API-Key"), rq.Header.Get("X-Soracom-Token")
		}
	}
	if apiKey == "" || token == "" {
		t.Fatal("no session headers logged")
	}
	authLine := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "Authenticated to operator") {
			authLine = i
		}
	}
	for _, v := range []string{apiKey, token} {
		if i := maskIndex(lines, v); i < 0 || (authLine >= 0 && i > authLine) {
			t.Errorf("API key/token mask at %d, Authenticated line at %d", i, authLine)
		}
	}
	assertNoLeak(t, r, []string{apiKey, token})
}

func TestMaskingUnknownAndNestedCredentialValues(t *testing.T) {
	t.Parallel()
	// every string value of credentials except known non-secret fields is masked,
	// even one in an unknown field (which is also refused).
	creds := `{"accessKeyId":"AKIAE2ETESTKEY000003","secretAccessKey":"qa-secret-key-Value-123","sessionToken":"qa-unknown-field-Secret"}`
	s, in := registration(t, map[string]string{"aws-access-key-id": "", "aws-secret-access-key": "", "credentials": creds})
	r := runAction(t, runOpts{inputs: in, secrets: []string{authKeySecret, "qa-secret-key-Value-123", "qa-unknown-field-Secret"}})
	if r.code != 1 || len(s.Requests()) != 0 {
		t.Fatalf("exit %d, %d requests", r.code, len(s.Requests()))
	}
}

func TestMaskingInFailures(t *testing.T) {
	t.Parallel()
	// Server echoing the secret back in an error message.
	s, in := registration(t, nil)
	s.Inject("PUT /v1/credentials/*", soracomtest.Always, soracomtest.PlainTextFault(403, "denied for secret "+awsSecret+" and "+authKeySecret))
	r := runAction(t, runOpts{inputs: in, secrets: inputSecrets})
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	msg := oneError(t, r)
	if !strings.Contains(msg, "403") || !strings.Contains(msg, "denied for secret") {
		t.Errorf("non-JSON body not shown: %s", msg)
	}
}

func TestPercentSecretMaskCommand(t *testing.T) {
	t.Parallel()
	sec := "pct%0Asecret%25value-XYZ"
	_, in := registration(t, map[string]string{"aws-secret-access-key": sec})
	r := runAction(t, runOpts{inputs: in})
	mustSucceed(t, r)
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(l, "::add-mask::pct") {
			// runner unescapes %25 → %, %0A → newline in command data
			un := strings.NewReplacer("%0A", "\n", "%0D", "\r", "%25", "%").Replace(strings.TrimPrefix(l, "::add-mask::"))
			if un != sec {
				t.Errorf("runner would mask %q, secret is %q", un, sec)
			}
			return
		}
	}
	t.Errorf("secret not masked:\n%s", r.stdout)
}
