package soracom_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracom"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// thief is a server a redirect points at; it counts what reaches it.
func thief(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// No call follows a redirect, whatever its kind and target: the request carries the
// AuthKey, the token or the credentials. The error names the status and the target's
// origin, never its path or query, and the token can still be revoked at the original
// endpoint.
func TestRedirectsAreNeverFollowed(t *testing.T) {
	const querySecret = "querysecret-0123456789"
	targets := []struct {
		name     string
		location func(s *soracomtest.Server, thief string) string
		origin   func(s *soracomtest.Server, thief string) string
	}{
		{"another port", func(_ *soracomtest.Server, th string) string { return th + "/v1/auth?token=" + querySecret },
			func(_ *soracomtest.Server, th string) string { return th }},
		{"plain http", func(s *soracomtest.Server, _ string) string {
			return strings.Replace(s.URL(), "https://", "http://", 1) + "/v1/x?k=" + querySecret
		}, func(s *soracomtest.Server, _ string) string {
			return strings.Replace(s.URL(), "https://", "http://", 1)
		}},
		{"same origin", func(*soracomtest.Server, string) string { return "/v1/elsewhere?k=" + querySecret },
			func(s *soracomtest.Server, _ string) string { return s.URL() }},
		// Go's client would fail on these before its redirect policy is asked.
		{"unreadable port", func(*soracomtest.Server, string) string { return "http://[x]:y/v1/auth?sig=" + querySecret },
			func(*soracomtest.Server, string) string { return "" }},
		{"unreadable host", func(*soracomtest.Server, string) string { return "http://[x](y)/?sig=" + querySecret },
			func(*soracomtest.Server, string) string { return "" }},
	}
	calls := []struct {
		name, match string
		run         func(*soracomtest.Server) error
	}{
		{"auth", "POST /v1/auth", func(s *soracomtest.Server) error {
			c := soracom.New(s.URL(), &maskLog{}, soracom.WithRetry(fastRetry()), soracom.WithHTTPClient(s.Client()))
			_, err := c.Auth(context.Background(), soracom.AuthKey{ID: keyID, Secret: secret.New(keySecret)}, 0)
			return err
		}},
		{"put", "PUT /v1/credentials/*", func(s *soracomtest.Server) error {
			sess := login(t, s, nil, soracom.WithHTTPClient(s.Client()))
			_, err := sess.StoreAll(context.Background(), []string{"set-1"}, content, soracom.Update, nil)
			if lerr := sess.Logout(context.Background()); lerr != nil {
				t.Errorf("logout at the original endpoint after the redirect: %v", lerr)
			}
			return err
		}},
		{"logout", "POST /v1/auth/logout", func(s *soracomtest.Server) error {
			return login(t, s, nil, soracom.WithHTTPClient(s.Client())).Logout(context.Background())
		}},
	}
	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, target := range targets {
			for _, call := range calls {
				t.Run(http.StatusText(status)+"/"+target.name+"/"+call.name, func(t *testing.T) {
					s := soracomtest.StartTLS(t)
					s.AddAuthKey(keyID, keySecret)
					seed(s, "set-1")
					th, hits := thief(t)
					s.Inject(call.match, 1, soracomtest.Fault{Status: status, Header: http.Header{"Location": {target.location(s, th.URL)}}})
					checkRefusedRedirect(t, call.run(s), status, target.origin(s, th.URL), querySecret)
					if hits.Load() != 0 {
						t.Errorf("the redirect target got %d requests", hits.Load())
					}
					checkSentOnceAndLoggedOut(t, s, call.match)
				})
			}
		}
	}
}

// checkSentOnceAndLoggedOut checks that the redirected call was neither retried nor
// followed, and that after a redirected write the token was revoked all the same.
func checkSentOnceAndLoggedOut(t *testing.T, s *soracomtest.Server, match string) {
	t.Helper()
	method, path, _ := strings.Cut(match, " ")
	if n := s.CountRequests(method, strings.TrimSuffix(path, "*")); n != 1 {
		t.Errorf("%s sent %d times, want once (no retry, no follow)", match, n)
	}
	if strings.HasPrefix(match, "PUT") && s.LiveSessions() != 0 {
		t.Errorf("%d sessions left alive", s.LiveSessions())
	}
}

