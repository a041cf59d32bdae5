package soracom

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// APIError is an answer from SORACOM (or a proxy in front of it) that is not a success.
type APIError struct {
	Operation string // SORACOM operationId, e.g. "updateCredential"
	Method    string
	Path      string // with /v1
	Status    int
	Code      string // SORACOM error code, when the body had one
	Message   string // SORACOM's message, or the start of a body that was not JSON
	// RetryAfter is the wait the server asked for, capped; zero when it named none.
	RetryAfter time.Duration
	// Retried is true when an earlier attempt of this call failed in a way that may
	// hide a write the server applied (lost response, 5xx on a write).
	Retried bool
}

func (e *APIError) Error() string {
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

// Permission is the SAM permission the operation needs, e.g. "Credential:updateCredential".
func (e *APIError) Permission() string { return permissionOf(e.Operation) }

func permissionOf(operation string) string {
	switch operation {
	case "auth", "logout":
		return ""
	}
	return "Credential:" + operation
}

// Hint says what the user should change, from the status and the operation.
func (e *APIError) Hint() string {
	switch {
	case e.Operation == "auth" && (e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden):
		return "check soracom-auth-key-id and soracom-auth-key: the AuthKey must belong to an active SAM user (or the operator) and match the coverage type/endpoint"
	case e.Operation == "auth" && e.Status == http.StatusBadRequest:
		return "check the AuthKey inputs' format (keyId-…/secret-…)"
	case e.Status == http.StatusForbidden:
		return fmt.Sprintf("grant the SAM user the permission %q in its permission policy", e.Permission())
	case e.Status == http.StatusUnauthorized:
		return "the API token was rejected; check that the SAM user and its AuthKey are still active"
	case e.Status == http.StatusTooManyRequests:
		return "SORACOM's rate limit for this operator was hit and did not refresh in time; run again later or spread the workflows out"
	case e.Status >= 500:
		return "SORACOM or a proxy in front of it failed; run again later, and check https://status.soracom.io"
	case e.Operation == "createCredential" || e.Operation == "updateCredential":
		return "check credential-type and the fields of credentials for that type"
	}
	return ""
}

// NetworkError is a call that never got an answer, after its retries.
type NetworkError struct {
	Operation, Method, Path string
	Err                     error
}

func (e *NetworkError) Error() string {
	return fmt.Sprintf("SORACOM %s (%s %s) got no answer: %v", e.Operation, e.Method, e.Path, e.Err)
}

func (e *NetworkError) Unwrap() error { return e.Err }

// Hint says what the user should check.
func (e *NetworkError) Hint() string {
	return "check soracom-endpoint / soracom-coverage-type and the runner's network access to the SORACOM API"
}

// soracomError is SORACOM's error body.
type soracomError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// newAPIError reads an error answer. Bodies may be JSON with text/plain, or a proxy's
// HTML page, so the body is parsed whatever its content type and shown trimmed otherwise.
func newAPIError(cl call, res *http.Response, body []byte, maxWait time.Duration) *APIError {
	e := &APIError{Operation: cl.operation, Method: cl.method, Path: "/v1" + cl.path, Status: res.StatusCode}
	var se soracomError
	if json.Unmarshal(body, &se) == nil && (se.Code != "" || se.Message != "") {
		e.Code, e.Message = se.Code, se.Message
	} else {
		e.Message = bodySnippet(res.Header.Get("Content-Type"), body)
	}
	e.RetryAfter = serverWaitOf(res.Header, maxWait)
	return e
}

// bodySnippet keeps a readable, one-line start of a non-JSON body.
func bodySnippet(contentType string, body []byte) string {
	s := string(body)
	if mt, _, _ := mime.ParseMediaType(contentType); mt == "text/html" || strings.HasPrefix(strings.TrimSpace(s), "<") {
		s = stripTags(s)
	}
	s = strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
	const max = 200
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
			b.WriteRune(' ')
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// serverWaitOf reads how long the server asked to wait: Retry-After (seconds or an HTTP
// date) or SORACOM's X-Soracom-Ratelimit-Seconds-Before-Refresh, the longer of the two,
// capped at max.
func serverWaitOf(h http.Header, max time.Duration) time.Duration {
	var wait time.Duration
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			wait = time.Duration(n) * time.Second
		} else if t, err := http.ParseTime(v); err == nil {
			wait = time.Until(t)
		}
	}
	if v := strings.TrimSpace(h.Get("X-Soracom-Ratelimit-Seconds-Before-Refresh")); v != "" {
		if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 {
			if d := time.Duration(f * float64(time.Second)); d > wait {
				wait = d
			}
		}
	}
	if wait > max {
		wait = max
	}
	if wait < 0 {
		wait = 0
	}
	return wait
}
