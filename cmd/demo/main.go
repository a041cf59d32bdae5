// Command demo runs the action end to end against the in-repo SORACOM emulator, AWS
// fakes and fake GitHub secrets API on loopback, and shows each run the way a workflow's
// log shows it on github.com: masks applied, annotations, groups, then the outputs and
// the job summary. No SORACOM, AWS or GitHub account is needed. The first run builds it
// (about two minutes on a fresh machine with two cores, module downloads included); after
// that it runs in a few seconds.
//
//	go run ./cmd/demo
//
// It registers a key (dry run, create, update, a wrong AuthKey), then rotates an IAM
// user's key behind two credential sets (a scheduled rotation, the next scheduled run,
// a rotation that fails halfway), plays the nightly health report (where each set is
// used, and a group that names a set that does not exist), then rotates the AuthKey
// itself into the repository's secrets (once, and once failing after the first secret
// is written), and shows the state each leaves.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if code, done := commandLine(os.Args[1:], os.Stdout, os.Stderr); done {
		os.Exit(code)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, os.Stdout, os.Setenv); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		stop()
		os.Exit(1)
	}
}

// usage is the demo's help.
const usage = `Usage: go run ./cmd/demo

Plays the action end to end against the in-repo SORACOM emulator and AWS fakes on
loopback, shown as github.com shows a workflow's log: a registration (dry run,
create, update, a wrong AuthKey), then a scheduled rotation of IAM user
soracom-funnel's key behind two credential sets, the next scheduled run, a
rotation that fails halfway, the nightly health report (where each set is used,
and a group naming a set that does not exist), then the AuthKey itself rotated
into a fake GitHub secrets API (once, and once failing after the first secret is
written). No account is needed; nothing leaves the machine.
It takes no flags. To run the action yourself against the same emulators:

  go run . --emulator --credential-id funnel-aws
  go run . --emulator --credential-id funnel-aws --iam-user-name soracom-funnel --dry-run false
`

// commandLine handles the arguments: -h or --help prints the help, anything else is an
// error, since the demo takes none. done says main should exit with code.
func commandLine(args []string, stdout, stderr io.Writer) (code int, done bool) {
	if len(args) == 0 {
		return 0, false
	}
	switch args[0] {
	case "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0, true
	}
	fmt.Fprintf(stderr, "demo: unexpected argument %q: the demo takes no flags (--help says what it does)\n", args[0])
	return 1, true
}

// run plays every scene to w. setenv points the AWS SDK at the fakes: the SDK reads its
// endpoints and credentials from the process environment only.
func run(ctx context.Context, w io.Writer, setenv func(k, v string) error) error {
	d, err := newDemo(w, setenv)
	if err != nil {
		return err
	}
	defer d.close()
	fmt.Fprintln(w, "The action, run by the demo against the in-repo SORACOM emulator, AWS fakes and fake GitHub secrets API on loopback.")
	fmt.Fprintln(w, "Each step is shown as github.com shows it: secrets as ***, annotations, outputs, job summary.")
	for _, s := range d.scenes() {
		if err := d.play(ctx, s); err != nil {
			return err
		}
	}
	d.epilogue()
	return nil
}
