package action_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/action"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/credtypes/credtypestest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/untrusted"
)

// What the hostile-server runs register, and the secrets they must never show.
const (
	chokeAuthKeyID = "keyId-choke-test"
	chokeAuthKey   = "secret-Hv5qR8wN2cX7pL4mZ9tB"
	chokeAWSKeyID  = "AKIAIOSFODNN7EXAMPLE"
	chokeAWSSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	chokePassword  = `pa ss  "w<o>rd"&more/+?`
)

// injection is what a hostile server puts in every text field it controls.
const injection = "x\n::stop-commands::forged\r::add-mask::forged\r\n  ::error::forged ##[warning]forged\n" +
	"# heading [link](https://evil.example/x) ![img](https://evil.example/i.png) <img src=x onerror=alert(1)> | a | b | `code"

// echoedRequest is the registration's request body as a server that echoes it writes it.
var echoedRequest = `{"type":"aws-credentials","credentials":{"accessKeyId":"` + chokeAWSKeyID + `","secretAccessKey":"` + chokeAWSSecret + `"}}`

func jsonError(status int, code, message string) soracomtest.Fault {
	body, _ := json.Marshal(map[string]string{"code": code, "message": message})
	return soracomtest.Fault{Status: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: string(body)}
}

func gzipped(status int, contentType, body string) soracomtest.Fault {
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	_, _ = z.Write([]byte(body))
	_ = z.Close()
	return soracomtest.Fault{Status: status, Header: http.Header{"Content-Type": {contentType}, "Content-Encoding": {"gzip"}}, Body: b.String()}
}

// hostileCase is one way a server (or a file, or a certificate) sends text meant to leak
// a secret, forge a workflow command or render markup.
type hostileCase struct {
	name     string
	operator string // the operator id /v1/auth answers; empty for the default
	userName string // the SAM user name /v1/auth answers; empty for the default
	inputs   map[string]string
	setup    func(t *testing.T, s *soracomtest.Server)
	wantCode int
}

