package action_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/action"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracom"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// shortBounds are the default bounds scaled down, so that black holes cost seconds.
func shortBounds() soracom.Retry {
	r := soracom.DefaultRetry()
	r.InitialInterval, r.MaxInterval = time.Millisecond, 5*time.Millisecond
	r.AttemptTimeout, r.Deadline = 200*time.Millisecond, time.Second
	return r
}

// runWith runs the action like world.run, with extra variables set after the world's
// (an endpoint moved elsewhere, say) and the given bounds. A run that outlives every
// bound by far fails the test instead of hanging it.
func (w *world) runWith(t *testing.T, retry soracom.Retry, extra map[string]string) outcome {
	t.Helper()
	dir := t.TempDir()
	env := map[string]string{"GITHUB_OUTPUT": filepath.Join(dir, "out"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary")}
	for _, m := range []map[string]string{w.acct.Env(), w.oidc.Env()} {
		for k, v := range m {
			env[k] = v
		}
	}
	for k, v := range w.inputs {
		env[inputs.EnvName(k)] = v
	}
	for k, v := range extra {
		env[k] = v
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	var stdout bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- action.Run(context.Background(), action.Env{Getenv: os.Getenv, Stdout: &stdout, Retry: retry, KeyWait: time.Second})
	}()
	var code int
	select {
	case code = <-done:
	case <-time.After(time.Minute):
		t.Fatal("the run hung past every bound")
	}
	summary, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	outputs, _ := os.ReadFile(env["GITHUB_OUTPUT"])
	return outcome{code: code, stdout: stdout.String(), summary: string(summary), outputs: string(outputs)}
}

// listenBlackHole accepts connections and never answers.
func listenBlackHole(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan net.Conn, 100)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(conns)
				return
			}
			conns <- c
		}
	}()
	t.Cleanup(func() {
		l.Close()
		for c := range conns {
			c.Close()
		}
	})
	return "http://" + l.Addr().String()
}

// A black-hole endpoint (accepts, never answers) for any AWS or OIDC call ends a
// rotation with one ::error:: naming the call, exit code 1, nothing changed, and no
// SORACOM token left alive.
func TestRotationBlackHoles(t *testing.T) {
	tests := []struct {
		name   string
		env    string // the variable that points at the endpoint
		path   string
		naming string
	}{
		{"OIDC token request", "ACTIONS_ID_TOKEN_REQUEST_URL", "/idtoken?api-version=2.0", "OIDC token"},
		{"STS", "AWS_ENDPOINT_URL_STS", "", "AssumeRoleWithWebIdentity"},
		{"IAM", "AWS_ENDPOINT_URL_IAM", "", "ListAccessKeys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			extra := map[string]string{tt.env: listenBlackHole(t) + tt.path}
			o := w.runWith(t, shortBounds(), extra)
			if o.code != 1 {
				t.Fatalf("exit code %d, want 1\n%s", o.code, o.stdout)
			}
			msg := errorLine(t, o)
			if !strings.Contains(msg, tt.naming) {
				t.Errorf("error does not name %s: %s", tt.naming, msg)
			}
			if strings.HasPrefix(tt.env, "AWS_") && !strings.Contains(msg, "network access to AWS") {
				t.Errorf("error does not say what to check: %s", msg)
			}
			if n := w.soracom.LiveSessions(); n != 0 {
				t.Errorf("%d SORACOM sessions left alive", n)
			}
			if got := w.setKey(t, "funnel-aws"); got != w.old.ID {
				t.Errorf("funnel-aws changed")
			}
			if keys := w.acct.Keys(user); len(keys) != 1 {
				t.Errorf("IAM has %d keys, want the old one only", len(keys))
			}
		})
	}
}

