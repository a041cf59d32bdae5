package inputs

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/shape"
)

// FuzzRead feeds arbitrary text to the inputs that take free text (ids, description,
// a duration, credentials, a secret) and holds Read to what it promises for any
// input: no panic; no problem line that holds a line break (a line of the log that an
// input could turn into a workflow command); no secret in any message; and a Config that
// keeps its invariants whenever it is valid. The seed corpus is in testdata/fuzz/FuzzRead.
func FuzzRead(f *testing.F) {
	f.Add("funnel-aws", "", "90d", `{"username":"u","password":"pa\"ss"}`, "0123456789abcdef")
	f.Fuzz(func(t *testing.T, ids, description, durationText, credentials, secretText string) {
		// The markers make each secret unlike any text a message could hold by itself.
		authKey := "secret-Qz7" + secretText
		vars := map[string]string{
			EnvName(CredentialID):   ids,
			EnvName(Description):    description,
			EnvName(AuthKeyID):      "keyId-fuzz",
			EnvName(AuthKey):        authKey,
			EnvName(CredentialType): "username-password-credentials",
			EnvName(Credentials):    credentials,
		}
		cfg, err := Read(func(k string) string { return vars[k] }, &masks{}, time.Now())
		checkProblems(t, err, authKey, passwordOf(credentials))
		if err == nil {
			checkRegistration(t, cfg)
		}

		audit := map[string]string{
			EnvName(AuditInput): "true", EnvName(AuthKeyID): "keyId-fuzz", EnvName(AuthKey): authKey,
			EnvName(MaxKeyAge): durationText, EnvName(CredentialID): ids,
		}
		cfg, err = Read(func(k string) string { return audit[k] }, &masks{}, time.Now())
		checkProblems(t, err, authKey)
		if err == nil && (cfg.Mode != Audit || cfg.MaxKeyAge <= 0 || cfg.MaxKeyAge > maxDuration) {
			t.Errorf("audit accepted with mode %s, max-key-age %s", cfg.Mode, cfg.MaxKeyAge)
		}
	})
}

// passwordOf returns the password of a credentials object, when it has one.
func passwordOf(credentials string) string {
	var obj map[string]any
	if json.Unmarshal([]byte(credentials), &obj) != nil {
		return ""
	}
	p, _ := obj["password"].(string)
	return p
}

func checkProblems(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	ie, ok := asError(err)
	if !ok {
		t.Fatalf("error of type %T: %v", err, err)
	}
	for _, p := range ie.Problems {
		if strings.ContainsAny(p, "\r\n") {
			t.Errorf("a problem spans lines: %q", p)
		}
	}
	for _, s := range secrets {
		// A short value can appear in any message by chance; the markers make the
		// AuthKey long, and a password is checked from 8 characters.
		if len(s) >= 8 && strings.Contains(err.Error(), s) {
			t.Errorf("the error shows a secret (%d characters): %v", len(s), err)
		}
	}
}

func checkRegistration(t *testing.T, cfg *Config) {
	t.Helper()
	if cfg.Mode != Register || len(cfg.CredentialIDs) == 0 || cfg.Credentials.Fields == nil {
		t.Errorf("accepted without ids or credentials: %+v", cfg)
	}
	for _, id := range cfg.CredentialIDs {
		if !shape.CredentialID(id) {
			t.Errorf("accepted credential id %q", id)
		}
	}
	if cfg.Description != nil && len([]rune(*cfg.Description)) > descriptionLimit {
		t.Errorf("accepted a description of %d characters", len([]rune(*cfg.Description)))
	}
}

// FuzzParseDuration holds ParseDuration to its contract for any text: an error, or a
// duration from zero to maxDuration.
func FuzzParseDuration(f *testing.F) {
	f.Add("90d")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err == nil && (d < 0 || d > maxDuration) {
			t.Errorf("ParseDuration(%q) = %s", s, d)
		}
	})
}
