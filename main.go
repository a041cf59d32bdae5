// Command soracom-credentials-action is a GitHub container action that creates or updates
// SORACOM credential sets, and rotates the AWS access key behind them. It reads its
// inputs from INPUT_* variables as the runner sets them, so it also runs outside GitHub.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/action"
)

func main() {
	// A cancelled job gets SIGTERM (SIGINT by hand): the run stops and still revokes its
	// SORACOM token before exiting.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := action.Run(ctx, action.Env{Getenv: os.Getenv, Stdout: os.Stdout})
	stop()
	os.Exit(code)
}
