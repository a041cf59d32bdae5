package action_test

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/untrusted"
)

// numericReferences writes every character of s as an HTML numeric reference, decimal
// or hexadecimal: an encoding no list of a secret's forms holds.
func numericReferences(s string, hex bool) string {
	var b strings.Builder
	for _, r := range s {
		if hex {
			fmt.Fprintf(&b, "&#x%X;", r)
		} else {
			fmt.Fprintf(&b, "&#%d;", r)
		}
	}
	return b.String()
}

func htmlFault(page string) soracomtest.Fault {
	return soracomtest.Fault{Status: 400, Header: http.Header{"Content-Type": {"text/html; charset=utf-8"}}, Body: page}
}

// A server error body that holds a password in any encoding (raw with character
// references in it, which the client decodes; every character a numeric reference;
// escaped twice; tags inside) never shows 8 characters of the password, in any form,
// in the log, the annotations, the summary or the outputs.
func TestEntityEncodedPasswordInAnErrorBodyIsNeverPrinted(t *testing.T) {
	tests := []struct {
		name, password string
		fault          func(pw string) soracomtest.Fault
	}{
		{"a page that echoes a password holding references, which the client decodes", "Tr0ub4dor&amp;3&lt;horse-battery",
			func(pw string) soracomtest.Fault { return htmlFault("<p>bad password " + pw + "</p>") }},
		{"a page that echoes a password holding tags and references", "s<b>ecr</b>et&quot;Zq8vW3xK9pL2&#33;mN7r",
			func(pw string) soracomtest.Fault { return htmlFault("<html><body>password=" + pw + "</body></html>") }},
		{"a JSON message with every character a decimal reference", `Xk9#<mq&2zP!vL7@wR4$tY8"`,
			func(pw string) soracomtest.Fault {
				return jsonError(400, "SEM0005", "bad "+numericReferences(pw, false))
			}},
		{"a JSON message with some characters hexadecimal references", `Xk9#<mq&2zP!vL7@wR4$tY8"`,
			func(pw string) soracomtest.Fault {
				return jsonError(400, "SEM0005", "bad "+strings.NewReplacer("<", "&#x3c;", "&", "&#X26;", "!", "&excl;").Replace(pw))
			}},
		{"a page that escapes a password twice", `pa ss  "w<o>rd"&more/+?-Zq8`,
			func(pw string) soracomtest.Fault {
				return htmlFault("<pre>" + html.EscapeString(html.EscapeString(pw)) + "</pre>")
			}},
		{"a text body with the password URL-encoded inside a JSON string", `pa ss  "w<o>rd"&more/+?-Zq8`,
			func(pw string) soracomtest.Fault {
				b, _ := json.Marshal("q=" + url.QueryEscape(pw))
				return soracomtest.PlainTextFault(400, "echo "+string(b))
			}},
	}
	for _, tt := range tests {
		for _, onGitHub := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s (on GitHub: %v)", tt.name, onGitHub), func(t *testing.T) {
				s := soracomtest.Start(t)
				s.AddAuthKey(chokeAuthKeyID, chokeAuthKey)
				s.Inject("* /v1/credentials/*", soracomtest.Always, tt.fault(tt.password))
				in := map[string]string{
					inputs.CredentialID: "set-1", inputs.AuthKeyID: chokeAuthKeyID, inputs.AuthKey: chokeAuthKey,
					inputs.Endpoint: s.URL(), inputs.CredentialType: "username-password-credentials",
					inputs.Credentials: mustJSON(map[string]string{"username": "dev", "password": tt.password}),
				}
				o := chokeRun(t, in, onGitHub)
				if o.code != 1 || !strings.Contains(o.stdout, "400 Bad Request") {
					t.Fatalf("exit %d, want 1 with the server's error:\n%s", o.code, o.stdout)
				}
				checkNoPartOfSecret(t, o, tt.password)
			})
		}
	}
}

// checkNoPartOfSecret: no 8 consecutive bytes (that are untrusted.Telling) of the secret, of its HTML-escaped,
// HTML-decoded, URL-encoded or JSON-escaped form, or of it whitespace-collapsed, in the
// log (add-mask lines aside, command data unescaped), the summary or the outputs, nor
// in any of them with their character references decoded (as a reader sees them).
func checkNoPartOfSecret(t *testing.T, o outcome, secret string) {
	t.Helper()
	jsonForm, _ := json.Marshal(secret)
	forms := []string{secret, html.EscapeString(secret), html.UnescapeString(secret), url.QueryEscape(secret),
		url.PathEscape(secret), string(jsonForm[1 : len(jsonForm)-1]), strings.Join(strings.Fields(secret), " ")}
	var log strings.Builder
	for _, line := range strings.Split(o.stdout, "\n") {
		if !strings.HasPrefix(line, "::add-mask::") {
			log.WriteString(unescapeCommandData.Replace(line) + "\n")
		}
	}
	texts := map[string]string{}
	for where, text := range map[string]string{"log": log.String(), "summary": o.summary, "outputs": o.outputs} {
		texts[where], texts[where+" (references decoded)"] = text, html.UnescapeString(text)
	}
	for where, text := range texts {
		for _, form := range forms {
			for i := 0; i+8 <= len(form); i++ {
				if part := form[i : i+8]; untrusted.Telling(part) && strings.Contains(text, part) {
					t.Errorf("the %s holds %q of the secret's form %q:\n%s", where, part, form, text)
					return
				}
			}
		}
	}
}
