package action_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/action"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracom"
)

// tripwire is a proxy in front of a fake that cancels the run (as SIGTERM does) the
// moment a chosen request arrives. That request is held until the action gives up on
// it; then it is carried out all the same, as a request already on its way is: at once
// (landSoon) or once the run has ended (landLate). Every other request passes through.
type tripwire struct {
	target   string
	match    func(r *http.Request, body string) bool
	land     landing
	cancel   context.CancelFunc
	runDone  chan struct{} // closed to land a landLate request
	released bool
	mu       sync.Mutex
	fired    bool
	done     chan struct{} // closed once the held request was handled (landed or not)
	forward  http.Client
}

// landing is when a held request is carried out.
type landing int

const (
	landNever landing = iota
	landSoon          // as soon as the action gave up on it
	landLate          // just before the logout (or after the run): nothing the action checked could have seen it
)

func newTripwire(t *testing.T, target string, land landing, match func(*http.Request, string) bool) (*tripwire, string) {
	tw := &tripwire{target: target, match: match, land: land, done: make(chan struct{}), runDone: make(chan struct{})}
	srv := httptest.NewServer(tw)
	t.Cleanup(srv.Close)
	return tw, srv.URL
}

func (tw *tripwire) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.URL.Path == "/v1/auth/logout" {
		tw.releaseLate()
	}
	tw.mu.Lock()
	trip := !tw.fired && tw.match(r, string(body))
	tw.fired = tw.fired || trip
	tw.mu.Unlock()
	if !trip {
		tw.pass(w, r, body)
		return
	}
	tw.cancel()
	defer close(tw.done)
	select { // the action gives up on the request
	case <-r.Context().Done():
	case <-time.After(10 * time.Second):
	}
	if tw.land == landLate {
		<-tw.runDone
	}
	if tw.land != landNever {
		tw.pass(httptest.NewRecorder(), r.WithContext(context.Background()), body)
	}
}

// releaseLate lets a request held for landLate land now, and waits until it has.
func (tw *tripwire) releaseLate() {
	tw.mu.Lock()
	fired := tw.fired
	if fired && tw.land == landLate && !tw.released {
		tw.released = true
		close(tw.runDone)
	}
	tw.mu.Unlock()
	if fired {
		<-tw.done
	}
}

func (tw *tripwire) pass(w http.ResponseWriter, r *http.Request, body []byte) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, tw.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	req.Header = r.Header.Clone()
	req.Host = r.Host // signed by AWS clients
	resp, err := tw.forward.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// runCancellable runs the action with a context the tripwires cancel, then waits until
// the held request was handled, so the end state includes whatever landed late.
func (w *world) runCancellable(t *testing.T, env map[string]string, wires ...*tripwire) outcome {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, tw := range wires {
		tw.cancel = cancel
	}
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
	for _, tw := range wires {
		tw.mu.Lock()
		if !tw.released {
			tw.released = true
			close(tw.runDone)
		}
		tw.mu.Unlock()
		select {
		case <-tw.done:
		case <-time.After(15 * time.Second):
			t.Fatalf("the tripwire in front of %s never fired\n%s", tw.target, stdout.String())
		}
	}
	summary, _ := os.ReadFile(vars["GITHUB_STEP_SUMMARY"])
	outputs, _ := os.ReadFile(vars["GITHUB_OUTPUT"])
	return outcome{code: code, stdout: stdout.String(), summary: string(summary), outputs: string(outputs)}
}

func iamAction(name string) func(*http.Request, string) bool {
	return func(_ *http.Request, body string) bool { return strings.Contains(body, "Action="+name+"&") }
}

func soracomPut(id string) func(*http.Request, string) bool {
	return func(r *http.Request, _ string) bool {
		return r.Method == http.MethodPut && r.URL.Path == "/v1/credentials/"+id
	}
}

