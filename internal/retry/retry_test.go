package retry_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/retry"
)

func quick() retry.Policy {
	p := retry.Default()
	p.InitialInterval, p.MaxInterval, p.Deadline, p.MaxServerWait = time.Millisecond, time.Millisecond, 5*time.Second, 20*time.Millisecond
	return p
}

// TestClassify: what each answer does to the next attempt, the same for every client.
func TestClassify(t *testing.T) {
	answer := errors.New("the answer")
	tests := []struct {
		name      string
		a         retry.Answer
		wantWait  time.Duration // -1: final; 0: the backoff schedule
		ambiguous bool
	}{
		{"429 with a wait named", retry.Answer{Method: http.MethodPut, Status: 429, RateLimited: true, Wait: 7 * time.Millisecond}, 7 * time.Millisecond, false},
		{"429 naming no wait: RateLimitWait", retry.Answer{Method: http.MethodGet, Status: 429, RateLimited: true}, 20 * time.Millisecond, false},
		{"a 403 the service calls a rate limit", retry.Answer{Method: http.MethodGet, Status: 403, RateLimited: true, Wait: time.Millisecond}, time.Millisecond, false},
		{"500 on a GET", retry.Answer{Method: http.MethodGet, Status: 500}, 0, false},
		{"502 on a write may have been applied", retry.Answer{Method: http.MethodPost, Status: 502}, 0, true},
		{"503 naming a wait", retry.Answer{Method: http.MethodGet, Status: 503, Wait: 3 * time.Millisecond}, 3 * time.Millisecond, false},
		{"408 on a write", retry.Answer{Method: http.MethodDelete, Status: 408}, 0, true},
		{"403 is final", retry.Answer{Method: http.MethodPut, Status: 403}, -1, false},
		{"404 is final", retry.Answer{Method: http.MethodGet, Status: 404}, -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.a.Err = answer
			var limited int
			var ambiguous bool
			err := retry.Classify(quick(), tt.a, &limited, &ambiguous)
			checkClassified(t, err, answer, tt.wantWait)
			if ambiguous != tt.ambiguous {
				t.Errorf("ambiguous %v, want %v", ambiguous, tt.ambiguous)
			}
			if (limited == 1) != tt.a.RateLimited {
				t.Errorf("limited %d after one answer (rate limited: %v)", limited, tt.a.RateLimited)
			}
		})
	}
}

// checkClassified runs one attempt that fails with err, then one that succeeds, and
// checks whether a retry came and after which wait.
func checkClassified(t *testing.T, err, answer error, wantWait time.Duration) {
	t.Helper()
	if !errors.Is(err, answer) {
		t.Fatalf("%v does not carry the answer", err)
	}
	calls := 0
	var waited []time.Duration
	_, got := retry.Run(context.Background(), quick(), func() (int, error) {
		calls++
		if calls == 1 {
			return 0, err
		}
		return 1, nil
	}, func(_ error, wait time.Duration) { waited = append(waited, wait) })
	switch {
	case wantWait < 0 && (calls != 1 || !errors.Is(got, answer)):
		t.Errorf("%d attempts, %v: want one, final", calls, got)
	case wantWait >= 0 && (calls != 2 || got != nil):
		t.Errorf("%d attempts, %v: want a retry", calls, got)
	case wantWait > 0 && (len(waited) != 1 || waited[0] != wantWait):
		t.Errorf("waited %v, want the server's %s", waited, wantWait)
	}
}

// Run stops at MaxAttempts and returns the last attempt's error, unwrapped from
// Permanent.
func TestRunIsBounded(t *testing.T) {
	p := quick()
	p.MaxAttempts = 3
	last := errors.New("still down")
	calls := 0
	_, err := retry.Run(context.Background(), p, func() (int, error) { calls++; return 0, last }, nil)
	if calls != 3 || !errors.Is(err, last) {
		t.Errorf("%d attempts, %v; want 3 and the last error", calls, err)
	}
	final := errors.New("refused")
	_, err = retry.Run(context.Background(), p, func() (int, error) { return 0, retry.Permanent(final) }, nil)
	var perm *backoff.PermanentError
	if !errors.Is(err, final) || errors.As(err, &perm) {
		t.Errorf("Run returned %#v, want the permanent error itself", err)
	}
}

func TestHeaderWait(t *testing.T) {
	limit := time.Minute
	for name, tt := range map[string]struct {
		h    http.Header
		want time.Duration
	}{
		"none":                             {http.Header{}, 0},
		"Retry-After seconds":              {http.Header{"Retry-After": {"5"}}, 5 * time.Second},
		"capped":                           {http.Header{"Retry-After": {"3600"}}, limit},
		"the longer of the two":            {http.Header{"Retry-After": {"2"}, "X-Soracom-Ratelimit-Seconds-Before-Refresh": {"9"}}, 9 * time.Second},
		"a huge refresh does not overflow": {http.Header{"X-Soracom-Ratelimit-Seconds-Before-Refresh": {"1e300"}}, limit},
		"negative is none":                 {http.Header{"Retry-After": {"-4"}}, 0},
		"a huge Retry-After is capped":     {http.Header{"Retry-After": {"18446744074"}}, limit},
	} {
		if got := retry.HeaderWait(tt.h, limit, "X-Soracom-Ratelimit-Seconds-Before-Refresh"); got != tt.want {
			t.Errorf("%s: %s, want %s", name, got, tt.want)
		}
	}
}
