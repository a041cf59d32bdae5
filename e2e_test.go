package main

// End-to-end tests of the built binary, run the way GitHub's runner runs a container
// action: every input of action.yml as INPUT_<NAME> (hyphens kept) with its default
// filled in, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, GITHUB_ACTIONS=true. Each run
// is scanned for secrets that appear anywhere but in an ::add-mask:: command.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	yaml "go.yaml.in/yaml/v4"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sca-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "soracom-credentials-action")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the action:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// actionMetadata is the part of action.yml the runner uses.
type actionMetadata struct {
	Inputs map[string]struct {
		Description string `yaml:"description"`
		Required    bool   `yaml:"required"`
		Default     string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Description string `yaml:"description"`
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Image string `yaml:"image"`
	} `yaml:"runs"`
}

func readActionYML(t *testing.T) actionMetadata {
	t.Helper()
	data, err := os.ReadFile("action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var m actionMetadata
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// runResult is everything a run printed or wrote.
type runResult struct {
	code    int
	stdout  string
	stderr  string
	outputs map[string]string
	raw     string // GITHUB_OUTPUT as written
	summary string
}

// everything is all the text a run produced, for the leak scan.
func (r runResult) everything() string {
	return strings.Join([]string{r.stdout, r.stderr, r.raw, r.summary}, "\n")
}

type runOpts struct {
	inputs map[string]string
	env    map[string]string
	// noGitHub leaves GITHUB_OUTPUT and GITHUB_STEP_SUMMARY unset, as outside GitHub.
	noGitHub bool
	// secrets must never appear unmasked.
	secrets []string
	// start, when set, is called with the started process before waiting for it.
	start func(*exec.Cmd)
}

// runAction runs the binary as the runner would and checks that no secret leaked.
func runAction(t *testing.T, o runOpts) runResult {
	t.Helper()
	meta := readActionYML(t)
	for name := range o.inputs {
		if _, ok := meta.Inputs[name]; !ok {
			t.Fatalf("test sets input %q that action.yml does not declare", name)
		}
	}
	dir := t.TempDir()
	workspace := filepath.Join(dir, "workspace")
	if err := os.Mkdir(workspace, 0o755); err != nil {
		t.Fatal(err)
	}
	outFile, summaryFile := filepath.Join(dir, "set_output"), filepath.Join(dir, "step_summary")
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "GITHUB_ACTIONS=true", "CI=true",
		"GITHUB_WORKSPACE=" + workspace,
		// Keep the AWS SDK away from this machine's files and metadata service.
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "no-aws-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
	}
	if !o.noGitHub {
		env = append(env, "GITHUB_OUTPUT="+outFile, "GITHUB_STEP_SUMMARY="+summaryFile)
	}
	for name, in := range meta.Inputs {
		v, ok := o.inputs[name]
		if !ok {
			v = in.Default
		}
		env = append(env, "INPUT_"+strings.ToUpper(name)+"="+v)
	}
	for k, v := range o.env {
		env = append(env, k+"="+v)
	}
	cmd := exec.Command(binary)
	cmd.Env, cmd.Dir = env, workspace
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if o.start != nil {
		o.start(cmd)
	}
	err := cmd.Wait()
	res := runResult{stdout: stdout.String(), stderr: stderr.String(), outputs: map[string]string{}}
	if err != nil {
		exitErr, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatal(err)
		}
		res.code = exitErr.ExitCode()
	}
	if data, err := os.ReadFile(outFile); err == nil {
		res.raw = string(data)
		res.outputs = parseOutputs(t, res.raw)
	}
	if data, err := os.ReadFile(summaryFile); err == nil {
		res.summary = string(data)
	}
	for name := range res.outputs {
		if _, ok := meta.Outputs[name]; !ok {
			t.Errorf("the run set output %q that action.yml does not declare", name)
		}
	}
	assertNoLeak(t, res, o.secrets)
	if t.Failed() {
		t.Logf("stdout:\n%s\nstderr:\n%s\noutputs:\n%s\nsummary:\n%s", res.stdout, res.stderr, res.raw, res.summary)
	}
	return res
}

