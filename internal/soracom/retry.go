package soracom

import (
	"net/http"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/retry"
)

// Retry bounds how hard a call tries before it gives up (see retry.Policy).
type Retry = retry.Policy

// DefaultRetry gives up on a call that keeps failing within about two minutes (see
// retry.Default).
func DefaultRetry() Retry { return retry.Default() }

// classify decides whether an API error is worth another attempt. It records in
// ambiguous whether the failed attempt may have been applied by the server (a 5xx on a
// write may come after the write happened); limited counts the 429s so far.
func classify(r Retry, e *APIError, ambiguous *bool, limited *int) error {
	switch {
	case e.Status == http.StatusTooManyRequests:
		*limited++
		wait := e.RetryAfter
		if wait == 0 {
			wait = retry.RateLimitWait(*limited, r.MaxServerWait)
		}
		return retry.After(e, wait)
	case e.Status >= 500 || e.Status == http.StatusRequestTimeout:
		if e.Method != http.MethodGet {
			*ambiguous = true
		}
		if e.RetryAfter > 0 {
			return retry.After(e, e.RetryAfter)
		}
		return e
	default:
		return permanent(e)
	}
}

func permanent(err error) error { return retry.Permanent(err) }