// checkRefusedRedirect checks that err is the redirect refused: its status, its
// target's origin, and no part of the target's path or query.
func checkRefusedRedirect(t *testing.T, err error, status int, origin, querySecret string) {
	t.Helper()
	var apiErr *soracom.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != status {
		t.Fatalf("err = %v, want the %d as an API error", err, status)
	}
	if apiErr.Location != origin {
		t.Errorf("Location = %q, want %q", apiErr.Location, origin)
	}
	msg := err.Error()
	if strings.Contains(msg, querySecret) || strings.Contains(msg, "/v1/x") || strings.Contains(msg, "elsewhere") {
		t.Errorf("error shows the Location's path or query: %s", msg)
	}
	if !strings.Contains(msg, "not followed") {
		t.Errorf("error does not say the redirect was refused: %s", msg)
	}
	if origin == "" && !strings.Contains(msg, "to an unreadable Location") {
		t.Errorf("error does not say the Location was unreadable: %s", msg)
	}
}

// Error bodies reach the caller as the server sent them (HTML tags stripped, gzip
// inflated), neither cut nor whitespace-collapsed, so that redaction downstream sees
// every secret whole; only the read is bounded.
func TestErrorBodiesAreKeptWholeForRedaction(t *testing.T) {
	const password = "pass  word\twith  spaces-0123456789abcdef"
	echo := `{"echo":{"secretAccessKey":"` + strings.ReplaceAll(password, "\t", `\t`) + `"}}` // not SORACOM's error shape
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte("rejected: " + password))
	_ = zw.Close()
	tests := []struct {
		name  string
		fault soracomtest.Fault
		want  string
	}{
		{"json message", soracomtest.Fault{Status: 400, Header: http.Header{"Content-Type": {"text/plain"}},
			Body: `{"code":"X1","message":"bad value ` + strings.ReplaceAll(password, "\t", `\t`) + `"}`}, "bad value " + password},
		{"json echo", soracomtest.Fault{Status: 400, Header: http.Header{"Content-Type": {"application/json"}}, Body: echo}, echo},
		{"text", soracomtest.Fault{Status: 400, Header: http.Header{"Content-Type": {"text/plain"}},
			Body: strings.Repeat("x", 300) + " " + password}, strings.Repeat("x", 300) + " " + password},
		{"html", soracomtest.Fault{Status: 400, Header: http.Header{"Content-Type": {"text/html"}},
			Body: "<html><body><p>bad:<b>" + strings.ReplaceAll(password, "-", "&#45;") + "</b></p></body></html>"}, "bad:" + password},
		{"gzip", soracomtest.Fault{Status: 400, Header: http.Header{"Content-Type": {"text/plain"}, "Content-Encoding": {"gzip"}},
			Body: gz.String()}, "rejected: " + password},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := emulator(t)
			seed(s, "set-1")
			sess := login(t, s, nil)
			s.Inject("PUT /v1/credentials/*", soracomtest.Always, tt.fault)
			s.Inject("POST /v1/credentials/*", soracomtest.Always, tt.fault)
			_, err := sess.StoreAll(context.Background(), []string{"set-1"}, content, soracom.Update, nil)
			var apiErr *soracom.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v", err)
			}
			if apiErr.Message != tt.want {
				t.Errorf("message = %q\nwant      %q", apiErr.Message, tt.want)
			}
		})
	}
}