var heredoc = regexp.MustCompile(`^([A-Za-z0-9_-]+)<<(.+)$`)

// parseOutputs reads GITHUB_OUTPUT as the runner does.
func parseOutputs(t *testing.T, raw string) map[string]string {
	t.Helper()
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := heredoc.FindStringSubmatch(sc.Text())
		if m == nil {
			t.Fatalf("GITHUB_OUTPUT line is not a heredoc start: %q", sc.Text())
		}
		var lines []string
		for sc.Scan() && sc.Text() != m[2] {
			lines = append(lines, sc.Text())
		}
		out[m[1]] = strings.Join(lines, "\n")
	}
	return out
}

// assertNoLeak fails when a secret, or any line of a multi-line secret, appears anywhere
// but in an ::add-mask:: command, and when a secret was not masked at all.
func assertNoLeak(t *testing.T, r runResult, secrets []string) {
	t.Helper()
	var masked []string
	var rest strings.Builder
	for _, line := range strings.Split(r.everything(), "\n") {
		if v, ok := strings.CutPrefix(line, "::add-mask::"); ok {
			masked = append(masked, v)
			continue
		}
		rest.WriteString(line + "\n")
	}
	text := rest.String()
	for _, s := range secrets {
		for _, line := range strings.Split(s, "\n") {
			line = strings.TrimSpace(line)
			if len(line) < 6 {
				continue // too short to tell from ordinary text
			}
			if strings.Contains(text, line) {
				t.Errorf("secret %q… appears unmasked", line[:4])
			}
			if !containsLine(masked, line) {
				t.Errorf("secret %q… was never masked", line[:4])
			}
		}
	}
}

func containsLine(masked []string, line string) bool {
	for _, m := range masked {
		if strings.Contains(line, m) {
			return true
		}
	}
	return false
}

// annotations returns the ::error:: messages of a run, unescaped.
func annotations(r runResult, kind string) []string {
	var out []string
	for _, line := range strings.Split(r.stdout, "\n") {
		if v, ok := strings.CutPrefix(line, "::"+kind+"::"); ok {
			v = strings.NewReplacer("%0A", "\n", "%0D", "\r", "%25", "%").Replace(v)
			out = append(out, v)
		}
	}
	return out
}

func oneError(t *testing.T, r runResult) string {
	t.Helper()
	errs := annotations(r, "error")
	if len(errs) != 1 {
		t.Fatalf("want exactly one ::error:: line, got %d: %q", len(errs), errs)
	}
	return errs[0]
}

const (
	e2eKeyID     = "keyId-e2e0123456789"
	e2eKeySecret = "secret-e2eAuthKeySecret0123456789"
	e2eAWSKeyID  = "AKIAE2ETESTKEY000001"
	e2eAWSSecret = "e2e/AWS+secretAccessKey0123456789abcdefgh"
)

// registration returns a SORACOM emulator and the inputs of a registration against it.
func registration(t *testing.T, changes map[string]string, opts ...soracomtest.Option) (*soracomtest.Server, map[string]string) {
	t.Helper()
	s := soracomtest.Start(t, opts...)
	s.AddAuthKey(e2eKeyID, e2eKeySecret)
	in := map[string]string{
		"credential-id":         "funnel-aws",
		"soracom-auth-key-id":   e2eKeyID,
		"soracom-auth-key":      e2eKeySecret,
		"soracom-endpoint":      s.URL(),
		"aws-access-key-id":     e2eAWSKeyID,
		"aws-secret-access-key": e2eAWSSecret,
		"verify-aws-key":        "false",
	}
	for k, v := range changes {
		in[k] = v
	}
	return s, in
}

var e2eSecrets = []string{e2eKeySecret, e2eAWSSecret}

