package e2e

// Off GitHub (a terminal, cron, another CI: no GITHUB_ACTIONS, no output files) the
// binary prints plain text: no workflow command, no HTML character reference, errors as
// "error: …", the summary as text, hints that fit the place. Secrets stay hidden exactly
// as on GitHub.

import (
	"maps"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/ghtest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// workflowCommand is a line the runner would read as a command.
var workflowCommand = regexp.MustCompile(`(?m)^\s*::|##\[`)

// assertPlain fails when anything the run printed holds a workflow command or an HTML
// character reference.
func assertPlain(t *testing.T, r runResult) {
	t.Helper()
	printed := r.stdout + r.stderr
	if workflowCommand.MatchString(printed) {
		t.Errorf("off GitHub the run printed a workflow command:\n%s", printed)
	}
	for _, bad := range []string{"&#", "&lt;", "&gt;", "&amp;", "<br>"} {
		if strings.Contains(printed, bad) {
			t.Errorf("off GitHub the run printed %q:\n%s", bad, printed)
		}
	}
}

func TestOffGitHubBadInputsAreOnePlainError(t *testing.T) {
	_, in := registration(t, map[string]string{"if-exists": "sometimes", "dry-run": "maybe"})
	r := runAction(t, runOpts{inputs: in, offGitHub: true, secrets: []string{authKeySecret, awsSecret}})
	if r.code != 1 || !strings.HasPrefix(r.stdout, "error: 2 invalid inputs:\n  - ") {
		t.Errorf("exit %d; want one plain error listing both problems:\n%s", r.code, r.stdout)
	}
	assertPlain(t, r)
}

func TestOffGitHubTheSummaryIsPlainText(t *testing.T) {
	s, in := registration(t, nil)
	// A SORACOM message full of Markdown and HTML, echoing the secret: it must read as
	// it was, the secret hidden, in the error and in the summary's caution.
	answer := soracomtest.PlainTextFault(400, `{"code":"CRD0001","message":"bad `+"`type`"+` | <b>field</b> & *more* for `+awsSecret+`"}`)
	s.Inject("* /v1/credentials/*", soracomtest.Always, answer)
	r := runAction(t, runOpts{inputs: in, offGitHub: true, secrets: []string{authKeySecret, awsSecret}})
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	assertPlain(t, r)
	for _, want := range []string{
		"\nerror: ",
		"\nSORACOM credential sets\n=======================\n",
		"\nCaution:\n  ",
		"bad `type` | <b>field</b> & *more*",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout does not show %q:\n%s", want, r.stdout)
		}
	}
	if !regexp.MustCompile(`(?m)^Credential set +Coverage +Type +Operation +Time$`).MatchString(r.stdout) {
		t.Errorf("the summary's table is not columns of text:\n%s", r.stdout)
	}
}

