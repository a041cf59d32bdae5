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
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/ghtest"
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
