package httpclient_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/httpclient"
)

// A redirect is described by its target's origin only: no userinfo, path, query or
// fragment, which may carry credentials.
func TestRedirectNamesOnlyTheOrigin(t *testing.T) {
	req := &http.Request{URL: &url.URL{Scheme: "https", Host: "api.soracom.io", Path: "/v1/auth"}}
	tests := []struct {
		status   int
		location string
		origin   string
	}{
		{308, "http://127.0.0.2:8080/v1/auth?token=secret-123#frag", "http://127.0.0.2:8080"},
		{302, "https://user:pa55word@evil.example/x", "https://evil.example"},
		{301, "/elsewhere?k=secret-123", "https://api.soracom.io"},
		{307, "//other.example:444/p", "https://other.example:444"},
		{303, "", ""},
		{300, "http://[::1", ""},
	}
	for _, tt := range tests {
		res := &http.Response{StatusCode: tt.status, Header: http.Header{"Location": {tt.location}}, Request: req}
		e := httpclient.Redirect(res)
		if e == nil || e.Status != tt.status || e.Origin != tt.origin {
			t.Errorf("Redirect(%d %q) = %+v, want origin %q", tt.status, tt.location, e, tt.origin)
			continue
		}
		for _, never := range []string{"secret-123", "pa55word", "user", "elsewhere", "frag"} {
			if strings.Contains(e.Error(), never) {
				t.Errorf("%q shows %q", e.Error(), never)
			}
		}
	}
	for _, status := range []int{200, 204, 400, 404, 500} {
		if e := httpclient.Redirect(&http.Response{StatusCode: status, Header: http.Header{"Location": {"http://x/"}}}); e != nil {
			t.Errorf("Redirect(%d) = %v, want nil", status, e)
		}
	}
}

// Go's http.Client parses a 3xx answer's Location before it asks the redirect policy,
// so an unparsable Location must never reach it: the answer comes back as itself, once,
// and the error says where it pointed without quoting the Location.
func TestUnreadableLocationIsTheAnswerNotATransportError(t *testing.T) {
	const querySecret = "QUERYSECRETVALUE"
	tests := []struct {
		location string
		target   string
	}{
		{"http://[x]:y/v1/auth?sig=" + querySecret, "to an unreadable Location"},
		{"http://[x](y)/?sig=" + querySecret, "to an unreadable Location"},
		{"http://%zz/?sig=" + querySecret, "to an unreadable Location"},
		{"", "without a Location"},
		{"http://127.0.0.2:81/x?sig=" + querySecret, "to http://127.0.0.2:81"},
	}
	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%d %s", status, tt.location), func(t *testing.T) {
				var hits atomic.Int32
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					hits.Add(1)
					if tt.location != "" {
						w.Header()["Location"] = []string{tt.location}
					}
					w.WriteHeader(status)
				}))
				defer srv.Close()
				checkRefusedThrough(t, httpclient.NoRedirects(srv.Client()), srv.URL, status, tt.target, querySecret)
				if hits.Load() != 2 {
					t.Errorf("server got %d requests, want 2 (one per send, none followed or retried)", hits.Load())
				}
			})
		}
	}
}

// checkRefusedThrough sends a POST with a body (as /v1/auth is) through c directly and
// through Refusing, and checks both report the redirect itself.
func checkRefusedThrough(t *testing.T, c *http.Client, url string, status int, target, never string) {
	t.Helper()
	res, err := c.Post(url+"/v1/auth", "application/json", strings.NewReader(`{"k":"v"}`))
	if err != nil {
		t.Fatalf("client error instead of the answer: %v", err)
	}
	res.Body.Close()
	e := httpclient.Redirect(res)
	if e == nil || e.Status != status {
		t.Fatalf("Redirect = %+v, want status %d", e, status)
	}
	if !strings.Contains(e.Error(), target) || strings.Contains(e.Error(), never) {
		t.Errorf("error %q, want it to say %q and not show the query", e.Error(), target)
	}
	req, _ := http.NewRequest(http.MethodGet, url+"/", nil)
	_, err = httpclient.Refusing{Client: c}.Do(req)
	var re *httpclient.RedirectError
	if !errors.As(err, &re) || re.Status != status || re.RetryableError() {
		t.Errorf("Refusing: err = %v, want a RedirectError %d that is not retryable", err, status)
	}
}

