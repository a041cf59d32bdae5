package main

// Acceptance scenarios for issue 2 (registration), written from the issue text.

import (
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

func accExisting(s *soracomtest.Server, id string) {
	s.PutCredentialSet(soracomtest.CredentialSet{ID: id, Type: "aws-credentials", Credentials: map[string]any{"accessKeyId": "AKIAOLDKEY0000000001", "secretAccessKey": "old-secret-value"}})
}

func accOK(t *testing.T, r runResult) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s", r.code, r.stdout)
	}
}

// ---- outputs / results -------------------------------------------------------------

func TestAcceptanceOutputsAndResultsFields(t *testing.T) {
	t.Parallel()
	s, in := registration(t, map[string]string{"credential-id": "a\nb\nc", "if-exists": "skip"})
	accExisting(s, "b")
	r := runAction(t, runOpts{inputs: in, secrets: e2eSecrets})
	accOK(t, r)
	if r.outputs["operation"] != "mixed" || r.outputs["credential-id"] != "a" || r.outputs["operator-id"] != soracomtest.DefaultOperatorID {
		t.Errorf("outputs %v", r.outputs)
	}
	var raw []map[string]any
	if err := json.Unmarshal([]byte(r.outputs["results"]), &raw); err != nil {
		t.Fatal(err)
	}
	wantOps := []string{"created", "skipped", "created"}
	if len(raw) != 3 {
		t.Fatalf("results %v", raw)
	}
	for i, x := range raw {
		for _, f := range []string{"credentialId", "type", "operation", "updatedAt"} {
			if _, ok := x[f]; !ok {
				t.Errorf("results[%d] lacks %s: %v", i, f, x)
			}
		}
		if x["operation"] != wantOps[i] || x["type"] != "aws-credentials" {
			t.Errorf("results[%d] = %v", i, x)
		}
		if ts, _ := x["updatedAt"].(string); ts != "" {
			if _, err := time.Parse(time.RFC3339, ts); err != nil {
				t.Errorf("updatedAt %q not RFC 3339", ts)
			}
		}
	}
	// summary table: every set, type, operation, time
	for _, id := range []string{"a", "b", "c"} {
		if !strings.Contains(r.summary, "| `"+id+"` | aws-credentials |") {
			t.Errorf("summary lacks row for %s:\n%s", id, r.summary)
		}
	}
	if strings.Contains(r.summary, e2eAWSSecret) || strings.Contains(r.summary, e2eKeySecret) {
		t.Errorf("summary has a secret")
	}
}

func TestAcceptanceAllSameOperationsNotMixed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		existing       []string
		ifExists, want string
	}{
		{[]string{"a", "b"}, "update", "updated"},
		{nil, "update", "created"},
		{[]string{"a", "b"}, "skip", "skipped"},
	} {
		s, in := registration(t, map[string]string{"credential-id": "a\nb", "if-exists": tc.ifExists})
		for _, id := range tc.existing {
			accExisting(s, id)
		}
		r := runAction(t, runOpts{inputs: in, secrets: e2eSecrets})
		accOK(t, r)
		if r.outputs["operation"] != tc.want {
			t.Errorf("%s/%v: operation %q want %q", tc.ifExists, tc.existing, r.outputs["operation"], tc.want)
		}
	}
}

func TestAcceptanceOutputsPrintedWithoutGITHUB_OUTPUT(t *testing.T) {
	t.Parallel()
	_, in := registration(t, nil)
	r := runAction(t, runOpts{inputs: in, noGitHub: true, env: map[string]string{"GITHUB_ACTIONS": ""}})
	accOK(t, r)
	for _, want := range []string{"output credential-id=funnel-aws", "output operation=created", "output results=[", "output operator-id=" + soracomtest.DefaultOperatorID, "output aws-access-key-id=" + e2eAWSKeyID} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	if strings.Contains(r.stdout, "::add-mask::") {
		t.Errorf("outside GitHub an ::add-mask:: command was printed")
	}
	for _, sec := range e2eSecrets {
		if strings.Contains(r.stdout, sec) {
			t.Errorf("secret printed outside GitHub")
		}
	}
}

// ---- booleans ----------------------------------------------------------------------

