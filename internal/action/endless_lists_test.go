package action_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/action"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awstest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/ghtest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracom"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// endlessGitHub stands in front of the fake GitHub and answers every request whose path
// ends with suffix (a list) itself, with page: whatever page is asked for, the same
// full page of entries that are not the ones wanted, and a total that never ends.
func endlessGitHub(t *testing.T, target, suffix, page string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	forward := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, suffix) {
			forward.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(page))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// fullPage is a list answer of 100 entries made by entry, with a total of a million.
func fullPage(field string, entry func(i int) any) string {
	entries := make([]any, 100)
	for i := range entries {
		entries[i] = entry(i)
	}
	b, _ := json.Marshal(map[string]any{"total_count": 1_000_000, field: entries})
	return string(b)
}

// Bounded listing, for the lists an AuthKey rotation reads: GitHub's list of a scope's
// secrets and an organization secret's selected repositories that never end, and a
// SORACOM list of AuthKeys longer than the action reads. Each ends the run with an error
// naming the service and the call, before any AuthKey is generated (or with the new one
// deleted), the secrets untouched and the SORACOM token revoked.
func TestEveryListOfAnAuthKeyRotationIsBounded(t *testing.T) {
	secretsPage := fullPage("secrets", func(i int) any {
		return map[string]string{"name": fmt.Sprintf("OTHER_%03d", i), "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z", "visibility": "all"}
	})
	reposPage := fullPage("repositories", func(i int) any { return map[string]any{"id": 100 + i, "name": fmt.Sprintf("repo-%03d", i)} })
	tests := []struct {
		name, scopeInput, scopePath string
		setup                       func(w *akWorld) (ghURL string)
		says                        string
	}{
		{"GitHub's list of a repository's secrets never ends", "repository", ghtest.RepoScope("octo", "app"),
			func(w *akWorld) string { return endlessGitHub(t, w.gh.URL, "/actions/secrets", secretsPage) },
			"GitHub actions/list-repo-secrets kept answering more pages (more than 10 pages)"},
		{"GitHub's list of an organization's secrets never ends", "organization", ghtest.OrgScope("octo"),
			func(w *akWorld) string { return endlessGitHub(t, w.gh.URL, "/actions/secrets", secretsPage) },
			"GitHub actions/list-org-secrets kept answering more pages (more than 10 pages)"},
		{"a secret's selected repositories never end", "organization", ghtest.OrgScope("octo"),
			func(w *akWorld) string { return endlessGitHub(t, w.gh.URL, "/repositories", reposPage) },
			"GitHub actions/list-selected-repos-for-org-secret kept answering more pages"},
		{"SORACOM's list of AuthKeys is longer than the action reads", "repository", ghtest.RepoScope("octo", "app"),
			func(w *akWorld) string {
				many := "[" + strings.Repeat(`{"authKeyId":"keyId-other","createDateTime":1722480500},`, 100) + `{"authKeyId":"keyId-last","createDateTime":1722480500}]`
				w.soracom.Inject("GET /v1/operators/*/users/*/auth_keys", soracomtest.Always, soracomtest.Fault{Status: http.StatusOK,
					Header: http.Header{"Content-Type": {"application/json"}}, Body: many})
				return w.gh.URL
			},
			"a list of at most 100 AuthKeys"},
		{"SORACOM's list of AuthKeys names the same next key every page", "repository", ghtest.RepoScope("octo", "app"),
			func(w *akWorld) string {
				w.soracom.Inject("GET /v1/operators/*/users/*/auth_keys", soracomtest.Always, soracomtest.Fault{Status: http.StatusOK,
					Header: http.Header{"Content-Type": {"application/json"}, "X-Soracom-Next-Key": {"keyId-other"}},
					Body:   `[{"authKeyId":"keyId-other","createDateTime":1722480500}]`})
				return w.gh.URL
			},
			"SORACOM listUserAuthKeys (GET /v1/operators/{operator_id}/users/{user_name}/auth_keys) kept answering more pages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newAKWorld(t, tt.scopeInput, tt.scopePath)
			ghURL := tt.setup(w)
			files := prepareRun(t, w.inputs, map[string]string{"GITHUB_API_URL": ghURL, "GITHUB_REPOSITORY": repository})
			o := runAKFiles(t, w, files)
			msg := errorLine(t, o)
			if o.code != 1 || !strings.Contains(msg, tt.says) {
				t.Errorf("exit %d, error %q; want 1 and %q", o.code, msg, tt.says)
			}
			if keys := w.soracom.UserAuthKeys(soracomtest.DefaultUserName); len(keys) != 1 || keys[0].ID != akOldID {
				t.Errorf("AuthKeys %+v: want only the old one", keys)
			}
			if id, _ := w.gh.Secret(tt.scopePath, "SORACOM_AUTH_KEY_ID"); id.Value != akOldID {
				t.Errorf("the secrets changed: %q", id.Value)
			}
			if n := w.soracom.LiveSessions(); n != 0 {
				t.Errorf("%d SORACOM tokens left alive", n)
			}
		})
	}
}

