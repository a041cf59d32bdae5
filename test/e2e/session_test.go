package e2e

// Session: the API token lives as short as the run needs, and is revoked on success,
// failure and cancellation, even when the logout itself hangs.

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

func TestTokenLifetimeAndLogout(t *testing.T) {
	t.Parallel()
	s, in := registration(t, nil)
	r := runAction(t, runOpts{inputs: in, secrets: inputSecrets})
	mustSucceed(t, r)
	if got := authTimeouts(s); len(got) != 1 || got[0] != 180 {
		t.Errorf("tokenTimeoutSeconds = %v, want [180]", got)
	}
	if s.CountRequests("POST", "/v1/auth/logout") != 1 || s.LiveSessions() != 0 {
		t.Errorf("no logout on success")
	}
	// failure: if-exists fail on an existing set
	s2, in2 := registration(t, map[string]string{"if-exists": "fail"})
	putExistingSet(s2, "funnel-aws")
	r2 := runAction(t, runOpts{inputs: in2, secrets: inputSecrets})
	if r2.code != 1 || s2.CountRequests("POST", "/v1/auth/logout") != 1 || s2.LiveSessions() != 0 {
		t.Errorf("no logout on failure: exit %d, %s", r2.code, requestLine(s2))
	}
}

func TestLogoutHasItsOwnShortDeadline(t *testing.T) {
	t.Parallel()
	s, in := registration(t, nil)
	s.Inject("POST /v1/auth/logout", soracomtest.Always, soracomtest.SlowFault(60*time.Second))
	start := time.Now()
	r := runAction(t, runOpts{inputs: in, secrets: inputSecrets})
	el := time.Since(start)
	if r.code != 0 || r.outputs["operation"] != "created" {
		t.Errorf("exit %d op %q", r.code, r.outputs["operation"])
	}
	if el > 15*time.Second {
		t.Errorf("a hanging logout held the run %s", el)
	}
}

func TestCancelledJobStillRevokesTheToken(t *testing.T) {
	for _, sig := range []os.Signal{syscall.SIGTERM, os.Interrupt} {
		t.Run(sig.String(), func(t *testing.T) {
			s, in := registration(t, nil)
			s.Inject("PUT /v1/credentials/*", 1, soracomtest.SlowFault(30*time.Second))
			start := time.Now()
			r := runAction(t, runOpts{inputs: in, secrets: inputSecrets, start: func(cmd *exec.Cmd) {
				// The request log records a request once answered, so wait for the
				// token instead: the PUT (held 30 s by the emulator) follows at once.
				deadline := time.Now().Add(10 * time.Second)
				for s.LiveSessions() == 0 && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond)
				}
				time.Sleep(200 * time.Millisecond)
				_ = cmd.Process.Signal(sig)
			}})
			if r.code != 1 {
				t.Fatalf("exit %d", r.code)
			}
			if time.Since(start) > 20*time.Second {
				t.Errorf("the run did not stop on the signal")
			}
			if s.CountRequests("POST", "/v1/auth/logout") != 1 || s.LiveSessions() != 0 {
				t.Errorf("the token was not revoked on cancellation: %s", requestLine(s))
			}
			msg := oneError(t, r)
			if !strings.Contains(msg, "cancelled") || strings.Contains(msg, "To fix") {
				t.Errorf("error does not say the run was cancelled, or gives a hint that does not apply: %s", msg)
			}
		})
	}
}

func TestSIGTERMDuringRetryWaitLogsOut(t *testing.T) {
	t.Parallel()
	s, in := registration(t, nil)
	// 429 asking for 300 s: must be capped at 60 s (logged), and cancellation logs out.
	s.Inject("PUT /v1/credentials/*", soracomtest.Always, soracomtest.TooManyRequests(300, true))
	start := time.Now()
	r := runAction(t, runOpts{inputs: in, secrets: inputSecrets, start: func(cmd *exec.Cmd) {
		time.Sleep(3 * time.Second)
		_ = cmd.Process.Signal(syscall.SIGTERM)
	}})
	if time.Since(start) > 15*time.Second {
		t.Errorf("SIGTERM not honoured during a wait")
	}
	if r.code != 1 {
		t.Errorf("exit %d", r.code)
	}
	if !strings.Contains(r.stdout, "retrying in 1m0s") {
		t.Errorf("the 300 s wait was not capped at 60 s:\n%s", r.stdout)
	}
	if s.CountRequests("POST", "/v1/auth/logout") != 1 || s.LiveSessions() != 0 {
		t.Errorf("not logged out: %s", requestLine(s))
	}
}