func TestHugeErrorBodiesAreReadOnlyUpToABound(t *testing.T) {
	s := emulator(t)
	seed(s, "set-1")
	sess := login(t, s, nil)
	huge := strings.Repeat("a", 3<<20)
	s.Inject("PUT /v1/credentials/*", soracomtest.Always, soracomtest.Fault{Status: 500, Header: http.Header{"Content-Type": {"application/json"}},
		Body: `{"code":"X","message":"` + huge + `"}`})
	_, err := sess.StoreAll(context.Background(), []string{"set-1"}, content, soracom.Update, nil)
	var apiErr *soracom.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 500 {
		t.Fatalf("err = %v", err)
	}
	if n := len(apiErr.Message); n > 64<<10 {
		t.Errorf("message is %d bytes, want at most 64 KiB", n)
	}
	if len(err.Error()) > 70<<10 {
		t.Errorf("error is %d bytes", len(err.Error()))
	}
}

// A call cut short by its caller's deadline (the logout's 5 s) says that bound, not
// the retry policy's two minutes.
func TestGivingUpNamesTheBoundThatStoppedTheCall(t *testing.T) {
	s := emulator(t)
	r := fastRetry()
	r.AttemptTimeout = time.Minute
	sess := login(t, s, nil, soracom.WithRetry(r))
	s.Inject("POST /v1/auth/logout", soracomtest.Always, soracomtest.SlowFault(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := sess.Logout(ctx)
	var netErr *soracom.NetworkError
	if !errors.As(err, &netErr) {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), "gave up after 2s") {
		t.Errorf("error does not name the 2 s bound: %v", err)
	}
}

// A write is in doubt when it may have been applied: sent without an answer, or
// answered with a 5xx; never when the connection could not even be made.
func TestWriteInDoubt(t *testing.T) {
	tests := []struct {
		name  string
		fault *soracomtest.Fault
		down  bool
		want  bool
	}{
		{"answer lost", &soracomtest.Fault{AfterHandling: true, Drop: true}, false, true},
		{"request dropped unanswered", &soracomtest.Fault{Drop: true}, false, true},
		{"no answer in time", &soracomtest.Fault{Delay: time.Hour}, false, true},
		{"502 from a gateway", &soracomtest.Fault{Status: 502}, false, true},
		{"400 rejection", &soracomtest.Fault{Status: 400, Header: http.Header{"Content-Type": {"application/json"}}, Body: `{"code":"X","message":"bad"}`}, false, false},
		{"connection refused", nil, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := emulator(t)
			seed(s, "set-1")
			// No pooled connection: a request on a connection the server closed may
			// have been written, and counts as in doubt.
			fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			sess := login(t, s, nil, soracom.WithHTTPClient(fresh))
			if tt.fault != nil {
				s.Inject("PUT /v1/credentials/*", soracomtest.Always, *tt.fault)
				s.Inject("POST /v1/credentials/*", soracomtest.Always, *tt.fault)
			}
			if tt.down {
				_ = s.Close()
			}
			_, err := sess.StoreAll(context.Background(), []string{"set-1"}, content, soracom.Update, nil)
			if err == nil {
				t.Fatal("no error")
			}
			if got := soracom.WriteInDoubt(err); got != tt.want {
				t.Errorf("WriteInDoubt = %v, want %v (%v)", got, tt.want, err)
			}
		})
	}
}

func TestMillisRefusesImplausibleTimes(t *testing.T) {
	for _, tt := range []struct {
		ms   int64
		want string
	}{
		{0, ""},
		{1764547200000, "2025-12-01T00:00:00Z"},
		{-8_999_999_999_999_000, ""},
		{253402300799000, ""}, // year 9999
		{1, ""},               // 1970
	} {
		got := ""
		if tm := soracom.Millis(tt.ms); !tm.IsZero() {
			got = tm.Format(time.RFC3339)
		}
		if got != tt.want {
			t.Errorf("Millis(%d) = %q, want %q", tt.ms, got, tt.want)
		}
	}
}