func TestAcceptanceBooleansYAML12(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"true", "True", "TRUE", "false", "False", "FALSE"} {
		s, in := registration(t, map[string]string{"dry-run": v, "verify-aws-key": "FALSE"})
		r := runAction(t, runOpts{inputs: in, secrets: e2eSecrets})
		accOK(t, r)
		dry := strings.EqualFold(v, "true")
		if _, stored := s.CredentialSet("funnel-aws"); stored == dry {
			t.Errorf("dry-run=%s: stored=%v", v, stored)
		}
		if dry && r.outputs["operation"] != "planned" {
			t.Errorf("dry-run=%s: operation %q", v, r.outputs["operation"])
		}
	}
	for _, v := range []string{"yes", "1", "on", "tRUE", "no"} {
		s, in := registration(t, map[string]string{"dry-run": v})
		r := runAction(t, runOpts{inputs: in, secrets: e2eSecrets})
		if r.code != 1 || len(s.Requests()) != 0 || !strings.Contains(oneError(t, r), "dry-run") {
			t.Errorf("dry-run=%q accepted (exit %d)", v, r.code)
		}
	}
}

// ---- validation --------------------------------------------------------------------

func TestAcceptanceValidationEveryProblemAtOnce(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 101)
	cases := []struct {
		name    string
		changes map[string]string
		env     map[string]string
		want    []string
	}{
		{"missing required", map[string]string{"credential-id": "", "soracom-auth-key-id": "", "soracom-auth-key": ""}, nil,
			[]string{"credential-id", "soracom-auth-key-id", "soracom-auth-key"}},
		{"coverage + if-exists + bad id + long id", map[string]string{"soracom-coverage-type": "us", "if-exists": "replace", "credential-id": "ok\nbad/id\n" + long}, nil,
			[]string{"soracom-coverage-type", "if-exists", "bad/id", "100"}},
		{"only key id", map[string]string{"aws-secret-access-key": ""}, nil, []string{"aws-secret-access-key"}},
		{"only secret", map[string]string{"aws-access-key-id": ""}, nil, []string{"aws-access-key-id"}},
		{"malformed key id", map[string]string{"aws-access-key-id": "akia-lower"}, nil, []string{"aws-access-key-id"}},
		{"credentials array", map[string]string{"aws-access-key-id": "", "aws-secret-access-key": "", "credentials": `["x"]`}, nil, []string{"credentials", "object"}},
		{"credentials not json", map[string]string{"aws-access-key-id": "", "aws-secret-access-key": "", "credentials": `nope`}, nil, []string{"credentials"}},
		{"keys and credentials", map[string]string{"credentials": `{"accessKeyId":"AKIAE2ETESTKEY000002","secretAccessKey":"abcdefSecretQA"}`}, nil, []string{"credentials", "aws-access-key-id"}},
		{"http to non-loopback", map[string]string{"soracom-endpoint": "http://api.example.com"}, nil, []string{"soracom-endpoint", "https"}},
		{"http via SORACOM_ENDPOINT", map[string]string{"soracom-endpoint": ""}, map[string]string{"SORACOM_ENDPOINT": "http://10.1.2.3:8080"}, []string{"SORACOM_ENDPOINT"}},
		{"many at once", map[string]string{"soracom-coverage-type": "eu", "if-exists": "x", "credential-id": "a b", "soracom-endpoint": "http://example.org", "aws-access-key-id": "bad"}, nil,
			[]string{"5 invalid inputs", "soracom-coverage-type", "if-exists", "credential-id", "soracom-endpoint", "aws-access-key-id"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, in := registration(t, tc.changes)
			var secs []string
			if in["soracom-auth-key"] != "" {
				secs = []string{e2eKeySecret}
			}
			r := runAction(t, runOpts{inputs: in, env: tc.env, secrets: secs})
			if r.code != 1 {
				t.Fatalf("exit %d", r.code)
			}
			msg := oneError(t, r)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
			if n := len(s.Requests()); n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}
}

func TestAcceptanceValidationAccepts(t *testing.T) {
	t.Parallel()
	id100 := strings.Repeat("a", 100)
	for _, tc := range []struct {
		name    string
		changes func(s *soracomtest.Server) map[string]string
		env     func(s *soracomtest.Server) map[string]string
	}{
		{"id of 100 chars with . _ -", func(*soracomtest.Server) map[string]string {
			return map[string]string{"credential-id": id100[:97] + "._-"}
		}, nil},
		{"localhost endpoint", func(s *soracomtest.Server) map[string]string {
			return map[string]string{"soracom-endpoint": strings.Replace(s.URL(), "127.0.0.1", "localhost", 1)}
		}, nil},
		{"SORACOM_ENDPOINT env", func(*soracomtest.Server) map[string]string { return map[string]string{"soracom-endpoint": ""} },
			func(s *soracomtest.Server) map[string]string { return map[string]string{"SORACOM_ENDPOINT": s.URL()} }},
		{"endpoint with /v1", func(s *soracomtest.Server) map[string]string {
			return map[string]string{"soracom-endpoint": s.URL() + "/v1"}
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, in := registration(t, nil)
			for k, v := range tc.changes(s) {
				in[k] = v
			}
			var env map[string]string
			if tc.env != nil {
				env = tc.env(s)
			}
			r := runAction(t, runOpts{inputs: in, env: env, secrets: e2eSecrets})
			accOK(t, r)
		})
	}
}

// ---- masking -----------------------------------------------------------------------

func maskIndex(lines []string, v string) int {
	for i, l := range lines {
		if l == "::add-mask::"+v {
			return i
		}
	}
	return -1
}

func firstNonMask(lines []string) int {
	for i, l := range lines {
		if !strings.HasPrefix(l, "::add-mask::") {
			return i
		}
	}
	return len(lines)
}

func TestAcceptanceMaskingInputSecretsFirstAndSessionOnArrival(t *testing.T) {
	t.Parallel()
	creds := `{"username":"device-fleet","password":"line-one-PW-Secret\nline-two \"quoted\" \\ PW"}`
	s, in := registration(t, map[string]string{"credential-type": "username-password-credentials", "aws-access-key-id": "", "aws-secret-access-key": "", "credentials": creds},
		soracomtest.WithLoggedHeaders("X-Soracom-API-Key", "X-Soracom-Token"))
	r := runAction(t, runOpts{inputs: in, secrets: []string{e2eKeySecret, "line-one-PW-Secret\nline-two \"quoted\" \\ PW"}})
	accOK(t, r)
	lines := strings.Split(r.stdout, "\n")
	first := firstNonMask(lines)
	for _, v := range []string{e2eKeySecret, "line-one-PW-Secret", `line-two "quoted" \ PW`, `line-two \"quoted\" \\ PW`} {
		i := maskIndex(lines, v)
		if i < 0 || i > first {
			t.Errorf("mask of %q at line %d, first other line %d", v, i, first)
		}
	}
	if i := maskIndex(lines, "device-fleet"); i >= 0 {
		t.Errorf("non-secret username was masked")
	}
	// API key and token masked before "Authenticated" line, never printed otherwise
	var apiKey, token string
	for _, rq := range s.Requests() {
		if rq.Path == "/v1/credentials/funnel-aws" {
			apiKey, token = rq.Header.Get("X-Soracom-API-Key"), rq.Header.Get("X-Soracom-Token")
		}
	}
	if apiKey == "" || token == "" {
		t.Fatal("no session headers logged")
	}
	authLine := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "Authenticated to operator") {
			authLine = i
		}
	}
	for _, v := range []string{apiKey, token} {
		if i := maskIndex(lines, v); i < 0 || (authLine >= 0 && i > authLine) {
			t.Errorf("API key/token mask at %d, Authenticated line at %d", i, authLine)
		}
	}
	assertNoLeak(t, r, []string{apiKey, token})
}