// A SORACOM redirect ends the run with the status and where it pointed in the error
// (the target's origin, never its path or query; an unreadable Location is called so,
// not quoted), sent once, exit code 1, and the token revoked at the original endpoint.
func TestRedirectsEndTheRunAndRevokeTheToken(t *testing.T) {
	const querySecret = "QUERYSECRETVALUE"
	tests := []struct {
		name, match, location, target string
	}{
		{"write to another host", "PUT /v1/credentials/*", "http://127.0.0.2:9/v1/credentials/x?token=" + querySecret, "to http://127.0.0.2:9"},
		{"write to an unreadable port", "PUT /v1/credentials/*", "http://[x]:y/v1/auth?sig=" + querySecret, "to an unreadable Location"},
		{"auth to an unreadable port", "POST /v1/auth", "http://[x]:y/v1/auth?sig=" + querySecret, "to an unreadable Location"},
		{"auth to an unreadable host", "POST /v1/auth", "http://[x](y)/?sig=" + querySecret, "to an unreadable Location"},
		{"list without a Location", "GET /v1/credentials", "", "without a Location"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := soracomtest.Start(t)
			s.AddAuthKey(authKeyID, authKey)
			seedSet(s, "set-1", "aws-credentials")
			h := http.Header{}
			if tt.location != "" {
				h.Set("Location", tt.location)
			}
			s.Inject(tt.match, soracomtest.Always, soracomtest.Fault{Status: http.StatusFound, Header: h})
			o, _ := registerRun(t, s, nil)
			if o.code != 1 {
				t.Fatalf("exit code %d, want 1\n%s", o.code, o.stdout)
			}
			checkRedirectReported(t, o, tt.target, querySecret)
			method, path, _ := strings.Cut(tt.match, " ")
			if n := s.CountRequests(method, strings.TrimSuffix(path, "*")); n != 1 {
				t.Errorf("%s sent %d times, want once (no retry, no follow)", tt.match, n)
			}
			if n := s.LiveSessions(); n != 0 {
				t.Errorf("%d SORACOM sessions left alive", n)
			}
		})
	}
}

// checkRedirectReported checks the run's one error names the 302 and its target, says
// why once, and shows nothing of the Location's path or query.
func checkRedirectReported(t *testing.T, o outcome, target, never string) {
	t.Helper()
	msg := errorLine(t, o)
	for _, want := range []string{"302 Found " + target, "not followed"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q: %s", want, msg)
		}
	}
	if strings.Contains(msg, "got no answer") || strings.Count(msg, "redirect") > 1 {
		t.Errorf("error reads the redirect as silence, or says why twice: %s", msg)
	}
	if strings.Contains(o.stdout+o.summary+o.outputs, never) {
		t.Error("the redirect's Location was printed")
	}
}

