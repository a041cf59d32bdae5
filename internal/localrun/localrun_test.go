package localrun

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v4"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

func actionYML(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile("../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestReadInputsAgreesWithAYAMLParserOnActionYML(t *testing.T) {
	data := actionYML(t)
	got, err := ReadInputs(data)
	if err != nil {
		t.Fatal(err)
	}
	if want := inputsByYAML(t, data); !reflect.DeepEqual(got, want) {
		t.Errorf("ReadInputs:\n%+v\nyaml:\n%+v", got, want)
	}
}

func TestReadInputsRefusesWhatItCannotRead(t *testing.T) {
	tests := []struct{ name, yml, want string }{
		{"a block scalar with an indentation indicator", "inputs:\n  a:\n    description: |2\n      long\n", "is not supported"},
		{"an unknown field", "inputs:\n  a:\n    descripton: x\n", `unknown input field "descripton"`},
		{"no inputs", "name: x\nruns:\n  using: docker\n", "declares no inputs"},
		{"an unterminated quote", "inputs:\n  a:\n    default: 'x\n", "unterminated quote"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadInputs([]byte(tt.yml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to say %q", err, tt.want)
			}
		})
	}
}

// inputsByYAML reads the inputs of yml with a real YAML parser, in order.
func inputsByYAML(t *testing.T, yml []byte) []Input {
	t.Helper()
	var doc struct {
		Inputs yaml.Node `yaml:"inputs"`
	}
	if err := yaml.Unmarshal(yml, &doc); err != nil {
		t.Fatal(err)
	}
	var want []Input
	for i := 0; i+1 < len(doc.Inputs.Content); i += 2 {
		var in struct {
			Description string `yaml:"description"`
			Required    bool   `yaml:"required"`
			Default     string `yaml:"default"`
		}
		if err := doc.Inputs.Content[i+1].Decode(&in); err != nil {
			t.Fatal(err)
		}
		want = append(want, Input{Name: doc.Inputs.Content[i].Value, Description: in.Description, Default: in.Default, Required: in.Required})
	}
	return want
}

func TestReadInputsReadsBlockScalarsAsYAMLDoes(t *testing.T) {
	for name, body := range map[string]string{
		"folded, stripped":        ">-\n      one\n      two\n\n      para\n",
		"folded, clipped":         ">\n      one\n      two\n",
		"folded, two blank lines": ">-\n      one\n\n\n      two\n",
		"literal, stripped":       "|-\n      one\n      two\n",
		"literal, clipped":        "|\n      one\n\n      two\n",
		"literal, kept":           "|+\n      one\n\n",
		"literal, deeper lines":   "|-\n      one\n        indented\n      back\n",
	} {
		t.Run(name, func(t *testing.T) {
			yml := []byte("inputs:\n  a:\n    description: " + body + "    required: true\n  b:\n    default: x\n")
			got, err := ReadInputs(yml)
			if err != nil {
				t.Fatal(err)
			}
			if want := inputsByYAML(t, yml); !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestReadInputsReadsQuotedAndPlainScalars(t *testing.T) {
	got, err := ReadInputs([]byte("name: x\ninputs:\n  a:\n    description: it's plain # a comment\n    default: \"say \\\"hi\\\"\"\n    required: true\n" +
		"  b:\n    description: 'it''s quoted'\n    default: ''\noutputs:\n  o:\n    description: not an input\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Input{{Name: "a", Description: "it's plain", Default: `say "hi"`, Required: true}, {Name: "b", Description: "it's quoted"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestFlagsSetInputs(t *testing.T) {
	decl, err := ReadInputs(actionYML(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		args        []string
		want        map[string]string
		wantErr     string
		wantUnknown string
	}{
		{"a flag per input", []string{"--credential-id", "funnel-aws", "--soracom-auth-key-id=keyId-x"},
			map[string]string{"credential-id": "funnel-aws", "soracom-auth-key-id": "keyId-x"}, "", ""},
		{"--input NAME=VALUE, the value may hold =", []string{"--input", "credential-id=funnel-aws", "--input=description=a=b"},
			map[string]string{"credential-id": "funnel-aws", "description": "a=b"}, "", ""},
		{"a bare boolean input means true", []string{"--dry-run"}, map[string]string{"dry-run": "true"}, "", ""},
		{"a boolean input set to false", []string{"--verify-aws-key=false"}, map[string]string{"verify-aws-key": "false"}, "", ""},
		{"a boolean input followed by its value", []string{"--dry-run", "false", "--audit", "TRUE"},
			map[string]string{"dry-run": "false", "audit": "TRUE"}, "", ""},
		{"a bare boolean before another flag is true", []string{"--dry-run", "--credential-id", "x"},
			map[string]string{"dry-run": "true", "credential-id": "x"}, "", ""},
		{"a bare boolean last is true", []string{"--credential-id", "x", "--dry-run"},
			map[string]string{"dry-run": "true", "credential-id": "x"}, "", ""},
		{"a value may start with a dash", []string{"--description", "-"}, map[string]string{"description": "-"}, "", ""},
		{"--view and --input take a value after a space too", []string{"--view", "raw", "--input", "dry-run=true"},
			map[string]string{"dry-run": "true"}, "", ""},
		{"single dashes work too", []string{"-credential-id", "x"}, map[string]string{"credential-id": "x"}, "", ""},
		{"a flag without its value", []string{"--credential-id"}, nil, "flag --credential-id needs a value", ""},
		{"a bare boolean then a word that is no boolean", []string{"--dry-run", "yes"}, nil, `unexpected argument "yes"`, ""},
		{"an input action.yml does not declare", []string{"--input", "credential=x"}, map[string]string{},
			"", `--input credential=…: action.yml declares no input "credential"; did you mean credentials?`},
		{"a misspelled flag, with its value", []string{"--credentialid", "x"}, map[string]string{},
			"", "unknown flag --credentialid; did you mean --credential-id?"},
		{"a flag with underscores", []string{"--dry_run=true"}, map[string]string{}, "", "unknown flag --dry_run; did you mean --dry-run?"},
		{"a flag like nothing", []string{"--frobnicate"}, map[string]string{}, "", "unknown flag --frobnicate; --help lists the flags"},
		{"a stray argument", []string{"funnel-aws"}, nil, `unexpected argument "funnel-aws"`, ""},
		{"an unknown view", []string{"--view", "pretty"}, nil, "want auto, github or raw", ""},
		{"--emulator takes a boolean", []string{"--emulator=maybe"}, nil, `invalid value "maybe" for flag --emulator`, ""},
		{"--input without its =", []string{"--input", "s3cret-not-echoed"}, nil, `invalid value for flag --input: want NAME=VALUE`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := ParseArgs(tt.args, decl)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("err = %v, want %q (and no value of --input)", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(opts.Inputs, tt.want) {
				t.Errorf("inputs %v, want %v", opts.Inputs, tt.want)
			}
			if got := strings.Join(opts.Unknown, "\n"); got != tt.wantUnknown {
				t.Errorf("unknown %q, want %q", got, tt.wantUnknown)
			}
		})
	}
}

// run calls Main with a fake environment and returns its exit code, stdout and stderr.
func run(t *testing.T, env map[string]string, terminal bool, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), Env{
		Args: args, ActionYML: actionYML(t),
		Getenv: func(k string) string { return env[k] },
		Environ: func() []string {
			var kv []string
			for k, v := range env {
				kv = append(kv, k+"="+v)
			}
			return kv
		},
		Setenv: func(k, v string) error { t.Setenv(k, v); return nil },
		Stdout: &stdout, Stderr: &stderr, Terminal: terminal,
	})
	return code, stdout.String(), stderr.String()
}

func TestHelpListsEveryInputOfActionYML(t *testing.T) {
	code, out, _ := run(t, nil, false, "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	decl, _ := ReadInputs(actionYML(t))
	for _, in := range decl {
		if !strings.Contains(out, "--"+in.Name) || !strings.Contains(out, in.Description) {
			t.Errorf("help does not list --%s with its description", in.Name)
		}
	}
	for _, want := range []string{"--input NAME=VALUE", "--emulator", "--view"} {
		if !strings.Contains(out, want) {
			t.Errorf("help does not mention %s", want)
		}
	}
}

func TestAUsageErrorExitsOneAndPointsAtHelp(t *testing.T) {
	code, _, errOut := run(t, nil, false, "--no-such-input", "x")
	if code != 1 || !strings.Contains(errOut, "--help") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// protocol matches a workflow command line.
var protocol = regexp.MustCompile(`(?m)^::[a-z-]+`)

// outputRow matches a row of the rendered outputs table.
func outputRow(name, value string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(name) + ` +` + regexp.QuoteMeta(value) + `$`)
}

func TestEmulatorRunIsADryRunByDefaultAndSaysSo(t *testing.T) {
	code, out, errOut := run(t, nil, false, "--emulator", "--credential-id", "funnel-aws", "--view", "github")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "dry run") {
		t.Errorf("stderr does not say it is a dry run:\n%s", errOut)
	}
	if !outputRow("operation", "planned").MatchString(out) {
		t.Errorf("no planned operation in the outputs:\n%s", out)
	}
	if protocol.MatchString(out) || strings.Contains(out, soracomtest.DemoAuthKey) {
		t.Errorf("the rendered log shows the runner protocol or the AuthKey:\n%s", out)
	}
}

func TestEmulatorRotatesAnIAMUsersKeyWhenAskedTo(t *testing.T) {
	code, out, errOut := run(t, nil, false, "--emulator", "--view=github", "--credential-id", "funnel-aws",
		"--iam-user-name", "soracom-funnel", "--dry-run=false")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if !outputRow("operation", "updated").MatchString(out) || !outputRow("aws-access-key-id", "***").MatchString(out) {
		t.Errorf("the outputs do not show a rotation with the new key masked:\n%s", out)
	}
}

func TestEmulatorAcceptsTheAuthKeyGiven(t *testing.T) {
	code, out, errOut := run(t, map[string]string{"INPUT_SORACOM-AUTH-KEY": "secret-mine-0123"}, false,
		"--emulator", "--view=github", "--credential-id=x", "--soracom-auth-key-id", "keyId-mine")
	if code != 0 || !strings.Contains(errOut, "accepts the AuthKey given") || strings.Contains(out, "secret-mine-0123") ||
		!strings.Contains(out, "\n    soracom-auth-key-id: keyId-mine\n    soracom-auth-key: ***\n") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestEmulatorServesBothCoverages(t *testing.T) {
	code, out, errOut := run(t, nil, false, "--emulator", "--view=github", "--credential-id", "funnel-aws",
		"--soracom-coverage-type", "both", "--dry-run=false")
	if code != 0 || !strings.Contains(errOut, "(jp) and http://127.0.0.1:") ||
		!strings.Contains(out, "Credential set funnel-aws on jp: created") || !strings.Contains(out, "Credential set funnel-aws on g: created") {
		t.Errorf("exit %d; want the set created on both coverages\n%s\n%s", code, out, errOut)
	}
}

// registrationEnv is what GitHub's runner would set for a registration against srv.
func registrationEnv(srv *soracomtest.Server) map[string]string {
	srv.AddAuthKey("keyId-local", "secret-Gh6Wn3Qx9Ls2Kv7Pd4Tb")
	return map[string]string{
		"INPUT_CREDENTIAL-ID": "local-aws", "INPUT_SORACOM-AUTH-KEY-ID": "keyId-local",
		"INPUT_SORACOM-AUTH-KEY": "secret-Gh6Wn3Qx9Ls2Kv7Pd4Tb", "INPUT_SORACOM-ENDPOINT": srv.URL(),
		"INPUT_AWS-ACCESS-KEY-ID": "AKIAIOSFODNN7EXAMPLE", "INPUT_AWS-SECRET-ACCESS-KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"INPUT_VERIFY-AWS-KEY": "false",
	}
}

func TestWithoutArgumentsTheActionRunsAsOnTheRunner(t *testing.T) {
	env := registrationEnv(soracomtest.Start(t))
	env["GITHUB_ACTIONS"] = "true"
	env["GITHUB_OUTPUT"] = filepath.Join(t.TempDir(), "out")
	for _, terminal := range []bool{false, true} {
		code, out, _ := run(t, env, terminal)
		if code != 0 || !strings.Contains(out, "::add-mask::secret-Gh6Wn3Qx9Ls2Kv7Pd4Tb") {
			t.Errorf("terminal=%v: exit %d; want the runner protocol:\n%s", terminal, code, out)
		}
	}
}

func TestOnATerminalOutsideGitHubTheLogIsRendered(t *testing.T) {
	env := registrationEnv(soracomtest.Start(t))
	code, out, _ := run(t, env, true)
	if code != 0 || protocol.MatchString(out) || strings.Contains(out, "secret-Gh6Wn3Qx9Ls2Kv7Pd4Tb") {
		t.Fatalf("exit %d; want a rendered log:\n%s", code, out)
	}
	if !outputRow("operation", "created").MatchString(out) || !strings.Contains(out, "Job summary:") {
		t.Errorf("no outputs table or summary:\n%s", out)
	}
	code, out, _ = run(t, env, true, "--view=raw")
	if code != 0 || strings.Contains(out, "Outputs:") {
		t.Errorf("--view=raw rendered anyway:\n%s", out)
	}
}

func TestEmulatorGivesTheHealthReportASetToAudit(t *testing.T) {
	code, out, errOut := run(t, nil, false, "--emulator", "--view=github", "--audit")
	if code != 0 || !outputRow("broken-count", "0").MatchString(out) || strings.Contains(errOut, "dry run") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, user := range []string{`group "sensors" (sensors-group) in SoracomFunnel`, `event handler "low balance" (low-balance-handler) in InvokeAWSLambdaAction`} {
		if !strings.Contains(out, user) {
			t.Errorf("the report does not show the set used by %s:\n%s", user, out)
		}
	}
}

func TestAFlagWinsOverTheVariable(t *testing.T) {
	srv := soracomtest.Start(t)
	env := registrationEnv(srv)
	code, out, errOut := run(t, env, false, "--credential-id", "from-the-flag", "--view=github")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if _, ok := srv.CredentialSet("from-the-flag"); !ok {
		t.Errorf("the set named by the flag was not created")
	}
	if _, ok := srv.CredentialSet(env["INPUT_CREDENTIAL-ID"]); ok {
		t.Errorf("the set named by INPUT_CREDENTIAL-ID was created though a flag named another")
	}
}

func TestAnUnknownFlagFailsOffGitHubAndWarnsOnGitHub(t *testing.T) {
	code, out, errOut := run(t, nil, false, "--credentail-id", "x", "--emulator")
	if code != 1 || !strings.Contains(errOut, "error: unknown flag --credentail-id; did you mean --credential-id?\n") || out != "" {
		t.Errorf("off GitHub: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	env := registrationEnv(soracomtest.Start(t))
	env["GITHUB_ACTIONS"] = "true"
	env["GITHUB_OUTPUT"] = filepath.Join(t.TempDir(), "out")
	code, _, errOut = run(t, env, false, "--dry_run", "true")
	if code != 0 || !strings.Contains(errOut, "::warning::unknown flag --dry_run; did you mean --dry-run? (ignored)") {
		t.Errorf("on GitHub: exit %d, stderr %q", code, errOut)
	}
}

func TestAnInputVariableThatNamesNoInputFailsOffGitHubAndWarnsOnGitHub(t *testing.T) {
	env := registrationEnv(soracomtest.Start(t))
	env["INPUT_CREDENTIAL_ID"] = "with-underscores"
	env["INPUT_DRY-RNU"] = "true"
	code, out, _ := run(t, env, false)
	for _, want := range []string{
		"error: 2 invalid inputs:",
		"INPUT_CREDENTIAL_ID names no input of action.yml, so it is ignored; did you mean credential-id? (its variable is INPUT_CREDENTIAL-ID, with hyphens",
		"INPUT_DRY-RNU names no input of action.yml, so it is ignored; did you mean dry-run? (its variable is INPUT_DRY-RUN)",
	} {
		if code != 1 || !strings.Contains(out, want) {
			t.Errorf("off GitHub: exit %d; output does not say %q:\n%s", code, want, out)
		}
	}
	env["GITHUB_ACTIONS"] = "true"
	env["GITHUB_OUTPUT"] = filepath.Join(t.TempDir(), "out")
	code, out, _ = run(t, env, false)
	if code != 0 || !strings.Contains(out, "::warning::INPUT_CREDENTIAL_ID names no input") {
		t.Errorf("on GitHub: exit %d:\n%s", code, out)
	}
}

func TestEmulatorWithAnEndpointOfItsOwnIsAnError(t *testing.T) {
	code, _, errOut := run(t, nil, false, "--emulator", "--soracom-endpoint", "https://api.soracom.io", "--credential-id", "x")
	if code != 1 || !strings.Contains(errOut, "--emulator and --soracom-endpoint both say where SORACOM is") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = run(t, map[string]string{"INPUT_SORACOM-ENDPOINT": "https://api.soracom.io"}, false, "--emulator", "--credential-id", "x")
	if code != 1 || !strings.Contains(errOut, "--emulator and INPUT_SORACOM-ENDPOINT both say where SORACOM is") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestEmulatorRotatesTheAuthKeyIntoAFakeGitHub(t *testing.T) {
	code, out, errOut := run(t, nil, false, "--emulator", "--view=github", "--credential-id", "funnel-aws",
		"--rotate-auth-key", "--dry-run=false")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "fake GitHub secrets API") || !outputRow("auth-key-rotated", "true").MatchString(out) {
		t.Errorf("no AuthKey rotation against the fake GitHub API:\n%s\n%s", errOut, out)
	}
	if strings.Contains(out, soracomtest.DemoAuthKey) {
		t.Errorf("the rendered log shows the AuthKey:\n%s", out)
	}
}

// In a terminal the run is rendered as on GitHub, where the action only warns about an
// INPUT_ variable that names no input; the command line refuses it there, as it refuses
// a flag that names nothing.
func TestAnInputVariableThatNamesNoInputFailsARenderedRun(t *testing.T) {
	env := registrationEnv(soracomtest.Start(t))
	env["INPUT_CREDENTIAL_ID"] = "with-underscores"
	for _, args := range [][]string{nil, {"--view", "github"}} {
		code, out, errOut := run(t, env, true, args...)
		if code != 1 || !strings.Contains(errOut, "INPUT_CREDENTIAL_ID names no input of action.yml") || out != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}