func TestAcceptanceMaskingUnknownAndNestedCredentialValues(t *testing.T) {
	t.Parallel()
	// every string value of credentials except known non-secret fields is masked,
	// even one in an unknown field (which is also refused).
	creds := `{"accessKeyId":"AKIAE2ETESTKEY000003","secretAccessKey":"qa-secret-key-Value-123","sessionToken":"qa-unknown-field-Secret"}`
	s, in := registration(t, map[string]string{"aws-access-key-id": "", "aws-secret-access-key": "", "credentials": creds})
	r := runAction(t, runOpts{inputs: in, secrets: []string{e2eKeySecret, "qa-secret-key-Value-123", "qa-unknown-field-Secret"}})
	if r.code != 1 || len(s.Requests()) != 0 {
		t.Fatalf("exit %d, %d requests", r.code, len(s.Requests()))
	}
}

func TestAcceptanceMaskingInFailures(t *testing.T) {
	t.Parallel()
	// Server echoing the secret back in an error message.
	s, in := registration(t, nil)
	s.Inject("PUT /v1/credentials/*", soracomtest.Always, soracomtest.PlainTextFault(403, "denied for secret "+e2eAWSSecret+" and "+e2eKeySecret))
	r := runAction(t, runOpts{inputs: in, secrets: e2eSecrets})
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	msg := oneError(t, r)
	if !strings.Contains(msg, "403") || !strings.Contains(msg, "denied for secret") {
		t.Errorf("non-JSON body not shown: %s", msg)
	}
}