// registerRun runs a registration of aws-credentials against s, with more inputs.
func registerRun(t *testing.T, s *soracomtest.Server, more map[string]string) (outcome, []action.SetResult) {
	t.Helper()
	dir := t.TempDir()
	env := map[string]string{
		"GITHUB_OUTPUT": filepath.Join(dir, "out"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary"),
		inputs.EnvName(inputs.CredentialID): "set-1", inputs.EnvName(inputs.CredentialType): "aws-credentials",
		inputs.EnvName(inputs.AuthKeyID): authKeyID, inputs.EnvName(inputs.AuthKey): authKey,
		inputs.EnvName(inputs.Endpoint): s.URL(), inputs.EnvName(inputs.VerifyAWSKey): "false",
		inputs.EnvName(inputs.Credentials): `{"accessKeyId":"AKIAIOSFODNN7EXAMPLE","secretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}`,
	}
	for k, v := range more {
		env[inputs.EnvName(k)] = v
	}
	var stdout bytes.Buffer
	code := action.Run(context.Background(), action.Env{Getenv: func(k string) string { return env[k] }, Stdout: &stdout, Retry: shortBounds()})
	outputs, _ := os.ReadFile(env["GITHUB_OUTPUT"])
	summary, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	o := outcome{code: code, stdout: stdout.String(), summary: string(summary), outputs: string(outputs)}
	return o, resultsOf(t, o.outputs)
}

// resultsOf reads the results output from a GITHUB_OUTPUT file.
func resultsOf(t *testing.T, file string) []action.SetResult {
	t.Helper()
	_, rest, ok := strings.Cut(file, "results<<")
	if !ok {
		return nil
	}
	delim, rest, _ := strings.Cut(rest, "\n")
	value, _, _ := strings.Cut(rest, "\n"+delim)
	var res []action.SetResult
	if err := json.Unmarshal([]byte(value), &res); err != nil {
		t.Fatalf("results output %q: %v", value, err)
	}
	return res
}

func seedSet(s *soracomtest.Server, id, typ string) {
	s.PutCredentialSet(soracomtest.CredentialSet{ID: id, Type: typ, Description: "stored", Credentials: map[string]any{"username": "u", "password": "p"}})
}

// A write whose answer never came may have landed: the set is reported unknown in the
// results and the summary, never "not changed", and the error says so.
func TestUnansweredWriteIsReportedUnknown(t *testing.T) {
	tests := []struct {
		name  string
		fault soracomtest.Fault
	}{
		{"answer lost after the write", soracomtest.DropAfterHandling()},
		{"no answer before the deadline", soracomtest.SlowFault(time.Hour)},
		{"gateway error after the write", soracomtest.Fault{AfterHandling: true, Status: http.StatusBadGateway}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := soracomtest.Start(t)
			s.AddAuthKey(authKeyID, authKey)
			for _, id := range []string{"set-1", "set-2", "set-3"} {
				seedSet(s, id, "aws-credentials")
			}
			s.Inject("PUT /v1/credentials/set-2", soracomtest.Always, tt.fault)
			// One write at a time, so that set-3 is certainly not written once set-2
			// failed; with more in flight it may be (see the parallel test below).
			o, results := registerRun(t, s, map[string]string{inputs.CredentialID: "set-1\nset-2\nset-3", inputs.MaxParallel: "1"})
			if o.code != 1 {
				t.Fatalf("exit %d\n%s", o.code, o.stdout)
			}
			checkSet2Unknown(t, o, results)
			if n := s.LiveSessions(); n != 0 {
				t.Errorf("%d sessions left alive", n)
			}
		})
	}
}

// With writes in parallel a failure does not stop the writes already in flight: the
// results still come in input order, and each set is reported as what it holds.
func TestParallelWritesReportWhatEachSetHolds(t *testing.T) {
	s := soracomtest.Start(t, soracomtest.WithLatency(10*time.Millisecond))
	s.AddAuthKey(authKeyID, authKey)
	ids := []string{"set-1", "set-2", "set-3", "set-4", "set-5", "set-6", "set-7", "set-8"}
	for _, id := range ids {
		seedSet(s, id, "aws-credentials")
	}
	s.Inject("PUT /v1/credentials/set-2", soracomtest.Always, soracomtest.DropAfterHandling())
	o, results := registerRun(t, s, map[string]string{inputs.CredentialID: strings.Join(ids, "\n"), inputs.MaxParallel: "3"})
	if o.code != 1 {
		t.Fatalf("exit %d\n%s", o.code, o.stdout)
	}
	var order []string
	for _, r := range results {
		order = append(order, r.CredentialID)
		checkReportedAsHeld(t, s, r.CredentialID, r.Operation)
	}
	if !slices.IsSorted(order) || !slices.Contains(order, "set-2") {
		t.Errorf("results %v: want input order, set-2 among them", order)
	}
	for _, id := range ids {
		if !slices.Contains(order, id) {
			checkReportedAsHeld(t, s, id, "not changed")
			if !strings.Contains(o.summary, "| `"+id+"` | aws-credentials | **not changed**") {
				t.Errorf("the summary does not say %s was not changed:\n%s", id, o.summary)
			}
		}
	}
}

// checkReportedAsHeld checks that what a run reported of a set is what it holds: the
// new key when updated, the stored one when not changed, either when unknown.
func checkReportedAsHeld(t *testing.T, s *soracomtest.Server, id, op string) {
	t.Helper()
	set, _ := s.CredentialSet(id)
	written := set.Credentials["accessKeyId"] == "AKIAIOSFODNN7EXAMPLE"
	switch {
	case op == "unknown":
	case op == "updated" && !written, op == "not changed" && written, op != "updated" && op != "not changed":
		t.Errorf("%s reported %s, written %v", id, op, written)
	}
}

