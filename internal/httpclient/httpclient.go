// Package httpclient builds the HTTP clients the action talks to SORACOM, AWS and the
// GitHub OIDC token service through. None of them follows a redirect: those APIs never
// redirect, and following one would send the request again, AuthKey, tokens and AWS
// keys included, to wherever a proxy or a compromised endpoint points (another host, or
// plain http). A 3xx answer is an error that names the status and where it pointed.
package httpclient

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// unfollowedLocation is where a 3xx answer's Location header is moved before Go's
// http.Client sees the answer. The client parses Location before it asks CheckRedirect,
// so an unparsable one ("http://[x]:y/…") would become a transport error that quotes
// the whole Location, query included, and is retried as if nothing had answered. With
// no Location the client hands the answer back as it is.
const unfollowedLocation = "X-Soracom-Action-Unfollowed-Location"

// NoRedirects returns a copy of c (nil means a client with a clone of the default
// transport) that hands every 3xx answer back to the caller unfollowed, its Location
// kept aside for Redirect, and reads at most MaxAnswer bytes of any answer's body.
func NoRedirects(c *http.Client) *http.Client {
	var out http.Client
	if c != nil {
		out = *c
	} else {
		out.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	if _, wrapped := out.Transport.(locationAside); !wrapped {
		out.Transport = locationAside{base: out.Transport}
	}
	out.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &out
}

// locationAside moves a 3xx answer's Location header to unfollowedLocation.
type locationAside struct{ base http.RoundTripper }

func (t locationAside) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	res, err := base.RoundTrip(req)
	if err != nil || res == nil {
		return res, err
	}
	// A header of that name from the server itself is dropped: only this code sets it.
	res.Header.Del(unfollowedLocation)
	res.Body = &cappedBody{ReadCloser: res.Body, left: MaxAnswer}
	if isRedirect(res.StatusCode) {
		if loc, ok := res.Header["Location"]; ok {
			res.Header[unfollowedLocation] = loc
			res.Header.Del("Location")
		}
	}
	return res, nil
}

func isRedirect(status int) bool { return status >= 300 && status <= 399 }

// RedirectError is a 3xx answer that was not followed.
type RedirectError struct {
	Status int
	// Origin is scheme://host[:port] of the Location header, resolved against the
	// request: never its path or query, which may carry tokens. Empty when the answer
	// had no Location or one that could not be read.
	Origin string
	// Unreadable is true when the answer had a Location that could not be read as a URL
	// with a host.
	Unreadable bool
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("answered %d %s %s, which was not followed", e.Status, http.StatusText(e.Status), e.Target())
}

// Target says where the redirect pointed, as far as it may be shown: "to <origin>",
// "to an unreadable Location" or "without a Location".
func (e *RedirectError) Target() string {
	switch {
	case e.Origin != "":
		return "to " + e.Origin
	case e.Unreadable:
		return "to an unreadable Location"
	}
	return "without a Location"
}

// RetryableError tells the AWS SDK's retryer not to try again: the answer will not change.
func (e *RedirectError) RetryableError() bool { return false }

// Redirect returns a *RedirectError when res is a 3xx answer, nil otherwise.
func Redirect(res *http.Response) *RedirectError {
	if !isRedirect(res.StatusCode) {
		return nil
	}
	loc := res.Header.Get(unfollowedLocation)
	if loc == "" {
		loc = res.Header.Get("Location") // an answer that did not come through NoRedirects
	}
	if loc == "" {
		return &RedirectError{Status: res.StatusCode}
	}
	o := origin(res.Request, loc)
	return &RedirectError{Status: res.StatusCode, Origin: o, Unreadable: o == ""}
}

// origin is scheme://host[:port] of loc resolved against req, or "" when loc cannot be
// read as a URL with a scheme and a host.
func origin(req *http.Request, loc string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return ""
	}
	if req != nil && req.URL != nil {
		u = req.URL.ResolveReference(u)
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

// MaxAnswer bounds the body of every answer read through a client of this package
// (after decompression): no answer of SORACOM, STS, IAM or the OIDC token service comes
// near it, and a server or proxy that sends more (or never stops) cannot fill memory.
// The SORACOM client reads less still (see soracom's maxAnswer).
const MaxAnswer = 16 << 20

// ErrAnswerTooLarge is the error a body read past MaxAnswer returns.
var ErrAnswerTooLarge = errors.New("the answer is larger than 16 MiB, more than any API call of the action answers")

// cappedBody is a body that fails once more than left bytes would be read.
type cappedBody struct {
	io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// At the cap: the body may end right here, or hold more.
		var one [1]byte
		if n, err := b.ReadCloser.Read(one[:]); n == 0 && err != nil {
			return 0, err
		}
		return 0, ErrAnswerTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}
