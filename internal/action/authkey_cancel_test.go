package action_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/action"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/ghtest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/tripwire"
)

// The paths the AuthKey rotation's requests go to.
const (
	akKeysPath   = "/v1/operators/" + soracomtest.DefaultOperatorID + "/users/" + soracomtest.DefaultUserName + "/auth_keys"
	akRepoSecret = "/repos/octo/app/actions/secrets"
)

// nth matches the n-th request (from 1) that match accepts.
func nth(n int, match func(*http.Request, string) bool) func(*http.Request, string) bool {
	var mu sync.Mutex
	seen := 0
	return func(r *http.Request, body string) bool {
		if !match(r, body) {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		seen++
		return seen == n
	}
}

// newKeyAuth matches the authentication with an AuthKey other than the one the run
// started with: the new key's verification.
func newKeyAuth(r *http.Request, body string) bool {
	return r.Method == http.MethodPost && r.URL.Path == "/v1/auth" && !strings.Contains(body, akOldID)
}

// SIGTERM (the context cancelled) at each step of an AuthKey rotation, through the real
// SORACOM and GitHub clients: the request in flight is carried out after the action
// gave up on it (or never), and the end state must be the one the log states. Where the
// secrets end split (the key's secret from one AuthKey, the id from the other), both
// AuthKeys exist and the fix the error names makes them one.
func TestAuthKeyRotationCancelledAtEachStep(t *testing.T) {
	tests := []struct {
		name    string
		service string // soracom or github: where the tripwire sits
		match   func(*http.Request, string) bool
		land    tripwire.Landing
		maxAge  bool
		code    int
		keys    int    // the SAM user's AuthKeys at the end
		holds   string // the AuthKey the secrets hold at the end: old, new, or split
		output  string // auth-key-id: old, new, or none
		says    []string
	}{
		{
			name: "reading the public key: nothing generated", service: "github", match: tripwire.Request(http.MethodGet, akRepoSecret+"/public-key"),
			code: 1, keys: 1, holds: "old", output: "old",
			says: []string{"cancelled", "Nothing was changed"},
		},
		{
			name: "listing the AuthKeys for their age: nothing generated", service: "soracom", match: tripwire.Request(http.MethodGet, akKeysPath), maxAge: true,
			code: 1, keys: 1, holds: "old", output: "old",
			says: []string{"cancelled", "Nothing was changed"},
		},
		{
			name: "generating, the request landing after the run gave up: the key that may exist is named", service: "soracom",
			match: tripwire.Request(http.MethodPost, akKeysPath), land: tripwire.Soon,
			code: 1, keys: 2, holds: "old", output: "old",
			says: []string{"cancelled", "Nothing was changed", "SORACOM may have generated an AuthKey all the same", "delete the newest AuthKey of SAM user"},
		},
		{
			name: "authenticating with the new key: it is deleted", service: "soracom", match: newKeyAuth,
			code: 1, keys: 1, holds: "old", output: "old",
			says: []string{"cancelled", "authenticate with the new AuthKey", "Nothing was changed", "was deleted"},
		},
		{
			name: "listing the AuthKeys before writing: the new key is deleted", service: "soracom", match: tripwire.Request(http.MethodGet, akKeysPath),
			code: 1, keys: 1, holds: "old", output: "old",
			says: []string{"cancelled", "Nothing was changed", "was deleted"},
		},
		{
			name: "the key's secret written, the request lost: written back, both keys kept", service: "github",
			match: tripwire.Request(http.MethodPut, akRepoSecret+"/SORACOM_AUTH_KEY"),
			code:  1, keys: 2, holds: "old", output: "none",
			says: []string{"cancelled", "written back, and their updated_at confirms it", "may still land after the write-back", "both AuthKeys are kept",
				"SORACOM_AUTH_KEY holds the old AuthKey secret, unless", "Run the workflow: if it authenticates"},
		},
		{
			name: "the key's secret written, landing after the write-back: split, both keys kept, the fix names the id", service: "github",
			match: tripwire.Request(http.MethodPut, akRepoSecret+"/SORACOM_AUTH_KEY"), land: tripwire.Late,
			code: 1, keys: 2, holds: "split", output: "none",
			says: []string{"cancelled", "may still land after the write-back", "both AuthKeys are kept", "If it cannot authenticate", "gh secret set SORACOM_AUTH_KEY_ID --body keyId-"},
		},
		{
			name: "the id written, landing after the write-back: split, both keys kept, the fix sets the old id", service: "github",
			match: tripwire.Request(http.MethodPut, akRepoSecret+"/SORACOM_AUTH_KEY_ID"), land: tripwire.Late,
			code: 1, keys: 2, holds: "split", output: "none",
			says: []string{"cancelled", "SORACOM_AUTH_KEY holds the old AuthKey secret", "SORACOM_AUTH_KEY_ID holds the old id " + akOldID + ", unless",
				"To fix, run: gh secret set SORACOM_AUTH_KEY_ID --body " + akOldID + " --repo octo/app"},
		},
		{
			name: "reading both back: written back and confirmed, the new key deleted", service: "github",
			match: nth(2, tripwire.Request(http.MethodGet, akRepoSecret)),
			code:  1, keys: 1, holds: "old", output: "old",
			says: []string{"cancelled", "confirm the writes", "The old values were written back, and their updated_at confirms it", "Nothing was changed", "was deleted"},
		},
		{
			name: "deleting the old key, landing late: rotated, a warning that it may be deleted", service: "soracom",
			match: tripwire.Request(http.MethodDelete, akKeysPath+"/"+akOldID), land: tripwire.Late,
			code: 0, keys: 1, holds: "new", output: "new",
			says: []string{"may be deleted or still active", "soracom users auth-keys delete --user-name " + soracomtest.DefaultUserName + " --auth-key-id " + akOldID},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newAKWorld(t, "repository", ghtest.RepoScope("octo", "app"))
			if tt.maxAge {
				w.inputs[inputs.AuthKeyMaxAge] = "1d"
				w.soracom.SetAuthKeyCreated(akOldID, time.Now().Add(-48*time.Hour))
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			env, wire := w.cutAt(t, tt.service, tt.land, tt.match, cancel)
			o := w.runCancellable(t, ctx, env, wire)
			if o.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s", o.code, tt.code, o.stdout)
			}
			text := o.stdout
			if tt.code != 0 {
				text = errorLine(t, o)
			}
			says(t, "the log", text, tt.says)
			w.checkCancelledEnd(t, o, tt.keys, tt.holds, tt.output, text)
		})
	}
}