// runAKFiles runs the AuthKey world with files prepared and checks it leaked nothing.
func runAKFiles(t *testing.T, w *akWorld, files runFiles) outcome {
	t.Helper()
	var stdout bytes.Buffer
	code := action.Run(context.Background(), action.Env{Getenv: os.Getenv, Stdout: &stdout, Retry: quickRetry(), Grace: time.Second})
	o := files.result(code, stdout.String())
	w.checkNoLeak(t, o)
	return o
}

// A SORACOM list of credential sets longer than the action reads ends a rotation and a
// registration before anything is changed, naming SORACOM and the call, with the token
// revoked (the audit's case is in TestEveryListingIsBounded).
func TestASORACOMListLongerThanTheActionReadsChangesNothing(t *testing.T) {
	tooLong := soracomtest.Fault{Status: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: "[" + strings.Repeat(`{"credentialsId":"x","type":"psk"},`, 10000) + `{"credentialsId":"y","type":"psk"}]`}
	const says = "SORACOM listCredentials answered more than 10000 entries"
	t.Run("rotation", func(t *testing.T) {
		w := newWorld(t)
		w.soracom.Inject("GET /v1/credentials", soracomtest.Always, tooLong)
		o := w.run(t, 5*time.Second)
		if msg := errorLine(t, o); o.code != 1 || !strings.Contains(msg, says) {
			t.Errorf("exit %d, error %q", o.code, msg)
		}
		if len(w.acct.Keys(user)) != 1 || w.soracom.LiveSessions() != 0 {
			t.Errorf("keys %+v, live sessions %d: want nothing changed and the token revoked", w.acct.Keys(user), w.soracom.LiveSessions())
		}
	})
	t.Run("registration", func(t *testing.T) {
		s := soracomtest.Start(t)
		s.AddAuthKey(authKeyID, authKey)
		s.Inject("GET /v1/credentials", soracomtest.Always, tooLong)
		o, _ := registerRun(t, s, nil)
		if msg := errorLine(t, o); o.code != 1 || !strings.Contains(msg, says) {
			t.Errorf("exit %d, error %q", o.code, msg)
		}
		if _, ok := s.CredentialSet("set-1"); ok || s.LiveSessions() != 0 {
			t.Errorf("set written %v, live sessions %d: want nothing changed and the token revoked", ok, s.LiveSessions())
		}
	})
}

// The spec calls the credential set list unpaged; should SORACOM page it all the same
// (x-soracom-next-key, as it pages groups), a rotation reads every page: a set that
// holds the old key on the second page is moved to the new key like the others, and
// the old key is retired only then.
func TestRotationReadsEveryPageOfTheSetList(t *testing.T) {
	w := newWorld(t, soracomtest.WithCredentialPageSize(2))
	// Sorted by id: funnel-aws, harvest-aws | other-aws, zz-late-aws.
	w.soracom.PutCredentialSet(soracomtest.CredentialSet{ID: "zz-late-aws", Type: "aws-credentials",
		Credentials: map[string]any{"accessKeyId": w.old.ID, "secretAccessKey": "secret-of-old"}})
	o := w.run(t, 5*time.Second)
	if o.code != 0 {
		t.Fatalf("exit %d\n%s", o.code, o.stdout)
	}
	names := map[string]string{w.old.ID: "old"}
	keys, funnel, harvest := w.endState(t, names)
	late := names[w.setKey(t, "zz-late-aws")]
	if keys != "old:Inactive new:Active" || funnel != "new" || harvest != "new" || late != "new" {
		t.Errorf("keys %s, funnel-aws %s, harvest-aws %s, zz-late-aws %s: want the old key retired and every set on the new one", keys, funnel, harvest, late)
	}
	if n := w.soracom.CountRequests(http.MethodGet, "/v1/credentials"); n < 2 {
		t.Errorf("%d list calls: the second page was not read", n)
	}
}

