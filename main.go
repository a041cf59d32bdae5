// Command soracom-credentials-action is a GitHub container action that creates or updates
// SORACOM credential sets, and rotates the AWS access key behind them. It reads its
// inputs from INPUT_* variables as the runner sets them, so it also runs outside GitHub;
// from a terminal, `go run . --help` lists the inputs as flags (see internal/localrun).
package main

import (
	"context"
	_ "embed"
	"os"
	"os/signal"
	"syscall"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/localrun"
)

// actionYML is the action's metadata: the one list of inputs, which the flags follow.
//
//go:embed action.yml
var actionYML []byte

func main() {
	// A cancelled job gets SIGTERM (SIGINT by hand): the run stops and still revokes its
	// SORACOM token before exiting.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := localrun.Main(ctx, localrun.Env{
		Args: os.Args[1:], ActionYML: actionYML, Getenv: os.Getenv, Environ: os.Environ, Setenv: os.Setenv,
		Stdout: os.Stdout, Stderr: os.Stderr, Terminal: isTerminal(os.Stdout),
	})
	stop()
	os.Exit(code)
}

// isTerminal reports whether f is a character device, as a terminal is; a pipe or a
// file (the runner's log) is not.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
