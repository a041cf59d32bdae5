package e2e

// Failures: SORACOM's errors become one clear error that says what to change; 429, 5xx,
// dropped connections and a spurious 401 are retried within bounds.

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

func TestFailures(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(*soracomtest.Server, map[string]string)
		want   []string
		trips  string
		logout bool
	}{
		{
			name:  "a wrong AuthKey says to check it",
			setup: func(s *soracomtest.Server, in map[string]string) { in["soracom-auth-key"] = "secret-wrong-wrong-wrong" },
			want:  []string{"401", "SEM0015", "check soracom-auth-key-id and soracom-auth-key"},
			trips: "POST /v1/auth",
		},
		{
			name:   "a denied update names the SAM permission",
			setup:  func(s *soracomtest.Server, in map[string]string) { s.Deny("Credential:updateCredential") },
			want:   []string{"403", "Credential:updateCredential"},
			trips:  "POST /v1/auth, PUT /v1/credentials/funnel-aws, POST /v1/auth/logout",
			logout: true,
		},
		{
			name: "a rejected write points at the type and its fields",
			setup: func(s *soracomtest.Server, in map[string]string) {
				s.Inject("* /v1/credentials/*", soracomtest.Always, soracomtest.Fault{Status: 400, Header: map[string][]string{"Content-Type": {"text/plain"}}, Body: `{"code":"CRD0003","message":"Invalid credentials"}`})
			},
			want:   []string{"400", "CRD0003", "Invalid credentials", "credential-type"},
			trips:  "POST /v1/auth, PUT /v1/credentials/funnel-aws, POST /v1/credentials/funnel-aws, GET /v1/credentials, POST /v1/auth/logout",
			logout: true,
		},
		{
			name: "a proxy's HTML error page is shown as text",
			setup: func(s *soracomtest.Server, in map[string]string) {
				s.Inject("POST /v1/auth", 1, soracomtest.HTMLFault(403))
			},
			want:  []string{"403", "Forbidden"},
			trips: "POST /v1/auth",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, in := registration(t, nil)
			tt.setup(s, in)
			r := runAction(t, runOpts{inputs: in, secrets: []string{in["soracom-auth-key"], awsSecret}})
			if r.code != 1 {
				t.Fatalf("exit %d", r.code)
			}
			msg := oneError(t, r)
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not say %q:\n%s", w, msg)
				}
			}
			if got := requestLine(s); got != tt.trips {
				t.Errorf("round trips: %s\nwant:        %s", got, tt.trips)
			}
			if s.LiveSessions() != 0 {
				t.Errorf("a token was left alive")
			}
		})
	}
}

