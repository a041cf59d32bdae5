package soracom_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracom"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

func setIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("set-%02d", i)
	}
	return ids
}

func TestStoreAllWritesInParallelAndReportsInOrder(t *testing.T) {
	for _, limit := range []int{1, 4, 16} {
		t.Run(fmt.Sprintf("max-parallel %d", limit), func(t *testing.T) {
			s := emulator(t, soracomtest.WithLatency(5*time.Millisecond))
			ids := setIDs(24)
			var want []string
			for i, id := range ids {
				op := "created"
				if i < 20 {
					seed(s, id)
					op = "updated"
				}
				want = append(want, id+" "+op)
			}
			sess := login(t, s, nil, soracom.WithParallel(limit))
			var reported []string
			stored, err := sess.StoreAll(context.Background(), ids, content, soracom.Update, func(st soracom.Stored, err error) {
				reported = append(reported, st.ID+" "+string(st.Operation))
			})
			if err != nil {
				t.Fatal(err)
			}
			checkInputOrder(t, stored, reported, want)
			if m := s.MostInFlight(); m > limit || (limit > 1 && m < 2) {
				t.Errorf("%d requests in flight at most, want several and at most %d", m, limit)
			}
		})
	}
}

func checkInputOrder(t *testing.T, stored []soracom.Stored, reported, want []string) {
	t.Helper()
	var got []string
	for _, st := range stored {
		got = append(got, st.ID+" "+string(st.Operation))
	}
	if strings.Join(got, ",") != strings.Join(want, ",") || strings.Join(reported, ",") != strings.Join(want, ",") {
		t.Errorf("results %v, reported %v; want input order %v", got, reported, want)
	}
}

// After a failure no further write starts; the writes in flight finish and are
// reported, and the error names every set that failed.
func TestStoreAllStopsStartingAfterAFailure(t *testing.T) {
	s := emulator(t, soracomtest.WithLatency(20*time.Millisecond))
	ids := setIDs(12)
	for _, id := range ids {
		seed(s, id)
	}
	s.Deny(soracomtest.PermUpdateCredential)
	sess := login(t, s, nil, soracom.WithParallel(3))
	stored, err := sess.StoreAll(context.Background(), ids, content, soracom.Update, nil)
	var se *soracom.StoreError
	if !asStoreError(err, &se) || len(stored) != 0 || len(se.Failed) == 0 || len(se.Failed) > 3 || se.Failed[0].ID != "set-00" {
		t.Fatalf("stored %v, err %v; want the first sets in flight failed and nothing stored", stored, err)
	}
	if n := s.CountRequests("PUT", "/v1/credentials/"); n > 3 {
		t.Errorf("%d updates sent after the first failure, want at most the 3 in flight", n)
	}
}

func asStoreError(err error, target **soracom.StoreError) bool {
	se, ok := err.(*soracom.StoreError) //nolint:errorlint // StoreAll returns it unwrapped
	*target = se
	return ok
}

// A budget of 5 updates per window (one second here, a minute at SORACOM) and 12 sets
// to write: the client waits for the refresh when the budget runs out, and no request
// meets a 429.
func TestStoreAllWaitsForTheRateLimitBeforeA429(t *testing.T) {
	s := emulator(t, soracomtest.WithRateLimit(5), soracomtest.WithRateLimitWindow(time.Second), soracomtest.WithLatency(5*time.Millisecond))
	ids := setIDs(12)
	for _, id := range ids {
		seed(s, id)
	}
	var mu sync.Mutex
	var waits []string
	notify := soracom.WithPaceNotify(func(op string, remaining, limit int, wait time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, fmt.Sprintf("%s %d/%d", op, remaining, limit))
	})
	sess := login(t, s, nil, soracom.WithParallel(4), notify)
	start := time.Now()
	if _, err := sess.StoreAll(context.Background(), ids, content, soracom.Update, nil); err != nil {
		t.Fatal(err)
	}
	if n := s.RateLimited(); n != 0 {
		t.Errorf("%d requests met the rate limit, want none", n)
	}
	if took := time.Since(start); took < time.Second {
		t.Errorf("12 updates on a budget of 5 a second took %s: the client cannot have waited for a refresh", took)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(waits) == 0 || !strings.HasPrefix(waits[0], "updateCredential ") {
		t.Errorf("waits announced: %v; want the updates' wait", waits)
	}
}

