package action_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/action"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/credtypes"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/credtypes/credtypestest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

var (
	contractOnce sync.Once
	contract     *soracomtest.Contract
	contractSkip string
	contractErr  error
)

// secretsOf returns the values of the secret fields of a credentials object, the way a
// reader of the schema sees them: these must never be printed.
func secretsOf(t *testing.T, typ string, raw map[string]any) []string {
	t.Helper()
	schema, _ := credtypes.Lookup(typ)
	var out []string
	for name, v := range raw {
		f, known := schema.Field(name)
		if known && !f.Secret {
			continue
		}
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case map[string]any: // a service-account key file
			for _, inner := range []string{"private_key", "private_key_id"} {
				if s, ok := v[inner].(string); ok {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// leaks returns the lines of secrets found in text outside ::add-mask:: commands.
func leaks(text string, secrets []string) []string {
	var rest strings.Builder
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "::add-mask::") {
			rest.WriteString(line + "\n")
		}
	}
	var found []string
	for _, s := range secrets {
		for _, line := range strings.Split(s, "\n") {
			line = strings.TrimSpace(line)
			if len(line) >= 8 && !strings.HasPrefix(line, "-----") && strings.Contains(rest.String(), line) {
				found = append(found, line[:8]+"…")
			}
		}
	}
	return found
}

// runType registers raw as a set of type typ through action.Run against s, and returns
// what the run printed, the outputs file and the summary file; it stops the test when
// the run fails.
func runType(t *testing.T, s *soracomtest.Server, typ string, raw map[string]any) (stdout, outputs, summary string) {
	t.Helper()
	text, err := json.MarshalIndent(raw, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	env := map[string]string{
		"GITHUB_OUTPUT": filepath.Join(dir, "out"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary"),
		inputs.EnvName(inputs.CredentialID): "set-" + strings.ToLower(typ), inputs.EnvName(inputs.CredentialType): typ,
		inputs.EnvName(inputs.AuthKeyID): authKeyID, inputs.EnvName(inputs.AuthKey): authKey,
		inputs.EnvName(inputs.Endpoint): s.URL(), inputs.EnvName(inputs.Credentials): string(text),
		inputs.EnvName(inputs.VerifyAWSKey): "false",
	}
	var out bytes.Buffer
	code := action.Run(context.Background(), action.Env{Getenv: func(k string) string { return env[k] }, Stdout: &out})
	outputsFile, _ := os.ReadFile(env["GITHUB_OUTPUT"])
	summaryFile, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out.String())
	}
	return out.String(), string(outputsFile), string(summaryFile)
}

// startCheckingContract starts an emulator that accepts the test AuthKey and checks
// every request against the spec where it is present.
func startCheckingContract(t *testing.T) *soracomtest.Server {
	t.Helper()
	var opts []soracomtest.Option
	if contract != nil {
		opts = append(opts, soracomtest.WithContract(contract))
	}
	s := soracomtest.Start(t, opts...)
	s.AddAuthKey(authKeyID, authKey)
	return s
}

// checkStoredAsParsed checks that the set holds exactly the fields credtypes.Parse
// makes of raw.
func checkStoredAsParsed(t *testing.T, s *soracomtest.Server, typ string, raw map[string]any, now time.Time) {
	t.Helper()
	want, err := credtypes.Parse(typ, raw, now)
	if err != nil {
		t.Fatal(err)
	}
	set, ok := s.CredentialSet("set-" + strings.ToLower(typ))
	if !ok || set.Type != typ || !reflect.DeepEqual(set.Credentials, want.Fields) {
		t.Errorf("stored %v %v, want the parsed fields", ok, set.Type)
	}
}

// checkMaskedLineByLine checks that every non-empty line of every secret was masked
// with the runner.
func checkMaskedLineByLine(t *testing.T, stdout string, secrets []string) {
	t.Helper()
	for _, sec := range secrets {
		for _, line := range strings.Split(sec, "\n") {
			if strings.TrimSpace(line) != "" && !strings.Contains(stdout, "::add-mask::"+strings.TrimSpace(line)) {
				t.Errorf("secret line %.8q… was not masked", line)
			}
		}
	}
}

// Every credential set type: stored exactly as parsed, requests that fit SORACOM's
// spec, and no secret in anything the run printed or wrote.
func TestEveryCredentialTypeIsStoredWithoutLeakingASecret(t *testing.T) {
	contractOnce.Do(func() { contract, contractSkip, contractErr = soracomtest.LoadProjectContract() })
	if contractErr != nil {
		t.Fatal(contractErr)
	}
	if contract == nil {
		t.Logf("requests are not checked against the spec: %s", contractSkip)
	}
	now := time.Now()
	for _, typ := range credtypes.Types() {
		t.Run(typ, func(t *testing.T) {
			s := startCheckingContract(t)
			raw := credtypestest.Valid(t, typ, now)
			stdout, outputs, summary := runType(t, s, typ, raw)
			checkStoredAsParsed(t, s, typ, raw, now)
			all := stdout + "\n" + outputs + "\n" + summary
			if l := leaks(all, append(secretsOf(t, typ, raw), authKey)); len(l) > 0 {
				t.Errorf("secrets printed or written: %q\n%s", l, all)
			}
			for _, v := range s.ContractViolations() {
				t.Errorf("contract: %s", v)
			}
			checkMaskedLineByLine(t, stdout, secretsOf(t, typ, raw))
			if typ == "x509" && (!strings.Contains(outputs, "certificate-not-after") || !strings.Contains(summary, "Certificate expires")) {
				t.Errorf("x509 expiry missing from the outputs or the summary:\n%s\n%s", outputs, summary)
			}
		})
	}
}
