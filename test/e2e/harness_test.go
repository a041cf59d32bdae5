package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	yaml "go.yaml.in/yaml/v4"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// actionInput is one input of action.yml.
type actionInput struct {
	Description string `yaml:"description"`
	Required    bool   `yaml:"required"`
	Default     string `yaml:"default"`
}

// actionMetadata is the part of action.yml the runner uses.
type actionMetadata struct {
	Inputs  map[string]actionInput `yaml:"inputs"`
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
	data, err := os.ReadFile(repoFile("action.yml"))
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
	// noGitHub leaves GITHUB_OUTPUT and GITHUB_STEP_SUMMARY unset.
	noGitHub bool
	// offGitHub runs as a terminal, cron or another CI would: no GITHUB_ACTIONS, no CI,
	// no output or summary file. Nothing is masked there, so secrets are only checked
	// not to appear.
	offGitHub bool
	// secrets must never appear unmasked.
	secrets []string
	// start, when set, is called with the started process before waiting for it.
	start func(*exec.Cmd)
}

// runnerEnv is the environment the runner gives the container (or, offGitHub, what a
// terminal gives the binary): every input with its default filled in, and o.env.
func runnerEnv(o runOpts, meta actionMetadata, dir, workspace, outFile, summaryFile string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"GITHUB_WORKSPACE=" + workspace,
		// Keep the AWS SDK away from this machine's files and metadata service.
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "no-aws-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
	}
	if !o.offGitHub {
		env = append(env, "GITHUB_ACTIONS=true", "CI=true")
	}
	if !o.noGitHub && !o.offGitHub {
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
	return env
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
	env := runnerEnv(o, meta, dir, workspace, outFile, summaryFile)
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
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
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
	if o.offGitHub {
		assertNotShown(t, res, o.secrets)
	} else {
		assertNoLeak(t, res, o.secrets)
	}
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
	text, masked := splitMasks(r)
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

// assertNotShown fails when a secret the run may never have received (so need not
// have masked), or any line of it, appears anywhere but in an ::add-mask:: command.
func assertNotShown(t *testing.T, r runResult, secrets []string) {
	t.Helper()
	text, _ := splitMasks(r)
	for _, s := range secrets {
		for _, line := range strings.Split(s, "\n") {
			if line = strings.TrimSpace(line); len(line) >= 6 && strings.Contains(text, line) {
				t.Errorf("secret %q… appears unmasked", line[:4])
			}
		}
	}
}

// splitMasks returns everything a run printed or wrote but its ::add-mask:: commands,
// and the values those masked.
func splitMasks(r runResult) (text string, masked []string) {
	var rest strings.Builder
	for _, line := range strings.Split(r.everything(), "\n") {
		if v, ok := strings.CutPrefix(line, "::add-mask::"); ok {
			masked = append(masked, v)
			continue
		}
		rest.WriteString(line + "\n")
	}
	return rest.String(), masked
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

func requestLine(s *soracomtest.Server) string {
	var out []string
	for _, r := range s.Requests() {
		out = append(out, r.Method+" "+r.Path)
	}
	return strings.Join(out, ", ")
}

type result struct {
	CredentialID string `json:"credentialId"`
	Coverage     string `json:"coverage"`
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

// update rewrites the golden files instead of comparing with them:
//
//	go test ./test/e2e -run TestName -update
var update = flag.Bool("update", false, "rewrite testdata/*.golden with what the runs print")

// checkGolden compares got with testdata/<name>.golden, or writes it with -update. Long
// expected texts read better there than in Go string literals, and a change to them
// shows as a plain diff in review.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (create it with: go test ./test/e2e -run '%s' -update)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("the run printed other text than %s; if the change is meant, rewrite it with\n"+
			"  go test ./test/e2e -run '%s' -update\n--- want\n%s\n--- got\n%s", path, t.Name(), want, got)
	}
}

// checkContains checks that text, named what in the message, contains every one of
// wants.
func checkContains(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

// checkOutputs checks the outputs a run set against want.
func checkOutputs(t *testing.T, r runResult, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if r.outputs[k] != v {
			t.Errorf("output %s = %q, want %q", k, r.outputs[k], v)
		}
	}
}

// mustSucceed stops the test when the run failed, showing what it printed.
func mustSucceed(t *testing.T, r runResult) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s", r.code, r.stdout)
	}
}

// failedBeforeNetwork checks that a run sent no request and that its one error says
// every one of says; it returns the error.
func failedBeforeNetwork(t *testing.T, s *soracomtest.Server, r runResult, says []string) string {
	t.Helper()
	if len(s.Requests()) != 0 {
		t.Errorf("requests sent")
	}
	msg := oneError(t, r)
	for _, w := range says {
		if !strings.Contains(msg, w) {
			t.Errorf("error lacks %q: %s", w, msg)
		}
	}
	return msg
}

// maskIndex is the line of the ::add-mask:: command for v, or -1.
func maskIndex(lines []string, v string) int {
	for i, l := range lines {
		if l == "::add-mask::"+v {
			return i
		}
	}
	return -1
}

// firstNonMask is the first line that is not an ::add-mask:: command.
func firstNonMask(lines []string) int {
	for i, l := range lines {
		if !strings.HasPrefix(l, "::add-mask::") {
			return i
		}
	}
	return len(lines)
}

// authTimeouts are the tokenTimeoutSeconds of every POST /v1/auth the emulator saw
// (-1 where the request did not send one).
func authTimeouts(s *soracomtest.Server) []int {
	var out []int
	for _, rq := range s.Requests() {
		if rq.Method == "POST" && rq.Path == "/v1/auth" {
			var b struct {
				TokenTimeoutSeconds *int `json:"tokenTimeoutSeconds"`
			}
			_ = json.Unmarshal(rq.Body, &b)
			if b.TokenTimeoutSeconds == nil {
				out = append(out, -1)
			} else {
				out = append(out, *b.TokenTimeoutSeconds)
			}
		}
	}
	return out
}
