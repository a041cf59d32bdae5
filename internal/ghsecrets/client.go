// Package ghsecrets reads and writes GitHub Actions secrets of a repository, one of its
// environments, or an organization: the public key to encrypt with, a secret's
// metadata, and a secret's value, encrypted as a libsodium sealed box
// (golang.org/x/crypto/nacl/box.SealAnonymous) as GitHub requires.
//
// It is a small client rather than google/go-github, which the Go module proxy serves:
// the action uses five endpoints, and go-github would add about ten seconds of CPU to
// every image build (the image is built on each job), it addresses environment secrets
// by numeric repository id (one more request each run), and it reads answers without a
// bound. Here, as in the SORACOM client, the token goes only to the API URL given
// (GITHUB_API_URL: api.github.com or a GitHub Enterprise Server), no redirect is
// followed, every answer is read up to a bound, every value from the server is checked
// against its shape, and calls are retried within internal/retry's bounds, waiting
// out rate limits (Retry-After, x-ratelimit-reset) up to a cap.
package ghsecrets

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
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/retry"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
)

// DefaultAPIURL is github.com's REST API; GitHub Enterprise Server sets GITHUB_API_URL
// to its own (https://HOST/api/v3).
const DefaultAPIURL = "https://api.github.com"

// apiVersion is the REST API version the requests are written for.
const apiVersion = "2022-11-28"

// Client talks to one GitHub REST API with one token. Create it with New.
type Client struct {
	baseURL string
	token   secret.Secret
	http    *http.Client
	retry   retry.Policy
	masker  secret.Masker
	now     func() time.Time
	notify  func(operation string, err error, wait time.Duration)
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (tests give one that trusts a test CA). Its
// redirect policy is replaced: the client never follows a redirect.
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) { c.http = httpclient.NoRedirects(h) }
}

// WithRetry sets the retry policy.
func WithRetry(p retry.Policy) Option { return func(c *Client) { c.retry = p } }

// WithRetryNotify calls notify before each retry, with the failure and the wait.
func WithRetryNotify(notify func(operation string, err error, wait time.Duration)) Option {
	return func(c *Client) { c.notify = notify }
}

// WithClock sets the clock rate-limit resets are read against (tests).
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// New returns a client for apiURL (GITHUB_API_URL, no trailing slash needed) that sends
// token, and masks every encrypted value it sends through m. apiURL must already be
// checked (https unless loopback): the token goes there.
func New(apiURL string, token secret.Secret, m secret.Masker, opts ...Option) *Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 2
	c := &Client{
		baseURL: strings.TrimRight(apiURL, "/"),
		token:   token,
		http:    httpclient.NoRedirects(&http.Client{Transport: t}),
		retry:   retry.Default(),
		masker:  m,
		now:     time.Now,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// call is one API operation.
type call struct {
	operation string // GitHub's operation id, e.g. actions/get-repo-public-key
	method    string
	path      string
	body      []byte
}

// Bounds on what is read of an answer: a public key or a secret's metadata is far
// smaller; a page of 100 selected repositories (full repository objects) fits.
const (
	maxAnswer    = 4 << 20
	maxErrorBody = 64 << 10
)

// do sends one call with retries and returns the body of its 2xx answer.
func (c *Client) do(ctx context.Context, cl call) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.retry.Deadline)
	defer cancel()
	var ambiguous bool
	var limited int
	attempt := func() ([]byte, error) {
		body, err := c.once(ctx, cl)
		if err == nil {
			return body, nil
		}
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			apiErr.Retried = ambiguous
			return nil, c.classify(apiErr, &ambiguous, &limited)
		}
		ambiguous = ambiguous || cl.method != http.MethodGet && httpclient.MayHaveBeenSent(err)
		if ctx.Err() != nil {
			return nil, retry.Permanent(err)
		}
		return nil, err
	}
	var notify func(error, time.Duration)
	if c.notify != nil {
		notify = func(err error, wait time.Duration) { c.notify(cl.operation, err, wait) }
	}
	body, err := retry.Run(ctx, c.retry, attempt, notify)
	if err == nil {
		return body, nil
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return nil, apiErr
	}
	return nil, &NetworkError{Operation: cl.operation, Method: cl.method, Path: cl.path, Err: err, InDoubt: ambiguous}
}

// once sends a single attempt.
func (c *Client) once(ctx context.Context, cl call) ([]byte, error) {
	actx, cancel := context.WithTimeout(ctx, c.retry.AttemptTimeout)
	defer cancel()
	var body io.Reader
	if cl.body != nil {
		body = bytes.NewReader(cl.body)
	}
	req, err := http.NewRequestWithContext(actx, cl.method, c.baseURL+cl.path, body)
	if err != nil {
		return nil, retry.Permanent(err)
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", apiVersion)
	req.Header.Set("User-Agent", "soracom-credentials-action")
	req.Header.Set("Authorization", "Bearer "+c.token.Reveal())
	if cl.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if redirect := httpclient.Redirect(res); redirect != nil {
		// Never followed: the request carries the token.
		return nil, &APIError{Operation: cl.operation, Method: cl.method, Path: cl.path, Status: res.StatusCode,
			Location: redirect.Origin, LocationUnreadable: redirect.Unreadable}
	}
	ok := res.StatusCode >= 200 && res.StatusCode < 300
	limit := int64(maxAnswer)
	if !ok {
		limit = maxErrorBody
	}
	data, err := httpclient.ReadBody(res, limit, !ok)
	if errors.Is(err, httpclient.ErrTooLarge) {
		return nil, &APIError{Operation: cl.operation, Method: cl.method, Path: cl.path, Status: res.StatusCode,
			Message: "the answer is larger than 4 MiB"}
	}
	if err != nil {
		return nil, err
	}
	if ok {
		return data, nil
	}
	return nil, newAPIError(cl, res, data, c.retry.MaxServerWait, c.now())
}

// classify decides whether a failed attempt is worth another (see retry.Classify): rate
// limits (429, or a 403 that says it is one) after the wait GitHub names, 5xx and 408
// on the backoff schedule; anything else is final. ambiguous records a write that may
// have been applied.
func (c *Client) classify(e *APIError, ambiguous *bool, limited *int) error {
	return retry.Classify(c.retry, retry.Answer{Err: e, Method: e.Method, Status: e.Status,
		RateLimited: e.RateLimited, Wait: e.RetryAfter}, limited, ambiguous)
}

func decode[T any](cl call, body []byte) (T, error) {
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		return v, fmt.Errorf("GitHub %s (%s %s) answered with a body that is not the expected JSON: %w", cl.operation, cl.method, cl.path, err)
	}
	return v, nil
}
