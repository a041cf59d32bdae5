package soracomtest_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// limitHeaders reads the rate-limit headers of an answer.
func limitHeaders(t *testing.T, r reply) (limit, remaining, refresh int) {
	t.Helper()
	read := func(name string) int {
		v := r.header.Get("X-Soracom-Ratelimit-" + name)
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("X-Soracom-Ratelimit-%s %q is not a number (status %d)", name, v, r.status)
		}
		return n
	}
	return read("Limit"), read("Remaining"), read("Seconds-Before-Refresh")
}

func TestRateLimitIsPerAPIPerMinute(t *testing.T) {
	s := soracomtest.Start(t, fixedClock(), soracomtest.WithRateLimit(3))
	sess := login(t, s)
	s.PutCredentialSet(soracomtest.CredentialSet{ID: "a", Type: "aws-credentials"})
	for i, wantRemaining := range []int{2, 1, 0} {
		r := mustDo(t, s, sess, "GET", "/v1/credentials", nil)
		limit, remaining, refresh := limitHeaders(t, r)
		if r.status != http.StatusOK || limit != 3 || remaining != wantRemaining || refresh != 60 {
			t.Errorf("request %d: %d, limit %d remaining %d refresh %d; want 200, 3, %d, 60", i+1, r.status, limit, remaining, refresh, wantRemaining)
		}
	}
	s.Advance(15 * time.Second)
	r := mustDo(t, s, sess, "GET", "/v1/credentials", nil)
	if _, remaining, refresh := limitHeaders(t, r); r.status != http.StatusTooManyRequests || remaining != 0 || refresh != 45 {
		t.Errorf("over the budget: %d, remaining %d, refresh %d; want 429, 0, 45", r.status, remaining, refresh)
	}
	if r.errorCode(t) == "" || s.RateLimited() != 1 {
		t.Errorf("RateLimited() = %d, want 1", s.RateLimited())
	}
	// Updates are another API, with a budget of their own; updates of different ids are
	// one API.
	for _, path := range []string{"/v1/credentials/a", "/v1/credentials/b"} {
		r := mustDo(t, s, sess, "PUT", path, awsBody("A", "S"))
		if r.status == http.StatusTooManyRequests {
			t.Errorf("PUT %s was limited by the list's budget", path)
		}
	}
	if _, remaining, _ := limitHeaders(t, mustDo(t, s, sess, "PUT", "/v1/credentials/c", awsBody("A", "S"))); remaining != 0 {
		t.Errorf("updates of three ids left %d of the budget, want 0: one API whatever the id", remaining)
	}
	s.Advance(45 * time.Second)
	if r := mustDo(t, s, sess, "GET", "/v1/credentials", nil); r.status != http.StatusOK {
		t.Errorf("after the refresh: %d, want 200", r.status)
	}
}

func TestRateLimitOfAuthIsPerCaller(t *testing.T) {
	s := soracomtest.Start(t, fixedClock(), soracomtest.WithRateLimit(2))
	login(t, s)
	login(t, s)
	r := mustDo(t, s, nil, "POST", "/v1/auth", map[string]any{"authKeyId": "keyId-test", "authKey": "secret-test"})
	if r.status != http.StatusTooManyRequests {
		t.Errorf("third auth within a minute: %d, want 429", r.status)
	}
	if s.LiveSessions() != 2 {
		t.Errorf("a limited auth opened a session: %d live", s.LiveSessions())
	}
}

func TestRateLimitOff(t *testing.T) {
	s := soracomtest.Start(t, soracomtest.WithRateLimit(0))
	sess := login(t, s)
	r := mustDo(t, s, sess, "GET", "/v1/credentials", nil)
	if v := r.header.Get("X-Soracom-Ratelimit-Limit"); v != "" || r.status != http.StatusOK {
		t.Errorf("without a limit: %d, limit header %q; want 200 and none", r.status, v)
	}
}

func TestEveryAnswerCarriesTheRateLimitHeaders(t *testing.T) {
	s := soracomtest.Start(t)
	sess := login(t, s)
	for _, req := range []struct{ method, path string }{
		{"GET", "/v1/credentials"}, {"GET", "/v1/groups"}, {"GET", "/v1/event_handlers"},
		{"PUT", "/v1/credentials/missing"}, {"GET", "/v1/nothing"}, {"POST", "/v1/auth/logout"},
	} {
		var body any
		if req.method == "PUT" {
			body = awsBody("A", "S")
		}
		r := mustDo(t, s, sess, req.method, req.path, body)
		if limit, _, _ := limitHeaders(t, r); limit != soracomtest.DefaultRateLimit {
			t.Errorf("%s %s: limit %d, want %d", req.method, req.path, limit, soracomtest.DefaultRateLimit)
		}
	}
}