func TestOffGitHubTheOIDCHintFitsWhereItRuns(t *testing.T) {
	w := newRotationWorld(t)
	delete(w.env, "ACTIONS_ID_TOKEN_REQUEST_URL")
	delete(w.env, "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	r := runAction(t, runOpts{inputs: w.inputs, env: w.env, offGitHub: true, secrets: []string{authKeySecret}})
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	assertPlain(t, r)
	for _, want := range []string{"error: no GitHub OIDC token available", "leave role-to-assume empty", "AWS_WEB_IDENTITY_TOKEN_FILE"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the error does not say %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "id-token: write") {
		t.Errorf("off GitHub the hint asks for a workflow permission:\n%s", r.stdout)
	}
}

func TestOnGitHubTheOIDCHintAsksForThePermission(t *testing.T) {
	w := newRotationWorld(t)
	delete(w.env, "ACTIONS_ID_TOKEN_REQUEST_URL")
	delete(w.env, "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	r := w.run(t)
	if msg := oneError(t, r); !strings.Contains(msg, "To fix: add `permissions: id-token: write`") || strings.Contains(msg, "AWS_WEB_IDENTITY_TOKEN_FILE") {
		t.Errorf("on GitHub the hint is not the permission: %s", msg)
	}
}

// An INPUT_ variable spelled as a shell would (underscores) names no input: off GitHub
// it is an input error that names the right input, before anything is sent; on GitHub a
// warning, and the run goes on.
func TestAnInputVariableWithUnderscoresIsCaught(t *testing.T) {
	s, in := registration(t, nil)
	env := map[string]string{"INPUT_CREDENTIAL_ID": "funnel-aws", "INPUT_IF_EXISTS": "skip"}
	r := runAction(t, runOpts{inputs: in, env: env, offGitHub: true, secrets: []string{authKeySecret, awsSecret}})
	if r.code != 1 || !strings.Contains(r.stdout, "error: 2 invalid inputs:") ||
		!strings.Contains(r.stdout, "INPUT_CREDENTIAL_ID names no input of action.yml, so it is ignored; did you mean credential-id?") ||
		!strings.Contains(r.stdout, "did you mean if-exists?") || len(s.Requests()) != 0 {
		t.Errorf("off GitHub: exit %d, %d requests:\n%s", r.code, len(s.Requests()), r.stdout)
	}
	assertPlain(t, r)
	r = runAction(t, runOpts{inputs: in, env: env, secrets: []string{authKeySecret, awsSecret}})
	if r.code != 0 || len(annotations(r, "warning")) != 2 {
		t.Errorf("on GitHub: exit %d, warnings %q", r.code, annotations(r, "warning"))
	}
}

// Off GitHub the audit's new columns (Coverage, Used by) and the AuthKey rotation's
// summary and warning are plain text too: a group name full of Markdown and HTML reads
// as it was, no character reference and no workflow command in anything printed.
func TestOffGitHubTheAuditAndTheAuthKeyRotationArePlainText(t *testing.T) {
	w := newAuditWorld(t)
	w.soracom.PutGroup(soracomtest.Group{ID: "55555555-odd", Tags: map[string]string{"name": "<b>a|b</b> *c* _d_ `e`"}, Configuration: funnelConf("harvest-old")})
	w.soracom.SetAuthKeyCreated(authKeyID, time.Now().Add(-40*24*time.Hour))
	w.soracom.Deny(soracomtest.PermDeleteUserAuthKey) // the old AuthKey stays: a warning
	gh := ghtest.Start(t)
	gh.AddToken(githubToken, ghtest.Access{Read: true, Write: true})
	past := time.Now().Add(-40 * 24 * time.Hour)
	gh.SetSecret(ghtest.RepoScope("octo", "app"), "SORACOM_AUTH_KEY", authKeySecret, past, "")
	gh.SetSecret(ghtest.RepoScope("octo", "app"), "SORACOM_AUTH_KEY_ID", authKeyID, past, "")
	w.inputs["rotate-auth-key"], w.inputs["github-token"], w.inputs["fail-on"] = "true", githubToken, "never"
	env := maps.Clone(w.env)
	env["GITHUB_API_URL"], env["GITHUB_REPOSITORY"] = gh.URL, "octo/app"
	r := runAction(t, runOpts{inputs: w.inputs, env: env, offGitHub: true, secrets: append(w.secrets(), secretsOf(w.soracom, gh)...)})
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
	assertPlain(t, r)
	for _, want := range []string{
		`group "<b>a|b</b> *c* _d_ ` + "`e`" + `" (55555555-odd) in SoracomFunnel`,
		"\nwarning: the secrets hold the new AuthKey, but the old AuthKey " + authKeyID + " could not be deleted",
		"\nAuthKey: rotated " + authKeyID + " → keyId-",
		"\nWarning:\n  the secrets hold the new AuthKey",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout does not show %q:\n%s", want, r.stdout)
		}
	}
	if !regexp.MustCompile(`(?m)^Set +Coverage +Type +Used by +Key `).MatchString(r.stdout) {
		t.Errorf("the health report's table is not columns of text:\n%s", r.stdout)
	}
}