func TestErrorTexts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		changes map[string]string
		setup   func(*soracomtest.Server)
		want    []string
	}{
		{"403 create", nil, func(s *soracomtest.Server) { s.Deny(soracomtest.PermCreateCredential) }, []string{"403", "Credential:createCredential"}},
		{"403 list (skip)", map[string]string{"if-exists": "skip"}, func(s *soracomtest.Server) { s.Deny(soracomtest.PermListCredentials) }, []string{"403", "Credential:listCredentials"}},
		{"403 list (dry-run)", map[string]string{"dry-run": "true"}, func(s *soracomtest.Server) { s.Deny(soracomtest.PermListCredentials) }, []string{"403", "Credential:listCredentials"}},
		{"403 update (plain-text JSON body)", nil, func(s *soracomtest.Server) {
			putExistingSet(s, "funnel-aws")
			s.Inject("PUT /v1/credentials/*", 1, soracomtest.PlainTextFault(403, `{"code":"SEM0049","message":"no permission"}`))
		}, []string{"403", "SEM0049", "no permission", "Credential:updateCredential"}},
		{"401 auth unknown key id", map[string]string{"soracom-auth-key-id": "keyId-unknown00000"}, nil, []string{"401", "soracom-auth-key"}},
		{"400 write", nil, func(s *soracomtest.Server) {
			putExistingSet(s, "funnel-aws")
			s.Inject("PUT /v1/credentials/*", 1, soracomtest.Fault{Status: 400, Header: http.Header{"Content-Type": {"application/json"}}, Body: `{"code":"CRD0001","message":"bad field"}`})
		}, []string{"400", "CRD0001", "bad field", "credential-type", "credentials"}},
		{"non-JSON 500 body", nil, func(s *soracomtest.Server) {
			s.Inject("PUT /v1/credentials/*", soracomtest.Always, soracomtest.PlainTextFault(500, "upstream exploded"))
		}, []string{"500", "upstream exploded"}},
		{"empty body 404 on both writes", nil, func(s *soracomtest.Server) {
			s.Inject("* /v1/credentials/*", soracomtest.Always, soracomtest.Fault{Status: 404})
		}, []string{"404"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, in := registration(t, tc.changes)
			if tc.setup != nil {
				tc.setup(s)
			}
			r := runAction(t, runOpts{inputs: in, secrets: inputSecrets})
			if r.code != 1 {
				t.Fatalf("exit %d", r.code)
			}
			msg := oneError(t, r)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q: %s", w, msg)
				}
			}
			if s.LiveSessions() != 0 {
				t.Errorf("token left alive")
			}
			if !strings.Contains(r.summary, "CAUTION") {
				t.Errorf("summary lacks the failure:\n%s", r.summary)
			}
		})
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	retryAfterOnly := soracomtest.Fault{Status: 429, Header: http.Header{"Content-Type": {"application/json"}, "Retry-After": {"2"}}, Body: `{"code":"SEM0429","message":"Rate limit exceeded."}`}
	cases := []struct {
		name    string
		match   string
		times   int
		fault   soracomtest.Fault
		minWait time.Duration
		logSays []string
	}{
		{"429 X-Soracom-Ratelimit-Seconds-Before-Refresh", "PUT /v1/credentials/*", 1, soracomtest.TooManyRequests(2, false), 2 * time.Second, []string{"SORACOM updateCredential failed", "retrying in 2s"}},
		{"429 Retry-After only", "PUT /v1/credentials/*", 1, retryAfterOnly, 2 * time.Second, []string{"retrying in 2s"}},
		{"429 on auth", "POST /v1/auth", 1, soracomtest.TooManyRequests(1, true), time.Second, nil},
		{"503 twice", "PUT /v1/credentials/*", 2, soracomtest.StatusFault(503), 0, nil},
		{"500 html", "PUT /v1/credentials/*", 1, soracomtest.HTMLFault(502), 0, nil},
		{"dropped connection", "PUT /v1/credentials/*", 1, soracomtest.DropBeforeHandling(), 0, nil},
		{"dropped auth", "POST /v1/auth", 1, soracomtest.DropBeforeHandling(), 0, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, in := registration(t, nil)
			putExistingSet(s, "funnel-aws")
			s.Inject(tc.match, tc.times, tc.fault)
			start := time.Now()
			r := runAction(t, runOpts{inputs: in, secrets: inputSecrets})
			mustSucceed(t, r)
			if r.outputs["operation"] != "updated" {
				t.Errorf("operation %q", r.outputs["operation"])
			}
			if el := time.Since(start); el < tc.minWait {
				t.Errorf("waited %s, server asked %s", el, tc.minWait)
			}
			for _, says := range tc.logSays {
				if !strings.Contains(r.stdout, says) {
					t.Errorf("log lacks %q:\n%s", says, r.stdout)
				}
			}
			if s.PendingFaults() != 0 {
				t.Errorf("fault not consumed")
			}
		})
	}
}

func TestRetriesAreBounded(t *testing.T) {
	t.Parallel()
	s, in := registration(t, nil)
	s.Inject("PUT /v1/credentials/*", soracomtest.Always, soracomtest.StatusFault(503))
	start := time.Now()
	r := runAction(t, runOpts{inputs: in, secrets: inputSecrets})
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	if el := time.Since(start); el > 2*time.Minute+10*time.Second {
		t.Errorf("gave up after %s", el)
	}
	n := s.CountRequests("PUT", "/v1/credentials/")
	if n < 2 || n > 10 {
		t.Errorf("%d PUT attempts", n)
	}
	msg := oneError(t, r)
	if !strings.Contains(msg, "503") {
		t.Errorf("error: %s", msg)
	}
	if s.LiveSessions() != 0 {
		t.Errorf("token left")
	}
}

func TestSpurious401ReauthLeavesNoToken(t *testing.T) {
	t.Parallel()
	s, in := registration(t, nil)
	putExistingSet(s, "funnel-aws")
	s.Inject("PUT /v1/credentials/*", 1, soracomtest.Fault{Status: 401, Header: http.Header{"Content-Type": {"application/json"}}, Body: `{"code":"SEM0016","message":"Invalid API key or token."}`})
	r := runAction(t, runOpts{inputs: in, secrets: inputSecrets})
	mustSucceed(t, r)
	if r.outputs["operation"] != "updated" {
		t.Errorf("op %q", r.outputs["operation"])
	}
	if n := s.LiveSessions(); n != 0 {
		t.Errorf("%d API token(s) left alive after re-authentication: %s", n, requestLine(s))
	}
}
