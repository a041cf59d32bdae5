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

// classify decides whether an API error is worth another attempt (see retry.Classify).
// It records in ambiguous whether the failed attempt may have been applied by the
// server; limited counts the 429s so far.
func classify(r Retry, e *APIError, ambiguous *bool, limited *int) error {
	return retry.Classify(r, retry.Answer{Err: e, Method: e.Method, Status: e.Status,
		RateLimited: e.Status == http.StatusTooManyRequests, Wait: e.RetryAfter}, limited, ambiguous)
}

func permanent(err error) error { return retry.Permanent(err) }
