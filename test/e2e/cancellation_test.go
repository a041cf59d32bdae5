package e2e

// Cancellation: SIGTERM at each step of a rotation, sent to the built binary the moment
// the step's request arrives, ends in the IAM and SORACOM state the log states, within
// the runner's grace period, with the token revoked and no secret printed. The request
// in flight is carried out after the action gave up on it, as a request already on its
// way is.

import (
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/tripwire"
)

// runnerGrace is how long the runner lets a cancelled action run after the first
// signal before it kills it.
const runnerGrace = 10 * time.Second

func TestRotationSIGTERMAtEachStep(t *testing.T) {
	tests := []struct {
		name    string
		service string // iam, sts or soracom: where the request is cut
		match   func(*http.Request, string) bool
		land    tripwire.Landing
		keys    string // the user's keys at the end, oldest first
		funnel  string // which key funnel-aws holds at the end
		harvest string
		errSays []string
		ops     map[string]string // operation of each set in results; absent: not listed
	}{
		{
			name: "listing the keys: nothing changed", service: "iam", match: tripwire.Action("ListAccessKeys"),
			keys: "old:Active", funnel: "old", harvest: "old",
			errSays: []string{"cancelled", "Nothing was changed."},
		},
		{
			name: "CreateAccessKey in flight: the key IAM makes afterwards is deleted", service: "iam", match: tripwire.Action("CreateAccessKey"), land: tripwire.Soon,
			keys: "old:Active", funnel: "old", harvest: "old",
			errSays: []string{"cancelled", "created all the same", "was deleted"},
		},
		{
			name: "waiting for the new key to work: it is deleted", service: "sts", match: tripwire.Action("GetCallerIdentity"),
			keys: "old:Active", funnel: "old", harvest: "old",
			errSays: []string{"cancelled", "The new access key", "was deleted"},
		},
		{
			name: "the first write in flight, landing after the action gave up: the new key is kept, the set is unknown", service: "soracom",
			match: tripwire.Request(http.MethodPut, "/v1/credentials/funnel-aws"), land: tripwire.Late,
			keys: "old:Active new:Active", funnel: "new", harvest: "old",
			errSays: []string{"cancelled", "in doubt: credential set funnel-aws", "The new key was not deleted", "Until then the next run changes nothing"},
			ops:     map[string]string{"funnel-aws": "unknown"},
		},
		{
			name: "a later write in flight, landing after the action gave up: the earlier set updated, the later unknown", service: "soracom",
			match: tripwire.Request(http.MethodPut, "/v1/credentials/harvest-aws"), land: tripwire.Late,
			keys: "old:Active new:Active", funnel: "new", harvest: "new",
			errSays: []string{"cancelled", "in doubt: credential set harvest-aws"},
			ops:     map[string]string{"funnel-aws": "updated", "harvest-aws": "unknown"},
		},
		{
			name: "deactivating the old key in flight: every set on the new key, the old key's state unknown", service: "iam",
			match: tripwire.Action("UpdateAccessKey"), land: tripwire.Late,
			keys: "old:Inactive new:Active", funnel: "new", harvest: "new",
			errSays: []string{"cancelled", "may be deactivated or still active"},
			ops:     map[string]string{"funnel-aws": "updated", "harvest-aws": "updated"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newRotationWorld(t)
			sig := &signaller{}
			wire := w.cutAt(t, tt.service, tt.land, tt.match, sig.fire)
			w.before = map[string]bool{w.old.ID: true}
			r := runAction(t, runOpts{inputs: w.inputs, env: w.env, start: sig.attach})
			ended := time.Now()
			wire.Release()
			if !wire.Wait(15 * time.Second) {
				t.Fatalf("the request to cut never came")
			}
			assertNoLeak(t, r, w.secrets())
			assertNotShown(t, r, w.unseen())
			if r.code != 1 {
				t.Fatalf("exit %d, want 1", r.code)
			}
			if took := sig.since(ended); took > runnerGrace {
				t.Errorf("the run ended %s after SIGTERM; the runner kills it after %s", took, runnerGrace)
			}
			keys, funnel, harvest := w.endState(t)
			if keys != tt.keys || funnel != tt.funnel || harvest != tt.harvest {
				t.Errorf("IAM keys %s, funnel-aws on %s, harvest-aws on %s; want %s, %s, %s", keys, funnel, harvest, tt.keys, tt.funnel, tt.harvest)
			}
			checkCancelled(t, w, r, tt.errSays, tt.ops)
		})
	}
}

