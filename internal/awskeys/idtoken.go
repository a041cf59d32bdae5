package awskeys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/httpclient"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
)

// ErrIDTokenUnavailable means the runner gave the job no way to request an OIDC token:
// ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN exist only in a GitHub
// Actions job that grants the id-token permission. What to do depends on where the run
// is, which the caller knows (see action's hints).
var ErrIDTokenUnavailable = errors.New("no GitHub OIDC token available for role-to-assume " +
	"(ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set)")

// idTokenRetry bounds the retries of the token request. The endpoint is a runner service
// that answers within milliseconds when healthy; a few quick retries ride out a blip
// without letting a broken endpoint hold the job for long.
type idTokenRetry struct {
	initial, max, elapsed time.Duration
	tries                 uint
	attempt               time.Duration // bounds one attempt
}

func defaultIDTokenRetry() idTokenRetry {
	return idTokenRetry{initial: 200 * time.Millisecond, max: 3 * time.Second, elapsed: 20 * time.Second, tries: 5, attempt: 10 * time.Second}
}

// idTokenRetryWithin is the default retry of the token request, shrunk to fit b.
func idTokenRetryWithin(b Bounds) idTokenRetry {
	r := defaultIDTokenRetry()
	r.attempt = min(r.attempt, b.Attempt)
	r.elapsed = min(r.elapsed, b.Call)
	return r
}

// FetchIDToken asks the GitHub Actions token endpoint for an OIDC ID token (a JWT) whose
// aud claim is audience. requestURL and requestToken are the values of
// ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN; when either is empty
// the error is ErrIDTokenUnavailable. Network errors, 5xx and 429 answers are retried
// with a short, bounded backoff. The JWT is masked with m before FetchIDToken returns,
// so nothing downstream can print it in the clear. httpClient may be nil.
func FetchIDToken(ctx context.Context, httpClient *http.Client, requestURL string, requestToken secret.Secret, audience string, m secret.Masker) (secret.Secret, error) {
	return fetchIDToken(ctx, httpClient, requestURL, requestToken, audience, m, defaultIDTokenRetry())
}

func fetchIDToken(parent context.Context, hc *http.Client, requestURL string, requestToken secret.Secret, audience string, m secret.Masker, r idTokenRetry) (secret.Secret, error) {
	if requestURL == "" || requestToken.IsZero() {
		return secret.Secret{}, ErrIDTokenUnavailable
	}
	u, err := idTokenURL(requestURL, audience)
	if err != nil {
		return secret.Secret{}, err
	}
	// The request carries the runner's bearer token: never follow a redirect with it.
	req := idTokenRequest{hc: httpclient.NoRedirects(hc), url: u, token: requestToken, timeout: r.attempt, masker: m}
	// The whole request, retries included, is bounded: attempts stop starting after
	// r.elapsed, and the one running then is cut at that point too.
	ctx, cancelAll := context.WithTimeout(parent, r.elapsed)
	defer cancelAll()
	b := &backoff.ExponentialBackOff{
		InitialInterval:     r.initial,
		RandomizationFactor: 0.5,
		Multiplier:          2,
		MaxInterval:         r.max,
	}
	attempts := 0
	var last error
	counted := func() (secret.Secret, error) {
		attempts++
		tok, err := req.send(ctx)
		last = err
		return tok, err
	}
	tok, err := backoff.Retry(ctx, counted,
		backoff.WithBackOff(b), backoff.WithMaxTries(r.tries), backoff.WithMaxElapsedTime(r.elapsed))
	switch {
	case err == nil:
		return tok, nil
	case parent.Err() == nil && ctx.Err() != nil:
		// The bound cut a wait or an attempt: say so, with the last answer.
		if last == nil {
			last = fmt.Errorf("GitHub OIDC token request: %w", err)
		}
		err = fmt.Errorf("%w; no answer within %s", last, r.elapsed)
	}
	if attempts > 1 {
		return secret.Secret{}, fmt.Errorf("%w (gave up after %d attempts; GitHub's token service may be having trouble: re-run the job)", err, attempts)
	}
	return secret.Secret{}, err
}

// idTokenRequest is one request for an OIDC token, sent once per attempt.
type idTokenRequest struct {
	hc      *http.Client
	url     string
	token   secret.Secret
	timeout time.Duration // per attempt: a hung connection must not use up the whole budget
	masker  secret.Masker
}

// send makes one attempt. Errors worth another attempt are returned as they are; the
// others are backoff.Permanent.
func (q idTokenRequest) send(ctx context.Context) (secret.Secret, error) {
	actx, cancel := context.WithTimeout(ctx, q.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, q.url, nil)
	if err != nil {
		return secret.Secret{}, backoff.Permanent(fmt.Errorf("GitHub OIDC token request: %w", err))
	}
	req.Header.Set("Authorization", "Bearer "+q.token.Reveal())
	req.Header.Set("Accept", "application/json")
	resp, err := q.hc.Do(req)
	if err != nil {
		// *url.Error names the URL, which carries no secret: the token travels in a header.
		return secret.Secret{}, fmt.Errorf("GitHub OIDC token request: %w", err)
	}
	defer resp.Body.Close()
	if redirect := httpclient.Redirect(resp); redirect != nil {
		return secret.Secret{}, backoff.Permanent(fmt.Errorf("GitHub OIDC token endpoint %w", redirect))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return secret.Secret{}, fmt.Errorf("GitHub OIDC token request: reading the answer: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return secret.Secret{}, fmt.Errorf("GitHub OIDC token endpoint answered HTTP %d", resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		// The body is not quoted: on a misrouted request it could echo anything back.
		return secret.Secret{}, backoff.Permanent(fmt.Errorf("GitHub OIDC token endpoint answered HTTP %d; "+
			"check that the job has `permissions: id-token: write`", resp.StatusCode))
	}
	var v struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return secret.Secret{}, backoff.Permanent(errors.New("GitHub OIDC token endpoint answered with malformed JSON"))
	}
	if v.Value == "" {
		return secret.Secret{}, backoff.Permanent(errors.New("GitHub OIDC token endpoint answered without a token value"))
	}
	return secret.Mask(q.masker, v.Value), nil
}

// idTokenURL appends the audience parameter to the runner's URL. The runner's URL
// already carries a query (api-version=…), so the parameter is appended rather than the
// query re-encoded, which keeps the runner's own parameters byte for byte.
func idTokenURL(requestURL, audience string) (string, error) {
	u, err := url.Parse(requestURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", errors.New("ACTIONS_ID_TOKEN_REQUEST_URL is not a valid URL")
	}
	if audience == "" {
		return u.String(), nil
	}
	param := "audience=" + url.QueryEscape(audience)
	if q := strings.TrimSuffix(u.RawQuery, "&"); q != "" {
		u.RawQuery = q + "&" + param
	} else {
		u.RawQuery = param
	}
	return u.String(), nil
}