// With max-parallel 16 and a budget below or just above it, no request meets a 429:
// the first update goes alone and learns the budget, later ones wait for the refresh
// as soon as Remaining reaches the number in flight, and a refresh lets out only what
// the budget holds, the calls waiting longest first.
func TestStoreAllAtMaxParallel16StaysWithinATightBudget(t *testing.T) {
	for _, budget := range []int{8, 18} {
		t.Run(fmt.Sprintf("%d a window", budget), func(t *testing.T) {
			s := emulator(t, soracomtest.WithRateLimit(budget), soracomtest.WithRateLimitWindow(time.Second), soracomtest.WithLatency(5*time.Millisecond))
			ids := setIDs(24)
			for _, id := range ids {
				seed(s, id)
			}
			var waits atomic.Int32
			notify := soracom.WithPaceNotify(func(string, int, int, time.Duration) { waits.Add(1) })
			r := fastRetry()
			r.Deadline = 20 * time.Second // three windows of a second, whatever the machine's load
			sess := login(t, s, nil, soracom.WithParallel(16), soracom.WithRetry(r), notify)
			stored, err := sess.StoreAll(context.Background(), ids, content, soracom.Update, nil)
			if err != nil || len(stored) != len(ids) {
				t.Fatalf("stored %d, %v", len(stored), err)
			}
			if n := s.RateLimited(); n != 0 {
				t.Errorf("%d requests met the rate limit, want none", n)
			}
			if waits.Load() == 0 {
				t.Error("no wait for the refresh was announced")
			}
		})
	}
}

// Without the rate-limit headers (a proxy may strip them) nothing is known: after the
// first call's answer the writes go max-parallel at a time, unpaced.
func TestStoreAllWithoutRateLimitHeadersIsNotSlowedDown(t *testing.T) {
	s := emulator(t, soracomtest.WithRateLimit(0), soracomtest.WithLatency(10*time.Millisecond))
	ids := setIDs(12)
	for _, id := range ids {
		seed(s, id)
	}
	sess := login(t, s, nil, soracom.WithParallel(4))
	if _, err := sess.StoreAll(context.Background(), ids, content, soracom.Update, nil); err != nil {
		t.Fatal(err)
	}
	if m := s.MostInFlight(); m < 3 || m > 4 {
		t.Errorf("%d requests in flight at most, want 4 (at least 3)", m)
	}
}

// Rate-limit headers are the server's word: a refresh said to be hours away is waited
// for no longer than the retry policy's MaxServerWait.
func TestPacingWaitIsBounded(t *testing.T) {
	s := emulator(t)
	seed(s, "set-1")
	hours := soracomtest.Fault{AfterHandling: true, Status: 200, Header: map[string][]string{
		"Content-Type":                               {"application/json"},
		"X-Soracom-Ratelimit-Limit":                  {"1"},
		"X-Soracom-Ratelimit-Remaining":              {"0"},
		"X-Soracom-Ratelimit-Seconds-Before-Refresh": {"36000"},
	}, Body: `[]`}
	s.Inject("GET /v1/credentials", 1, hours)
	r := fastRetry()
	r.MaxServerWait = 300 * time.Millisecond
	sess := login(t, s, nil, soracom.WithRetry(r))
	if _, err := sess.ListCredentials(context.Background()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := sess.ListCredentials(context.Background()); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 250*time.Millisecond || took > 3*time.Second {
		t.Errorf("the second list took %s; want a wait of about MaxServerWait (300 ms), not the hours the header named", took)
	}
}

// A call cancelled while it waits for the budget was never sent: a write is not in
// doubt.
func TestCancelledWhileWaitingForTheBudgetIsNotInDoubt(t *testing.T) {
	s := emulator(t, soracomtest.WithRateLimit(1), soracomtest.WithRateLimitWindow(time.Minute))
	seed(s, "set-1")
	sess := login(t, s, nil)
	if _, err := sess.StoreAll(context.Background(), []string{"set-1"}, content, soracom.Update, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := sess.StoreAll(ctx, []string{"set-1"}, content, soracom.Update, nil)
	if err == nil || soracom.WriteInDoubt(err) {
		t.Errorf("err %v, in doubt %v; want a failure that is not in doubt", err, soracom.WriteInDoubt(err))
	}
	if n := s.CountRequests("PUT", "/v1/credentials/"); n != 1 {
		t.Errorf("%d updates sent, want only the first", n)
	}
}

// A job cancelled before a write's turn came says the write was not sent, not that it
// got no answer: nothing about that set is in doubt.
func TestAWriteCancelledBeforeItsTurnSaysItWasNotSent(t *testing.T) {
	s := emulator(t)
	seed(s, "set-1")
	sess := login(t, s, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := sess.StoreAll(ctx, []string{"set-1", "set-2"}, content, soracom.Update, nil)
	if err == nil || !strings.Contains(err.Error(), "PUT /v1/credentials/set-1) was not sent") ||
		strings.Contains(err.Error(), "got no answer") || soracom.WriteInDoubt(err) {
		t.Errorf("err %v (in doubt %v); want set-1 not sent, not in doubt", err, soracom.WriteInDoubt(err))
	}
	if n := s.CountRequests("PUT", "/v1/credentials/"); n != 0 {
		t.Errorf("%d updates sent, want none", n)
	}
}
