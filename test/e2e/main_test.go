// Package e2e holds the end-to-end tests of the action: the built binary run the way
// GitHub's runner runs a container action (every input of action.yml as
// INPUT_<NAME> with its default filled in, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY
// files, GITHUB_ACTIONS=true) against the loopback emulators of SORACOM
// (internal/soracomtest) and AWS (internal/awstest). Every run is scanned for secrets
// that appear anywhere but in an ::add-mask:: command.
//
// One file per behaviour, named after it (registration, validation, masking,
// failures, session, rotation, types, audit, documentation, ...): a new scenario goes
// into the file of the behaviour it checks. The harness and the shared fixtures live
// in harness_test.go and fixtures_test.go.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// repoRoot is the project root, relative to this package's directory (go test runs
// a package's tests in its own directory).
const repoRoot = "../.."

// binary is the action built once for the whole package.
var binary string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "sca-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "soracom-credentials-action")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Dir = repoRoot
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the action:", err)
		return 1
	}
	return m.Run()
}

// repoFile is the path of a file of the project, for reading README.md and action.yml.
func repoFile(name string) string { return filepath.Join(repoRoot, name) }