// checkSet2Unknown checks a run over set-1, set-2 and set-3 whose write to set-2 is in
// doubt: set-1 updated, set-2 unknown (results, summary, error), set-3 not changed.
func checkSet2Unknown(t *testing.T, o outcome, results []action.SetResult) {
	t.Helper()
	got := map[string]string{}
	for _, r := range results {
		got[r.CredentialID] = r.Operation
	}
	if got["set-1"] != "updated" || got["set-2"] != "unknown" || got["set-3"] != "" {
		t.Errorf("results = %v, want set-1 updated, set-2 unknown, set-3 absent", got)
	}
	msg := errorLine(t, o)
	if !strings.Contains(msg, "set-2 was changed is unknown") || !strings.Contains(msg, "not changed: set-3") {
		t.Errorf("error does not say which set is in doubt: %s", msg)
	}
	if !strings.Contains(o.summary, "| `set-2`") {
		t.Errorf("summary has no row for set-2:\n%s", o.summary)
	}
	for _, line := range strings.Split(o.summary, "\n") {
		if strings.HasPrefix(line, "| `set-2`") && (!strings.Contains(line, "unknown") || strings.Contains(line, "not changed")) {
			t.Errorf("summary row of set-2 does not say unknown: %s", line)
		}
	}
}

// A skipped set keeps what it holds, so it is reported with its stored type.
func TestSkippedSetIsReportedWithItsStoredType(t *testing.T) {
	s := soracomtest.Start(t)
	s.AddAuthKey(authKeyID, authKey)
	seedSet(s, "set-1", "username-password-credentials")
	o, results := registerRun(t, s, map[string]string{inputs.IfExists: "skip"})
	if o.code != 0 {
		t.Fatalf("exit %d\n%s", o.code, o.stdout)
	}
	if len(results) != 1 || results[0].Operation != "skipped" || results[0].Type != "username-password-credentials" {
		t.Errorf("results = %+v, want set-1 skipped with its stored type", results)
	}
}

// A server time far out of range is unknown, never printed.
func TestImplausibleServerTimesAreNotPrinted(t *testing.T) {
	far := time.Date(-283457, 3, 21, 15, 0, 59, 0, time.UTC)
	s := soracomtest.Start(t, soracomtest.WithClock(func() time.Time { return far }))
	s.AddAuthKey(authKeyID, authKey)
	o, results := registerRun(t, s, nil)
	if o.code != 0 {
		t.Fatalf("exit %d\n%s", o.code, o.stdout)
	}
	if len(results) != 1 || results[0].UpdatedAt != "" {
		t.Errorf("results = %+v, want no updatedAt", results)
	}
	if all := o.stdout + o.summary + o.outputs; strings.Contains(all, "283457") {
		t.Errorf("the far time was printed:\n%s", all)
	}
}

// The description input: empty keeps each set's stored description (one list more),
// "-" clears it, a value replaces it. The round trips are counted with auth and logout.
func TestDescriptionIsKeptUnlessGiven(t *testing.T) {
	tests := []struct {
		name, input string
		exists      bool
		want        string
		trips       []string
	}{
		{"empty keeps the stored description", "", true, "from the console",
			[]string{"POST /v1/auth", "GET /v1/credentials", "PUT /v1/credentials/set-1", "POST /v1/auth/logout"}},
		{"a value replaces it", "rotated by CI", true, "rotated by CI",
			[]string{"POST /v1/auth", "PUT /v1/credentials/set-1", "POST /v1/auth/logout"}},
		{"- clears it", "-", true, "",
			[]string{"POST /v1/auth", "PUT /v1/credentials/set-1", "POST /v1/auth/logout"}},
		{"empty on a new set writes none", "", false, "",
			[]string{"POST /v1/auth", "GET /v1/credentials", "POST /v1/credentials/set-1", "POST /v1/auth/logout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := soracomtest.Start(t)
			s.AddAuthKey(authKeyID, authKey)
			if tt.exists {
				s.PutCredentialSet(soracomtest.CredentialSet{ID: "set-1", Type: "aws-credentials", Description: "from the console",
					Credentials: map[string]any{"accessKeyId": "AKIAOLDOLDOLDOLDOLD1", "secretAccessKey": "old"}})
			}
			o, _ := registerRun(t, s, map[string]string{inputs.Description: tt.input})
			if o.code != 0 {
				t.Fatalf("exit %d\n%s", o.code, o.stdout)
			}
			set, _ := s.CredentialSet("set-1")
			if set.Description != tt.want {
				t.Errorf("description = %q, want %q", set.Description, tt.want)
			}
			if set.Credentials["accessKeyId"] != "AKIAIOSFODNN7EXAMPLE" {
				t.Errorf("credentials not written")
			}
			var trips []string
			for _, r := range s.Requests() {
				trips = append(trips, r.Method+" "+r.Path)
			}
			if strings.Join(trips, ", ") != strings.Join(tt.trips, ", ") {
				t.Errorf("round trips %q, want %q", trips, tt.trips)
			}
		})
	}
}

