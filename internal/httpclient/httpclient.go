// Package httpclient builds the HTTP clients the action talks to SORACOM, AWS and the
// GitHub OIDC token service through. None of them follows a redirect: those APIs never
// redirect, and following one would send the request again, AuthKey, tokens and AWS
// keys included, to wherever a proxy or a compromised endpoint points (another host, or
// plain http). A 3xx answer is an error that names the status and where it pointed.
package httpclient

import (
	"fmt"
	"net/http"
	"net/url"
)

// NoRedirects returns a copy of c (nil means a client with a clone of the default
// transport) whose redirect policy hands every 3xx answer back to the caller unfollowed.
func NoRedirects(c *http.Client) *http.Client {
	var out http.Client
	if c != nil {
		out = *c
	} else {
		out.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	out.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &out
}

// RedirectError is a 3xx answer that was not followed.
type RedirectError struct {
	Status int
	// Origin is scheme://host[:port] of the Location header, resolved against the
	// request: never its path or query, which may carry tokens. Empty when the answer
	// had no readable Location.
	Origin string
}

func (e *RedirectError) Error() string {
	to := "without a readable Location"
	if e.Origin != "" {
		to = "to " + e.Origin
	}
	return fmt.Sprintf("answered %d %s %s; redirects are never followed (the API does not redirect, so a proxy or a wrong endpoint sent it)",
		e.Status, http.StatusText(e.Status), to)
}

// RetryableError tells the AWS SDK's retryer not to try again: the answer will not change.
func (e *RedirectError) RetryableError() bool { return false }

// Redirect returns a *RedirectError when res is a 3xx answer, nil otherwise.
func Redirect(res *http.Response) *RedirectError {
	if res.StatusCode < 300 || res.StatusCode > 399 {
		return nil
	}
	return &RedirectError{Status: res.StatusCode, Origin: origin(res)}
}

func origin(res *http.Response) string {
	loc := res.Header.Get("Location")
	if loc == "" {
		return ""
	}
	u, err := url.Parse(loc)
	if err != nil {
		return ""
	}
	if res.Request != nil && res.Request.URL != nil {
		u = res.Request.URL.ResolveReference(u)
	}
	if u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// Refusing is an HTTP client for the AWS SDK: it turns a 3xx answer into a
// *RedirectError, which the SDK reports as it is rather than reading the redirect as
// a malformed API error, and does not retry.
type Refusing struct{ Client *http.Client }

// Do sends req without following redirects.
func (r Refusing) Do(req *http.Request) (*http.Response, error) {
	res, err := r.Client.Do(req)
	if err != nil {
		return nil, err
	}
	if rerr := Redirect(res); rerr != nil {
		res.Body.Close()
		return nil, rerr
	}
	return res, nil
}
