package e2e

// Hostile or broken servers through the built action: nothing is followed, nothing
// stray is printed.

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// A redirect from SORACOM is never followed, whatever its kind: the AuthKey would go
// with it. The run fails at once naming the status and the target's origin, never its
// path or query; a Location that cannot be read is called so, not quoted nor retried.
func TestSORACOMRedirectIsNotFollowed(t *testing.T) {
	var hits atomic.Int32
	thief := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(thief.Close)
	locations := []struct{ location, target string }{
		{thief.URL + "/v1/auth?token=querysecret-0123456789", "to " + thief.URL},
		{"http://[x]:y/v1/auth?sig=querysecret-0123456789", "to an unreadable Location"},
		{"http://[x](y)/?sig=querysecret-0123456789", "to an unreadable Location"},
	}
	for _, status := range []int{301, 302, 303, 307, 308} {
		for i, loc := range locations {
			t.Run(fmt.Sprintf("%s/%d", http.StatusText(status), i), func(t *testing.T) {
				t.Parallel()
				s, in := registration(t, nil)
				s.Inject("POST /v1/auth", soracomtest.Always, soracomtest.Fault{Status: status,
					Header: http.Header{"Location": {loc.location}}})
				r := runAction(t, runOpts{inputs: in, secrets: inputSecrets})
				if r.code != 1 {
					t.Fatalf("exit %d", r.code)
				}
				checkContains(t, "error", oneError(t, r), fmt.Sprintf("%d %s %s", status, http.StatusText(status), loc.target))
				if strings.Contains(r.everything(), "querysecret") {
					t.Error("the redirect's query was printed")
				}
				if n := s.CountRequests("POST", "/v1/auth"); n != 1 {
					t.Errorf("/v1/auth sent %d times, want once", n)
				}
			})
		}
	}
	t.Cleanup(func() { // after every parallel subtest
		if hits.Load() != 0 {
			t.Errorf("the redirect target got %d requests", hits.Load())
		}
	})
}

// Without AWS credentials the SDK would warn on stderr about falling back to IMDSv1
// when the metadata service refuses tokens; the action reports the problem itself and
// stderr stays empty.
func TestRotationWithoutCredentialsPrintsNothingOnStderr(t *testing.T) {
	imds := httptest.NewServer(http.NotFoundHandler())
	defer imds.Close()
	w := newRotationWorld(t)
	w.inputs["role-to-assume"] = ""
	w.inputs["dry-run"] = "true"
	delete(w.env, "ACTIONS_ID_TOKEN_REQUEST_URL") // no OIDC: the job's own credentials, of which there are none
	delete(w.env, "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	w.env["AWS_EC2_METADATA_DISABLED"] = "false"
	w.env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.URL
	r := w.run(t)
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	if msg := oneError(t, r); !strings.Contains(msg, "no AWS credentials found") {
		t.Errorf("error: %s", msg)
	}
	if r.stderr != "" {
		t.Errorf("stderr: %s", r.stderr)
	}
}

// A forged operatorId from /v1/auth stops the built action before anything is written:
// exit 1, one error naming the field, nothing stored, no operator-id output, the failure
// in the summary, the token revoked, and no command of the server's in the log.
func TestForgedOperatorIDStopsTheRun(t *testing.T) {
	for _, operator := range []string{
		"OPevil [x](http://e.test) ::error::FORGED",
		"OP0099887766 ",
		"../../etc",
		"OP0012345678\n::error::FORGED",
	} {
		t.Run(operator, func(t *testing.T) {
			t.Parallel()
			s, in := registration(t, nil, soracomtest.WithOperatorID(operator))
			r := runAction(t, runOpts{inputs: in, secrets: inputSecrets})
			if r.code != 1 {
				t.Fatalf("exit %d", r.code)
			}
			checkStoppedBeforeWrite(t, s, r)
		})
	}
}

// checkStoppedBeforeWrite checks a run stopped on a forged operatorId: one error naming
// it, no write, no operator-id output, the failure in the summary, the token revoked,
// and no forged command in the log.
func checkStoppedBeforeWrite(t *testing.T, s *soracomtest.Server, r runResult) {
	t.Helper()
	if msg := oneError(t, r); !strings.Contains(msg, "operatorId") {
		t.Errorf("error does not name operatorId: %s", msg)
	}
	if n := s.CountRequests("PUT", "/v1/credentials/") + s.CountRequests("POST", "/v1/credentials/"); n != 0 {
		t.Errorf("%d writes sent", n)
	}
	if _, ok := r.outputs["operator-id"]; ok || !strings.Contains(r.summary, "CAUTION") {
		t.Errorf("operator-id output written, or the summary hides the failure:\n%s", r.summary)
	}
	if n := s.LiveSessions(); n != 0 {
		t.Errorf("%d sessions left alive", n)
	}
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "::error::FORGED") {
			t.Errorf("forged command in the log: %q", l)
		}
	}
}