// Server text reaches the log and the summary through the choke point: a body that
// echoes the request shows no part of a secret however it is cut, and a huge message
// does not flood the log or the summary, retries included.
func TestHostileErrorBodies(t *testing.T) {
	const secretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	echo := `{"type":"aws-credentials","credentials":{"accessKeyId":"AKIAIOSFODNN7EXAMPLE","secretAccessKey":"` + secretKey + `"}}`
	tests := []struct {
		name  string
		fault soracomtest.Fault
	}{
		{"text body echoing the request", soracomtest.Fault{Status: 400, Header: http.Header{"Content-Type": {"text/plain"}},
			Body: strings.Repeat("pad ", 40) + echo}},
		{"html body echoing the request", soracomtest.Fault{Status: 400, Header: http.Header{"Content-Type": {"text/html"}},
			Body: "<html><body><pre>" + strings.ReplaceAll(echo, "/", "&#x2F;") + "</pre></body></html>"}},
		{"json message echoing the secret", soracomtest.Fault{Status: 400, Header: http.Header{"Content-Type": {"application/json"}},
			Body: `{"code":"X","message":"bad secretAccessKey ` + strings.ReplaceAll(secretKey, "/", `\/`) + `"}`}},
		{"3 MB message on every retry", soracomtest.Fault{Status: 500, Header: http.Header{"Content-Type": {"application/json"}},
			Body: `{"code":"X","message":"` + strings.Repeat("a", 3<<20) + `"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := soracomtest.Start(t)
			s.AddAuthKey(authKeyID, authKey)
			seedSet(s, "set-1", "aws-credentials")
			s.Inject("* /v1/credentials/*", soracomtest.Always, tt.fault)
			o, _ := registerRun(t, s, nil)
			if o.code != 1 {
				t.Fatalf("exit %d", o.code)
			}
			all := o.stdout + o.summary + o.outputs
			for i := 0; i+8 <= len(secretKey); i++ {
				if part := secretKey[i : i+8]; strings.Contains(strings.ReplaceAll(all, "::add-mask::"+secretKey, ""), part) {
					t.Fatalf("%q of the secret was printed", part)
				}
			}
			if len(o.stdout) > 64<<10 || len(o.summary) > 64<<10 {
				t.Errorf("log %d bytes, summary %d bytes: server text was not capped", len(o.stdout), len(o.summary))
			}
		})
	}
}

// A logout that gets no answer is given up at its own 5 s bound, and the warning says
// that bound, not the two minutes of an ordinary call.
func TestUnansweredLogoutNamesItsOwnBound(t *testing.T) {
	s := soracomtest.Start(t)
	s.AddAuthKey(authKeyID, authKey)
	s.Inject("POST /v1/auth/logout", soracomtest.Always, soracomtest.SlowFault(time.Hour))
	retry := shortBounds()
	retry.AttemptTimeout, retry.Deadline = time.Minute, 2*time.Minute
	dir := t.TempDir()
	env := map[string]string{
		"GITHUB_OUTPUT": filepath.Join(dir, "out"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary"),
		inputs.EnvName(inputs.CredentialID): "set-1", inputs.EnvName(inputs.AuthKeyID): authKeyID,
		inputs.EnvName(inputs.AuthKey): authKey, inputs.EnvName(inputs.Endpoint): s.URL(),
		inputs.EnvName(inputs.VerifyAWSKey): "false", inputs.EnvName(inputs.Description): "-",
		inputs.EnvName(inputs.Credentials): `{"accessKeyId":"AKIAIOSFODNN7EXAMPLE","secretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}`,
	}
	var stdout bytes.Buffer
	code := action.Run(context.Background(), action.Env{Getenv: func(k string) string { return env[k] }, Stdout: &stdout, Retry: retry})
	if code != 0 {
		t.Fatalf("exit %d: the set was stored, a failed logout only warns\n%s", code, stdout.String())
	}
	var warning string
	for _, l := range strings.Split(stdout.String(), "\n") {
		if strings.HasPrefix(l, "::warning") && strings.Contains(l, "revoke") {
			warning = l
		}
	}
	if !strings.Contains(warning, "gave up after 5s") || strings.Contains(warning, "2m0s") {
		t.Errorf("logout warning does not name its 5 s bound: %q", warning)
	}
}

// A logout answered with a redirect is the API misbehaving like any other 3xx: the run
// fails (exit 1, an ::error:: saying the token may stay valid until it expires, and a
// CAUTION in the summary), though the set was stored. A logout that fails otherwise only
// warns.
// checkRedirectedLogoutError checks the error of a run whose logout was answered with
// the redirect status: it says the token may stay valid and until when, names the
// status, and neither it nor the summary quotes the redirect's query.
func checkRedirectedLogoutError(t *testing.T, o outcome, status string) {
	t.Helper()
	msg := errorLine(t, o)
	for _, want := range []string{"could not revoke the SORACOM API token", "may stay valid until it expires at", "issued for 3m0s", status + " "} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q: %s", want, msg)
		}
	}
	if strings.HasPrefix(msg, ";") || !strings.Contains(o.summary, "CAUTION") || strings.Contains(o.stdout+o.summary, "QUERYSECRETVALUE") {
		t.Errorf("error %q or summary wrong:\n%s", msg, o.summary)
	}
}

func TestRedirectedLogoutFailsTheRun(t *testing.T) {
	tests := []struct {
		name  string
		fault soracomtest.Fault
		code  int
	}{
		{"301", soracomtest.Fault{Status: 301, Header: http.Header{"Location": {"https://127.0.0.2/v1/auth/logout?t=QUERYSECRETVALUE"}}}, 1},
		{"302", soracomtest.Fault{Status: 302, Header: http.Header{"Location": {"http://[x]:y/?t=QUERYSECRETVALUE"}}}, 1},
		{"307", soracomtest.Fault{Status: 307, Header: http.Header{"Location": {"/v1/elsewhere?t=QUERYSECRETVALUE"}}}, 1},
		{"308", soracomtest.Fault{Status: 308, Header: http.Header{"Location": {"http://127.0.0.2:9/?t=QUERYSECRETVALUE"}}}, 1},
		{"500 warns", soracomtest.Fault{Status: 500}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := soracomtest.Start(t)
			s.AddAuthKey(authKeyID, authKey)
			seedSet(s, "set-1", "aws-credentials")
			s.Inject("POST /v1/auth/logout", soracomtest.Always, tt.fault)
			o, results := registerRun(t, s, nil)
			if o.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s", o.code, tt.code, o.stdout)
			}
			if len(results) != 1 || results[0].Operation != "updated" {
				t.Errorf("results %+v: the stored set is still reported", results)
			}
			if tt.code == 0 {
				if strings.Contains(o.stdout, "::error") || !strings.Contains(o.stdout, "::warning::could not revoke") {
					t.Errorf("a failed logout other than a redirect only warns:\n%s", o.stdout)
				}
				return
			}
			checkRedirectedLogoutError(t, o, tt.name)
		})
	}
}