func requestLine(s *soracomtest.Server) string {
	var out []string
	for _, r := range s.Requests() {
		out = append(out, r.Method+" "+r.Path)
	}
	return strings.Join(out, ", ")
}

type result struct {
	CredentialID string `json:"credentialId"`
	Type         string `json:"type"`
	Operation    string `json:"operation"`
	UpdatedAt    string `json:"updatedAt"`
	Planned      string `json:"planned"`
}

func results(t *testing.T, r runResult) []result {
	t.Helper()
	var rs []result
	if err := json.Unmarshal([]byte(r.outputs["results"]), &rs); err != nil {
		t.Fatalf("results output %q: %v", r.outputs["results"], err)
	}
	for _, x := range rs {
		if x.UpdatedAt != "" {
			if _, err := time.Parse(time.RFC3339, x.UpdatedAt); err != nil {
				t.Errorf("updatedAt %q is not RFC 3339", x.UpdatedAt)
			}
		}
	}
	return rs
}

func TestE2ECreatesAMissingSet(t *testing.T) {
	s, in := registration(t, nil)
	r := runAction(t, runOpts{inputs: in, secrets: e2eSecrets})
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	want := map[string]string{"credential-id": "funnel-aws", "operation": "created", "operator-id": soracomtest.DefaultOperatorID, "aws-access-key-id": e2eAWSKeyID}
	for k, v := range want {
		if r.outputs[k] != v {
			t.Errorf("output %s = %q, want %q", k, r.outputs[k], v)
		}
	}
	rs := results(t, r)
	if len(rs) != 1 || rs[0].CredentialID != "funnel-aws" || rs[0].Type != "aws-credentials" || rs[0].Operation != "created" || rs[0].UpdatedAt == "" {
		t.Errorf("results = %+v", rs)
	}
	set, ok := s.CredentialSet("funnel-aws")
	if !ok || set.Credentials["secretAccessKey"] != e2eAWSSecret || set.Credentials["accessKeyId"] != e2eAWSKeyID {
		t.Fatalf("the set does not hold the key")
	}
	if got := requestLine(s); got != "POST /v1/auth, PUT /v1/credentials/funnel-aws, POST /v1/credentials/funnel-aws, POST /v1/auth/logout" {
		t.Errorf("round trips: %s", got)
	}
	if !strings.Contains(r.summary, "| `funnel-aws` | aws-credentials | created |") || !strings.Contains(r.summary, "…0001") {
		t.Errorf("summary lacks the set row or the key's last four characters:\n%s", r.summary)
	}
	if strings.Contains(r.summary, e2eAWSKeyID) {
		t.Errorf("summary shows the whole key id")
	}
	if s.LiveSessions() != 0 {
		t.Errorf("the API token was not revoked")
	}
}

func TestE2EUpdatesAnExistingSetInThreeRoundTrips(t *testing.T) {
	s, in := registration(t, map[string]string{"description": "rotated by CI"})
	s.PutCredentialSet(soracomtest.CredentialSet{ID: "funnel-aws", Type: "aws-credentials", Credentials: map[string]any{"accessKeyId": "AKIAOLDKEY0000000001", "secretAccessKey": "old"}})
	r := runAction(t, runOpts{inputs: in, secrets: e2eSecrets})
	if r.code != 0 || r.outputs["operation"] != "updated" {
		t.Fatalf("exit %d, operation %q", r.code, r.outputs["operation"])
	}
	if got := requestLine(s); got != "POST /v1/auth, PUT /v1/credentials/funnel-aws, POST /v1/auth/logout" {
		t.Errorf("round trips: %s", got)
	}
	set, _ := s.CredentialSet("funnel-aws")
	if set.Credentials["secretAccessKey"] != e2eAWSSecret || set.Description != "rotated by CI" {
		t.Errorf("set not updated")
	}
}

