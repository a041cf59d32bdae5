package soracom

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
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/untrusted"
)

// APIError is an answer from SORACOM (or a proxy in front of it) that is not a success.
type APIError struct {
	Operation string // SORACOM operationId, e.g. "updateCredential"
	Method    string
	Path      string // with /v1
	Status    int
	// Code is SORACOM's error code (such as SEM0026), when the body had one: server
	// text, cut to maxCode characters here (a code is short) and, like Message, printed
	// only through the Log.
	Code string
	// Message is SORACOM's message, or the text of a body that was not SORACOM's JSON
	// (HTML tags stripped), as the server sent it: neither cut short nor normalized, so
	// that whoever prints it can redact every secret in it first. Only the read is
	// bounded (64 KiB).
	Message string
	// Location is scheme://host of a redirect's target (never its path or query).
	Location string
	// LocationUnreadable is true for a redirect whose Location could not be read.
	LocationUnreadable bool
	// RetryAfter is the wait the server asked for, capped; zero when it named none.
	RetryAfter time.Duration
	// Retried is true when an earlier attempt of this call failed in a way that may
	// hide a write the server applied (lost response, 5xx on a write).
	Retried bool
}

func (e *APIError) Error() string {
	if e.Redirected() {
		return fmt.Sprintf("SORACOM %s (%s %s) %v", e.Operation, e.Method, e.Path,
			&httpclient.RedirectError{Status: e.Status, Origin: e.Location, Unreadable: e.LocationUnreadable})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "SORACOM %s (%s %s) answered %d %s", e.Operation, e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Code != "" {
		fmt.Fprintf(&b, ", code %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	return b.String()
}

// Permission is the SAM permission the operation needs, e.g. "Credential:updateCredential"
// or "User:generateUserAuthKey".
func (e *APIError) Permission() string { return permissionOf(e.Operation) }

func permissionOf(operation string) string {
	switch operation {
	case "auth", "logout":
		return ""
	case "listUserAuthKeys", "generateUserAuthKey", "deleteUserAuthKey":
		// The SAM user's own keys: SORACOM files them under the User API.
		return "User:" + operation
	case "listGroups":
		return "Group:" + operation
	case "listEventHandlers":
		return "EventHandler:" + operation
	}
	return "Credential:" + operation
}

// InDoubt reports whether the failed call was a write that SORACOM may have applied
// anyway: a 5xx or 408 (a gateway may answer so after the write went through), a
// success whose answer could not be read, or an error after an earlier attempt whose
// outcome was lost.
func (e *APIError) InDoubt() bool { return httpclient.AnswerInDoubt(e.Method, e.Status, e.Retried) }

// WriteInDoubt reports whether err is a write whose outcome is unknown: it may or may
// not have been applied, so the set's state must be reported as unknown.
func WriteInDoubt(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.InDoubt()
	}
	var netErr *NetworkError
	return errors.As(err, &netErr) && netErr.InDoubt
}

// Redirected reports whether the answer was a redirect (3xx), which is never followed.
func (e *APIError) Redirected() bool { return e.Status >= 300 && e.Status < 400 }

// NetworkError is a call that never got an answer, after its retries.
type NetworkError struct {
	Operation, Method, Path string
	Err                     error
	// InDoubt is true for a write that may have been applied: a request that was sent
	// and whose answer never came (lost, timed out, or cancelled while in flight).
	InDoubt bool
	// NotSent is true for a request that was never sent: the job was cancelled (or its
	// deadline passed) before its turn came.
	NotSent bool
}

func (e *NetworkError) Error() string {
	if e.NotSent {
		return fmt.Sprintf("SORACOM %s (%s %s) was not sent: %v", e.Operation, e.Method, e.Path, e.Err)
	}
	return fmt.Sprintf("SORACOM %s (%s %s) got no answer: %v", e.Operation, e.Method, e.Path, e.Err)
}

func (e *NetworkError) Unwrap() error { return e.Err }

// AnswerError is a success answer holding a value without the shape it must have (an
// operator id that is not one, a set id with a line break): a broken or hostile server
// or proxy. Nothing is done with the answer.
type AnswerError struct {
	Operation, Method, Path string
	Field                   string // the JSON field, e.g. "operatorId"
	Want                    string // the shape it must have
	Value                   string // as received, cut short; empty for a list entry
	// Entry is, for a list answer, the position (from 1) of the entry that failed; its
	// value is not shown, as nothing from a forged entry is.
	Entry int
	// Revoked and RevokeErr say, for an auth answer, whether the token it carried was
	// revoked.
	Revoked   bool
	RevokeErr error
}

func newAnswerError(cl call, field, want, value string) *AnswerError {
	return &AnswerError{Operation: cl.operation, Method: cl.method, Path: "/v1" + cl.path,
		Field: field, Want: want, Value: untrusted.Clip(value, 80)}
}

func (e *AnswerError) Error() string {
	if e.Entry > 0 {
		return fmt.Sprintf("SORACOM %s (%s %s) answered an entry (number %d of the list) whose %s is not %s; nothing was done with the answer",
			e.Operation, e.Method, e.Path, e.Entry, e.Field, e.Want)
	}
	msg := fmt.Sprintf("SORACOM %s (%s %s) answered a %s that is not %s: %s; nothing was done with the answer",
		e.Operation, e.Method, e.Path, e.Field, e.Want, strconv.QuoteToGraphic(e.Value))
	switch {
	case e.Operation != "auth":
	case e.Revoked:
		msg += ", and the API token it carried was revoked"
	default:
		msg += fmt.Sprintf(", and the API token it carried could not be revoked (%v)", e.RevokeErr)
	}
	return msg
}

func (e *AnswerError) Unwrap() error { return e.RevokeErr }

// maxCode bounds an error code: SORACOM's are seven characters.
const maxCode = 32

// soracomError is SORACOM's error body.
type soracomError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// newAPIError reads an error answer. Bodies may be JSON with text/plain, or a proxy's
// HTML page, so the body is parsed whatever its content type and kept as text otherwise.
func newAPIError(cl call, res *http.Response, body []byte, maxWait time.Duration) *APIError {
	e := &APIError{Operation: cl.operation, Method: cl.method, Path: "/v1" + cl.path, Status: res.StatusCode}
	var se soracomError
	if json.Unmarshal(body, &se) == nil && (se.Code != "" || se.Message != "") {
		e.Code, e.Message = untrusted.Clip(se.Code, maxCode), se.Message
	} else {
		e.Message = bodyText(res.Header.Get("Content-Type"), body)
	}
	e.RetryAfter = serverWaitOf(res.Header, maxWait)
	return e
}

// bodyText is the text of a non-JSON body (see httpclient.BodyText).
func bodyText(contentType string, body []byte) string { return httpclient.BodyText(contentType, body) }

// serverWaitOf reads how long the server asked to wait: Retry-After (seconds or an HTTP
// date) or SORACOM's X-Soracom-Ratelimit-Seconds-Before-Refresh, the longer of the two,
// capped at max.
func serverWaitOf(h http.Header, max time.Duration) time.Duration {
	return retry.HeaderWait(h, max, "X-Soracom-Ratelimit-Seconds-Before-Refresh")
}