func hostileCases() []hostileCase {
	writes := "* /v1/credentials/*"
	return []hostileCase{
		{name: "a 503 whose JSON message and code inject commands, through the retry notice", wantCode: 1,
			setup: func(t *testing.T, s *soracomtest.Server) {
				s.Inject(writes, soracomtest.Always, jsonError(503, "SEM\n::add-mask::forged", injection))
			}},
		{name: "a 400 text body that echoes the request, cut by the client mid-secret", wantCode: 1,
			setup: func(t *testing.T, s *soracomtest.Server) {
				s.Inject(writes, soracomtest.Always, soracomtest.PlainTextFault(400, strings.Repeat("bad request ", 12)+echoedRequest))
			}},
		{name: "a 400 JSON message that echoes the secrets JSON-, URL- and HTML-escaped", wantCode: 1,
			setup: func(t *testing.T, s *soracomtest.Server) {
				msg := "echo: " + echoedRequest + " url: " + url.QueryEscape(chokeAWSSecret) + " path: " + url.PathEscape(chokeAuthKey) + " html: " + html.EscapeString(chokeAWSSecret)
				s.Inject(writes, soracomtest.Always, jsonError(400, "SEM0005", msg))
			}},
		{name: "an HTML page that echoes a password HTML-escaped and whitespace-collapsed", wantCode: 1,
			inputs: map[string]string{inputs.CredentialType: "username-password-credentials", inputs.Credentials: mustJSON(map[string]string{"username": "dev", "password": chokePassword})},
			setup: func(t *testing.T, s *soracomtest.Server) {
				page := "<html><body><h1>400</h1><p>password=" + html.EscapeString(chokePassword) + "</p><p>" + strings.Join(strings.Fields(chokePassword), " ") + "</p>" + injection + "</body></html>"
				s.Inject(writes, soracomtest.Always, soracomtest.Fault{Status: 400, Header: http.Header{"Content-Type": {"text/html"}}, Body: page})
			}},
		{name: "a gzip-encoded body that echoes the request", wantCode: 1,
			setup: func(t *testing.T, s *soracomtest.Server) {
				s.Inject(writes, soracomtest.Always, gzipped(400, "text/plain", "echo "+echoedRequest+injection))
			}},
		{name: "a 403 message with Markdown and HTML", wantCode: 1,
			setup: func(t *testing.T, s *soracomtest.Server) {
				s.Inject(writes, soracomtest.Always, jsonError(403, "SEM0049", injection))
			}},
		{name: "a 500 with a 3 MB message on every retry", wantCode: 1,
			setup: func(t *testing.T, s *soracomtest.Server) {
				s.Inject(writes, soracomtest.Always, jsonError(500, "SEM0500", strings.Repeat("huge "+injection+" ", 3<<20/len(injection))))
			}},
		{name: "an operator id and a SAM user name that inject commands", wantCode: 1,
			operator: "OP0012345678\n::stop-commands::forged", userName: "ci\n::error::forged <img src=x>"},
		{name: "a stored type in the list answer that injects commands (dry run, the list is refused)", wantCode: 1,
			inputs: map[string]string{inputs.DryRun: "true"},
			setup: func(t *testing.T, s *soracomtest.Server) {
				s.PutCredentialSet(soracomtest.CredentialSet{ID: "set-1", Type: "psk" + injection, Credentials: map[string]any{"key": "k"}})
			}},
		{name: "a stored type that injects commands, for a skipped set (the list is refused)", wantCode: 1,
			inputs: map[string]string{inputs.IfExists: "skip"},
			setup: func(t *testing.T, s *soracomtest.Server) {
				s.PutCredentialSet(soracomtest.CredentialSet{ID: "set-1", Type: "psk" + injection, Credentials: map[string]any{"key": "k"}})
			}},
		{name: "a certificate whose subject CN injects commands", wantCode: 0,
			inputs: map[string]string{inputs.CredentialType: "x509"}},
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Whatever a hostile server sends in any field the action reads, nothing printed or
// written holds a secret in any form, no log line is a workflow command the action did
// not write, the summary renders no markup from outside, and every output is one line
// of the shape it promises.
func TestHostileTextLeavesNoSecretNoCommandNoMarkup(t *testing.T) {
	for _, tc := range hostileCases() {
		t.Run(tc.name, func(t *testing.T) { runHostile(t, tc, true) })
	}
}

// Outside GitHub, errors print as lines and the summary and outputs go to stdout: still
// no secret and no line that a runner would parse as a command.
func TestHostileTextOutsideGitHub(t *testing.T) {
	for _, tc := range hostileCases() {
		t.Run(tc.name, func(t *testing.T) { runHostile(t, tc, false) })
	}
}

func runHostile(t *testing.T, tc hostileCase, onGitHub bool) {
	o := chokeRun(t, hostileInputs(t, tc), onGitHub)
	if o.code != tc.wantCode {
		t.Errorf("exit code %d, want %d\n%s", o.code, tc.wantCode, o.stdout)
	}
	secrets := append(maskedValues(o.stdout), chokeAuthKey, chokeAWSSecret, chokePassword)
	checkNoSecret(t, o, secrets)
	checkNoForgedCommand(t, o.stdout)
	checkOutputsOneLine(t, o.outputs)
	if onGitHub {
		checkSummaryInert(t, o.summary)
	} else if strings.Contains(o.stdout, "%0A") {
		t.Errorf("outside GitHub a message was %%0A-escaped:\n%s", o.stdout)
	}
	if len(o.stdout) > 64<<10 || len(o.summary) > 64<<10 {
		t.Errorf("printed %d bytes of log and %d of summary", len(o.stdout), len(o.summary))
	}
}

// hostileInputs starts the case's SORACOM and returns the run's inputs.
func hostileInputs(t *testing.T, tc hostileCase) map[string]string {
	var opts []soracomtest.Option
	if tc.operator != "" {
		opts = append(opts, soracomtest.WithOperatorID(tc.operator))
	}
	s := soracomtest.Start(t, opts...)
	user := tc.userName
	if user == "" {
		user = soracomtest.DefaultUserName
	}
	s.AddUserAuthKey(user, chokeAuthKeyID, chokeAuthKey)
	if tc.setup != nil {
		tc.setup(t, s)
	}
	in := map[string]string{
		inputs.CredentialID: "set-1", inputs.AuthKeyID: chokeAuthKeyID, inputs.AuthKey: chokeAuthKey,
		inputs.Endpoint: s.URL(), inputs.VerifyAWSKey: "false",
		inputs.Credentials: mustJSON(map[string]string{"accessKeyId": chokeAWSKeyID, "secretAccessKey": chokeAWSSecret}),
	}
	if tc.inputs[inputs.CredentialType] == "x509" {
		cert := credtypestest.NewCert(t, credtypestest.CertOptions{CommonName: "dev" + injection})
		in[inputs.Credentials] = mustJSON(map[string]string{"cert": cert.CertPEM, "key": cert.KeyPEM})
	}
	for k, v := range tc.inputs {
		in[k] = v
	}
	return in
}

// chokeRun runs the action on GitHub (GITHUB_ACTIONS, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY)
// or, without them, as outside GitHub.
func chokeRun(t *testing.T, in map[string]string, onGitHub bool) outcome {
	t.Helper()
	dir := t.TempDir()
	env := map[string]string{}
	if onGitHub {
		env = map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": filepath.Join(dir, "out"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary")}
	}
	for k, v := range in {
		env[inputs.EnvName(k)] = v
	}
	var stdout bytes.Buffer
	code := action.Run(context.Background(), action.Env{Getenv: func(k string) string { return env[k] }, Stdout: &stdout, Retry: shortBounds(), KeyWait: time.Second})
	outputs, _ := os.ReadFile(env["GITHUB_OUTPUT"])
	summary, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	return outcome{code: code, stdout: stdout.String(), summary: string(summary), outputs: string(outputs)}
}

