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
			var mu sync.Mutex
			var proc *os.Process
			var signalled time.Time
			fire := func() {
				mu.Lock()
				defer mu.Unlock()
				signalled = time.Now()
				_ = proc.Signal(syscall.SIGTERM)
			}
			match := tt.match
			if tt.service == "sts" {
				// The role's own calls pass; the new key's check is cut.
				match = func(r *http.Request, body string) bool {
					return tt.match(r, body) && !strings.Contains(r.Header.Get("Authorization"), "ASIA")
				}
			}
			targets := map[string]string{"iam": w.acct.IAMURL(), "sts": w.acct.STSURL(), "soracom": w.soracom.URL()}
			wire := tripwire.New(t, targets[tt.service], tt.land, match, fire)
			switch tt.service {
			case "iam":
				w.env["AWS_ENDPOINT_URL_IAM"] = wire.URL
			case "sts":
				w.env["AWS_ENDPOINT_URL_STS"] = wire.URL
			default:
				w.inputs["soracom-endpoint"] = wire.URL
			}
			w.before = map[string]bool{w.old.ID: true}
			r := runAction(t, runOpts{inputs: w.inputs, env: w.env, start: func(cmd *exec.Cmd) {
				mu.Lock()
				proc = cmd.Process
				mu.Unlock()
			}})
			ended := time.Now()
			wire.Release()
			if !wire.Wait(15 * time.Second) {
				t.Fatalf("the request to cut never came")
			}
			assertNoLeak(t, r, w.secrets())
			if r.code != 1 {
				t.Fatalf("exit %d, want 1", r.code)
			}
			mu.Lock()
			if took := ended.Sub(signalled); took > runnerGrace {
				t.Errorf("the run ended %s after SIGTERM; the runner kills it after %s", took, runnerGrace)
			}
			mu.Unlock()

			names := map[string]string{w.old.ID: "old"}
			var keys []string
			for _, k := range w.acct.Keys(rotUser) {
				if _, ok := names[k.ID]; !ok {
					names[k.ID] = "new"
				}
				keys = append(keys, names[k.ID]+":"+k.Status)
			}
			if got := strings.Join(keys, " "); got != tt.keys {
				t.Errorf("IAM keys = %s, want %s", got, tt.keys)
			}
			if f, h := names[w.key(t, "funnel-aws")], names[w.key(t, "harvest-aws")]; f != tt.funnel || h != tt.harvest {
				t.Errorf("funnel-aws on %q, harvest-aws on %q; want %q, %q", f, h, tt.funnel, tt.harvest)
			}
			msg := oneError(t, r)
			for _, s := range tt.errSays {
				if !strings.Contains(msg, s) {
					t.Errorf("error does not say %q:\n%s", s, msg)
				}
			}
			got := map[string]string{}
			for _, res := range results(t, r) {
				got[res.CredentialID] = res.Operation
			}
			for id, op := range tt.ops {
				if got[id] != op {
					t.Errorf("results say %s for %s, want %s", got[id], id, op)
				}
			}
			if _, newKeyKept := tt.ops["funnel-aws"]; !newKeyKept && r.outputs["aws-access-key-id"] != "" {
				t.Errorf("aws-access-key-id output names a key no set holds: %s", r.outputs["aws-access-key-id"])
			}
			for id, op := range tt.ops {
				if op == "unknown" && !strings.Contains(r.summary, id) {
					t.Errorf("summary does not name the set in doubt, %s", id)
				}
			}
			if w.soracom.LiveSessions() != 0 {
				t.Errorf("the SORACOM token was not revoked")
			}
		})
	}
}
