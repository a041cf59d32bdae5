package ghsecrets_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
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
	metas, err := c.Secrets(ctx, scope, []string{"SORACOM_AUTH_KEY"})
	meta := metas["SORACOM_AUTH_KEY"]
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
	if metas, err := c.Secrets(ctx, scope, []string{"MISSING", "K"}); err != nil || len(metas) != 1 || metas["K"].Name != "K" {
		t.Errorf("a missing secret beside one that exists: %v, %v; want K alone", metas, err)
	}
}

// The list of a scope's secrets carries the metadata of both secrets in one request
// while they are on its first page; further pages are read only while one is missing,
// and never more than ten.
func TestSecretsMetadataComesFromTheBoundedList(t *testing.T) {
	tests := []struct {
		name     string
		others   int    // secrets besides the two, named A000… (before) or Z000… (after)
		prefix   string // of the others
		requests int
		err      string
	}{
		{"both on the first page: one request", 3, "A", 1, ""},
		{"behind 150 others: two pages", 150, "A", 2, ""},
		{"150 others after them: one request", 150, "Z", 1, ""},
		{"behind 1,050 others: refused after ten pages", 1050, "A", 10, "more than 10 pages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gh := ghtest.Start(t)
			gh.AddToken(token, ghtest.Access{Read: true})
			path := ghtest.OrgScope("octo")
			for i := range tt.others {
				gh.SetSecret(path, fmt.Sprintf("%s%04d", tt.prefix, i), "v", seeded, "all")
			}
			gh.SetSecret(path, "SORACOM_AUTH_KEY", "k", seeded, "private")
			gh.SetSecret(path, "SORACOM_AUTH_KEY_ID", "i", seeded.Add(time.Hour), "selected", 7)
			scope, _ := ghsecrets.ParseScope("organization", "octo/app")
			got, err := client(gh.URL, nil).Secrets(context.Background(), scope, []string{"soracom_auth_key", "SORACOM_AUTH_KEY_ID"})
			if n := len(gh.Requests()); n != tt.requests {
				t.Errorf("%d requests, want %d", n, tt.requests)
			}
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("err %v, want one saying %q", err, tt.err)
				}
				return
			}
			key, id := got["soracom_auth_key"], got["SORACOM_AUTH_KEY_ID"]
			if err != nil || key.Visibility != "private" || !id.UpdatedAt.Equal(seeded.Add(time.Hour)) || id.Visibility != "selected" {
				t.Errorf("got %+v, %v", got, err)
			}
		})
	}
}

// A list entry for a wanted secret without a readable updated_at, or an organization
// secret with an unknown visibility, is refused: nothing could be confirmed with it.
func TestAnUnreadableListEntryIsRefused(t *testing.T) {
	for name, entry := range map[string]string{
		"no updated_at":      `{"name":"K","created_at":"2026-01-01T00:00:00Z"}`,
		"unknown visibility": `{"name":"K","updated_at":"2026-01-01T00:00:00Z","visibility":"public"}`,
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte(`{"total_count":1,"secrets":[` + entry + `]}`))
			}))
			defer srv.Close()
			scope, _ := ghsecrets.ParseScope("organization", "octo/app")
			if got, err := client(srv.URL, nil).Secrets(context.Background(), scope, []string{"K"}); err == nil {
				t.Errorf("got %+v, want an error", got)
			}
		})
	}
}

