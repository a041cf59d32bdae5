// Command demo runs the action end to end against the built-in SORACOM emulator on
// loopback, and prints what a workflow log would show: no SORACOM or AWS account needed.
//
//	go run ./cmd/demo
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/action"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

const (
	demoKeyID  = "keyId-demo"
	demoSecret = "secret-demo-0123456789abcdef"
)

func main() {
	if err := demo(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func demo() error {
	srv, err := soracomtest.StartServer()
	if err != nil {
		return err
	}
	defer srv.Close()
	srv.AddAuthKey(demoKeyID, demoSecret)
	dir, err := os.MkdirTemp("", "soracom-credentials-action-demo")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	base := map[string]string{
		inputs.CredentialID:       "demo-funnel-aws",
		inputs.AuthKeyID:          demoKeyID,
		inputs.AuthKey:            demoSecret,
		inputs.Endpoint:           srv.URL(),
		inputs.AWSAccessKeyID:     "AKIAIOSFODNN7EXAMPLE",
		inputs.AWSSecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		// The demo has no AWS account to prove the example key against.
		inputs.VerifyAWSKey: "false",
	}
	steps := []struct {
		title   string
		changes map[string]string
	}{
		{"Dry run: what would change", map[string]string{inputs.DryRun: "true"}},
		{"Register the key (the set is created)", nil},
		{"Run again (the set is updated)", map[string]string{inputs.Description: "updated by the demo"}},
		{"A wrong AuthKey fails clearly", map[string]string{inputs.AuthKey: "secret-not-the-right-one"}},
	}
	for i, step := range steps {
		in := map[string]string{}
		for k, v := range base {
			in[k] = v
		}
		for k, v := range step.changes {
			in[k] = v
		}
		fmt.Printf("\n===== Step %d: %s =====\n", i+1, step.title)
		code, outputs, summary, err := runStep(dir, i, in)
		if err != nil {
			return err
		}
		fmt.Printf("----- exit code %d; outputs (GITHUB_OUTPUT):\n%s", code, outputs)
		if summary != "" {
			fmt.Printf("----- job summary (GITHUB_STEP_SUMMARY):\n%s", summary)
		}
	}
	fmt.Printf("\n%d requests reached the emulator; %d API tokens are still alive.\n", len(srv.Requests()), srv.LiveSessions())
	return nil
}

// runStep runs the action once as the runner would: INPUT_ variables with action.yml's
// defaults, and fresh output and summary files.
func runStep(dir string, n int, in map[string]string) (code int, outputs, summary string, err error) {
	outFile := filepath.Join(dir, fmt.Sprintf("output-%d", n))
	sumFile := filepath.Join(dir, fmt.Sprintf("summary-%d", n))
	env := map[string]string{"GITHUB_OUTPUT": outFile, "GITHUB_STEP_SUMMARY": sumFile, "GITHUB_ACTIONS": "true"}
	for name, v := range in {
		env[inputs.EnvName(name)] = v
	}
	getenv := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		if strings.HasPrefix(k, "INPUT_") {
			return ""
		}
		return os.Getenv(k)
	}
	code = action.Run(context.Background(), action.Env{Getenv: getenv, Stdout: os.Stdout})
	out, _ := os.ReadFile(outFile)
	sum, _ := os.ReadFile(sumFile)
	return code, string(out), string(sum), nil
}