// ---- token lifetime / logout --------------------------------------------------------

func authTimeout(t *testing.T, s *soracomtest.Server) []int {
	var out []int
	for _, rq := range s.Requests() {
		if rq.Method == "POST" && rq.Path == "/v1/auth" {
			var b struct {
				TokenTimeoutSeconds *int `json:"tokenTimeoutSeconds"`
			}
			_ = json.Unmarshal(rq.Body, &b)
			if b.TokenTimeoutSeconds == nil {
				out = append(out, -1)
			} else {
				out = append(out, *b.TokenTimeoutSeconds)
			}
		}
	}
	return out
}

func TestAcceptanceTokenLifetimeAndLogout(t *testing.T) {
	t.Parallel()
	s, in := registration(t, nil)
	r := runAction(t, runOpts{inputs: in, secrets: e2eSecrets})
	accOK(t, r)
	if got := authTimeout(t, s); len(got) != 1 || got[0] != 180 {
		t.Errorf("tokenTimeoutSeconds = %v, want [180]", got)
	}
	if s.CountRequests("POST", "/v1/auth/logout") != 1 || s.LiveSessions() != 0 {
		t.Errorf("no logout on success")
	}
	// failure: if-exists fail on an existing set
	s2, in2 := registration(t, map[string]string{"if-exists": "fail"})
	accExisting(s2, "funnel-aws")
	r2 := runAction(t, runOpts{inputs: in2, secrets: e2eSecrets})
	if r2.code != 1 || s2.CountRequests("POST", "/v1/auth/logout") != 1 || s2.LiveSessions() != 0 {
		t.Errorf("no logout on failure: exit %d, %s", r2.code, requestLine(s2))
	}
}

func TestAcceptanceLogoutHasItsOwnShortDeadline(t *testing.T) {
	t.Parallel()
	s, in := registration(t, nil)
	s.Inject("POST /v1/auth/logout", soracomtest.Always, soracomtest.SlowFault(60*time.Second))
	start := time.Now()
	r := runAction(t, runOpts{inputs: in, secrets: e2eSecrets})
	el := time.Since(start)
	if r.code != 0 || r.outputs["operation"] != "created" {
		t.Errorf("exit %d op %q", r.code, r.outputs["operation"])
	}
	if el > 15*time.Second {
		t.Errorf("a hanging logout held the run %s", el)
	}
}

func TestAcceptanceSIGTERMDuringRetryWaitLogsOut(t *testing.T) {
	t.Parallel()
	s, in := registration(t, nil)
	// 429 asking for 300 s: must be capped at 60 s (logged), and cancellation logs out.
	s.Inject("PUT /v1/credentials/*", soracomtest.Always, soracomtest.TooManyRequests(300, true))
	start := time.Now()
	r := runAction(t, runOpts{inputs: in, secrets: e2eSecrets, start: func(cmd *exec.Cmd) {
		time.Sleep(3 * time.Second)
		_ = cmd.Process.Signal(syscall.SIGTERM)
	}})
	if time.Since(start) > 15*time.Second {
		t.Errorf("SIGTERM not honoured during a wait")
	}
	if r.code != 1 {
		t.Errorf("exit %d", r.code)
	}
	if !strings.Contains(r.stdout, "retrying in 1m0s") {
		t.Errorf("the 300 s wait was not capped at 60 s:\n%s", r.stdout)
	}
	if s.CountRequests("POST", "/v1/auth/logout") != 1 || s.LiveSessions() != 0 {
		t.Errorf("not logged out: %s", requestLine(s))
	}
}

// ---- round trips, undocumented answers ---------------------------------------------