func TestE2EIfExists(t *testing.T) {
	tests := []struct {
		ifExists, wantOp string
		wantCode         int
	}{
		{"skip", "skipped", 0},
		{"fail", "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.ifExists, func(t *testing.T) {
			s, in := registration(t, map[string]string{"if-exists": tt.ifExists})
			s.PutCredentialSet(soracomtest.CredentialSet{ID: "funnel-aws", Type: "aws-credentials", Credentials: map[string]any{"accessKeyId": "AKIAOLDKEY0000000001", "secretAccessKey": "old"}})
			r := runAction(t, runOpts{inputs: in, secrets: e2eSecrets})
			if r.code != tt.wantCode || r.outputs["operation"] != tt.wantOp {
				t.Fatalf("exit %d, operation %q", r.code, r.outputs["operation"])
			}
			if set, _ := s.CredentialSet("funnel-aws"); set.Credentials["secretAccessKey"] != "old" {
				t.Errorf("the existing set was changed")
			}
			if tt.wantCode != 0 && !strings.Contains(oneError(t, r), "already exists") {
				t.Errorf("error does not say the set exists")
			}
		})
	}
}

func TestE2ESeveralIDsMixed(t *testing.T) {
	s, in := registration(t, map[string]string{"credential-id": "a\nb\n"})
	s.PutCredentialSet(soracomtest.CredentialSet{ID: "b", Type: "aws-credentials", Credentials: map[string]any{"accessKeyId": "AKIAOLDKEY0000000001"}})
	r := runAction(t, runOpts{inputs: in, secrets: e2eSecrets})
	if r.code != 0 || r.outputs["operation"] != "mixed" || r.outputs["credential-id"] != "a" {
		t.Fatalf("exit %d, outputs %v", r.code, r.outputs)
	}
	rs := results(t, r)
	if len(rs) != 2 || rs[0].Operation != "created" || rs[1].Operation != "updated" {
		t.Errorf("results = %+v", rs)
	}
}

func TestE2EDryRunChangesNothing(t *testing.T) {
	s, in := registration(t, map[string]string{"dry-run": "true", "credential-id": "a\nb"})
	s.PutCredentialSet(soracomtest.CredentialSet{ID: "b", Type: "aws-credentials", Credentials: map[string]any{"accessKeyId": "AKIAOLDKEY0000000001"}})
	r := runAction(t, runOpts{inputs: in, secrets: e2eSecrets})
	if r.code != 0 || r.outputs["operation"] != "planned" {
		t.Fatalf("exit %d, operation %q", r.code, r.outputs["operation"])
	}
	rs := results(t, r)
	if len(rs) != 2 || rs[0].Planned != "create" || rs[1].Planned != "update" {
		t.Errorf("results = %+v", rs)
	}
	if _, ok := s.CredentialSet("a"); ok {
		t.Errorf("dry run created a set")
	}
	if got := requestLine(s); got != "POST /v1/auth, GET /v1/credentials, POST /v1/auth/logout" {
		t.Errorf("round trips: %s", got)
	}
	if !strings.Contains(r.summary, "dry run") {
		t.Errorf("summary does not say it was a dry run")
	}
}

func TestE2EBadInputsFailBeforeAnyNetworkCall(t *testing.T) {
	s, in := registration(t, map[string]string{
		"credential-id": "bad id", "soracom-coverage-type": "eu", "if-exists": "overwrite",
		"aws-access-key-id": "", "dry-run": "yes",
	})
	r := runAction(t, runOpts{inputs: in, secrets: e2eSecrets})
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	msg := oneError(t, r)
	for _, want := range []string{"credential-id", "soracom-coverage-type", "if-exists", "aws-access-key-id is required", "dry-run"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not mention %q:\n%s", want, msg)
		}
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("%d requests were sent despite invalid inputs", n)
	}
	if len(r.outputs) != 0 {
		t.Errorf("outputs were written: %v", r.outputs)
	}
}

