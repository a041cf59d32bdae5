// Package soracom is the part of the SORACOM API this action needs: authenticate with a
// SAM user's AuthKey, list, create and update credential sets, and log out. Every call is
// retried within bounds on network errors, 429 and 5xx, and the API key and token are
// masked the moment they arrive.
package soracom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/httpclient"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/parallel"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/retry"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
)

// Production endpoints per coverage type, without the /v1 suffix; jp first, the default.
var endpoints = []struct{ coverage, url string }{
	{"jp", "https://api.soracom.io"},
	{"g", "https://g.api.soracom.io"},
}

// Endpoint returns the production API base URL of a coverage type ("jp" or "g").
func Endpoint(coverage string) (string, bool) {
	for _, e := range endpoints {
		if e.coverage == coverage {
			return e.url, true
		}
	}
	return "", false
}

// CoverageTypes lists the coverage types Endpoint knows, jp first.
func CoverageTypes() []string {
	types := make([]string, len(endpoints))
	for i, e := range endpoints {
		types[i] = e.coverage
	}
	return types
}

// Client talks to one SORACOM API endpoint. The zero value is not usable; use New.
type Client struct {
	baseURL string
	http    *http.Client
	retry   Retry
	masker  secret.Masker
	now     func() time.Time
	notify  func(operation string, err error, wait time.Duration)
	pace    *pacer
	// parallel bounds the writes StoreAll has in flight.
	parallel int
	// paceNotify is told when a call waits for the rate limit to refresh.
	paceNotify func(operation string, remaining, limit int, wait time.Duration)
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (tests give one that trusts a test CA). Its
// redirect policy is replaced: the client never follows a redirect.
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) { c.http = httpclient.NoRedirects(h) }
}

// WithRetry sets the retry policy.
func WithRetry(r Retry) Option { return func(c *Client) { c.retry = r } }

// WithRetryNotify calls notify before each retry, with the failure and the wait, so a
// long wait (a rate limit, a slow server) does not look like a hang.
func WithRetryNotify(notify func(operation string, err error, wait time.Duration)) Option {
	return func(c *Client) { c.notify = notify }
}

// WithParallel bounds how many writes StoreAll has in flight at once (at least 1;
// default parallel.DefaultLimit).
func WithParallel(n int) Option { return func(c *Client) { c.parallel = max(n, 1) } }

// WithPaceNotify calls notify when calls wait for SORACOM's rate limit to refresh
// (once per API and minute), with what the last answer said was left of the budget.
func WithPaceNotify(notify func(operation string, remaining, limit int, wait time.Duration)) Option {
	return func(c *Client) { c.paceNotify = notify }
}

// WithClock sets the clock used for token expiry (tests). Pacing by the rate limit
// waits in real time, so it reads the real clock.
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// New returns a client for baseURL (the API URL without /v1) that masks the API key and
// token it receives through m.
func New(baseURL string, m secret.Masker, opts ...Option) *Client {
	c := &Client{
		baseURL:  strings.TrimRight(baseURL, "/"),
		http:     defaultHTTPClient(),
		retry:    DefaultRetry(),
		masker:   m,
		now:      time.Now,
		parallel: parallel.DefaultLimit,
	}
	for _, o := range opts {
		o(c)
	}
	c.pace = newPacer(time.Now, c.retry.MaxServerWait)
	c.pace.notify = c.paceNotify
	return c
}

// defaultHTTPClient keeps its connections alive for the whole run: every call goes to
// the same host, so after the first TLS handshakes the rest reuse them (one per write in
// flight, see parallel.MaxLimit).
func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	t.ForceAttemptHTTP2 = true
	return httpclient.NoRedirects(&http.Client{Transport: t})
}

// call is one API operation as the spec names it, used for errors and SAM hints.
type call struct {
	operation string // SORACOM operationId, e.g. "updateCredential"
	method    string
	path      string // under /v1
	body      any
}

// response is a successful answer.
type response struct {
	status int
	body   []byte
	header http.Header // the answer's headers (a paged list's next key)
}

// headers adds session headers to a request; nil for /auth.
type headers func(h http.Header)