func TestAcceptanceRoundTripsUnderEveryUndocumentedAnswer(t *testing.T) {
	t.Parallel()
	answers := []struct {
		name string
		opts []soracomtest.Option
	}{
		{"400/400", nil},
		{"409/404", []soracomtest.Option{
			soracomtest.WithCreateConflictAnswer(soracomtest.ErrorAnswer{Status: 409, Code: "CRD0409", Message: "exists"}),
			soracomtest.WithUpdateMissingAnswer(soracomtest.ErrorAnswer{Status: 404, Code: "CRD0404", Message: "missing"})}},
		{"409/400", []soracomtest.Option{soracomtest.WithCreateConflictAnswer(soracomtest.ErrorAnswer{Status: 409, Code: "X", Message: "x"})}},
		{"400/404", []soracomtest.Option{soracomtest.WithUpdateMissingAnswer(soracomtest.ErrorAnswer{Status: 404, Code: "X", Message: "x"})}},
	}
	for _, a := range answers {
		t.Run(a.name, func(t *testing.T) {
			// update, missing -> 4
			s, in := registration(t, nil, a.opts...)
			r := runAction(t, runOpts{inputs: in, secrets: e2eSecrets})
			accOK(t, r)
			if len(s.Requests()) != 4 || r.outputs["operation"] != "created" {
				t.Errorf("missing/update: %s op=%s", requestLine(s), r.outputs["operation"])
			}
			// update, existing -> 3
			s, in = registration(t, nil, a.opts...)
			accExisting(s, "funnel-aws")
			r = runAction(t, runOpts{inputs: in, secrets: e2eSecrets})
			accOK(t, r)
			if len(s.Requests()) != 3 || r.outputs["operation"] != "updated" {
				t.Errorf("existing/update: %s", requestLine(s))
			}
			// skip, existing -> auth, list, logout
			s, in = registration(t, map[string]string{"if-exists": "skip"}, a.opts...)
			accExisting(s, "funnel-aws")
			r = runAction(t, runOpts{inputs: in, secrets: e2eSecrets})
			accOK(t, r)
			if got := requestLine(s); got != "POST /v1/auth, GET /v1/credentials, POST /v1/auth/logout" || r.outputs["operation"] != "skipped" {
				t.Errorf("existing/skip: %s", got)
			}
			if set, _ := s.CredentialSet("funnel-aws"); set.Credentials["secretAccessKey"] != "old-secret-value" {
				t.Errorf("skip changed the set")
			}
			// fail, missing -> auth, list, post, logout
			s, in = registration(t, map[string]string{"if-exists": "fail"}, a.opts...)
			r = runAction(t, runOpts{inputs: in, secrets: e2eSecrets})
			accOK(t, r)
			if got := requestLine(s); got != "POST /v1/auth, GET /v1/credentials, POST /v1/credentials/funnel-aws, POST /v1/auth/logout" {
				t.Errorf("missing/fail: %s", got)
			}
		})
	}
}

// ---- retries -----------------------------------------------------------------------

func TestAcceptanceRetries(t *testing.T) {
	t.Parallel()
	retryAfterOnly := soracomtest.Fault{Status: 429, Header: http.Header{"Content-Type": {"application/json"}, "Retry-After": {"2"}}, Body: `{"code":"SEM0429","message":"Rate limit exceeded."}`}
	cases := []struct {
		name    string
		match   string
		times   int
		fault   soracomtest.Fault
		minWait time.Duration
		logSays string
	}{
		{"429 X-Soracom-Ratelimit-Seconds-Before-Refresh", "PUT /v1/credentials/*", 1, soracomtest.TooManyRequests(2, false), 2 * time.Second, "retrying in 2s"},
		{"429 Retry-After only", "PUT /v1/credentials/*", 1, retryAfterOnly, 2 * time.Second, "retrying in 2s"},
		{"429 on auth", "POST /v1/auth", 1, soracomtest.TooManyRequests(1, true), time.Second, ""},
		{"503 twice", "PUT /v1/credentials/*", 2, soracomtest.StatusFault(503), 0, ""},
		{"500 html", "PUT /v1/credentials/*", 1, soracomtest.HTMLFault(502), 0, ""},
		{"dropped connection", "PUT /v1/credentials/*", 1, soracomtest.DropBeforeHandling(), 0, ""},
		{"dropped auth", "POST /v1/auth", 1, soracomtest.DropBeforeHandling(), 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, in := registration(t, nil)
			accExisting(s, "funnel-aws")
			s.Inject(tc.match, tc.times, tc.fault)
			start := time.Now()
			r := runAction(t, runOpts{inputs: in, secrets: e2eSecrets})
			accOK(t, r)
			if r.outputs["operation"] != "updated" {
				t.Errorf("operation %q", r.outputs["operation"])
			}
			if el := time.Since(start); el < tc.minWait {
				t.Errorf("waited %s, server asked %s", el, tc.minWait)
			}
			if tc.logSays != "" && !strings.Contains(r.stdout, tc.logSays) {
				t.Errorf("log lacks %q:\n%s", tc.logSays, r.stdout)
			}
			if s.PendingFaults() != 0 {
				t.Errorf("fault not consumed")
			}
		})
	}
}