// cutAt puts a tripwire that calls fire in front of SORACOM or GitHub, and returns the
// environment that points the action at it.
func (w *akWorld) cutAt(t *testing.T, service string, land tripwire.Landing, match func(*http.Request, string) bool, fire func()) (map[string]string, *tripwire.Wire) {
	if service == "github" {
		wire := tripwire.New(t, w.gh.URL, land, match, fire)
		return map[string]string{"GITHUB_API_URL": wire.URL}, wire
	}
	wire := tripwire.New(t, w.soracom.URL(), land, match, fire)
	w.inputs[inputs.Endpoint] = wire.URL
	return map[string]string{}, wire
}

// runCancellable runs the action with a context the tripwire cancels, with the
// runner's grace for clean-up, then lands the held request.
func (w *akWorld) runCancellable(t *testing.T, ctx context.Context, env map[string]string, wire *tripwire.Wire) outcome {
	t.Helper()
	vars := map[string]string{"GITHUB_API_URL": w.gh.URL, "GITHUB_REPOSITORY": repository}
	for k, v := range env {
		vars[k] = v
	}
	files := prepareRun(t, w.inputs, vars)
	var stdout bytes.Buffer
	code := action.Run(ctx, action.Env{Getenv: os.Getenv, Stdout: &stdout, Retry: quickRetry(), Grace: 3 * time.Second})
	wire.Release()
	if !wire.Wait(15 * time.Second) {
		t.Fatalf("the tripwire never fired\n%s", stdout.String())
	}
	o := files.result(code, stdout.String())
	w.checkNoLeak(t, o)
	return o
}

