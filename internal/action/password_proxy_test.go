package action_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// startEchoingProxy starts a proxy in front of s that passes every request on but the
// ones that carry a password: it answers those itself with an error whose body echoes
// the password it read from the request, as echo writes it.
func startEchoingProxy(t *testing.T, s *soracomtest.Server, echo func(pw string) (contentType, body string)) string {
	t.Helper()
	target, err := url.Parse(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	forward := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req struct {
			Credentials struct {
				Password string `json:"password"`
			} `json:"credentials"`
		}
		if json.Unmarshal(body, &req) != nil || req.Credentials.Password == "" {
			r.Body = io.NopCloser(bytes.NewReader(body))
			forward.ServeHTTP(w, r)
			return
		}
		contentType, echoed := echo(req.Credentials.Password)
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, echoed)
	}))
	t.Cleanup(proxy.Close)
	return proxy.URL
}

// splitEvery writes s in lines of n bytes.
func splitEvery(s string, n int) string {
	var lines []string
	for len(s) > n {
		lines = append(lines, s[:n])
		s = s[n:]
	}
	return strings.Join(append(lines, s), "\n")
}

// Passwords of lower-case letters (the middle of which reads like words and was once
// printed), with "<" and "&" mixed in, echoed by a hostile proxy in an error body in
// every way a server writes text: none of their runs of 8 characters reaches the log,
// an annotation, an output or the summary, in any form, on GitHub or elsewhere (where
// the summary is printed as plain text, its references decoded).
func TestLowerCasePasswordsEchoedByAHostileProxyAreNeverPrinted(t *testing.T) {
	passwords := []string{"correcthorsebatterystaple", "correct<horse&battery<staple", "tr&ub<adorhorse&amp;batterystaple"}
	page := func(body string) (string, string) {
		return "text/html; charset=utf-8", "<html><body><p>" + body + "</p></body></html>"
	}
	jsonMessage := func(message string) (string, string) {
		b, _ := json.Marshal(map[string]string{"code": "SEM0005", "message": message})
		return "application/json", string(b)
	}
	echoes := []struct {
		name string
		echo func(pw string) (string, string)
	}{
		{"raw in a page", func(pw string) (string, string) { return page("bad password " + pw) }},
		{"entity-encoded", func(pw string) (string, string) { return page("bad password " + html.EscapeString(pw)) }},
		{"entity-encoded twice", func(pw string) (string, string) { return page(html.EscapeString(html.EscapeString(pw))) }},
		{"every character a numeric reference", func(pw string) (string, string) {
			return jsonMessage("bad " + numericReferences(pw, false))
		}},
		{"partially encoded", func(pw string) (string, string) {
			return page(strings.NewReplacer("<", "&lt;", "o", "&#111;", "e", "&#x65;").Replace(pw))
		}},
		{"JSON-escaped", func(pw string) (string, string) { return jsonMessage("bad password " + pw) }},
		{"JSON-escaped in a text body", func(pw string) (string, string) {
			b, _ := json.Marshal(pw)
			return "text/plain", "echo " + string(b)
		}},
		{"URL-encoded", func(pw string) (string, string) { return jsonMessage("q=" + url.QueryEscape(pw)) }},
		{"URL-encoded, every e escaped too", func(pw string) (string, string) {
			return "text/plain", "/x?p=" + strings.ReplaceAll(url.PathEscape(pw), "e", "%65")
		}},
		{"split over lines", func(pw string) (string, string) { return "text/plain", "bad:\n" + splitEvery(pw, 10) }},
		{"split over lines in a page", func(pw string) (string, string) { return page(strings.ReplaceAll(splitEvery(pw, 9), "\n", "<br>\n")) }},
		{"cut at both ends", func(pw string) (string, string) { return jsonMessage("…" + pw[2:len(pw)-2] + "…") }},
	}
	for _, pw := range passwords {
		for _, e := range echoes {
			for _, onGitHub := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s, %s (on GitHub: %v)", pw, e.name, onGitHub), func(t *testing.T) {
					s := soracomtest.Start(t)
					s.AddAuthKey(chokeAuthKeyID, chokeAuthKey)
					in := map[string]string{
						inputs.CredentialID: "set-1", inputs.AuthKeyID: chokeAuthKeyID, inputs.AuthKey: chokeAuthKey,
						inputs.Endpoint: startEchoingProxy(t, s, e.echo), inputs.CredentialType: "username-password-credentials",
						inputs.Credentials: mustJSON(map[string]string{"username": "dev", "password": pw}),
					}
					o := chokeRun(t, in, onGitHub)
					if o.code != 1 || !strings.Contains(o.stdout, "400 Bad Request") {
						t.Fatalf("exit %d, want 1 with the server's error:\n%s", o.code, o.stdout)
					}
					if !strings.Contains(o.stdout+o.summary, "set-1") {
						t.Errorf("the run does not name the set:\n%s", o.stdout)
					}
					checkNoPartOfSecret(t, o, pw)
				})
			}
		}
	}
}
