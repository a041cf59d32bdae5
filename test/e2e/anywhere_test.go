package e2e

// The "Run it anywhere" examples (docs/run-anywhere.md), run as a person would paste them: shell
// blocks with bash (or sh), the GitLab job's script lines, the cron script, each against
// the SORACOM emulator and the AWS fakes. The Docker example runs in the container test
// (test/container/run.sh), which has buildah.

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v4"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awstest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// anywherePage is the page whose examples these tests run.
const anywherePage = "docs/run-anywhere.md"

var fence = regexp.MustCompile("(?s)\n```([^\n]*)\n(.*?)\n```")

// readmeBlock returns the body of the one code block of the "Run it anywhere" page whose
// info string is info (such as "sh binary").
func readmeBlock(t *testing.T, info string) string {
	t.Helper()
	var found []string
	for _, m := range fence.FindAllStringSubmatch(readDoc(t, anywherePage), -1) {
		if m[1] == info {
			found = append(found, m[2])
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s has %d code blocks marked %q, want 1", anywherePage, len(found), info)
	}
	return found[0]
}

// anywhere is a machine outside GitHub: a SORACOM emulator, a fake AWS account whose
// admin key is the ambient AWS credentials, and the variables a user would have set.
type anywhere struct {
	soracom *soracomtest.Server
	acct    *awstest.Account
	home    string
	vars    map[string]string
	secrets []string
}

func newAnywhere(t *testing.T) *anywhere {
	t.Helper()
	a := &anywhere{soracom: soracomtest.Start(t), acct: awstest.NewAccount(t), home: t.TempDir()}
	a.soracom.AddAuthKey(authKeyID, authKeySecret)
	admin := a.acct.AddKey("ci-admin", awstest.Active)
	a.vars = map[string]string{
		"HOME":                a.home,
		"PATH":                filepath.Dir(binary) + string(os.PathListSeparator) + os.Getenv("PATH"),
		"SORACOM_ENDPOINT":    a.soracom.URL(),
		"SORACOM_AUTH_KEY_ID": authKeyID,
		"SORACOM_AUTH_KEY":    authKeySecret,
	}
	for k, v := range a.acct.Env() {
		a.vars[k] = v
	}
	for k, v := range awstest.KeyEnv(admin) {
		a.vars[k] = v
	}
	// go build and go run in the examples reuse this machine's caches, not a new HOME's.
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOFLAGS", "GOPROXY", "GOTOOLCHAIN"} {
		out, err := exec.Command("go", "env", k).Output()
		if err != nil {
			t.Fatal(err)
		}
		a.vars[k] = strings.TrimSpace(string(out))
	}
	a.secrets = []string{authKeySecret, admin.Secret}
	return a
}

// rotation gives IAM user soracom-funnel an active key that set funnel-aws holds, and
// returns it.
func (a *anywhere) rotation() awstest.Key {
	old := a.acct.AddKey(rotUser, awstest.Active)
	a.soracom.PutCredentialSet(soracomtest.CredentialSet{ID: "funnel-aws", Type: "aws-credentials",
		Credentials: map[string]any{"accessKeyId": old.ID, "secretAccessKey": old.Secret}})
	a.secrets = append(a.secrets, old.Secret)
	return old
}

// run runs script with shell (bash or sh) in dir, with only a's variables, and fails
// the test when it fails or prints a secret.
func (a *anywhere) run(t *testing.T, shell, dir, script string) string {
	t.Helper()
	cmd := exec.Command(shell, "-c", script)
	cmd.Dir = dir
	for k, v := range a.vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s failed (%v):\n%s\n--- output\n%s", shell, err, script, out)
	}
	for _, s := range a.secrets {
		if strings.Contains(string(out), s) {
			t.Errorf("the example printed a secret (%.6s…):\n%s", s, out)
		}
	}
	return string(out)
}

// rotated checks that funnel-aws moved off old onto a new active key of the user.
func (a *anywhere) rotated(t *testing.T, old awstest.Key) {
	t.Helper()
	set, _ := a.soracom.CredentialSet("funnel-aws")
	keys := a.acct.Keys(rotUser)
	if len(keys) != 2 || keys[0].Status != awstest.Inactive || set.Credentials["accessKeyId"] != keys[1].ID {
		t.Errorf("after the example, IAM keys %+v and funnel-aws holds %v; want the old key inactive and the new one stored", keys, set.Credentials["accessKeyId"])
	}
	for _, k := range keys {
		if k.ID != old.ID {
			a.secrets = append(a.secrets, k.Secret)
		}
	}
}

func TestReadmeRunAnywhereExplainsTheExportQuirk(t *testing.T) {
	block := readmeBlock(t, "console")
	const want = "export: `INPUT_CREDENTIAL-ID=funnel-aws': not a valid identifier"
	if !strings.Contains(block, "$ export 'INPUT_CREDENTIAL-ID=funnel-aws'") || !strings.Contains(block, want) {
		t.Fatalf("the console block does not show the export error:\n%s", block)
	}
	out, err := exec.Command("bash", "-c", "export 'INPUT_CREDENTIAL-ID=funnel-aws'").CombinedOutput()
	if err == nil || !strings.Contains(string(out), want) {
		t.Errorf("bash says %q (%v), README says %q", out, err, want)
	}
}