func TestE2EMasksSecretsBeforePrintingAnythingElse(t *testing.T) {
	_, in := registration(t, nil)
	r := runAction(t, runOpts{inputs: in, secrets: e2eSecrets})
	lines := strings.Split(r.stdout, "\n")
	for i, want := range []string{"::add-mask::" + e2eKeySecret, "::add-mask::" + e2eAWSSecret} {
		if i >= len(lines) || lines[i] != want {
			t.Errorf("line %d is %q, want the mask of an input secret first", i+1, lines[i])
		}
	}
}

func TestE2EFailures(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(*soracomtest.Server, map[string]string)
		want   []string
		trips  string
		logout bool
	}{
		{
			name:  "a wrong AuthKey says to check it",
			setup: func(s *soracomtest.Server, in map[string]string) { in["soracom-auth-key"] = "secret-wrong-wrong-wrong" },
			want:  []string{"401", "SEM0015", "check soracom-auth-key-id and soracom-auth-key"},
			trips: "POST /v1/auth",
		},
		{
			name:   "a denied update names the SAM permission",
			setup:  func(s *soracomtest.Server, in map[string]string) { s.Deny("Credential:updateCredential") },
			want:   []string{"403", "Credential:updateCredential"},
			trips:  "POST /v1/auth, PUT /v1/credentials/funnel-aws, POST /v1/auth/logout",
			logout: true,
		},
		{
			name: "a rejected write points at the type and its fields",
			setup: func(s *soracomtest.Server, in map[string]string) {
				s.Inject("* /v1/credentials/*", soracomtest.Always, soracomtest.Fault{Status: 400, Header: map[string][]string{"Content-Type": {"text/plain"}}, Body: `{"code":"CRD0003","message":"Invalid credentials"}`})
			},
			want:   []string{"400", "CRD0003", "Invalid credentials", "credential-type"},
			trips:  "POST /v1/auth, PUT /v1/credentials/funnel-aws, POST /v1/credentials/funnel-aws, GET /v1/credentials, POST /v1/auth/logout",
			logout: true,
		},
		{
			name: "a proxy's HTML error page is shown as text",
			setup: func(s *soracomtest.Server, in map[string]string) {
				s.Inject("POST /v1/auth", 1, soracomtest.HTMLFault(403))
			},
			want:  []string{"403", "Forbidden"},
			trips: "POST /v1/auth",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, in := registration(t, nil)
			tt.setup(s, in)
			r := runAction(t, runOpts{inputs: in, secrets: []string{in["soracom-auth-key"], e2eAWSSecret}})
			if r.code != 1 {
				t.Fatalf("exit %d", r.code)
			}
			msg := oneError(t, r)
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not say %q:\n%s", w, msg)
				}
			}
			if got := requestLine(s); got != tt.trips {
				t.Errorf("round trips: %s\nwant:        %s", got, tt.trips)
			}
			if s.LiveSessions() != 0 {
				t.Errorf("a token was left alive")
			}
		})
	}
}

func TestE2ERetriesA429OnTheWrite(t *testing.T) {
	s, in := registration(t, nil)
	s.PutCredentialSet(soracomtest.CredentialSet{ID: "funnel-aws", Type: "aws-credentials", Credentials: map[string]any{"accessKeyId": "AKIAOLDKEY0000000001"}})
	s.Inject("PUT /v1/credentials/*", 1, soracomtest.TooManyRequests(1, false))
	r := runAction(t, runOpts{inputs: in, secrets: e2eSecrets})
	if r.code != 0 || r.outputs["operation"] != "updated" {
		t.Fatalf("exit %d, operation %q", r.code, r.outputs["operation"])
	}
	if !strings.Contains(r.stdout, "SORACOM updateCredential failed") || !strings.Contains(r.stdout, "retrying in 1s") {
		t.Errorf("the wait for the rate limit was not announced:\n%s", r.stdout)
	}
}

