package ghsecrets_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/ghsecrets"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/ghtest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/retry"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
)

const token = "github_pat_0123456789abcdef"

type masks struct {
	mu   sync.Mutex
	vals []string
}

func (m *masks) AddMask(v string) { m.mu.Lock(); m.vals = append(m.vals, v); m.mu.Unlock() }

func quick() retry.Policy {
	p := retry.Default()
	p.InitialInterval, p.MaxInterval, p.AttemptTimeout, p.Deadline, p.MaxServerWait = time.Millisecond, 5*time.Millisecond, time.Second, 5*time.Second, 50*time.Millisecond
	return p
}

func client(url string, m secret.Masker) *ghsecrets.Client {
	if m == nil {
		m = &masks{}
	}
	return ghsecrets.New(url, secret.New(token), m, ghsecrets.WithRetry(quick()))
}

var seeded = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// TestEachScopeReadsAndWritesThroughSealedBoxes writes a secret in each scope; the fake
// opens the sealed box with its private key, so the value it holds is what was sealed.
func TestEachScopeReadsAndWritesThroughSealedBoxes(t *testing.T) {
	scopes := []struct {
		input, path string
	}{
		{"repository", ghtest.RepoScope("octo", "app")},
		{"environment:prod eu", ghtest.EnvScope("octo", "app", "prod%20eu")},
		{"organization", ghtest.OrgScope("octo")},
	}
	for _, sc := range scopes {
		t.Run(sc.input, func(t *testing.T) {
			gh := ghtest.Start(t)
			gh.AddToken(token, ghtest.Access{Read: true, Write: true})
			gh.AddRepos("octo", ghtest.Repo{ID: 7, Name: "app"}, ghtest.Repo{ID: 9, Name: "lib"})
			gh.SetSecret(sc.path, "SORACOM_AUTH_KEY", "old", seeded, "selected", 7, 9)
			scope, err := ghsecrets.ParseScope(sc.input, "octo/app")
			if err != nil {
				t.Fatal(err)
			}
			m := &masks{}
			checkWrite(t, client(gh.URL, m), gh, scope, sc.path, m)
		})
	}
}

func checkWrite(t *testing.T, c *ghsecrets.Client, gh *ghtest.Server, scope ghsecrets.Scope, path string, m *masks) {
	t.Helper()
	ctx := context.Background()
	key, err := c.PublicKey(ctx, scope)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := c.Secret(ctx, scope, "SORACOM_AUTH_KEY")
	if err != nil || !meta.UpdatedAt.Equal(seeded) {
		t.Fatalf("metadata %+v, %v", meta, err)
	}
	access, err := c.Access(ctx, scope, meta)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Put(ctx, scope, "SORACOM_AUTH_KEY", secret.New("secret-new"), key, access); err != nil {
		t.Fatal(err)
	}
	got, _ := gh.Secret(path, "SORACOM_AUTH_KEY")
	if got.Value != "secret-new" {
		t.Errorf("stored %q, want the sealed value", got.Value)
	}
	if scope.Kind == ghsecrets.Organization && (got.Visibility != "selected" || len(got.Selected) != 2) {
		t.Errorf("organization secret now %s %v, want selected [7 9] kept", got.Visibility, got.Selected)
	}
	reqs := gh.Requests()
	put := reqs[len(reqs)-1]
	if len(m.vals) == 0 || !strings.Contains(string(put.Body), m.vals[len(m.vals)-1]) {
		t.Error("the encrypted value was not masked before it was sent")
	}
	for _, r := range reqs {
		if r.Authorization != "Bearer "+token {
			t.Errorf("%s %s sent %q", r.Method, r.Path, r.Authorization)
		}
	}
}

func TestATokenThatCannotReadOrWriteIsRefused(t *testing.T) {
	gh := ghtest.Start(t)
	gh.AddToken("read-only", ghtest.Access{Read: true})
	gh.AddToken("job-token", ghtest.Access{})
	gh.SetSecret(ghtest.RepoScope("octo", "app"), "K", "v", seeded, "")
	scope, _ := ghsecrets.ParseScope("repository", "octo/app")
	ctx := context.Background()
	for _, tc := range []struct{ token string }{{"unknown"}, {"job-token"}} {
		_, err := ghsecrets.New(gh.URL, secret.New(tc.token), &masks{}, ghsecrets.WithRetry(quick())).PublicKey(ctx, scope)
		var apiErr *ghsecrets.APIError
		if !errors.As(err, &apiErr) || !apiErr.Refused() {
			t.Errorf("token %s: %v, want a refusal", tc.token, err)
		}
	}
	c := ghsecrets.New(gh.URL, secret.New("read-only"), &masks{}, ghsecrets.WithRetry(quick()))
	key, err := c.PublicKey(ctx, scope)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Put(ctx, scope, "K", secret.New("x"), key, nil)
	var apiErr *ghsecrets.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden || apiErr.InDoubt() {
		t.Errorf("write with a read-only token: %v, want a 403 that is not in doubt", err)
	}
	if _, err := c.Secret(ctx, scope, "MISSING"); !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound {
		t.Errorf("missing secret: %v, want 404", err)
	}
}