// A set list that never ends (the same next key again, a new one every page) stops the
// run with an error naming SORACOM and the call, before anything is changed: the
// rotation keeps the old key and creates none, the audit reports nothing as if the
// list were whole, a registration that must know which sets exist writes nothing; the
// SORACOM token is revoked.
func TestAnEndlessSetListChangesNothing(t *testing.T) {
	page := func(next string) soracomtest.Fault {
		return soracomtest.Fault{Status: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}, "X-Soracom-Next-Key": {next}},
			Body: `[{"credentialsId":"funnel-aws","type":"aws-credentials","credentials":{"accessKeyId":"AKIAIOSFODNN7EXAMPLE"}}]`}
	}
	endless := map[string]struct {
		inject func(s *soracomtest.Server)
		says   string
	}{
		"the same next key every page": {func(s *soracomtest.Server) { s.Inject("GET /v1/credentials", soracomtest.Always, page("k")) },
			"named a next page it had named before"},
		"a new next key every page": {func(s *soracomtest.Server) {
			for i := range soracom.MaxSetPages + 1 {
				s.Inject("GET /v1/credentials", 1, page(fmt.Sprintf("k%d", i)))
			}
		}, fmt.Sprintf("more than %d pages", soracom.MaxSetPages)},
	}
	for name, tt := range endless {
		t.Run("rotation: "+name, func(t *testing.T) { checkEndlessSetsRotation(t, tt.inject, tt.says) })
		t.Run("audit: "+name, func(t *testing.T) { checkEndlessSetsAudit(t, tt.inject) })
		t.Run("registration (if-exists skip): "+name, func(t *testing.T) { checkEndlessSetsRegistration(t, tt.inject) })
	}
}

// endlessSets is what the error of an endless set list says.
const endlessSets = "SORACOM listCredentials (GET /v1/credentials) kept answering more pages"

// checkEndlessSetsRotation rotates against a set list that inject makes endless: the
// error names the call and says says; the old key stays alone and active.
func checkEndlessSetsRotation(t *testing.T, inject func(*soracomtest.Server), says string) {
	t.Helper()
	w := newWorld(t)
	inject(w.soracom)
	o := w.run(t, 5*time.Second)
	if msg := errorLine(t, o); o.code != 1 || !strings.Contains(msg, endlessSets) || !strings.Contains(msg, says) {
		t.Errorf("exit %d, error %q", o.code, msg)
	}
	if keys := w.acct.Keys(user); len(keys) != 1 || keys[0].Status != awstest.Active || w.soracom.LiveSessions() != 0 {
		t.Errorf("keys %+v, live sessions %d: want the old key alone and active, the token revoked", keys, w.soracom.LiveSessions())
	}
}

// checkEndlessSetsAudit audits against an endless set list: the run fails naming it.
func checkEndlessSetsAudit(t *testing.T, inject func(*soracomtest.Server)) {
	t.Helper()
	w := newAuditWorld(t)
	inject(w.soracom)
	o := w.run(t)
	if msg := errorLine(t, o.outcome); o.code != 1 || !strings.Contains(msg, endlessSets) || w.soracom.LiveSessions() != 0 {
		t.Errorf("exit %d, error %q, live sessions %d", o.code, msg, w.soracom.LiveSessions())
	}
}

// checkEndlessSetsRegistration registers (if-exists skip, so the list decides) against
// an endless set list: nothing is written.
func checkEndlessSetsRegistration(t *testing.T, inject func(*soracomtest.Server)) {
	t.Helper()
	s := soracomtest.Start(t)
	s.AddAuthKey(authKeyID, authKey)
	inject(s)
	o, _ := registerRun(t, s, map[string]string{inputs.IfExists: "skip"})
	if msg := errorLine(t, o); o.code != 1 || !strings.Contains(msg, endlessSets) {
		t.Errorf("exit %d, error %q", o.code, msg)
	}
	if _, ok := s.CredentialSet("set-1"); ok || s.LiveSessions() != 0 {
		t.Errorf("set written %v, live sessions %d: want nothing changed and the token revoked", ok, s.LiveSessions())
	}
}