// KeepDescription writes each existing set's stored description back; the list that
// reads it also decides PUT or POST, so it costs one round trip more, not two.
func TestStoreKeepsEachSetsDescription(t *testing.T) {
	s := emulator(t)
	s.PutCredentialSet(soracomtest.CredentialSet{ID: "set-1", Type: "aws-credentials", Description: "one",
		Credentials: map[string]any{"accessKeyId": "AKIAOLDOLDOLDOLDOLD1", "secretAccessKey": "old"}})
	s.PutCredentialSet(soracomtest.CredentialSet{ID: "set-2", Type: "aws-credentials", Description: "two",
		Credentials: map[string]any{"accessKeyId": "AKIAOLDOLDOLDOLDOLD1", "secretAccessKey": "old"}})
	sess := login(t, s, nil)
	keep := content
	keep.Description, keep.KeepDescription = "for new sets", true
	stored, err := sess.StoreAll(context.Background(), []string{"set-1", "set-2", "set-3"}, keep, soracom.Update, nil)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"set-1": "one", "set-2": "two", "set-3": "for new sets"} {
		if set, _ := s.CredentialSet(id); set.Description != want || set.Credentials["secretAccessKey"] != content.Credentials["secretAccessKey"] {
			t.Errorf("%s: description %q, want %q (or credentials not written)", id, set.Description, want)
		}
	}
	if ops := []soracom.Operation{stored[0].Operation, stored[1].Operation, stored[2].Operation}; ops[0] != soracom.Updated || ops[1] != soracom.Updated || ops[2] != soracom.Created {
		t.Errorf("operations %v", ops)
	}
	// The writes run in parallel, in any order.
	got := trips(s)
	slices.Sort(got[2:])
	want := "POST /v1/auth, GET /v1/credentials, POST /v1/credentials/set-3, PUT /v1/credentials/set-1, PUT /v1/credentials/set-2"
	if got := strings.Join(got, ", "); got != want {
		t.Errorf("round trips:\n%s\nwant\n%s", got, want)
	}
}

// A success answer too large to read is an error from the server, not silence, and a
// write answered so is in doubt (it was applied, but its answer says nothing usable).
func TestHugeSuccessAnswerIsRefused(t *testing.T) {
	s := emulator(t)
	seed(s, "set-1")
	// 9 MiB under the race detector on a busy machine can take longer than the fast
	// policy's 300 ms attempt: that would be a timeout, not the oversized answer.
	r := fastRetry()
	r.AttemptTimeout, r.Deadline = time.Minute, time.Minute
	sess := login(t, s, nil, soracom.WithRetry(r))
	s.Inject("PUT /v1/credentials/*", 1, soracomtest.Fault{Status: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: `{"credentialsId":"set-1","description":"` + strings.Repeat("a", 9<<20) + `"}`})
	_, err := sess.StoreAll(context.Background(), []string{"set-1"}, content, soracom.Update, nil)
	var apiErr *soracom.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 200 || !strings.Contains(apiErr.Message, "larger than 8 MiB") {
		t.Fatalf("err = %v, want the oversized answer", err)
	}
	if !soracom.WriteInDoubt(err) {
		t.Error("a write answered 200 is not in doubt")
	}
}