// A forged operatorId from /v1/auth, or a forged set in the list answer, ends the run
// before anything is written: exit 1, one ::error:: naming what was refused, a CAUTION
// in the summary, no operator-id output, no write, and the token revoked.
func TestForgedServerValuesStopTheRunBeforeAnyWrite(t *testing.T) {
	tests := []struct {
		name, operator, listedID, listedType, want string
	}{
		{"operatorId with markdown and a command", "OPevil [x](http://e.test) ::error::FORGED", "", "", "operatorId"},
		{"operatorId with a trailing space", "OP0099887766 ", "", "", "operatorId"},
		{"operatorId as a path", "../../etc", "", "", "operatorId"},
		{"operatorId with a line break", "OP0012345678\n::stop-commands::x", "", "", "operatorId"},
		{"a listed type with a line break", "", "set-9", "psk\n::error::forged", "listCredentials"},
		{"a listed id as a path", "", "../../etc", "psk", "listCredentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []soracomtest.Option
			if tt.operator != "" {
				opts = append(opts, soracomtest.WithOperatorID(tt.operator))
			}
			s := soracomtest.Start(t, opts...)
			s.AddAuthKey(authKeyID, authKey)
			seedSet(s, "set-1", "aws-credentials")
			if tt.listedID != "" {
				s.PutCredentialSet(soracomtest.CredentialSet{ID: tt.listedID, Type: tt.listedType, Credentials: map[string]any{"key": "k"}})
			}
			o, _ := registerRun(t, s, nil) // description empty: the stored one is kept, so the list comes first
			if o.code != 1 {
				t.Fatalf("exit %d, want 1\n%s", o.code, o.stdout)
			}
			checkRefusedBeforeWrite(t, s, o, tt.want)
			if tt.operator != "" && strings.Contains(o.outputs, "operator-id") {
				t.Errorf("operator-id output written: %s", o.outputs)
			}
		})
	}
}