func TestRateLimitsAreWaitedOut(t *testing.T) {
	for _, f := range []ghtest.Fault{
		{Status: http.StatusForbidden, Message: "API rate limit exceeded", Header: http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"1"}}},
		{Status: http.StatusForbidden, Message: "You have exceeded a secondary rate limit", Header: http.Header{"Retry-After": {"0"}}},
		{Status: http.StatusTooManyRequests, Message: "slow down"},
		{Status: http.StatusBadGateway, Message: "bad gateway"},
	} {
		gh := ghtest.Start(t)
		gh.AddToken(token, ghtest.Access{Read: true, Write: true})
		scope, _ := ghsecrets.ParseScope("repository", "octo/app")
		gh.Inject("GET", ghtest.RepoScope("octo", "app")+"/public-key", 2, f)
		if _, err := client(gh.URL, nil).PublicKey(context.Background(), scope); err != nil {
			t.Errorf("%d %s: %v, want a retry past it", f.Status, f.Message, err)
		}
	}
}

func TestAFailedWriteSaysWhetherItMayHaveLanded(t *testing.T) {
	gh := ghtest.Start(t)
	gh.AddToken(token, ghtest.Access{Read: true, Write: true})
	scope, _ := ghsecrets.ParseScope("repository", "octo/app")
	c := client(gh.URL, nil)
	key, _ := c.PublicKey(context.Background(), scope)
	gh.Inject("PUT", ghtest.RepoScope("octo", "app"), int(quick().MaxAttempts), ghtest.Fault{Status: http.StatusBadGateway, AfterHandling: true})
	err := c.Put(context.Background(), scope, "K", secret.New("v"), key, nil)
	if !ghsecrets.WriteInDoubt(err) {
		t.Errorf("502 after the write: %v, want in doubt", err)
	}
	gh.Inject("PUT", ghtest.RepoScope("octo", "app"), 1, ghtest.Fault{Status: http.StatusUnprocessableEntity, Message: "nope"})
	err = c.Put(context.Background(), scope, "K", secret.New("v"), key, nil)
	if err == nil || ghsecrets.WriteInDoubt(err) {
		t.Errorf("422: %v, want a refusal not in doubt", err)
	}
}

func TestTheTokenNeverFollowsARedirect(t *testing.T) {
	var elsewhere int
	thief := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere++ }))
	defer thief.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, thief.URL+"/steal?x=1", http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	scope, _ := ghsecrets.ParseScope("repository", "octo/app")
	_, err := client(redirector.URL, nil).PublicKey(context.Background(), scope)
	if err == nil || !strings.Contains(err.Error(), "not followed") || strings.Contains(err.Error(), "steal") || elsewhere != 0 {
		t.Errorf("err = %v, requests elsewhere %d; want a refused redirect naming only the origin", err, elsewhere)
	}
}

func TestParseScope(t *testing.T) {
	tests := []struct{ in, repo, want, err string }{
		{"repository", "octo/app", "repository octo/app", ""},
		{"environment:production", "octo/app", "environment production of octo/app", ""},
		{"organization", "octo/app", "organization octo", ""},
		{"org", "octo/app", "", "not a scope"},
		{"environment:", "octo/app", "", "names no environment"},
		{"repository", "", "", "GITHUB_REPOSITORY"},
		{"repository", "../x", "", "GITHUB_REPOSITORY"},
	}
	for _, tt := range tests {
		s, err := ghsecrets.ParseScope(tt.in, tt.repo)
		switch {
		case tt.err == "" && (err != nil || s.String() != tt.want):
			t.Errorf("ParseScope(%q, %q) = %v, %v; want %s", tt.in, tt.repo, s, err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("ParseScope(%q, %q) error %v, want one about %s", tt.in, tt.repo, err, tt.err)
		}
	}
}
