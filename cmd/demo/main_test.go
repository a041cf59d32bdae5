package main

import (
	"context"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// playAll plays every scene into a buffer and returns the demo, still running, and what
// it printed.
func playAll(t *testing.T) (*demo, string) {
	t.Helper()
	var out strings.Builder
	d, err := newDemo(&out, func(k, v string) error { t.Setenv(k, v); return nil })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.close)
	for _, s := range d.scenes() {
		if err := d.play(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	d.epilogue()
	return d, out.String()
}

func TestDemoShowsNoSecretAndNoRunnerProtocol(t *testing.T) {
	d, out := playAll(t)
	secrets := append([]string{soracomtest.DemoAuthKey, exampleSecret, "secret-not-the-right-one", d.emu.OIDC.RequestToken()}, d.secrets...)
	secrets = append(secrets, d.emu.OIDC.Issued()...)
	secrets = append(secrets, d.emu.AWS.SessionSecrets()...)
	var created int
	for _, k := range d.emu.AWS.Requests() {
		if k.Action == "CreateAccessKey" && k.Error == "" {
			created++
		}
	}
	if created < 2 || len(d.emu.OIDC.Issued()) == 0 || len(d.emu.AWS.SessionSecrets()) == 0 {
		t.Fatalf("the demo created %d keys and got %d OIDC tokens: the scan below would prove little", created, len(d.emu.OIDC.Issued()))
	}
	for _, k := range d.emu.AWS.Keys(rotatedUser) {
		secrets = append(secrets, k.Secret)
	}
	// The AuthKey scenes: the token, every AuthKey's secret (the new ones included:
	// the run that deleted one saw it), every encrypted value sent to GitHub.
	secrets = append(secrets, demoGitHubToken)
	for _, r := range d.emu.SORACOM.Requests() {
		if _, v, ok := strings.Cut(string(r.Body), `"authKey":"`); ok {
			v, _, _ = strings.Cut(v, `"`)
			secrets = append(secrets, v)
		}
	}
	for _, r := range d.gh.Requests() {
		if _, v, ok := strings.Cut(string(r.Body), `"encrypted_value":"`); ok {
			v, _, _ = strings.Cut(v, `"`)
			secrets = append(secrets, v)
		}
	}
	if n := len(d.gh.Requests()); n == 0 {
		t.Fatal("the demo sent nothing to the fake GitHub API: the scan below would prove little")
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("the demo prints a secret in clear: %.6s…", s)
		}
	}
	for _, raw := range []*regexp.Regexp{regexp.MustCompile(`(?m)^\s*::[a-z-]+`), regexp.MustCompile(`ghadelimiter_`), regexp.MustCompile(`%0A`)} {
		if raw.MatchString(out) {
			t.Errorf("the demo prints the runner protocol (%s):\n%s", raw, out)
		}
	}
}

func TestDemoPlaysRegistrationAndRotationAsAWorkflowLogShowsThem(t *testing.T) {
	d, out := playAll(t)
	for _, want := range []string{
		"Step 10:",
		"Dry run: credential set demo-funnel-aws would be created",
		"Credential set demo-funnel-aws: created",
		"Credential set demo-funnel-aws: updated",
		"\nError: SORACOM refused the AuthKey",
		"\nError: Docker run failed with exit code 1",
		"    soracom-auth-key: ***\n",
		"\nOutputs:\n",
		"\nJob summary:\n  SORACOM credential sets\n  =====",
		"State afterwards:",
		"AuthKey rotated: the secrets SORACOM_AUTH_KEY and SORACOM_AUTH_KEY_ID hold the AuthKey keyId-",
		"    github-token: ***\n",
		"  auth-key-rotated   true\n",
		"The old values were written back, and their updated_at confirms it",
		"SORACOM_AUTH_KEY holds that AuthKey's secret: the next run authenticates",
		"0 SORACOM API tokens are still alive",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the demo does not show %q", want)
		}
	}
	if n := strings.Count(out, "━━━ Step "); n != 10 {
		t.Fatalf("%d steps, want 10", n)
	}
	// The next scheduled run finds the new key too young and changes nothing.
	steps := strings.Split(out, "━━━ Step ")
	{
		next, state := steps[6], func(step string) string { _, after, _ := strings.Cut(step, "State afterwards:"); return after }
		if !regexp.MustCompile(`(?m)^  operation +skipped$`).MatchString(next) || state(next) != state(steps[5]) {
			t.Errorf("the next scheduled run is not a no-op:\n%s", next)
		}
	}
	// The failed rotation leaves every set working: one on the new key, one on the old,
	// both keys active, as its error says.
	keys := d.emu.AWS.Keys(rotatedUser)
	if len(keys) != 2 || keys[0].Status != "Active" || keys[1].Status != "Active" {
		t.Fatalf("after the failed rotation the IAM user has %+v, want two active keys", keys)
	}
	funnel, _ := d.emu.SORACOM.CredentialSet(funnelSet)
	harvest, _ := d.emu.SORACOM.CredentialSet(harvestSet)
	if funnel.Credentials["accessKeyId"] == harvest.Credentials["accessKeyId"] {
		t.Errorf("both sets hold the same key after a rotation that failed halfway")
	}
	wantState := "  set " + funnelSet + " holds " + short(funnel.Credentials["accessKeyId"].(string)) + "\n  set " + harvestSet + " holds " + short(harvest.Credentials["accessKeyId"].(string)) + "\n"
	if !strings.HasSuffix(steps[7], wantState+"\n") {
		t.Errorf("the state the failed rotation shows is not the emulator's:\nwant %q", wantState)
	}
	checkAuthKeyScenes(t, d, steps[9], steps[10])
}

