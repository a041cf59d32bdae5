package ghsecrets

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/httpclient"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/retry"
)

// APIError is an answer from GitHub (or a proxy in front of it) that is not a success.
type APIError struct {
	Operation string // GitHub's operation id, e.g. actions/create-or-update-repo-secret
	Method    string
	Path      string
	Status    int
	// Message is GitHub's message, or the text of a body that was not GitHub's JSON,
	// as the server sent it: whoever prints it must pass it through the one place that
	// redacts and renders text from outside inert (the action's Log).
	Message string
	// Location is scheme://host of a redirect's target (never its path or query).
	Location           string
	LocationUnreadable bool
	// RateLimited is a 429, or a 403 that says it is a rate limit (primary: no requests
	// left until x-ratelimit-reset; secondary: Retry-After or the message says so).
	RateLimited bool
	// RetryAfter is the wait GitHub named, capped; zero when it named none.
	RetryAfter time.Duration
	// Retried is true when an earlier attempt of this call failed in a way that may
	// hide a write GitHub applied.
	Retried bool
}

func (e *APIError) Error() string {
	if e.Redirected() {
		return fmt.Sprintf("GitHub %s (%s %s) %v", e.Operation, e.Method, e.Path,
			&httpclient.RedirectError{Status: e.Status, Origin: e.Location, Unreadable: e.LocationUnreadable})
	}
	msg := fmt.Sprintf("GitHub %s (%s %s) answered %d %s", e.Operation, e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Redirected reports whether the answer was a redirect (3xx), which is never followed.
func (e *APIError) Redirected() bool { return e.Status >= 300 && e.Status < 400 }

// Refused reports whether the answer says the token may not do this: 401 (no valid
// token), 403 that is not a rate limit, or 404 (GitHub answers 404 rather than 403 to
// a token that may not see the repository or its secrets).
func (e *APIError) Refused() bool {
	switch e.Status {
	case http.StatusUnauthorized, http.StatusNotFound:
		return true
	case http.StatusForbidden:
		return !e.RateLimited
	}
	return false
}

// InDoubt reports whether the failed call was a write GitHub may have applied anyway
// (see httpclient.AnswerInDoubt).
func (e *APIError) InDoubt() bool { return httpclient.AnswerInDoubt(e.Method, e.Status, e.Retried) }

// NetworkError is a call that never got an answer, after its retries.
type NetworkError struct {
	Operation, Method, Path string
	Err                     error
	// InDoubt is true for a write that may have been applied.
	InDoubt bool
}

func (e *NetworkError) Error() string {
	return fmt.Sprintf("GitHub %s (%s %s) got no answer: %v", e.Operation, e.Method, e.Path, e.Err)
}

func (e *NetworkError) Unwrap() error { return e.Err }

// WriteInDoubt reports whether err is a write whose outcome is unknown.
func WriteInDoubt(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.InDoubt()
	}
	var netErr *NetworkError
	return errors.As(err, &netErr) && netErr.InDoubt
}

// secondaryWait is how long GitHub asks a client to wait after a secondary rate limit
// that names no wait: "at least one minute".
const secondaryWait = time.Minute

// newAPIError reads an error answer: GitHub's {"message": …} JSON, or any other body as
// text; and whether and how long it asks to wait.
func newAPIError(cl call, res *http.Response, body []byte, maxWait time.Duration, now time.Time) *APIError {
	e := &APIError{Operation: cl.operation, Method: cl.method, Path: cl.path, Status: res.StatusCode}
	var ge struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &ge) == nil && ge.Message != "" {
		e.Message = ge.Message
	} else {
		e.Message = httpclient.BodyText(res.Header.Get("Content-Type"), body)
	}
	e.RetryAfter = retry.HeaderWait(res.Header, maxWait)
	exhausted := strings.TrimSpace(res.Header.Get("X-Ratelimit-Remaining")) == "0"
	switch {
	case res.StatusCode == http.StatusTooManyRequests:
		e.RateLimited = true
	case res.StatusCode != http.StatusForbidden:
		return e
	case exhausted || res.Header.Get("Retry-After") != "" || strings.Contains(strings.ToLower(ge.Message), "rate limit"):
		e.RateLimited = true
	}
	if !e.RateLimited {
		return e
	}
	if e.RetryAfter == 0 && exhausted {
		e.RetryAfter = resetWait(res.Header, maxWait, now)
	}
	if e.RetryAfter == 0 && res.StatusCode == http.StatusForbidden {
		e.RetryAfter = min(secondaryWait, maxWait)
	}
	return e
}

// resetWait is the wait until x-ratelimit-reset (epoch seconds), capped; zero when the
// header is absent or already past.
func resetWait(h http.Header, maxWait time.Duration, now time.Time) time.Duration {
	reset, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-Ratelimit-Reset")), 10, 64)
	if err != nil || reset <= 0 {
		return 0
	}
	return min(max(time.Unix(reset, 0).Sub(now), 0), maxWait)
}