// checkCancelledEnd checks the end state against what the run said: the AuthKeys, what
// the secrets hold, the auth-key-id output, no SORACOM token left valid; for split
// secrets, that the fix the log names makes them one working AuthKey.
func (w *akWorld) checkCancelledEnd(t *testing.T, o outcome, keys int, holds, output, said string) {
	t.Helper()
	if n := len(w.soracom.UserAuthKeys(soracomtest.DefaultUserName)); n != keys {
		t.Errorf("%d AuthKeys at the end, want %d", n, keys)
	}
	got := w.holding()
	if got != holds {
		t.Errorf("the secrets hold %s, want %s", got, holds)
	}
	if got == "split" {
		w.applyFix(t, said)
		if w.holding() == "split" {
			t.Errorf("the fix the log names does not make the secrets one working AuthKey:\n%s", said)
		}
	}
	id := outputValue(o.outputs, "auth-key-id")
	switch {
	case output == "none" && id != "",
		output == "old" && id != akOldID,
		output == "new" && (id == "" || id == akOldID):
		t.Errorf("auth-key-id output %q, want %s", id, output)
	}
	if n := w.soracom.LiveSessions(); n != 0 {
		t.Errorf("%d SORACOM tokens left valid", n)
	}
}

// holding names the AuthKey the secrets hold: old, new, or split when the two secrets
// do not form an AuthKey that exists.
func (w *akWorld) holding() string {
	key, _ := w.gh.Secret(w.scope, "SORACOM_AUTH_KEY")
	id, _ := w.gh.Secret(w.scope, "SORACOM_AUTH_KEY_ID")
	for _, k := range w.soracom.UserAuthKeys(soracomtest.DefaultUserName) {
		if k.ID == id.Value && k.Secret == key.Value {
			if k.ID == akOldID {
				return "old"
			}
			return "new"
		}
	}
	return "split"
}

// applyFix does what the log's fix says: the gh command that sets the id secret, the
// one after "If it cannot authenticate" when the fix depends on whether a run does.
func (w *akWorld) applyFix(t *testing.T, said string) {
	t.Helper()
	if _, after, ok := strings.Cut(said, "If it cannot authenticate"); ok {
		said = after
	}
	_, after, ok := strings.Cut(said, "gh secret set SORACOM_AUTH_KEY_ID --body ")
	if !ok {
		t.Fatalf("no fix command in %q", said)
	}
	id, _, _ := strings.Cut(after, " ")
	w.gh.SetSecret(w.scope, "SORACOM_AUTH_KEY_ID", id, time.Now(), "")
}

// outputValue reads one output from a GITHUB_OUTPUT file's heredoc entries.
func outputValue(outputs, name string) string {
	_, after, ok := strings.Cut(outputs, "\n"+name+"<<")
	if !ok {
		_, after, ok = strings.Cut(outputs, name+"<<")
		if !ok || !strings.HasPrefix(outputs, name+"<<") {
			return ""
		}
	}
	lines := strings.SplitN(after, "\n", 3)
	if len(lines) < 2 {
		return ""
	}
	return lines[1]
}

// SIGTERM while the new AuthKey is proved on both coverages at once, the cut on either
// coverage's login (the request lost): the other coverage's login runs to its end and
// its token is revoked, the one cut fails once the grace period is spent, and so the
// new key is deleted, the secrets keep the old one and no token is left valid on
// either coverage.
func TestAuthKeyRotationOnBothCoveragesCancelledWhileProvingTheNewKey(t *testing.T) {
	for _, cut := range []string{soracomtest.CoverageJP, soracomtest.CoverageG} {
		t.Run("cut on "+cut, func(t *testing.T) {
			w, c := bothAKWorld(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			wire := tripwire.New(t, c.Server(cut).URL(), tripwire.Never, newKeyAuth, cancel)
			t.Setenv("SORACOM_ENDPOINT_"+strings.ToUpper(cut), wire.URL)
			o := w.runCancellable(t, ctx, map[string]string{}, wire)
			if o.code != 1 {
				t.Fatalf("exit %d, want 1\n%s", o.code, o.stdout)
			}
			text := errorLine(t, o)
			says(t, "the error", text, []string{"cancelled", "authenticate with the new AuthKey", "coverage " + cut, "Nothing was changed", "was deleted"})
			w.checkCancelledEnd(t, o, 1, "old", "old", text)
			if n := c.LiveSessions(); n != 0 {
				t.Errorf("%d SORACOM tokens left valid on the two coverages", n)
			}
		})
	}
}