// checkAuthKeyScenes checks the AuthKey scenes against the emulators: the rotation
// leaves one AuthKey, a new one, that the secrets hold; the failed one leaves the same.
func checkAuthKeyScenes(t *testing.T, d *demo, rotated, failed string) {
	t.Helper()
	keys := d.emu.SORACOM.UserAuthKeys(soracomtest.DefaultUserName)
	id, _ := d.gh.Secret(demoSecrets, idSecretName)
	key, _ := d.gh.Secret(demoSecrets, keySecretName)
	if len(keys) != 1 || keys[0].ID == soracomtest.DemoAuthKeyID || keys[0].ID != id.Value || keys[0].Secret != key.Value {
		t.Fatalf("after the AuthKey scenes: AuthKeys %v, the secrets name %s; want one new AuthKey, in the secrets", keys, id.Value)
	}
	if !strings.Contains(rotated, "auth-key-id        "+keys[0].ID+"\n") || !strings.Contains(failed, "auth-key-id        "+keys[0].ID+"\n") {
		t.Errorf("the AuthKey scenes do not show the AuthKey the secrets hold, %s, as auth-key-id", keys[0].ID)
	}
	if !strings.Contains(failed, "\nError: AuthKey rotation failed: could not write the secret SORACOM_AUTH_KEY_ID") {
		t.Errorf("the failed AuthKey rotation does not say what failed:\n%s", failed)
	}
}

func TestHelpSaysWhatTheDemoDoesAndPlaysNothing(t *testing.T) {
	for _, arg := range []string{"-h", "--help"} {
		var stdout, stderr strings.Builder
		code, done := commandLine([]string{arg}, &stdout, &stderr)
		if code != 0 || !done || !strings.Contains(stdout.String(), "Usage: go run ./cmd/demo") || stderr.Len() > 0 {
			t.Errorf("%s: code %d, done %v, stdout %q, stderr %q", arg, code, done, stdout.String(), stderr.String())
		}
	}
	var stderr strings.Builder
	if code, done := commandLine([]string{"--fast"}, io.Discard, &stderr); code != 1 || !done || !strings.Contains(stderr.String(), "--help") {
		t.Errorf("an argument: code %d, done %v, stderr %q", code, done, stderr.String())
	}
	if _, done := commandLine(nil, io.Discard, io.Discard); done {
		t.Error("with no arguments the demo does not play")
	}
}

// The nightly health report (step 8, before the AuthKey scenes replace the AuthKey it
// passes) shows where each set is used and the one group that names a
// set that does not exist.
func TestDemoAuditShowsUsedByAndOneDanglingReference(t *testing.T) {
	_, out := playAll(t)
	steps := strings.Split(out, "━━━ Step ")
	if len(steps) < 9 || !strings.HasPrefix(steps[8], "8: The nightly health report") {
		t.Fatalf("step 8 is not the nightly health report:\n%s", out)
	}
	report := steps[8]
	if n := strings.Count(report, "dangling-reference (broken)"); n != 1 {
		t.Errorf("%d dangling references in the table, want 1:\n%s", n, report)
	}
	for _, want := range []string{
		"Used by", `group "sensors" (7f3c1a52-sensors) in SoracomFunnel`, `event handler "low balance" (e51d-low-balance) in InvokeAWSLambdaAction`,
		`group "cameras" (0b9e44d1-cameras) names credential set funnel-aws-2023 in SoracomFunnel`, "does not exist",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("the report does not show %q:\n%s", want, report)
		}
	}
	if n := strings.Count(report, "Used by"); n != 1 {
		t.Errorf("%d Used by columns, want 1", n)
	}
}