// SIGTERM at each step of a rotation, through the real IAM and SORACOM adapters: the
// request in flight is carried out after the action gave up on it, and the end state
// must be the one the log states.
func TestRotationCancelledAtEachStep(t *testing.T) {
	tests := []struct {
		name     string
		service  string // iam, sts or soracom: where the tripwire sits
		match    func(*http.Request, string) bool
		land     landing
		keys     string // the user's keys at the end, oldest first
		funnel   string // which key funnel-aws holds at the end
		harvest  string
		errSays  []string
		outSays  []string // substrings of the outputs
		sumSays  []string // substrings of the summary
		noOutput []string
	}{
		{
			name: "while listing the keys: nothing changed", service: "iam", match: iamAction("ListAccessKeys"),
			keys: "old:Active", funnel: "old", harvest: "old",
			errSays: []string{"cancelled", "list the IAM user's access keys", "Nothing was changed."},
		},
		{
			name: "while CreateAccessKey is in flight, the key made afterwards is deleted", service: "iam", match: iamAction("CreateAccessKey"), land: landSoon,
			keys: "old:Active", funnel: "old", harvest: "old",
			errSays:  []string{"cancelled", "create a new access key", "created all the same", "was deleted", "Every credential set still holds what it held before"},
			noOutput: []string{"\naws-access-key-id<<"},
		},
		{
			name: "while waiting for the new key to work: it is deleted", service: "sts", match: iamAction("GetCallerIdentity"),
			keys: "old:Active", funnel: "old", harvest: "old",
			errSays:  []string{"cancelled", "wait until the new access key", "was deleted"},
			noOutput: []string{"\naws-access-key-id<<"},
		},
		{
			name: "while the first write is in flight, and it lands: the new key is kept and the set is unknown", service: "soracom", match: soracomPut("funnel-aws"), land: landLate,
			keys: "old:Active new:Active", funnel: "new", harvest: "old",
			errSays: []string{"cancelled", "store the new key in credential set funnel-aws", "in doubt: credential set funnel-aws",
				"still on the old key", "harvest-aws", "The new key was not deleted", "Until then the next run changes nothing"},
			outSays: []string{`"credentialId":"funnel-aws","type":"aws-credentials","operation":"unknown"`, "aws-access-key-id<<"},
			sumSays: []string{"unknown", "funnel-aws", "both keys stay active"},
		},
		{
			name: "while a later write is in flight, and it lands: the earlier set is on the new key, the later one unknown", service: "soracom", match: soracomPut("harvest-aws"), land: landLate,
			keys: "old:Active new:Active", funnel: "new", harvest: "new",
			errSays: []string{"cancelled", "on the new key", ": funnel-aws; in doubt: credential set harvest-aws"},
			outSays: []string{`"credentialId":"funnel-aws","type":"aws-credentials","operation":"updated"`, `"credentialId":"harvest-aws","type":"aws-credentials","operation":"unknown"`},
			sumSays: []string{"unknown"},
		},
		{
			name: "while deactivating the old key, and it lands: every set on the new key, the old key's state unknown", service: "iam", match: iamAction("UpdateAccessKey"), land: landLate,
			keys: "old:Inactive new:Active", funnel: "new", harvest: "new",
			errSays: []string{"cancelled", "deactivate the old access key", "may be deactivated or still active"},
			outSays: []string{`"operation":"updated"`},
			sumSays: []string{"unknown"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			env := map[string]string{}
			var tw *tripwire
			switch tt.service {
			case "iam":
				tw, env["AWS_ENDPOINT_URL_IAM"] = newTripwire(t, w.acct.IAMURL(), tt.land, tt.match)
			case "sts":
				tw, env["AWS_ENDPOINT_URL_STS"] = newTripwire(t, w.acct.STSURL(), tt.land, func(r *http.Request, body string) bool {
					// The role's own AssumeRoleWithWebIdentity passes; the new key's check trips.
					return tt.match(r, body) && !strings.Contains(r.Header.Get("Authorization"), "ASIA")
				})
			case "soracom":
				var url string
				tw, url = newTripwire(t, w.soracom.URL(), tt.land, tt.match)
				w.inputs[inputs.Endpoint] = url
			}
			o := w.runCancellable(t, env, tw)
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
