package action_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/action"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracom"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/tripwire"
)

// runCancellable runs the action with a context the tripwires cancel, then waits until
// the held request was handled, so the end state includes whatever landed late.
func (w *world) runCancellable(t *testing.T, ctx context.Context, env map[string]string, wire *tripwire.Wire) outcome {
	t.Helper()
	dir := t.TempDir()
	vars := map[string]string{"GITHUB_OUTPUT": filepath.Join(dir, "out"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary")}
	for _, m := range []map[string]string{w.acct.Env(), w.oidc.Env(), env} {
		for k, v := range m {
			vars[k] = v
		}
	}
	for k, v := range w.inputs {
		vars[inputs.EnvName(k)] = v
	}
	for k, v := range vars {
		t.Setenv(k, v)
	}
	var stdout bytes.Buffer
	retry := soracom.DefaultRetry()
	retry.InitialInterval, retry.MaxInterval = time.Millisecond, 5*time.Millisecond
	code := action.Run(ctx, action.Env{Getenv: os.Getenv, Stdout: &stdout, Retry: retry, KeyWait: 5 * time.Second, Grace: 2 * time.Second})
	wire.Release()
	if !wire.Wait(15 * time.Second) {
		t.Fatalf("the tripwire never fired\n%s", stdout.String())
	}
	summary, _ := os.ReadFile(vars["GITHUB_STEP_SUMMARY"])
	outputs, _ := os.ReadFile(vars["GITHUB_OUTPUT"])
	return outcome{code: code, stdout: stdout.String(), summary: string(summary), outputs: string(outputs)}
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
			outSays: []string{`"credentialId":"funnel-aws","type":"aws-credentials","operation":"unknown"`, "aws-access-key-id<<"},
			sumSays: []string{"unknown", "funnel-aws", "both keys stay active"},
		},
		{
			name: "while a later write is in flight, and it lands: the earlier set is on the new key, the later one unknown", service: "soracom", match: tripwire.Request(http.MethodPut, "/v1/credentials/harvest-aws"), land: tripwire.Late,
			keys: "old:Active new:Active", funnel: "new", harvest: "new",
			errSays: []string{"cancelled", "on the new key", ": funnel-aws; in doubt: credential set harvest-aws"},
			outSays: []string{`"credentialId":"funnel-aws","type":"aws-credentials","operation":"updated"`, `"credentialId":"harvest-aws","type":"aws-credentials","operation":"unknown"`},
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
			env := map[string]string{}
			var wire *tripwire.Wire
			switch tt.service {
			case "iam":
				wire = tripwire.New(t, w.acct.IAMURL(), tt.land, tt.match, cancel)
				env["AWS_ENDPOINT_URL_IAM"] = wire.URL
			case "sts":
				wire = tripwire.New(t, w.acct.STSURL(), tt.land, func(r *http.Request, body string) bool {
					// The role's own calls pass; the new key's check trips.
					return tt.match(r, body) && !strings.Contains(r.Header.Get("Authorization"), "ASIA")
				}, cancel)
				env["AWS_ENDPOINT_URL_STS"] = wire.URL
			case "soracom":
				wire = tripwire.New(t, w.soracom.URL(), tt.land, tt.match, cancel)
				w.inputs[inputs.Endpoint] = wire.URL
			}
			o := w.runCancellable(t, ctx, env, wire)
			if o.code != 1 {
				t.Fatalf("exit %d, want 1\n%s", o.code, o.stdout)
			}
			names := map[string]string{w.old.ID: "old"}
			var keys []string
			for _, k := range w.acct.Keys(user) {
				if _, ok := names[k.ID]; !ok {
					names[k.ID] = "new"
				}
				keys = append(keys, names[k.ID]+":"+k.Status)
			}
			if got := strings.Join(keys, " "); got != tt.keys {
				t.Errorf("IAM keys = %s, want %s\n%s", got, tt.keys, o.stdout)
			}
			if f, h := names[w.setKey(t, "funnel-aws")], names[w.setKey(t, "harvest-aws")]; f != tt.funnel || h != tt.harvest {
				t.Errorf("funnel-aws on %q, harvest-aws on %q; want %q, %q", f, h, tt.funnel, tt.harvest)
			}
			msg := errorLine(t, o)
			for _, s := range tt.errSays {
				if !strings.Contains(msg, s) {
					t.Errorf("error does not say %q:\n%s", s, msg)
				}
			}
			for _, s := range tt.outSays {
				if !strings.Contains(o.outputs, s) {
					t.Errorf("outputs do not say %q:\n%s", s, o.outputs)
				}
			}
			for _, s := range tt.noOutput {
				if strings.Contains(o.outputs, s) {
					t.Errorf("outputs say %q:\n%s", s, o.outputs)
				}
			}
			for _, s := range tt.sumSays {
				if !strings.Contains(o.summary, s) {
					t.Errorf("summary does not say %q:\n%s", s, o.summary)
				}
			}
			if strings.Contains(o.summary, "not changed") && strings.Contains(strings.Join(tt.outSays, " "), "unknown") {
				for _, l := range strings.Split(o.summary, "\n") {
					if strings.Contains(l, "not changed") && (strings.Contains(l, "funnel-aws") && tt.funnel == "new" || strings.Contains(l, "harvest-aws") && tt.harvest == "new") {
						t.Errorf("summary calls a set whose write landed 'not changed': %s", l)
					}
				}
			}
			if w.soracom.LiveSessions() != 0 {
				t.Errorf("the SORACOM token was not revoked")
			}
		})
	}
}
