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
	// InitialInterval and MaxInterval shape the exponential backoff (with jitter).
	InitialInterval, MaxInterval time.Duration
	// MaxServerWait caps a wait the server asks for (Retry-After,
	// X-Soracom-Ratelimit-Seconds-Before-Refresh): SORACOM's limits refresh each minute.
	MaxServerWait time.Duration
}

// DefaultRetry gives up on a call that keeps failing within about two minutes.
func DefaultRetry() Retry {
	return Retry{
		MaxAttempts:     6,
		Deadline:        2 * time.Minute,
		AttemptTimeout:  30 * time.Second,
		InitialInterval: 500 * time.Millisecond,
		MaxInterval:     15 * time.Second,
		MaxServerWait:   60 * time.Second,
	}
}

// classify decides whether an API error is worth another attempt. It records in
// ambiguous whether the failed attempt may have been applied by the server (a 5xx on a
// write may come after the write happened).
func (r Retry) classify(e *APIError, ambiguous *bool) error {
	switch {
	case e.Status == http.StatusTooManyRequests:
		if e.RetryAfter > 0 {
			return &serverWait{err: e, wait: backoff.RetryAfterError{Duration: e.RetryAfter}}
		}
		return e
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
func (r Retry) run(ctx context.Context, attempt func() (response, error)) (response, error) {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = r.InitialInterval
	b.MaxInterval = r.MaxInterval
	b.Multiplier = 2
	b.RandomizationFactor = 0.5
	resp, err := backoff.Retry(ctx, attempt, backoff.WithBackOff(b), backoff.WithMaxTries(r.MaxAttempts), backoff.WithMaxElapsedTime(r.Deadline))
	var p *backoff.PermanentError
	if errors.As(err, &p) {
		err = p.Err
	}
	return resp, err
}