// do sends one call with retries and returns its 2xx answer or an error (an *APIError
// for answers from the server).
func (c *Client) do(ctx context.Context, cl call, h headers) (response, error) {
	var payload []byte
	if cl.body != nil {
		var err error
		if payload, err = json.Marshal(cl.body); err != nil {
			return response{}, fmt.Errorf("%s: encode request: %w", cl.operation, err)
		}
	}
	bound := c.retry.Deadline
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < bound {
		// A caller's shorter deadline (the logout's, say) is the bound to report.
		bound = roundBound(time.Until(dl))
	}
	ctx, cancel := context.WithTimeout(ctx, c.retry.Deadline)
	defer cancel()
	var ambiguous bool // an earlier attempt may have been applied by the server
	var limited int    // 429s so far
	attempt := func() (response, error) {
		resp, err := c.once(ctx, cl, payload, h)
		if err == nil {
			return resp, nil
		}
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			apiErr.Retried = ambiguous
			return resp, classify(c.retry, apiErr, &ambiguous, &limited)
		}
		// A transport error after the request left may hide an applied write.
		ambiguous = ambiguous || cl.method != http.MethodGet && mayHaveBeenSent(err)
		if ctx.Err() != nil {
			return resp, permanent(err)
		}
		return resp, err
	}
	var notify func(error, time.Duration)
	if c.notify != nil {
		notify = func(err error, wait time.Duration) { c.notify(cl.operation, err, wait) }
	}
	resp, err := retry.Run(ctx, c.retry, attempt, notify)
	if err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			return resp, apiErr
		}
		if ctx.Err() != nil && !errors.Is(err, context.Canceled) {
			err = fmt.Errorf("%w (gave up after %s)", err, bound)
		}
		return resp, &NetworkError{Operation: cl.operation, Method: cl.method, Path: "/v1" + cl.path, Err: err, InDoubt: ambiguous}
	}
	return resp, nil
}

// roundBound shows a bound as people set it: whole seconds, or hundredths below one.
func roundBound(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(time.Second)
	}
	return d.Round(10 * time.Millisecond)
}

// mayHaveBeenSent is false for errors that show the request never left: the
// connection could not be made, or the call ended while it waited for the rate limit.
func mayHaveBeenSent(err error) bool {
	var paced *errPaceCancelled
	return httpclient.MayHaveBeenSent(err) && !errors.As(err, &paced)
}

// once sends a single attempt, paced by the rate limit.
func (c *Client) once(ctx context.Context, cl call, payload []byte, h headers) (response, error) {
	release, err := c.pace.acquire(ctx, cl.operation)
	if err != nil {
		return response{}, permanent(err)
	}
	var answer http.Header
	defer func() { release(answer) }()
	actx, cancel := context.WithTimeout(ctx, c.retry.AttemptTimeout)
	defer cancel()
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(actx, cl.method, c.baseURL+"/v1"+cl.path, body)
	if err != nil {
		return response{}, permanent(err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Soracom-Lang", "en")
	req.Header.Set("User-Agent", "soracom-credentials-action")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if h != nil {
		h(req.Header)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	answer = res.Header
	if redirect := httpclient.Redirect(res); redirect != nil {
		// Never followed: the request carries the AuthKey or the token. Logout still
		// goes to the original endpoint, as every call does.
		return response{}, &APIError{Operation: cl.operation, Method: cl.method, Path: "/v1" + cl.path,
			Status: res.StatusCode, Location: redirect.Origin, LocationUnreadable: redirect.Unreadable}
	}
	ok := res.StatusCode >= 200 && res.StatusCode < 300
	limit := int64(maxErrorBody)
	if ok {
		limit = maxAnswer
	}
	data, err := httpclient.ReadBody(res, limit, !ok)
	if errors.Is(err, httpclient.ErrTooLarge) {
		// An answer, just not one to read: report it as the server's, not as silence.
		return response{}, &APIError{Operation: cl.operation, Method: cl.method, Path: "/v1" + cl.path,
			Status: res.StatusCode, Message: errTooLarge.Error()}
	}
	if err != nil {
		return response{}, err
	}
	if ok {
		return response{status: res.StatusCode, body: data, header: res.Header}, nil
	}
	return response{}, newAPIError(cl, res, data, c.retry.MaxServerWait)
}

// Bounds on what is read of an answer, so a misbehaving proxy cannot fill memory. A
// list of every credential set is far below maxAnswer; an error body is read up to
// maxErrorBody and the rest ignored.
const (
	maxAnswer    = 8 << 20
	maxErrorBody = 64 << 10
)

// errTooLarge is a success answer larger than maxAnswer.
var errTooLarge = errors.New("the answer is larger than 8 MiB")

func decode[T any](cl call, r response) (T, error) {
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		return v, fmt.Errorf("%s: SORACOM answered %d with a body that is not the expected JSON: %w", cl.operation, r.status, err)
	}
	return v, nil
}