// A server cannot pass a Location of its choosing through the header the Location is
// moved to, nor hide a redirect's target by sending it there itself.
func TestServerCannotSetTheAsideHeader(t *testing.T) {
	tests := []struct {
		status int
		header http.Header
		want   string
	}{
		{302, http.Header{"X-Soracom-Action-Unfollowed-Location": {"https://forged.example/"}}, "without a Location"},
		{302, http.Header{"X-Soracom-Action-Unfollowed-Location": {"https://forged.example/"}, "Location": {"https://real.example/p"}}, "to https://real.example"},
	}
	for _, tt := range tests {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			for k, v := range tt.header {
				w.Header()[k] = v
			}
			w.WriteHeader(tt.status)
		}))
		res, err := httpclient.NoRedirects(srv.Client()).Get(srv.URL)
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if e := httpclient.Redirect(res); e == nil || e.Target() != tt.want {
			t.Errorf("Redirect = %v, want %q", e, tt.want)
		}
	}
}

// Wrapping a client twice keeps the Location: the outer wrapper must not drop what the
// inner one moved aside.
func TestNoRedirectsTwice(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Location", "https://elsewhere.example/x")
		w.WriteHeader(http.StatusFound)
	}))
	defer srv.Close()
	res, err := httpclient.NoRedirects(httpclient.NoRedirects(srv.Client())).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if e := httpclient.Redirect(res); e == nil || e.Origin != "https://elsewhere.example" {
		t.Errorf("Redirect = %v", e)
	}
}

// An answer is read up to httpclient.MaxAnswer bytes: one exactly that long reads
// whole, a longer one (or one that never ends) fails instead of filling memory.
func TestAnswersAreReadUpToTheCap(t *testing.T) {
	for _, tt := range []struct {
		name string
		size int64 // -1: never ends
		ok   bool
	}{{"at the cap", httpclient.MaxAnswer, true}, {"a byte over", httpclient.MaxAnswer + 1, false}, {"endless", -1, false}} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(answerOf(tt.size))
			defer srv.Close()
			res, err := httpclient.NoRedirects(nil).Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			n, err := io.Copy(io.Discard, res.Body)
			if tt.ok && (err != nil || n != tt.size) || !tt.ok && !errors.Is(err, httpclient.ErrAnswerTooLarge) {
				t.Errorf("read %d bytes, %v", n, err)
			}
		})
	}
}

// answerOf answers size bytes (-1: without end).
func answerOf(size int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("x", 64<<10))
		for sent := int64(0); size < 0 || sent < size; sent += int64(len(chunk)) {
			if size >= 0 && size-sent < int64(len(chunk)) {
				chunk = chunk[:size-sent]
			}
			if _, err := w.Write(chunk); err != nil || r.Context().Err() != nil {
				return
			}
		}
	}
}

func TestAnswerInDoubt(t *testing.T) {
	tests := []struct {
		method  string
		status  int
		retried bool
		want    bool
	}{
		{http.MethodGet, 502, true, false}, // a read changes nothing
		{http.MethodPut, 200, false, true}, // a success whose answer could not be read
		{http.MethodPut, 400, false, false},
		{http.MethodPut, 403, false, false},
		{http.MethodPut, 400, true, true}, // an earlier attempt's outcome was lost
		{http.MethodPost, 408, false, true},
		{http.MethodPost, 429, false, false},
		{http.MethodDelete, 500, false, true},
		{http.MethodPut, 503, false, true},
	}
	for _, tt := range tests {
		if got := httpclient.AnswerInDoubt(tt.method, tt.status, tt.retried); got != tt.want {
			t.Errorf("AnswerInDoubt(%s, %d, retried %v) = %v, want %v", tt.method, tt.status, tt.retried, got, tt.want)
		}
	}
}
