package e2e

// Rotating the AuthKey itself (README: "Rotate the AuthKey itself"), by the built
// binary against the SORACOM emulator and the fake GitHub secrets API.

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/ghtest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/tripwire"
)

const githubToken = "github_pat_11E2E0123456789abcdefrotation"

// authKeyWorld is a registration whose AuthKey lives in repository secrets.
func authKeyWorld(t *testing.T) (*soracomtest.Server, *ghtest.Server, runOpts) {
	t.Helper()
	s, in := registration(t, map[string]string{
		"rotate-auth-key": "true", "github-token": githubToken, "auth-key-max-age": "30d",
	})
	s.SetAuthKeyCreated(authKeyID, time.Now().Add(-40*24*time.Hour))
	gh := ghtest.Start(t)
	gh.AddToken(githubToken, ghtest.Access{Read: true, Write: true})
	past := time.Now().Add(-40 * 24 * time.Hour)
	gh.SetSecret(ghtest.RepoScope("octo", "app"), "SORACOM_AUTH_KEY", authKeySecret, past, "")
	gh.SetSecret(ghtest.RepoScope("octo", "app"), "SORACOM_AUTH_KEY_ID", authKeyID, past, "")
	return s, gh, runOpts{inputs: in, env: map[string]string{"GITHUB_API_URL": gh.URL, "GITHUB_REPOSITORY": "octo/app"}}
}

// secretsOf lists every secret the run could have printed: the inputs', the token, each
// AuthKey's secret and each encrypted value sent.
func secretsOf(s *soracomtest.Server, gh *ghtest.Server) []string {
	out := append([]string{githubToken}, inputSecrets...)
	for _, k := range s.UserAuthKeys(soracomtest.DefaultUserName) {
		out = append(out, k.Secret)
	}
	for _, r := range gh.Requests() {
		if _, v, ok := strings.Cut(string(r.Body), `"encrypted_value":"`); ok {
			v, _, _ = strings.Cut(v, `"`)
			out = append(out, v)
		}
	}
	return out
}

func TestTheAuthKeyItselfIsRotatedAndWrittenToTheSecrets(t *testing.T) {
	s, gh, o := authKeyWorld(t)
	r := runAction(t, o)
	mustSucceed(t, r)
	keys := s.UserAuthKeys(soracomtest.DefaultUserName)
	if len(keys) != 1 || keys[0].ID == authKeyID {
		t.Fatalf("AuthKeys %v, want only a new one", keys)
	}
	key, _ := gh.Secret(ghtest.RepoScope("octo", "app"), "SORACOM_AUTH_KEY")
	id, _ := gh.Secret(ghtest.RepoScope("octo", "app"), "SORACOM_AUTH_KEY_ID")
	if id.Value != keys[0].ID || key.Value != keys[0].Secret {
		t.Errorf("the secrets do not hold the new AuthKey %s", keys[0].ID)
	}
	checkOutputs(t, r, map[string]string{"auth-key-rotated": "true", "auth-key-id": keys[0].ID})
	if r.outputs["auth-key-next-rotation"] == "" {
		t.Error("no auth-key-next-rotation output")
	}
	assertNoLeak(t, r, secretsOf(s, gh))
	if n := s.LiveSessions(); n != 0 {
		t.Errorf("%d SORACOM tokens left valid", n)
	}
}

// A write that fails after the key's secret was written: the old values are written
// back, the new AuthKey deleted, and the run exits 1 saying nothing changed.
func TestAFailedSecretWriteLeavesTheOldAuthKeyWorking(t *testing.T) {
	s, gh, o := authKeyWorld(t)
	gh.Inject("PUT", ghtest.RepoScope("octo", "app")+"/SORACOM_AUTH_KEY_ID", 1, ghtest.Fault{Status: http.StatusUnprocessableEntity, Message: "no"})
	r := runAction(t, o)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	checkContains(t, "the error", oneError(t, r), "old values were written back", "was deleted")
	keys := s.UserAuthKeys(soracomtest.DefaultUserName)
	key, _ := gh.Secret(ghtest.RepoScope("octo", "app"), "SORACOM_AUTH_KEY")
	if len(keys) != 1 || keys[0].ID != authKeyID || key.Value != authKeySecret {
		t.Errorf("AuthKeys %v, key secret written back: %v; want the old AuthKey only, in the secrets", keys, key.Value == authKeySecret)
	}
	checkOutputs(t, r, map[string]string{"auth-key-rotated": "false", "auth-key-id": authKeyID})
	assertNoLeak(t, r, secretsOf(s, gh))
}

// SIGTERM to the built binary while the write of the key's secret is in flight, the
// request landing only after the action gave up and wrote the old value back: the run
// ends within the runner's grace period with both AuthKeys kept, says the secrets may
// be split, and the fix it names makes them one working AuthKey again.
func TestSIGTERMDuringTheAuthKeyWriteNeverLocksTheWorkflowOut(t *testing.T) {
	s, gh, o := authKeyWorld(t)
	sig := &signaller{}
	wire := tripwire.New(t, gh.URL, tripwire.Late, tripwire.Request(http.MethodPut, "/repos/octo/app/actions/secrets/SORACOM_AUTH_KEY"), sig.fire)
	o.env["GITHUB_API_URL"] = wire.URL
	o.start = sig.attach
	r := runAction(t, o)
	ended := time.Now()
	wire.Release()
	if !wire.Wait(15 * time.Second) {
		t.Fatal("the write to cut never came")
	}
	assertNoLeak(t, r, secretsOf(s, gh))
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	if took := sig.since(ended); took > runnerGrace {
		t.Errorf("the run ended %s after SIGTERM; the runner kills it after %s", took, runnerGrace)
	}
	msg := oneError(t, r)
	checkContains(t, "the error", msg, "cancelled", "may still land after the write-back", "both AuthKeys are kept", "If it cannot authenticate")
	keys := s.UserAuthKeys(soracomtest.DefaultUserName)
	if len(keys) != 2 {
		t.Fatalf("AuthKeys %v, want both kept", keys)
	}
	// The write landed after the write-back: the key's secret is the new one, the id the
	// old one. The fix the error names for a run that cannot authenticate sets the id.
	_, fix, _ := strings.Cut(msg, "If it cannot authenticate")
	_, after, ok := strings.Cut(fix, "gh secret set SORACOM_AUTH_KEY_ID --body ")
	id, _, _ := strings.Cut(after, " ")
	key, _ := gh.Secret(ghtest.RepoScope("octo", "app"), "SORACOM_AUTH_KEY")
	for _, k := range keys {
		if ok && k.ID == id && k.Secret == key.Value {
			return
		}
	}
	t.Errorf("after the fix the error names (id %q), the secrets do not form a working AuthKey", id)
}
