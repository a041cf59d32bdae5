package action_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/action"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// if-exists: fail on both coverages changes nothing on either when one coverage's list
// holds an entry that could not be read: that entry may be the named set, and the
// check must refuse before the first coverage is written, as StoreAll would refuse the
// list only when it reaches that coverage.
func TestRegisterOnBothIfExistsFailRefusesAnUnreadableListBeforeAnyWrite(t *testing.T) {
	jp, g := soracomtest.Start(t), soracomtest.Start(t)
	for _, s := range []*soracomtest.Server{jp, g} {
		s.AddAuthKey(authKeyID, authKey)
	}
	g.PutCredentialSet(soracomtest.CredentialSet{ID: "odd", Type: "aws-credentials", Listed: map[string]any{"credentialsId": json.RawMessage("42")},
		Credentials: map[string]any{"accessKeyId": "AKIAIOSFODNN7EXAMPL2", "secretAccessKey": "s"}})
	dir := t.TempDir()
	env := map[string]string{
		"GITHUB_OUTPUT": filepath.Join(dir, "out"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary"),
		"SORACOM_ENDPOINT_JP": jp.URL(), "SORACOM_ENDPOINT_G": g.URL(),
		inputs.EnvName(inputs.CredentialID): "set-1", inputs.EnvName(inputs.CredentialType): "aws-credentials",
		inputs.EnvName(inputs.AuthKeyID): authKeyID, inputs.EnvName(inputs.AuthKey): authKey,
		inputs.EnvName(inputs.CoverageType): "both", inputs.EnvName(inputs.IfExists): "fail",
		inputs.EnvName(inputs.VerifyAWSKey): "false",
		inputs.EnvName(inputs.Credentials):  `{"accessKeyId":"AKIAIOSFODNN7EXAMPLE","secretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}`,
	}
	var stdout bytes.Buffer
	code := action.Run(context.Background(), action.Env{Getenv: func(k string) string { return env[k] }, Stdout: &stdout, Retry: shortBounds()})
	if code != 1 || !strings.Contains(stdout.String(), "nothing was written on any coverage") {
		t.Errorf("exit %d; want 1 and nothing written on any coverage:\n%s", code, stdout.String())
	}
	if _, ok := jp.CredentialSet("set-1"); ok {
		t.Errorf("set-1 was created on jp though g's list could not be read")
	}
}