func TestReadmeRunAnywhereLocalRunner(t *testing.T) {
	a := newAnywhere(t)
	out := a.run(t, "bash", repoRoot, "set -euo pipefail\n"+readmeBlock(t, "sh local-runner"))
	for _, want := range []string{"--credential-id VALUE", "Dry run", "Rotated"} {
		if !strings.Contains(out, want) {
			t.Errorf("the local runner example does not print %q:\n%s", want, out)
		}
	}
}

func TestReadmeRunAnywhereBinary(t *testing.T) {
	a := newAnywhere(t)
	key := a.acct.AddKey("funnel", awstest.Active)
	a.vars["NEW_AWS_ACCESS_KEY_ID"], a.vars["NEW_AWS_SECRET_ACCESS_KEY"] = key.ID, key.Secret
	a.secrets = append(a.secrets, key.Secret)
	out := a.run(t, "bash", repoRoot, "set -euo pipefail\n"+readmeBlock(t, "sh binary"))
	// As the section says: without GITHUB_OUTPUT the outputs are printed as lines.
	if !strings.Contains(out, "output operation=created\n") {
		t.Errorf("the binary example does not print its outputs as output name=value lines:\n%s", out)
	}
	set, ok := a.soracom.CredentialSet("funnel-aws")
	if !ok || set.Credentials["accessKeyId"] != key.ID || set.Credentials["secretAccessKey"] != key.Secret || set.Description != "Funnel to Kinesis" {
		t.Errorf("after the binary example the set is %+v (found %v)", set, ok)
	}
	if _, err := os.Stat(filepath.Join(a.home, "bin", "soracom-credentials-action")); err != nil {
		t.Errorf("the example did not build the binary where it says: %v", err)
	}
}

func TestReadmeRunAnywhereGitLabJob(t *testing.T) {
	var doc map[string]struct {
		Image  string              `yaml:"image"`
		Rules  []map[string]string `yaml:"rules"`
		Script []string            `yaml:"script"`
	}
	if err := yaml.Unmarshal([]byte(readmeBlock(t, "yaml gitlab-ci")), &doc); err != nil {
		t.Fatal(err)
	}
	job, ok := doc["rotate-soracom-key"]
	if !ok || job.Image == "" || len(job.Rules) == 0 || len(job.Script) < 3 {
		t.Fatalf("the GitLab job is not a job with an image, rules and a script: %+v", doc)
	}
	// The one line not run here: it clones the action from GitHub. This clone stands in
	// for it; the job builds it and runs what it built.
	const clone = "git clone --depth 1 --branch v1 https://github.com/soracom-credentials-action/soracom-credentials-action.git action"
	if job.Script[0] != clone {
		t.Fatalf("the job does not start by cloning the action: %q", job.Script[0])
	}
	project := t.TempDir()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(root, filepath.Join(project, "action")); err != nil {
		t.Fatal(err)
	}
	a := newAnywhere(t)
	a.vars["CI_PROJECT_DIR"] = project
	old := a.rotation()
	a.run(t, "bash", project, "set -euo pipefail\n"+strings.Join(job.Script[1:], "\n"))
	a.rotated(t, old)
}

// cronField is one time field of a crontab line: *, numbers, ranges, lists, steps.
var cronField = regexp.MustCompile(`^(\*|[0-9]+(-[0-9]+)?)(/[0-9]+)?(,[0-9]+(-[0-9]+)?)*$`)

func TestReadmeRunAnywhereCron(t *testing.T) {
	script := readmeBlock(t, "sh cron-script")
	path := regexp.MustCompile(`(?m)^# (/\S+)$`).FindStringSubmatch(script)
	if path == nil {
		t.Fatalf("the cron script does not say where it lives:\n%s", script)
	}
	for _, line := range strings.Split(readmeBlock(t, "crontab"), "\n") {
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 6 || f[5] != path[1] {
			t.Fatalf("crontab line %q does not run %s", line, path[1])
		}
		for _, field := range f[:5] {
			if !cronField.MatchString(field) {
				t.Errorf("crontab line %q: %q is not a cron time field", line, field)
			}
		}
	}

	a := newAnywhere(t)
	old := a.rotation()
	envFile := filepath.Join(t.TempDir(), "soracom-credentials.env")
	if err := os.WriteFile(envFile, []byte("SORACOM_AUTH_KEY_ID="+authKeyID+"\nSORACOM_AUTH_KEY="+authKeySecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The AuthKey comes from the file only, as under cron.
	delete(a.vars, "SORACOM_AUTH_KEY_ID")
	delete(a.vars, "SORACOM_AUTH_KEY")
	local := strings.NewReplacer("/etc/soracom-credentials.env", envFile, "/usr/local/bin/soracom-credentials-action", binary).Replace(script)
	if local == script || strings.Count(local, binary) != 1 {
		t.Fatalf("the cron script no longer reads /etc/soracom-credentials.env and runs /usr/local/bin/soracom-credentials-action:\n%s", script)
	}
	a.run(t, "sh", t.TempDir(), local)
	a.rotated(t, old)
}