// unescapeCommandData undoes the runner's escaping of a command's data.
var unescapeCommandData = strings.NewReplacer("%0D", "\r", "%0A", "\n", "%25", "%")

// maskedValues returns the values the run masked: the API key and token among them.
func maskedValues(stdout string) []string {
	var out []string
	for _, line := range strings.Split(stdout, "\n") {
		if v, ok := strings.CutPrefix(line, "::add-mask::"); ok && len(v) >= 8 {
			out = append(out, unescapeCommandData.Replace(v))
		}
	}
	return out
}

// checkNoSecret: no form of a secret (whole, escaped, collapsed) nor its first 8 bytes
// in the log (outside ::add-mask::, annotations unescaped), the outputs or the summary.
func checkNoSecret(t *testing.T, o outcome, secrets []string) {
	t.Helper()
	var log strings.Builder
	for _, line := range strings.Split(o.stdout, "\n") {
		if !strings.HasPrefix(line, "::add-mask::") {
			log.WriteString(unescapeCommandData.Replace(line) + "\n")
		}
	}
	for where, text := range map[string]string{"log": log.String(), "outputs": o.outputs, "summary": o.summary} {
		for _, s := range secrets {
			for _, form := range untrusted.Forms(s) {
				if len(form) >= 8 && strings.Contains(text, form[:8]) {
					t.Errorf("the %s holds the start %q of a form of a secret:\n%s", where, form[:8], text)
				}
			}
		}
	}
}

// ownCommand matches the commands the action writes itself.
var ownCommand = regexp.MustCompile(`^::(add-mask|error|warning|notice|debug|group|endgroup)::`)

// checkNoForgedCommand: every line the runner would parse as a command is one of the
// action's own, and none carries the injected text at its start (in its data, the
// runner shows the text and parses nothing).
func checkNoForgedCommand(t *testing.T, stdout string) {
	t.Helper()
	for _, line := range regexp.MustCompile(`\r\n|\r|\n`).Split(stdout, -1) {
		if !untrusted.IsCommand(line) {
			continue
		}
		m := ownCommand.FindString(line)
		if m == "" || strings.Contains(line, "##[") || strings.HasPrefix(line[len(m):], "forged") {
			t.Errorf("forged command line %q", line)
		}
	}
}