func TestAcceptanceRetriesAreBounded(t *testing.T) {
	t.Parallel()
	s, in := registration(t, nil)
	s.Inject("PUT /v1/credentials/*", soracomtest.Always, soracomtest.StatusFault(503))
	start := time.Now()
	r := runAction(t, runOpts{inputs: in, secrets: e2eSecrets})
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

func TestAcceptanceLostResponseCreate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, ifExists string
		fault          soracomtest.Fault
	}{
		{"update mode, dropped after handling", "update", soracomtest.DropAfterHandling()},
		{"update mode, 502 after handling", "update", soracomtest.Fault{AfterHandling: true, Status: 502, Header: http.Header{"Content-Type": {"text/html"}}, Body: "<html>502 Bad Gateway</html>"}},
		{"skip mode, dropped after handling", "skip", soracomtest.DropAfterHandling()},
		{"fail mode, dropped after handling", "fail", soracomtest.DropAfterHandling()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, in := registration(t, map[string]string{"if-exists": tc.ifExists})
			s.Inject("POST /v1/credentials/*", 1, tc.fault)
			r := runAction(t, runOpts{inputs: in, secrets: e2eSecrets})
			if r.code != 0 || r.outputs["operation"] != "created" {
				t.Errorf("exit %d operation %q: %s\n%s", r.code, r.outputs["operation"], requestLine(s), r.stdout)
			}
			if set, ok := s.CredentialSet("funnel-aws"); !ok || set.Credentials["secretAccessKey"] != e2eAWSSecret {
				t.Errorf("set not stored")
			}
		})
	}
}

// ---- errors ------------------------------------------------------------------------

func TestAcceptanceErrorTexts(t *testing.T) {
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
			accExisting(s, "funnel-aws")
			s.Inject("PUT /v1/credentials/*", 1, soracomtest.PlainTextFault(403, `{"code":"SEM0049","message":"no permission"}`))
		}, []string{"403", "SEM0049", "no permission", "Credential:updateCredential"}},
		{"401 auth unknown key id", map[string]string{"soracom-auth-key-id": "keyId-unknown00000"}, nil, []string{"401", "soracom-auth-key"}},
		{"400 write", nil, func(s *soracomtest.Server) {
			accExisting(s, "funnel-aws")
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
			r := runAction(t, runOpts{inputs: in, secrets: e2eSecrets})
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

func TestAcceptanceExtraSpurious401ReauthLeavesNoToken(t *testing.T) {
	t.Parallel()
	s, in := registration(t, nil)
	accExisting(s, "funnel-aws")
	s.Inject("PUT /v1/credentials/*", 1, soracomtest.Fault{Status: 401, Header: http.Header{"Content-Type": {"application/json"}}, Body: `{"code":"SEM0016","message":"Invalid API key or token."}`})
	r := runAction(t, runOpts{inputs: in, secrets: e2eSecrets})
	accOK(t, r)
	if r.outputs["operation"] != "updated" {
		t.Errorf("op %q", r.outputs["operation"])
	}
	if n := s.LiveSessions(); n != 0 {
		t.Errorf("%d API token(s) left alive after re-authentication: %s", n, requestLine(s))
	}
}

func TestAcceptanceExtraPercentSecretMaskCommand(t *testing.T) {
	t.Parallel()
	sec := "pct%0Asecret%25value-XYZ"
	_, in := registration(t, map[string]string{"aws-secret-access-key": sec})
	r := runAction(t, runOpts{inputs: in})
	accOK(t, r)
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(l, "::add-mask::pct") {
			// runner unescapes %25 → %, %0A → newline in command data
			un := strings.NewReplacer("%0A", "\n", "%0D", "\r", "%25", "%").Replace(strings.TrimPrefix(l, "::add-mask::"))
			if un != sec {
				t.Errorf("runner would mask %q, secret is %q", un, sec)
			}
			return
		}
	}
	t.Errorf("secret not masked:\n%s", r.stdout)
}