// A public key answer whose id is not one (it goes back to GitHub in every write) or
// whose key is not 32 bytes of base64 is refused, and nothing is encrypted with it.
func TestAForgedPublicKeyIsRefused(t *testing.T) {
	const key = "3q2+796tvu/erb7v3q2+796tvu/erb7v3q2+796tvu8="
	for name, answer := range map[string]string{
		"an id with a quote": `{"key_id":"1\",\"x\":\"","key":"` + key + `"}`,
		"an empty id":        `{"key_id":"","key":"` + key + `"}`,
		"a short key":        `{"key_id":"568250167242549743","key":"3q2+7w=="}`,
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte(answer))
			}))
			defer srv.Close()
			scope, _ := ghsecrets.ParseScope("repository", "octo/app")
			_, err := client(srv.URL, nil).PublicKey(context.Background(), scope)
			if err == nil || !strings.Contains(err.Error(), "nothing was encrypted with it") {
				t.Errorf("error %v, want the key refused", err)
			}
		})
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"key_id":"568250167242549743","key":"` + key + `"}`))
	}))
	defer srv.Close()
	scope, _ := ghsecrets.ParseScope("repository", "octo/app")
	if k, err := client(srv.URL, nil).PublicKey(context.Background(), scope); err != nil || k.ID != "568250167242549743" {
		t.Errorf("github.com's key: %+v, %v", k, err)
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

// The wait before retrying a rate-limited call is the one GitHub names: until
// x-ratelimit-reset for a primary limit, Retry-After, and a minute (capped) for a
// secondary limit that names none. A 403 that is no rate limit is not retried.
func TestRateLimitWaitsAreTheOnesGitHubNames(t *testing.T) {
	reset := time.Now().Add(time.Hour).Unix()
	tests := []struct {
		name  string
		fault ghtest.Fault
		want  time.Duration // the wait before the retry; 0: no retry
	}{
		{"primary limit: until x-ratelimit-reset", ghtest.Fault{Status: http.StatusForbidden, Message: "API rate limit exceeded",
			Header: http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {strconv.FormatInt(reset, 10)}}}, 40 * time.Millisecond},
		{"429 with Retry-After", ghtest.Fault{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"1"}}}, time.Second},
		{"secondary limit naming no wait: a minute, capped", ghtest.Fault{Status: http.StatusForbidden, Message: "You have exceeded a secondary rate limit"}, 1500 * time.Millisecond},
		{"403 that is no rate limit", ghtest.Fault{Status: http.StatusForbidden, Message: "Resource not accessible by integration"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gh := ghtest.Start(t)
			gh.AddToken(token, ghtest.Access{Read: true})
			gh.Inject("GET", ghtest.RepoScope("octo", "app")+"/public-key", 1, tt.fault)
			p := quick()
			p.MaxServerWait = 1500 * time.Millisecond
			var waits []time.Duration
			c := ghsecrets.New(gh.URL, secret.New(token), &masks{}, ghsecrets.WithRetry(p),
				ghsecrets.WithClock(func() time.Time { return time.Unix(reset, 0).Add(-40 * time.Millisecond) }),
				ghsecrets.WithRetryNotify(func(_ string, _ error, wait time.Duration) { waits = append(waits, wait) }))
			scope, _ := ghsecrets.ParseScope("repository", "octo/app")
			_, err := c.PublicKey(context.Background(), scope)
			switch {
			case tt.want == 0 && (err == nil || len(waits) != 0):
				t.Errorf("err %v, waits %v; want a refusal, not retried", err, waits)
			case tt.want != 0 && (err != nil || len(waits) != 1 || waits[0] != tt.want):
				t.Errorf("err %v, waits %v; want one retry after %s", err, waits, tt.want)
			}
		})
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

// An organization secret's selected repositories are read page by page, every one kept,
// so that writing it keeps them all.
func TestSelectedRepositoriesAreReadPageByPage(t *testing.T) {
	gh := ghtest.Start(t)
	gh.AddToken(token, ghtest.Access{Read: true})
	var ids []int64
	for i := range 150 {
		gh.AddRepos("octo", ghtest.Repo{ID: int64(1000 + i), Name: fmt.Sprintf("repo-%03d", i)})
		ids = append(ids, int64(1000+i))
	}
	gh.SetSecret(ghtest.OrgScope("octo"), "K", "v", seeded, "selected", ids...)
	scope, _ := ghsecrets.ParseScope("organization", "octo/app")
	access, err := client(gh.URL, nil).Access(context.Background(), scope, ghsecrets.Secret{Name: "K", Visibility: "selected"})
	if err != nil || len(access.SelectedRepositoryIDs) != 150 || access.SelectedRepositoryIDs[149] != 1149 || access.SelectedRepositoryNames[0] != "repo-000" {
		t.Fatalf("access %+v, %v; want the 150 repositories", access, err)
	}
	if n := len(gh.Requests()); n != 2 {
		t.Errorf("%d requests, want 2 pages", n)
	}
}
