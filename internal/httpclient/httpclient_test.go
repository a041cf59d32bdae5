package httpclient_test

import (
	"net/http"
	"net/url"
	"strings"
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