func TestE2EPartialFailureSaysWhichSetsChanged(t *testing.T) {
	s, in := registration(t, map[string]string{"credential-id": "a\nb\nc"})
	s.Deny("Credential:createCredential")
	s.PutCredentialSet(soracomtest.CredentialSet{ID: "a", Type: "aws-credentials", Credentials: map[string]any{"accessKeyId": "AKIAOLDKEY0000000001"}})
	r := runAction(t, runOpts{inputs: in, secrets: e2eSecrets})
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	msg := oneError(t, r)
	for _, want := range []string{"Credential:createCredential", "done before the failure: a (updated)", "not changed: b, c"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not say %q: %s", want, msg)
		}
	}
	if rs := results(t, r); len(rs) != 1 || rs[0].CredentialID != "a" || r.outputs["operation"] != "updated" {
		t.Errorf("results = %+v, operation %q", rs, r.outputs["operation"])
	}
	for _, row := range []string{"| `a` | aws-credentials | updated |", "| `b` | aws-credentials | **not changed** (failed) |", "| `c` |"} {
		if !strings.Contains(r.summary, row) {
			t.Errorf("summary lacks %q:\n%s", row, r.summary)
		}
	}
}

func TestE2EDryRunWithIfExistsFailPlansNothing(t *testing.T) {
	s, in := registration(t, map[string]string{"dry-run": "true", "if-exists": "fail", "credential-id": "a\nb"})
	s.PutCredentialSet(soracomtest.CredentialSet{ID: "a", Type: "aws-credentials", Credentials: map[string]any{"accessKeyId": "AKIAOLDKEY0000000001"}})
	r := runAction(t, runOpts{inputs: in, secrets: e2eSecrets})
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	rs := results(t, r)
	if len(rs) != 2 || rs[0].Planned != "fail" || rs[1].Planned != "none" {
		t.Errorf("results = %+v", rs)
	}
	if !strings.Contains(r.summary, "CAUTION") || !strings.Contains(r.summary, "already exists") {
		t.Errorf("the summary does not show the failure:\n%s", r.summary)
	}
}

func TestE2EOutsideGitHubPrintsOutputs(t *testing.T) {
	_, in := registration(t, nil)
	r := runAction(t, runOpts{inputs: in, secrets: e2eSecrets, noGitHub: true})
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	for _, want := range []string{"output operation=created", "output credential-id=funnel-aws"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
}

func TestE2ECancelledJobStillRevokesTheToken(t *testing.T) {
	for _, sig := range []os.Signal{syscall.SIGTERM, os.Interrupt} {
		t.Run(sig.String(), func(t *testing.T) {
			s, in := registration(t, nil)
			s.Inject("PUT /v1/credentials/*", 1, soracomtest.SlowFault(30*time.Second))
			start := time.Now()
			r := runAction(t, runOpts{inputs: in, secrets: e2eSecrets, start: func(cmd *exec.Cmd) {
				// The request log records a request once answered, so wait for the
				// token instead: the PUT (held 30 s by the emulator) follows at once.
				deadline := time.Now().Add(10 * time.Second)
				for s.LiveSessions() == 0 && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond)
				}
				time.Sleep(200 * time.Millisecond)
				_ = cmd.Process.Signal(sig)
			}})
			if r.code != 1 {
				t.Fatalf("exit %d", r.code)
			}
			if time.Since(start) > 20*time.Second {
				t.Errorf("the run did not stop on the signal")
			}
			if s.CountRequests("POST", "/v1/auth/logout") != 1 || s.LiveSessions() != 0 {
				t.Errorf("the token was not revoked on cancellation: %s", requestLine(s))
			}
			msg := oneError(t, r)
			if !strings.Contains(msg, "cancelled") || strings.Contains(msg, "To fix") {
				t.Errorf("error does not say the run was cancelled, or gives a hint that does not apply: %s", msg)
			}
		})
	}
}
