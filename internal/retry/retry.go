// Package retry bounds how hard the action's API clients (SORACOM, GitHub) try a call
// before they give up: attempts, a deadline per call and per attempt, exponential
// backoff with jitter, and waits the server asks for (Retry-After and the services'
// own rate-limit headers), capped. The clients decide which answers are worth another
// attempt; this package only runs the attempts.
package retry

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Policy bounds how hard a call tries before it gives up.
type Policy struct {
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
	// MaxServerWait caps a wait the server asks for (Retry-After, a rate limit's reset):
	// SORACOM's limits refresh each minute, and GitHub asks for at least a minute after
	// a secondary rate limit.
	MaxServerWait time.Duration
}

// Default gives up on a call that keeps failing within about two minutes.
//
// The first retry comes fast (about 5 ms) because most 5xx and dropped connections are
// one bad backend or connection, and a quick second try costs a user nothing; the waits
// then grow eightfold (about 40 ms, 0.3 s, 2.6 s, 15 s) so a real outage is not
// hammered. Rate limits are not retried on this schedule: see RateLimitWait.
func Default() Policy {
	return Policy{
		MaxAttempts:     6,
		Deadline:        2 * time.Minute,
		AttemptTimeout:  30 * time.Second,
		InitialInterval: 5 * time.Millisecond,
		Multiplier:      8,
		MaxInterval:     15 * time.Second,
		MaxServerWait:   60 * time.Second,
	}
}

// RateLimitWait is how long to wait after the n-th rate-limit answer that named no
// wait: the services' limits refresh each minute, so the waits are in seconds (1, 2,
// 4, … s), capped at max.
func RateLimitWait(n int, max time.Duration) time.Duration {
	return min(time.Second<<min(n-1, 6), max)
}

// Answer is what a failed attempt's error answer says, for Classify.
type Answer struct {
	// Err is the error the answer is, kept for the final report.
	Err error
	// Method is the request's; any but GET may change something.
	Method string
	Status int
	// RateLimited is a 429, or the service's own way of saying it is one (GitHub's
	// 403 with no requests left).
	RateLimited bool
	// Wait is the wait the server named, capped; zero when it named none.
	Wait time.Duration
}

// Classify decides whether an error answer is worth another attempt, the same way for
// every client: a rate limit after the wait the server named (else RateLimitWait's,
// limited counting the rate limits so far); a 5xx or 408 on the backoff schedule, or
// after the wait the server named, recording in ambiguous that a write may have been
// applied (a gateway may answer so after the write went through); anything else is
// final.
func Classify(p Policy, a Answer, limited *int, ambiguous *bool) error {
	switch {
	case a.RateLimited:
		*limited++
		wait := a.Wait
		if wait == 0 {
			wait = RateLimitWait(*limited, p.MaxServerWait)
		}
		return After(a.Err, wait)
	case a.Status >= 500 || a.Status == http.StatusRequestTimeout:
		if a.Method != http.MethodGet {
			*ambiguous = true
		}
		if a.Wait > 0 {
			return After(a.Err, a.Wait)
		}
		return a.Err
	}
	return Permanent(a.Err)
}

// waitError carries both the error (for the final report) and the wait the server
// asked for (for backoff, which finds it with errors.As).
type waitError struct {
	err  error
	wait backoff.RetryAfterError
}

func (s *waitError) Error() string   { return s.err.Error() }
func (s *waitError) Unwrap() []error { return []error{s.err, &s.wait} }

// After marks err as worth another attempt after wait, which the server asked for.
func After(err error, wait time.Duration) error {
	return &waitError{err: err, wait: backoff.RetryAfterError{Duration: wait}}
}

// Permanent marks err as not worth another attempt.
func Permanent(err error) error { return backoff.Permanent(err) }

// Run calls attempt until it succeeds, fails permanently, or p's bounds are reached;
// notify (may be nil) hears of each retry and its wait. The error is the last
// attempt's, unwrapped from Permanent.
func Run[T any](ctx context.Context, p Policy, attempt func() (T, error), notify func(error, time.Duration)) (T, error) {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = p.InitialInterval
	b.MaxInterval = p.MaxInterval
	b.Multiplier = p.Multiplier
	if b.Multiplier < 1 {
		b.Multiplier = 2
	}
	b.RandomizationFactor = 0.5
	opts := []backoff.RetryOption{backoff.WithBackOff(b), backoff.WithMaxTries(p.MaxAttempts), backoff.WithMaxElapsedTime(p.Deadline)}
	if notify != nil {
		opts = append(opts, backoff.WithNotify(notify))
	}
	v, err := backoff.Retry(ctx, attempt, opts...)
	var perm *backoff.PermanentError
	if errors.As(err, &perm) {
		err = perm.Err
	}
	return v, err
}

// HeaderWait reads how long a server asked to wait: Retry-After (seconds or an HTTP
// date), or any of the named headers holding seconds (SORACOM's
// X-Soracom-Ratelimit-Seconds-Before-Refresh), the longest of them, capped at limit.
func HeaderWait(h http.Header, limit time.Duration, secondsHeaders ...string) time.Duration {
	var wait time.Duration
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			wait = seconds(float64(n), limit)
		} else if t, err := http.ParseTime(v); err == nil {
			wait = time.Until(t)
		}
	}
	for _, name := range secondsHeaders {
		if v := strings.TrimSpace(h.Get(name)); v != "" {
			if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 {
				wait = max(wait, seconds(f, limit))
			}
		}
	}
	return min(max(wait, 0), limit)
}

// seconds is f seconds, at most limit. Compared in seconds first: a huge value would
// overflow a Duration (and a wrapped one may land anywhere below the cap).
func seconds(f float64, limit time.Duration) time.Duration {
	return time.Duration(min(f, limit.Seconds()) * float64(time.Second))
}