// checkRefusedBeforeWrite checks a run stopped on a refused server value: nothing
// written, the token revoked, and the failure in the error and the summary.
func checkRefusedBeforeWrite(t *testing.T, s *soracomtest.Server, o outcome, want string) {
	t.Helper()
	msg := errorLine(t, o)
	if !strings.Contains(msg, want) || strings.HasPrefix(msg, ";") || strings.Contains(msg, "\n") {
		t.Errorf("error does not name %s, or is malformed: %q", want, msg)
	}
	if n := s.CountRequests(http.MethodPut, "/v1/credentials/") + s.CountRequests(http.MethodPost, "/v1/credentials/"); n != 0 {
		t.Errorf("%d writes sent", n)
	}
	if strings.Contains(o.outputs, "forged") || strings.Contains(o.outputs, "FORGED") || strings.Contains(o.outputs, "etc") {
		t.Errorf("a refused value reached the outputs: %s", o.outputs)
	}
	if !strings.Contains(o.summary, "CAUTION") || strings.Contains(o.summary, "| updated") {
		t.Errorf("summary does not show the failure:\n%s", o.summary)
	}
	if n := s.LiveSessions(); n != 0 {
		t.Errorf("%d SORACOM sessions left alive", n)
	}
}

// An output that is still refused at the end (here the operator id, which shares 8
// characters with the AuthKey secret and so is not free of it) fails the run, and the
// summary says so in its CAUTION block instead of reading as a success; the error does
// not start with a stray separator.
func TestRefusedOutputShowsInTheSummary(t *testing.T) {
	const sharing = "secret-Zq8v0012345678W3xK"
	s := soracomtest.Start(t)
	s.AddAuthKey(authKeyID, sharing)
	o, results := registerRun(t, s, map[string]string{inputs.AuthKey: sharing})
	if o.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", o.code, o.stdout)
	}
	if len(results) != 1 || results[0].Operation != "created" {
		t.Errorf("results %+v: the stored set is still reported", results)
	}
	msg := errorLine(t, o)
	if !strings.HasPrefix(msg, "writing outputs: ") || !strings.Contains(msg, "operator-id") {
		t.Errorf("error: %q", msg)
	}
	caution, _, _ := strings.Cut(o.summary, "|")
	if !strings.Contains(caution, "CAUTION") || !strings.Contains(caution, "operator-id") {
		t.Errorf("summary does not show the refused output:\n%s", o.summary)
	}
	if strings.Contains(o.outputs, "12345678") {
		t.Errorf("the refused value was written: %s", o.outputs)
	}
}