// An auth answer whose operatorId or userName does not have its shape is refused where
// it enters: a clear error naming the field, the token it carried revoked, and no
// session to write with.
func TestAuthAnswerWithForgedIdentityIsRefused(t *testing.T) {
	tests := []struct {
		name, operator, user, field string
	}{
		{"markdown and a command in operatorId", "OPevil [x](http://e.test) ::error::FORGED", "", "operatorId"},
		{"trailing space in operatorId", "OP0099887766 ", "", "operatorId"},
		{"a path as operatorId", "../../etc", "", "operatorId"},
		{"a line break in operatorId", "OP0012345678\n::stop-commands::x", "", "operatorId"},
		{"empty operatorId", "", "", "operatorId"},
		{"a line break in userName", "", "ci\n::error::forged", "userName"},
		{"a very long userName", "", strings.Repeat("u", 300), "userName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []soracomtest.Option
			if tt.operator != "" || tt.field == "operatorId" {
				opts = append(opts, soracomtest.WithOperatorID(tt.operator))
			}
			s := soracomtest.Start(t, opts...)
			user := tt.user
			if user == "" {
				user = soracomtest.DefaultUserName
			}
			s.AddUserAuthKey(user, keyID, keySecret)
			c := soracom.New(s.URL(), &maskLog{}, soracom.WithRetry(fastRetry()))
			sess, err := c.Auth(context.Background(), soracom.AuthKey{ID: keyID, Secret: secret.New(keySecret)}, 0)
			var bad *soracom.AnswerError
			if sess != nil || !errors.As(err, &bad) || bad.Field != tt.field || !bad.Revoked {
				t.Fatalf("Auth = %v, %v; want an AnswerError on %s with the token revoked", sess, err, tt.field)
			}
			if msg := err.Error(); strings.ContainsAny(msg, "\r\n") || !strings.Contains(msg, "revoked") {
				t.Errorf("error spans lines or does not say the token was revoked: %q", msg)
			}
			if n := s.LiveSessions(); n != 0 {
				t.Errorf("%d sessions left alive", n)
			}
		})
	}
}

// A list answer holding a set id or type that is not one (control characters, a path,
// markup) is refused whole, naming the operation, before any write it would lead to.
func TestListAnswerWithForgedSetIsRefused(t *testing.T) {
	tests := []struct {
		name, id, typ, field string
	}{
		{"a line break in a type", "set-9", "psk\n::stop-commands::x", "type"},
		{"markdown in a type", "set-9", "psk [x](http://e.test)", "type"},
		{"an empty type", "set-9", "", "type"},
		{"a path as id", "../../etc", "psk", "credentialsId"},
		{"a command in an id", "set-9\n::error::forged", "psk", "credentialsId"},
		{"a trailing space in an id", "set-9 ", "psk", "credentialsId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := soracomtest.Start(t)
			s.AddAuthKey(keyID, keySecret)
			seed(s, "set-1")
			s.PutCredentialSet(soracomtest.CredentialSet{ID: tt.id, Type: tt.typ, Credentials: map[string]any{"key": "k"}})
			sess := login(t, s, nil)
			_, err := sess.StoreAll(context.Background(), []string{"set-1"},
				soracom.Content{Type: content.Type, Credentials: content.Credentials, KeepDescription: true}, soracom.Update, nil)
			var bad *soracom.AnswerError
			if !errors.As(err, &bad) || bad.Field != tt.field || bad.Operation != "listCredentials" {
				t.Fatalf("err = %v, want the list refused on %s", err, tt.field)
			}
			if strings.ContainsAny(err.Error(), "\r\n") || !strings.Contains(err.Error(), "listCredentials") {
				t.Errorf("error spans lines or does not name the operation: %q", err.Error())
			}
			if n := s.CountRequests(http.MethodPut, "/v1/credentials/"); n != 0 {
				t.Errorf("%d writes sent after a refused list", n)
			}
		})
	}
}

// An error code is short; a server that sends a long one has it cut where it is read,
// so it cannot crowd SORACOM's message out of the capped log line.
func TestALongErrorCodeIsCut(t *testing.T) {
	s := emulator(t)
	seed(s, "set-1")
	long := strings.Repeat("X", 5000)
	s.Inject("PUT /v1/credentials/*", soracomtest.Always, soracomtest.Fault{Status: http.StatusBadRequest,
		Body: `{"code":"` + long + `","message":"the real reason"}`})
	sess := login(t, s, nil)
	_, err := sess.StoreAll(context.Background(), []string{"set-1"}, content, soracom.Update, nil)
	var apiErr *soracom.APIError
	if !errors.As(err, &apiErr) || utf8.RuneCountInString(apiErr.Code) > 32 || !strings.HasPrefix(apiErr.Code, "XXXX") ||
		!strings.Contains(err.Error(), "the real reason") {
		t.Fatalf("err %v; want the code cut to 32 characters and the message kept", err)
	}
}