// checkSummaryInert: no heading but the action's, no link, image or HTML from outside,
// and every table row has the header's cells.
func checkSummaryInert(t *testing.T, summary string) {
	t.Helper()
	for _, bad := range []string{"<img", "](", "<a ", "[link]", "```"} {
		if strings.Contains(summary, bad) {
			t.Errorf("the summary holds %q:\n%s", bad, summary)
		}
	}
	cells := 0 // the cell breaks of the table's header row
	for _, line := range strings.Split(summary, "\n") {
		trimmed := strings.TrimLeft(line, "> ")
		if strings.HasPrefix(trimmed, "#") && !strings.HasPrefix(line, "### SORACOM credential sets") {
			t.Errorf("a heading from outside: %q", line)
		}
		if !strings.HasPrefix(line, "|") {
			cells = 0
			continue
		}
		if cells == 0 {
			cells = strings.Count(line, "|")
		}
		if strings.Count(line, "|") != cells {
			t.Errorf("a table row with a cell break: %q", line)
		}
	}
}

// checkOutputsOneLine: every heredoc value in GITHUB_OUTPUT is one line, and the
// operator id, when written, is OP and digits.
func checkOutputsOneLine(t *testing.T, outputs string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(outputs, "\n"), "\n")
	for i := 0; i+2 < len(lines); i += 3 {
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok || lines[i+2] != delim {
			t.Errorf("output %q is not one line:\n%s", name, outputs)
			return
		}
		if name == "operator-id" && !regexp.MustCompile(`^OP[0-9]+$`).MatchString(lines[i+1]) {
			t.Errorf("operator-id output %q", lines[i+1])
		}
	}
}

// Outside GitHub the job summary is printed after the log as plain text, or written to
// the file GITHUB_STEP_SUMMARY names (as Markdown) when it is set; no mask command is
// printed either way.
func TestSummaryOutsideGitHubGoesToStdoutOrTheNamedFile(t *testing.T) {
	s := soracomtest.Start(t)
	s.AddAuthKey(chokeAuthKeyID, chokeAuthKey)
	in := map[string]string{
		inputs.CredentialID: "set-1", inputs.AuthKeyID: chokeAuthKeyID, inputs.AuthKey: chokeAuthKey,
		inputs.Endpoint: s.URL(), inputs.VerifyAWSKey: "false",
		inputs.Credentials: mustJSON(map[string]string{"accessKeyId": chokeAWSKeyID, "secretAccessKey": chokeAWSSecret}),
	}
	o := chokeRun(t, in, false)
	if o.code != 0 || !strings.Contains(o.stdout, "\nSORACOM credential sets\n=====") || !regexp.MustCompile(`\nset-1 +jp +aws-credentials +created `).MatchString(o.stdout) {
		t.Errorf("exit %d; no plain-text summary on stdout:\n%s", o.code, o.stdout)
	}
	if strings.Contains(o.stdout, "::add-mask::") {
		t.Errorf("mask commands printed outside GitHub:\n%s", o.stdout)
	}

	file := filepath.Join(t.TempDir(), "summary.md")
	env := map[string]string{"GITHUB_STEP_SUMMARY": file}
	for k, v := range in {
		env[inputs.EnvName(k)] = v
	}
	var stdout bytes.Buffer
	code := action.Run(context.Background(), action.Env{Getenv: func(k string) string { return env[k] }, Stdout: &stdout, Retry: shortBounds()})
	summary, _ := os.ReadFile(file)
	if code != 0 || strings.Contains(stdout.String(), "### SORACOM") || !strings.Contains(string(summary), "| `set-1` |") {
		t.Errorf("exit %d; with GITHUB_STEP_SUMMARY set the summary is not in the file:\nstdout:\n%s\nfile:\n%s", code, stdout.String(), summary)
	}
}
