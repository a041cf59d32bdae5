package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// bench is one benchmark session: the built action, the emulator and its CA.
type bench struct {
	opts   options
	srv    *soracomtest.Server
	ca     string
	work   string
	action string
	root   string
	log    io.Writer
}

// runTimeout bounds one run; the slowest scenario takes a few seconds.
const runTimeout = 2 * time.Minute

// setID is the credential set every run stores into.
const setID = "bench-aws"

// sample is what one run measured.
type sample struct {
	exit    int  // process exit code
	stateOK bool // the emulator holds the new key in the set afterwards
	wall    time.Duration
	// started and ended bound the process, from just before start to just after exit.
	started, ended time.Time
	// requests are the API round trips the emulator logged; conns and handshakes the
	// TCP connections and TLS handshakes it accepted.
	requests          int
	conns, handshakes int64
	cpu               time.Duration // user + system, the process and the children it waited for
	maxRSSKiB         int64         // largest resident set of the process or any child it waited for
	liveTokens        int           // API tokens the run left valid
	floor             time.Duration // injected latency the run could not avoid
	output            string        // what it printed, for failures
}

func (s sample) ok() bool { return s.exit == 0 && s.stateOK }

// result is every sample of one tool in one scenario.
type result struct {
	tool     tool
	scenario scenario
	samples  []sample
}

// measure runs every tool in every scenario, interleaved run by run so that a slow
// moment of the machine spreads over all of them.
func (b *bench) measure(ctx context.Context, tools []tool, scenarios []scenario) ([]*result, error) {
	var results []*result
	for _, sc := range scenarios {
		for _, t := range tools {
			results = append(results, &result{tool: t, scenario: sc})
		}
	}
	// One unmeasured run per tool loads the interpreters and binaries into the page
	// cache, as a warm runner would have them.
	for _, t := range tools {
		if _, err := b.runOnce(ctx, t, scenario{name: "warm-up", exists: true}); err != nil {
			return nil, err
		}
	}
	for i := range b.opts.runs {
		for _, r := range results {
			s, err := b.runOnce(ctx, r.tool, r.scenario)
			if err != nil {
				return nil, err
			}
			r.samples = append(r.samples, s)
			fmt.Fprintf(b.log, "bench: run %d/%d %-8s %-8s exit=%d state=%t wall=%s requests=%d handshakes=%d\n",
				i+1, b.opts.runs, r.scenario.name, r.tool.name, s.exit, s.stateOK, s.wall.Round(time.Millisecond), s.requests, s.handshakes)
		}
	}
	return results, nil
}

// runOnce prepares the emulator for sc, runs t once and measures it.
func (b *bench) runOnce(ctx context.Context, t tool, sc scenario) (sample, error) {
	e := b.srv.Emulator
	e.ClearFaults()
	e.DeleteCredentialSet(setID)
	if sc.exists {
		old := newAccessKey()
		e.PutCredentialSet(soracomtest.CredentialSet{
			ID:          setID,
			Type:        "aws-credentials",
			Description: storedDescription,
			Credentials: map[string]any{"accessKeyId": old.id, "secretAccessKey": old.secret},
		})
	}
	if sc.fault != nil {
		sc.fault(e)
	}
	e.Reset()
	conns, handshakes, live := b.srv.Connections(), b.srv.TLSHandshakes(), e.LiveSessions()

	key := newAccessKey()
	home, err := os.MkdirTemp(b.work, "home-")
	if err != nil {
		return sample{}, err
	}
	defer os.RemoveAll(home)
	j := job{endpoint: b.srv.URL(), ca: b.ca, home: home, setID: setID, keyID: key.id, keySecret: key.secret, keepDescription: sc.keepDescription}
	s, err := runProcess(ctx, t.command(b, j))
	if err != nil {
		return sample{}, fmt.Errorf("%s, %s: %w", t.name, sc.name, err)
	}

	s.requests = len(e.Requests())
	s.conns = b.srv.Connections() - conns
	s.handshakes = b.srv.TLSHandshakes() - handshakes
	s.liveTokens = e.LiveSessions() - live
	set, found := e.CredentialSet(setID)
	s.stateOK = found && set.Type == "aws-credentials" &&
		set.Credentials["accessKeyId"] == key.id && set.Credentials["secretAccessKey"] == key.secret &&
		(!sc.keepDescription || set.Description == storedDescription)
	s.floor = time.Duration(s.conns)*b.opts.connLatency + time.Duration(s.requests)*b.opts.latency
	if s.ok() {
		s.floor += sc.serverWait
	}
	return s, nil
}

// runProcess runs cmd to its end and measures it. A non-zero exit is a measurement,
// not an error; a process that cannot start or outlives runTimeout is.
func runProcess(ctx context.Context, cmd *exec.Cmd) (sample, error) {
	ctx, cancel := context.WithTimeout(ctx, runTimeout)
	defer cancel()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return sample{}, err
	}
	stop := context.AfterFunc(ctx, func() { _ = cmd.Process.Kill() })
	err := cmd.Wait()
	end := time.Now()
	wall := end.Sub(start)
	stop()
	if ctx.Err() != nil {
		return sample{}, fmt.Errorf("no exit within %s: %s", runTimeout, out.String())
	}
	if err != nil && cmd.ProcessState == nil {
		return sample{}, err
	}
	s := sample{exit: cmd.ProcessState.ExitCode(), wall: wall, started: start, ended: end, output: out.String()}
	// wait4 reports the process's usage together with that of the children it waited
	// for (curl and jq under bash); ru_maxrss is then the largest of them, in KiB.
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		s.maxRSSKiB = ru.Maxrss
	}
	return s, nil
}

// accessKey is a made-up AWS access key in the real format.
type accessKey struct{ id, secret string }

func newAccessKey() accessKey {
	const upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	return accessKey{id: "AKIA" + randomText(16, upper), secret: randomText(40, upper+strings.ToLower(upper[:26])+"+/")}
}

func randomText(n int, alphabet string) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