// signaller sends SIGTERM to the action's process when a tripwire fires, and remembers
// when.
type signaller struct {
	mu   sync.Mutex
	proc *os.Process
	at   time.Time
}

func (s *signaller) attach(cmd *exec.Cmd) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.proc = cmd.Process
}

func (s *signaller) fire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.at = time.Now()
	_ = s.proc.Signal(syscall.SIGTERM)
}

// since is how long after the signal t came.
func (s *signaller) since(t time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return t.Sub(s.at)
}

// cutAt puts a tripwire that calls fire in front of service (iam, sts or soracom) and
// points the action at it.
func (w *rotationWorld) cutAt(t *testing.T, service string, land tripwire.Landing, match func(*http.Request, string) bool, fire func()) *tripwire.Wire {
	switch service {
	case "iam":
		wire := tripwire.New(t, w.acct.IAMURL(), land, match, fire)
		w.env["AWS_ENDPOINT_URL_IAM"] = wire.URL
		return wire
	case "sts":
		wire := tripwire.New(t, w.acct.STSURL(), land, func(r *http.Request, body string) bool {
			// The role's own calls pass; the new key's check is cut.
			return match(r, body) && !strings.Contains(r.Header.Get("Authorization"), "ASIA")
		}, fire)
		w.env["AWS_ENDPOINT_URL_STS"] = wire.URL
		return wire
	}
	wire := tripwire.New(t, w.soracom.URL(), land, match, fire)
	w.inputs["soracom-endpoint"] = wire.URL
	return wire
}

// endState names the user's keys ("old:Active new:Active", oldest first) and the keys
// funnel-aws and harvest-aws hold: old, new.
func (w *rotationWorld) endState(t *testing.T) (keys, funnel, harvest string) {
	t.Helper()
	names := map[string]string{w.old.ID: "old"}
	var ks []string
	for _, k := range w.acct.Keys(rotUser) {
		if _, ok := names[k.ID]; !ok {
			names[k.ID] = "new"
		}
		ks = append(ks, names[k.ID]+":"+k.Status)
	}
	return strings.Join(ks, " "), names[w.key(t, "funnel-aws")], names[w.key(t, "harvest-aws")]
}

// checkCancelled checks what a cancelled run says: the error, each set's operation,
// and that the token was revoked.
func checkCancelled(t *testing.T, w *rotationWorld, r runResult, errSays []string, ops map[string]string) {
	t.Helper()
	msg := oneError(t, r)
	for _, s := range errSays {
		if !strings.Contains(msg, s) {
			t.Errorf("error does not say %q:\n%s", s, msg)
		}
	}
	checkOperations(t, r, ops)
	if w.soracom.LiveSessions() != 0 {
		t.Errorf("the SORACOM token was not revoked")
	}
	onlyOwnCommands(t, r.stdout)
}

// onlyOwnCommands checks that every line the runner would parse as a workflow command
// is one the action writes.
func onlyOwnCommands(t *testing.T, stdout string) {
	t.Helper()
	for _, l := range strings.Split(stdout, "\n") {
		if !strings.HasPrefix(l, "::") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(l, "::"), "::")
		name, _, _ = strings.Cut(name, " ")
		switch name {
		case "add-mask", "error", "warning", "notice", "debug", "group", "endgroup":
		default:
			t.Errorf("a log line is a workflow command the action does not write: %q", l)
		}
	}
}

// checkOperations checks each set's operation in results (unknown where a write is in
// doubt), that the summary names a set in doubt, and that aws-access-key-id names a
// key only when a set may hold it.
func checkOperations(t *testing.T, r runResult, ops map[string]string) {
	t.Helper()
	got := map[string]string{}
	for _, res := range results(t, r) {
		got[res.CredentialID] = res.Operation
	}
	for id, op := range ops {
		if got[id] != op {
			t.Errorf("results say %q for %s, want %q", got[id], id, op)
		}
		if op == "unknown" && !strings.Contains(r.summary, id) {
			t.Errorf("summary does not name the set in doubt, %s", id)
		}
	}
	if len(ops) == 0 && r.outputs["aws-access-key-id"] != "" {
		t.Errorf("aws-access-key-id output names a key no set holds: %s", r.outputs["aws-access-key-id"])
	}
}
