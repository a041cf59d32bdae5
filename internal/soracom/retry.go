package soracom

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Retry bounds how hard a call tries before it gives up.
type Retry struct {
	// MaxAttempts is the most attempts per call, the first included.
	MaxAttempts uint
	// Deadline bounds one call, all attempts and waits included.
	Deadline time.Duration
	// AttemptTimeout bounds one attempt, so a stalled server costs one attempt, not the run.
	AttemptTimeout time.Duration
	// InitialInterval, Multiplier and MaxInterval shape the exponential backoff (with
	// ±50% jitter).
	InitialInterval, MaxInterval time.Duration
	Multiplier                   float64
	// MaxServerWait caps a wait the server asks for (Retry-After,
	// X-Soracom-Ratelimit-Seconds-Before-Refresh): SORACOM's limits refresh each minute.
	MaxServerWait time.Duration
}

// DefaultRetry gives up on a call that keeps failing within about two minutes.
//
// The first retry comes fast (about 5 ms) because most 5xx and dropped connections are
// one bad backend or connection, and a quick second try costs a user nothing; the waits
// then grow eightfold (about 40 ms, 0.3 s, 2.6 s, 15 s) so a real outage is not
// hammered. Rate limits are not retried on this schedule: see classify.
func DefaultRetry() Retry {
	return Retry{
		MaxAttempts:     6,
		Deadline:        2 * time.Minute,
		AttemptTimeout:  30 * time.Second,
		InitialInterval: 5 * time.Millisecond,
		Multiplier:      8,
		MaxInterval:     15 * time.Second,
		MaxServerWait:   60 * time.Second,
	}
}

// rateLimitWait is how long to wait after the n-th 429 that named no wait: SORACOM's
// limits refresh each minute, so the waits are in seconds (1, 2, 4, … s).
func rateLimitWait(n int, max time.Duration) time.Duration {
	return min(time.Second<<min(n-1, 6), max)
}

// classify decides whether an API error is worth another attempt. It records in
// ambiguous whether the failed attempt may have been applied by the server (a 5xx on a
// write may come after the write happened); limited counts the 429s so far.
func (r Retry) classify(e *APIError, ambiguous *bool, limited *int) error {
	switch {
	case e.Status == http.StatusTooManyRequests:
		*limited++
		wait := e.RetryAfter
		if wait == 0 {
			wait = rateLimitWait(*limited, r.MaxServerWait)
		}
		return &serverWait{err: e, wait: backoff.RetryAfterError{Duration: wait}}
	case e.Status >= 500 || e.Status == http.StatusRequestTimeout:
		if e.Method != http.MethodGet {
			*ambiguous = true
		}
		if e.RetryAfter > 0 {
			return &serverWait{err: e, wait: backoff.RetryAfterError{Duration: e.RetryAfter}}
		}
		return e
	default:
		return permanent(e)
	}
}

// serverWait carries both the API error (for the final report) and the wait the server
// asked for (for backoff, which finds it with errors.As).
type serverWait struct {
	err  *APIError
	wait backoff.RetryAfterError
}

func (s *serverWait) Error() string   { return s.err.Error() }
func (s *serverWait) Unwrap() []error { return []error{s.err, &s.wait} }

func permanent(err error) error { return backoff.Permanent(err) }

// run calls attempt until it succeeds, fails permanently, or the bounds are reached.
func (r Retry) run(ctx context.Context, attempt func() (response, error), notify backoff.Notify) (response, error) {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = r.InitialInterval
	b.MaxInterval = r.MaxInterval
	b.Multiplier = r.Multiplier
	if b.Multiplier < 1 {
		b.Multiplier = 2
	}
	b.RandomizationFactor = 0.5
	opts := []backoff.RetryOption{backoff.WithBackOff(b), backoff.WithMaxTries(r.MaxAttempts), backoff.WithMaxElapsedTime(r.Deadline)}
	if notify != nil {
		opts = append(opts, backoff.WithNotify(notify))
	}
	resp, err := backoff.Retry(ctx, attempt, opts...)
	var p *backoff.PermanentError
	if errors.As(err, &p) {
		err = p.Err
	}
	return resp, err
}
