package action_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/action"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/tripwire"
)

// runCancellable runs the action with a context the tripwires cancel, then waits until
// the held request was handled, so the end state includes whatever landed late.
func (w *world) runCancellable(t *testing.T, ctx context.Context, env map[string]string, wire *tripwire.Wire) outcome {
	t.Helper()
	files := prepareRun(t, w.inputs, w.acct.Env(), w.oidc.Env(), env)
	var stdout bytes.Buffer
	code := action.Run(ctx, action.Env{Getenv: os.Getenv, Stdout: &stdout, Retry: quickRetry(), KeyWait: 5 * time.Second, Grace: 2 * time.Second})
	wire.Release()
	if !wire.Wait(15 * time.Second) {
		t.Fatalf("the tripwire never fired\n%s", stdout.String())
	}
	return files.result(code, stdout.String())
}

// SIGTERM at each step of a rotation, through the real IAM and SORACOM adapters: the
// request in flight is carried out after the action gave up on it, and the end state
// must be the one the log states.
func TestRotationCancelledAtEachStep(t *testing.T) {
	tests := []struct {
		name     string
		service  string // iam, sts or soracom: where the tripwire sits
		match    func(*http.Request, string) bool
		land     tripwire.Landing
		keys     string // the user's keys at the end, oldest first
		funnel   string // which key funnel-aws holds at the end
		harvest  string
		errSays  []string
		outSays  []string // substrings of the outputs
		sumSays  []string // substrings of the summary
		noOutput []string
	}{
		{
			name: "while listing the keys: nothing changed", service: "iam", match: tripwire.Action("ListAccessKeys"),
			keys: "old:Active", funnel: "old", harvest: "old",
			errSays: []string{"cancelled", "list the IAM user's access keys", "Nothing was changed."},
		},
		{
			name: "while CreateAccessKey is in flight, the key made afterwards is deleted", service: "iam", match: tripwire.Action("CreateAccessKey"), land: tripwire.Soon,
			keys: "old:Active", funnel: "old", harvest: "old",
			errSays:  []string{"cancelled", "create a new access key", "created all the same", "was deleted", "Every credential set still holds what it held before"},
			noOutput: []string{"\naws-access-key-id<<"},
		},
		{
			name: "while waiting for the new key to work: it is deleted", service: "sts", match: tripwire.Action("GetCallerIdentity"),
			keys: "old:Active", funnel: "old", harvest: "old",
			errSays:  []string{"cancelled", "wait until the new access key", "was deleted"},
			noOutput: []string{"\naws-access-key-id<<"},
		},
		{
			name: "while the first write is in flight, and it lands: the new key is kept and the set is unknown", service: "soracom", match: tripwire.Request(http.MethodPut, "/v1/credentials/funnel-aws"), land: tripwire.Late,
			keys: "old:Active new:Active", funnel: "new", harvest: "old",
			errSays: []string{"cancelled", "store the new key in credential set funnel-aws", "in doubt: credential set funnel-aws",
				"still on the old key", "harvest-aws", "The new key was not deleted", "Until then the next run changes nothing"},
			outSays: []string{`"credentialId":"funnel-aws","coverage":"jp","type":"aws-credentials","operation":"unknown"`, "aws-access-key-id<<"},
			sumSays: []string{"unknown", "funnel-aws", "both keys stay active"},
		},
		{
			name: "while a later write is in flight, and it lands: the earlier set is on the new key, the later one unknown", service: "soracom", match: tripwire.Request(http.MethodPut, "/v1/credentials/harvest-aws"), land: tripwire.Late,
			keys: "old:Active new:Active", funnel: "new", harvest: "new",
			errSays: []string{"cancelled", "on the new key", ": funnel-aws; in doubt: credential set harvest-aws"},
			outSays: []string{`"credentialId":"funnel-aws","coverage":"jp","type":"aws-credentials","operation":"updated"`, `"credentialId":"harvest-aws","coverage":"jp","type":"aws-credentials","operation":"unknown"`},
			sumSays: []string{"unknown"},
		},
		{
			name: "while deactivating the old key, and it lands: every set on the new key, the old key's state unknown", service: "iam", match: tripwire.Action("UpdateAccessKey"), land: tripwire.Late,
			keys: "old:Inactive new:Active", funnel: "new", harvest: "new",
			errSays: []string{"cancelled", "deactivate the old access key", "may be deactivated or still active"},
			outSays: []string{`"operation":"updated"`},
			sumSays: []string{"unknown"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			env, wire := w.cutAt(t, tt.service, tt.land, tt.match, cancel)
			o := w.runCancellable(t, ctx, env, wire)
			if o.code != 1 {
				t.Fatalf("exit %d, want 1\n%s", o.code, o.stdout)
			}
			keys, funnel, harvest := w.endState(t, map[string]string{w.old.ID: "old"})
			if keys != tt.keys || funnel != tt.funnel || harvest != tt.harvest {
				t.Errorf("IAM keys %s, funnel-aws on %s, harvest-aws on %s; want %s, %s, %s\n%s", keys, funnel, harvest, tt.keys, tt.funnel, tt.harvest, o.stdout)
			}
			says(t, "error", errorLine(t, o), tt.errSays)
			says(t, "outputs", o.outputs, tt.outSays)
			says(t, "summary", o.summary, tt.sumSays)
			for _, s := range tt.noOutput {
				if strings.Contains(o.outputs, s) {
					t.Errorf("outputs say %q:\n%s", s, o.outputs)
				}
			}
			notCalledNotChanged(t, o.summary, map[string]bool{"funnel-aws": funnel == "new", "harvest-aws": harvest == "new"})
			if w.soracom.LiveSessions() != 0 {
				t.Errorf("the SORACOM token was not revoked")
			}
		})
	}
}

// cutAt puts a tripwire in front of service (iam, sts or soracom) that calls fire when
// match accepts a request, and returns the environment that points the action at it.
func (w *world) cutAt(t *testing.T, service string, land tripwire.Landing, match func(*http.Request, string) bool, fire func()) (map[string]string, *tripwire.Wire) {
	switch service {
	case "iam":
		wire := tripwire.New(t, w.acct.IAMURL(), land, match, fire)
		return map[string]string{"AWS_ENDPOINT_URL_IAM": wire.URL}, wire
	case "sts":
		wire := tripwire.New(t, w.acct.STSURL(), land, func(r *http.Request, body string) bool {
			// The role's own calls pass; the new key's check trips.
			return match(r, body) && !strings.Contains(r.Header.Get("Authorization"), "ASIA")
		}, fire)
		return map[string]string{"AWS_ENDPOINT_URL_STS": wire.URL}, wire
	}
	wire := tripwire.New(t, w.soracom.URL(), land, match, fire)
	w.inputs[inputs.Endpoint] = wire.URL
	return map[string]string{}, wire
}

// notCalledNotChanged checks that no set whose write landed is called "not changed" in
// the summary.
func notCalledNotChanged(t *testing.T, summary string, landed map[string]bool) {
	t.Helper()
	for _, l := range strings.Split(summary, "\n") {
		for id, ok := range landed {
			if ok && strings.Contains(l, "`"+id+"`") && strings.Contains(l, "not changed") {
				t.Errorf("summary calls %s, which holds the new key, not changed: %s", id, l)
			}
		}
	}
}
