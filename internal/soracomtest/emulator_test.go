package soracomtest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// epoch is the fake clock's start; tests advance from it.
var epoch = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func fixedClock() soracomtest.Option {
	return soracomtest.WithClock(func() time.Time { return epoch })
}

// session is an API key and token pair.
type session struct{ apiKey, token string }

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
}

func (r reply) errorCode(t *testing.T) string {
	t.Helper()
	var e struct{ Code, Message string }
	r.json(t, &e)
	if e.Code == "" || e.Message == "" {
		t.Errorf("error body %s lacks code or message", r.body)
	}
	return e.Code
}

// do sends a request to s; body, if not nil, is marshalled to JSON unless it is a
// string.
func do(t *testing.T, s *soracomtest.Server, sess *session, method, path string, body any) (reply, error) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.URL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if sess != nil {
		req.Header.Set("X-Soracom-API-Key", sess.apiKey)
		req.Header.Set("X-Soracom-Token", sess.token)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{resp.StatusCode, resp.Header, b}, nil
}

func mustDo(t *testing.T, s *soracomtest.Server, sess *session, method, path string, body any) reply {
	t.Helper()
	r, err := do(t, s, sess, method, path, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

func login(t *testing.T, s *soracomtest.Server) *session {
	t.Helper()
	s.AddAuthKey("keyId-test", "secret-test")
	r := mustDo(t, s, nil, "POST", "/v1/auth", map[string]any{"authKeyId": "keyId-test", "authKey": "secret-test"})
	if r.status != http.StatusOK {
		t.Fatalf("auth: %d %s", r.status, r.body)
	}
	var a struct{ APIKey, Token string }
	r.json(t, &a)
	return &session{a.APIKey, a.Token}
}

func awsBody(accessKeyID, secret string) map[string]any {
	return map[string]any{
		"type":        "aws-credentials",
		"description": "for the demo",
		"credentials": map[string]any{"accessKeyId": accessKeyID, "secretAccessKey": secret},
	}
}

func TestAuth(t *testing.T) {
	tests := []struct {
		name       string
		body       any
		wantStatus int
		wantUser   string
	}{
		{"a registered key gets a session", map[string]any{"authKeyId": "keyId-a", "authKey": "secret-a"}, 200, soracomtest.DefaultUserName},
		{"a root user's key gets a session without userName", map[string]any{"authKeyId": "keyId-root", "authKey": "secret-root"}, 200, ""},
		{"tokenTimeoutSeconds 180 is the minimum", map[string]any{"authKeyId": "keyId-a", "authKey": "secret-a", "tokenTimeoutSeconds": 180}, 200, soracomtest.DefaultUserName},
		{"tokenTimeoutSeconds 172800 is the maximum", map[string]any{"authKeyId": "keyId-a", "authKey": "secret-a", "tokenTimeoutSeconds": 172800}, 200, soracomtest.DefaultUserName},
		{"a wrong secret is 401", map[string]any{"authKeyId": "keyId-a", "authKey": "secret-b"}, 401, ""},
		{"an unknown key is 401", map[string]any{"authKeyId": "keyId-x", "authKey": "secret-a"}, 401, ""},
		{"email and password logins are not supported", map[string]any{"email": "a@example.com", "password": "p"}, 401, ""},
		{"tokenTimeoutSeconds below 180 is 400", map[string]any{"authKeyId": "keyId-a", "authKey": "secret-a", "tokenTimeoutSeconds": 179}, 400, ""},
		{"tokenTimeoutSeconds above 172800 is 400", map[string]any{"authKeyId": "keyId-a", "authKey": "secret-a", "tokenTimeoutSeconds": 172801}, 400, ""},
		{"a body that is not JSON is 400", "authKeyId=keyId-a", 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := soracomtest.Start(t)
			s.AddAuthKey("keyId-a", "secret-a")
			s.AddUserAuthKey("", "keyId-root", "secret-root")
			r := mustDo(t, s, nil, "POST", "/v1/auth", tt.body)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d (%s)", r.status, tt.wantStatus, r.body)
			}
			if r.status != http.StatusOK {
				r.errorCode(t)
				if s.LiveSessions() != 0 {
					t.Errorf("a failed login opened a session")
				}
				return
			}
			checkSession(t, s, r, tt.wantUser)
		})
	}
}

// checkSession checks a successful auth answer: operator, API key and token, the SAM
// user's name (none for the root user), and one live session.
func checkSession(t *testing.T, s *soracomtest.Server, r reply, wantUser string) {
	t.Helper()
	var got map[string]any
	r.json(t, &got)
	if got["operatorId"] != soracomtest.DefaultOperatorID || got["apiKey"] == "" || got["token"] == "" {
		t.Errorf("response %s lacks operatorId, apiKey or token", r.body)
	}
	if user, _ := got["userName"].(string); user != wantUser {
		t.Errorf("userName %q, want %q", user, wantUser)
	}
	if s.LiveSessions() != 1 {
		t.Errorf("live sessions %d, want 1", s.LiveSessions())
	}
}

func TestSessions(t *testing.T) {
	expired400 := soracomtest.WithExpiredTokenAnswer(soracomtest.ErrorAnswer{Status: 400, Code: "SEM0099", Message: "expired"})
	tests := []struct {
		name       string
		opts       []soracomtest.Option
		tamper     func(s *soracomtest.Server, sess *session)
		wantStatus int
	}{
		{"a live session works", nil, func(*soracomtest.Server, *session) {}, 200},
		{"no headers is 401", nil, func(_ *soracomtest.Server, sess *session) { *sess = session{} }, 401},
		{"a wrong token is 401", nil, func(_ *soracomtest.Server, sess *session) { sess.token += "x" }, 401},
		{"an unknown API key is 401", nil, func(_ *soracomtest.Server, sess *session) { sess.apiKey = "api-x" }, 401},
		{"a token past its lifetime is 401", nil, func(s *soracomtest.Server, _ *session) { s.Advance(soracomtest.DefaultTokenTimeout) }, 401},
		{"a token just before its lifetime ends works", nil, func(s *soracomtest.Server, _ *session) { s.Advance(soracomtest.DefaultTokenTimeout - time.Second) }, 200},
		{"an expired token may answer 400", []soracomtest.Option{expired400}, func(s *soracomtest.Server, _ *session) { s.Advance(48 * time.Hour) }, 400},
		{"ExpireAllTokens expires the session", nil, func(s *soracomtest.Server, _ *session) { s.ExpireAllTokens() }, 401},
		{"ExpireAllTokens honours the expired-token answer", []soracomtest.Option{expired400}, func(s *soracomtest.Server, _ *session) { s.ExpireAllTokens() }, 400},
		{"a logged-out session is 401", nil, func(s *soracomtest.Server, sess *session) {
			if r := mustDoNoT(s, sess, "POST", "/v1/auth/logout"); r != http.StatusNoContent {
				panic("logout failed")
			}
		}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := soracomtest.Start(t, append([]soracomtest.Option{fixedClock()}, tt.opts...)...)
			sess := login(t, s)
			tt.tamper(s, sess)
			r := mustDo(t, s, sess, "GET", "/v1/credentials", nil)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d (%s)", r.status, tt.wantStatus, r.body)
			}
			if r.status != http.StatusOK {
				r.errorCode(t)
			}
		})
	}
}

// mustDoNoT is do for setup code that runs without a *testing.T at hand.
func mustDoNoT(s *soracomtest.Server, sess *session, method, path string) int {
	req, _ := http.NewRequest(method, s.URL()+path, nil)
	req.Header.Set("X-Soracom-API-Key", sess.apiKey)
	req.Header.Set("X-Soracom-Token", sess.token)
	resp, err := s.Client().Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestLogout(t *testing.T) {
	t.Run("logout revokes only its own session, whatever the permissions", func(t *testing.T) {
		s := soracomtest.Start(t)
		a, b := login(t, s), login(t, s)
		for _, p := range []string{soracomtest.PermListCredentials, soracomtest.PermCreateCredential, soracomtest.PermUpdateCredential, soracomtest.PermDeleteCredential} {
			s.Deny(p)
		}
		if r := mustDo(t, s, a, "POST", "/v1/auth/logout", nil); r.status != http.StatusNoContent || len(r.body) != 0 {
			t.Fatalf("logout: %d %q", r.status, r.body)
		}
		if n := s.LiveSessions(); n != 1 {
			t.Errorf("live sessions %d, want 1", n)
		}
		if r := mustDo(t, s, a, "POST", "/v1/auth/logout", nil); r.status != http.StatusUnauthorized {
			t.Errorf("second logout: %d, want 401", r.status)
		}
		if r := mustDo(t, s, b, "POST", "/v1/auth/logout", nil); r.status != http.StatusNoContent {
			t.Errorf("other session's logout: %d, want 204", r.status)
		}
	})
}

func TestCredentialSets(t *testing.T) {
	conflict409 := soracomtest.WithCreateConflictAnswer(soracomtest.ErrorAnswer{Status: 409, Code: "SEM0409", Message: "exists"})
	missing404 := soracomtest.WithUpdateMissingAnswer(soracomtest.ErrorAnswer{Status: 404, Code: "SEM0404", Message: "missing"})
	existing := soracomtest.CredentialSet{
		ID: "set-1", Type: "aws-credentials", Description: "old",
		Credentials: map[string]any{"accessKeyId": "AKIAOLD", "secretAccessKey": "old-secret"},
	}
	tests := []struct {
		name       string
		opts       []soracomtest.Option
		seed       bool
		method     string
		path       string
		body       any
		wantStatus int
		wantCode   string
		wantStored *soracomtest.CredentialSet // nil: the set must be absent
	}{
		{
			name: "create stores the set with its secret", method: "POST", path: "/v1/credentials/set-1",
			body: awsBody("AKIANEW", "new-secret"), wantStatus: 201,
			wantStored: &soracomtest.CredentialSet{ID: "set-1", Type: "aws-credentials", Description: "for the demo", Credentials: map[string]any{"accessKeyId": "AKIANEW", "secretAccessKey": "new-secret"}},
		},
		{
			name: "create on an existing id is 400 by default and changes nothing", seed: true, method: "POST", path: "/v1/credentials/set-1",
			body: awsBody("AKIANEW", "new-secret"), wantStatus: 400, wantCode: "SEM0026", wantStored: &existing,
		},
		{
			name: "create on an existing id can answer 409", opts: []soracomtest.Option{conflict409}, seed: true, method: "POST", path: "/v1/credentials/set-1",
			body: awsBody("AKIANEW", "new-secret"), wantStatus: 409, wantCode: "SEM0409", wantStored: &existing,
		},
		{
			name: "update replaces the set", seed: true, method: "PUT", path: "/v1/credentials/set-1",
			body: awsBody("AKIANEW", "new-secret"), wantStatus: 200,
			wantStored: &soracomtest.CredentialSet{ID: "set-1", Type: "aws-credentials", Description: "for the demo", Credentials: map[string]any{"accessKeyId": "AKIANEW", "secretAccessKey": "new-secret"}},
		},
		{
			name: "update on a missing id is 400 by default", method: "PUT", path: "/v1/credentials/set-1",
			body: awsBody("AKIANEW", "new-secret"), wantStatus: 400, wantCode: "SEM0027",
		},
		{
			name: "update on a missing id can answer 404", opts: []soracomtest.Option{missing404}, method: "PUT", path: "/v1/credentials/set-1",
			body: awsBody("AKIANEW", "new-secret"), wantStatus: 404, wantCode: "SEM0404",
		},
		{
			name: "delete removes the set", seed: true, method: "DELETE", path: "/v1/credentials/set-1", wantStatus: 204,
		},
		{
			name: "delete on a missing id is 404", method: "DELETE", path: "/v1/credentials/set-1", wantStatus: 404, wantCode: "SEM0404",
		},
		{
			name: "an unknown type is 400", method: "POST", path: "/v1/credentials/set-1", wantStatus: 400, wantCode: "SEM0005",
			body: map[string]any{"type": "aws-session-credentials", "credentials": map[string]any{"accessKeyId": "A"}},
		},
		{
			name: "missing credentials are 400", method: "POST", path: "/v1/credentials/set-1", wantStatus: 400, wantCode: "SEM0005",
			body: map[string]any{"type": "aws-credentials"},
		},
		{
			name: "credentials that are not an object are 400", seed: true, method: "PUT", path: "/v1/credentials/set-1", wantStatus: 400, wantCode: "SEM0005",
			body: map[string]any{"type": "aws-credentials", "credentials": "AKIA:secret"}, wantStored: &existing,
		},
		{
			name: "an id with a slash is not a route", method: "POST", path: "/v1/credentials/a/b", wantStatus: 404,
			body: awsBody("AKIANEW", "new-secret"),
		},
		{
			name: "an unsupported method is 405", seed: true, method: "PATCH", path: "/v1/credentials/set-1", wantStatus: 405,
			body: awsBody("AKIANEW", "new-secret"), wantStored: &existing,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := soracomtest.Start(t, append([]soracomtest.Option{fixedClock()}, tt.opts...)...)
			sess := login(t, s)
			if tt.seed {
				s.PutCredentialSet(existing)
			}
			s.Advance(time.Minute)
			r := mustDo(t, s, sess, tt.method, tt.path, tt.body)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d (%s)", r.status, tt.wantStatus, r.body)
			}
			if tt.wantCode != "" {
				if code := r.errorCode(t); code != tt.wantCode {
					t.Errorf("code %q, want %q", code, tt.wantCode)
				}
			}
			checkStored(t, s, "set-1", tt.wantStored)
		})
	}
}

// checkStored checks the set the emulator holds under id against want (nil: absent).
func checkStored(t *testing.T, s *soracomtest.Server, id string, want *soracomtest.CredentialSet) {
	t.Helper()
	got, ok := s.CredentialSet(id)
	switch {
	case want == nil && ok:
		t.Errorf("%s is stored: %+v", id, got)
	case want == nil:
	case !ok:
		t.Fatalf("%s is not stored", id)
	case got.Type != want.Type || got.Description != want.Description || !equalJSON(got.Credentials, want.Credentials):
		t.Errorf("stored %+v, want %+v", got, *want)
	}
}

func TestCredentialSetResponses(t *testing.T) {
	s := soracomtest.Start(t, fixedClock())
	sess := login(t, s)

	r := mustDo(t, s, sess, "POST", "/v1/credentials/set-1", awsBody("AKIA1", "secret-1"))
	var created map[string]any
	r.json(t, &created)
	want := map[string]any{
		"credentialsId":    "set-1",
		"type":             "aws-credentials",
		"description":      "for the demo",
		"credentials":      map[string]any{"accessKeyId": "AKIA1"},
		"createDateTime":   float64(epoch.UnixMilli()),
		"updateDateTime":   float64(epoch.UnixMilli()),
		"lastUsedDateTime": float64(0),
	}
	if !equalJSON(created, want) {
		t.Errorf("create answered %s, want %v", r.body, want)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}

	s.Advance(90 * time.Second)
	r = mustDo(t, s, sess, "PUT", "/v1/credentials/set-1", awsBody("AKIA2", "secret-2"))
	var updated map[string]any
	r.json(t, &updated)
	if updated["createDateTime"] != float64(epoch.UnixMilli()) || updated["updateDateTime"] != float64(epoch.Add(90*time.Second).UnixMilli()) {
		t.Errorf("update answered %s: createDateTime must stay, updateDateTime must move on", r.body)
	}

	mustDo(t, s, sess, "POST", "/v1/credentials/set-0", map[string]any{"type": "psk", "credentials": map[string]any{"key": "k"}})
	r = mustDo(t, s, sess, "GET", "/v1/credentials", nil)
	var list []map[string]any
	r.json(t, &list)
	if len(list) != 2 || list[0]["credentialsId"] != "set-0" || list[1]["credentialsId"] != "set-1" {
		t.Fatalf("list answered %s", r.body)
	}
	if !equalJSON(list[0]["credentials"], map[string]any{}) || !equalJSON(list[1]["credentials"], map[string]any{"accessKeyId": "AKIA2"}) {
		t.Errorf("list leaks or loses fields: %s", r.body)
	}
	if strings.Contains(string(r.body), "secret-") {
		t.Errorf("list contains a secret: %s", r.body)
	}
}

func TestResponsesCarryOnlyNonSecretFields(t *testing.T) {
	tests := []struct {
		typ         string
		credentials map[string]any
		public      []string
	}{
		{"aws-credentials", map[string]any{"accessKeyId": "a", "secretAccessKey": "s"}, []string{"accessKeyId"}},
		{"aws-iam-role-credentials", map[string]any{"roleArn": "arn:aws:iam::123456789012:role/r", "externalId": "s"}, []string{"roleArn"}},
		{"azure-credentials", map[string]any{"policyName": "p", "key": "s"}, []string{"policyName"}},
		{"azureIoT-credentials", map[string]any{"sharedAccessKeyName": "n", "sharedAccessKey": "s"}, []string{"sharedAccessKeyName"}},
		{"api-token-credentials", map[string]any{"token": "s"}, nil},
		{"esrij-credentials", map[string]any{"refererUrl": "https://example.com"}, []string{"refererUrl"}},
		{"google-service-account-json", map[string]any{"credentials": "{}"}, nil},
		{"googleIoT-credentials", map[string]any{"algorithm": "RS256", "deviceId": "d", "projectId": "p", "region": "r", "registryId": "g", "privateKey": "s"}, []string{"algorithm", "deviceId", "projectId", "region", "registryId"}},
		{"infoteria-platio-credentials", map[string]any{"tokenId": "t", "secretToken": "s"}, []string{"tokenId"}},
		{"kii-thingif-credentials", map[string]any{"app_id": "a", "app_key": "s", "client_id": "c", "client_secret": "s"}, []string{"app_id", "client_id"}},
		{"landlog-credentials", map[string]any{"client_id": "c", "client_secret": "s"}, []string{"client_id"}},
		{"mmcloud-credentials", map[string]any{"commandcode": "1", "customerid": "2", "machineid": "3", "machineidtype": "4"}, []string{"commandcode", "customerid", "machineid", "machineidtype"}},
		{"motionboard-credentials", map[string]any{"tenant": "t", "template": "m", "authkey": "s"}, []string{"tenant", "template"}},
		{"optim-cloud-IoT-OS-credentials", map[string]any{"client_id": "c", "client_secret": "s"}, []string{"client_id"}},
		{"psk", map[string]any{"key": "s"}, nil},
		{"pubnub-credentials", map[string]any{"pubKey": "s", "subKey": "s"}, nil},
		{"sensorcorpus-credentials", map[string]any{"session_code": "s"}, nil},
		{"username-password-credentials", map[string]any{"username": "u", "password": "s"}, []string{"username"}},
		{"x509", map[string]any{"cert": "c", "ca": "a", "key": "s"}, []string{"cert", "ca"}},
		{"private-key-pem", map[string]any{"privateKey": "s"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			if got := soracomtest.NonSecretFields(tt.typ); !slices.Equal(sorted(got), sorted(tt.public)) {
				t.Errorf("NonSecretFields = %v, want %v", got, tt.public)
			}
			s := soracomtest.Start(t)
			sess := login(t, s)
			r := mustDo(t, s, sess, "POST", "/v1/credentials/x", map[string]any{"type": tt.typ, "credentials": tt.credentials})
			if r.status != http.StatusCreated {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
			var got struct{ Credentials map[string]any }
			r.json(t, &got)
			want := map[string]any{}
			for _, f := range tt.public {
				want[f] = tt.credentials[f]
			}
			if !equalJSON(got.Credentials, want) {
				t.Errorf("credentials answered %v, want %v", got.Credentials, want)
			}
			stored, _ := s.CredentialSet("x")
			if !equalJSON(stored.Credentials, tt.credentials) {
				t.Errorf("stored %v, want every field %v", stored.Credentials, tt.credentials)
			}
		})
	}
}

func TestDeny(t *testing.T) {
	ops := []struct {
		permission string
		method     string
		path       string
		body       any
		okStatus   int
	}{
		{soracomtest.PermListCredentials, "GET", "/v1/credentials", nil, 200},
		{soracomtest.PermCreateCredential, "POST", "/v1/credentials/new", awsBody("A", "S"), 201},
		{soracomtest.PermUpdateCredential, "PUT", "/v1/credentials/old", awsBody("A", "S"), 200},
		{soracomtest.PermDeleteCredential, "DELETE", "/v1/credentials/old", nil, 204},
		{soracomtest.PermListGroups, "GET", "/v1/groups", nil, 200},
		{soracomtest.PermListEventHandlers, "GET", "/v1/event_handlers", nil, 200},
	}
	for _, denied := range ops {
		t.Run("denying "+denied.permission+" fails only that operation", func(t *testing.T) {
			s := soracomtest.Start(t)
			sess := login(t, s)
			s.Deny(denied.permission)
			for _, op := range ops {
				s.PutCredentialSet(soracomtest.CredentialSet{ID: "old", Type: "aws-credentials", Credentials: map[string]any{"accessKeyId": "A"}})
				s.DeleteCredentialSet("new")
				r := mustDo(t, s, sess, op.method, op.path, op.body)
				want := op.okStatus
				if op.permission == denied.permission {
					want = http.StatusForbidden
				}
				if r.status != want {
					t.Errorf("%s %s: %d, want %d (%s)", op.method, op.path, r.status, want, r.body)
				}
				if r.status == http.StatusForbidden && !strings.Contains(string(r.body), denied.permission) {
					t.Errorf("403 body %s does not name the permission", r.body)
				}
			}
			s.Allow(denied.permission)
			s.PutCredentialSet(soracomtest.CredentialSet{ID: "old", Type: "aws-credentials", Credentials: map[string]any{"accessKeyId": "A"}})
			s.DeleteCredentialSet("new")
			if r := mustDo(t, s, sess, denied.method, denied.path, denied.body); r.status != denied.okStatus {
				t.Errorf("after Allow: %d, want %d", r.status, denied.okStatus)
			}
		})
	}
}

func equalJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// errIsDropped reports whether err is what a client sees when the server closes the
// connection without answering.
func errIsDropped(err error) bool {
	return err != nil && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "connection reset"))
}

// checkRemovedKeyKeepsSessions checks that the removed key no longer logs in while
// the session it opened before still works.
func checkRemovedKeyKeepsSessions(t *testing.T, s *soracomtest.Server, sess *session) {
	t.Helper()
	if r := mustDo(t, s, nil, "POST", "/v1/auth", map[string]any{"authKeyId": "keyId-test", "authKey": "secret-test"}); r.status != 401 {
		t.Errorf("auth: %d", r.status)
	}
	if r := mustDo(t, s, sess, "GET", "/v1/credentials", nil); r.status != 200 {
		t.Errorf("list with the old session: %d", r.status)
	}
}

// checkShortTokenLifetime checks that a token asked for 180 s works until 179 s and is
// refused at 180 s by the emulator's clock.
func checkShortTokenLifetime(t *testing.T, s *soracomtest.Server, _ *session) {
	t.Helper()
	r := mustDo(t, s, nil, "POST", "/v1/auth", map[string]any{"authKeyId": "keyId-test", "authKey": "secret-test", "tokenTimeoutSeconds": 180})
	var a struct{ APIKey, Token string }
	r.json(t, &a)
	short := &session{a.APIKey, a.Token}
	s.Advance(179 * time.Second)
	if r := mustDo(t, s, short, "GET", "/v1/credentials", nil); r.status != 200 {
		t.Errorf("at 179s: %d", r.status)
	}
	s.Advance(time.Second)
	if r := mustDo(t, s, short, "GET", "/v1/credentials", nil); r.status != 401 {
		t.Errorf("at 180s: %d", r.status)
	}
}

func TestAnswerOptions(t *testing.T) {
	tests := []struct {
		name  string
		opts  []soracomtest.Option
		setup func(s *soracomtest.Server)
		check func(t *testing.T, s *soracomtest.Server, sess *session)
	}{
		{
			name: "errors may come as text/plain", opts: []soracomtest.Option{soracomtest.WithErrorContentType("text/plain")},
			check: func(t *testing.T, s *soracomtest.Server, _ *session) {
				r := mustDo(t, s, nil, "GET", "/v1/credentials", nil)
				if ct := r.header.Get("Content-Type"); r.status != 401 || ct != "text/plain" {
					t.Errorf("%d with Content-Type %q", r.status, ct)
				}
				r.errorCode(t)
			},
		},
		{
			name: "the denial answer is configurable", opts: []soracomtest.Option{soracomtest.WithDeniedAnswer(soracomtest.ErrorAnswer{Status: 401, Code: "SEM0401", Message: "denied"})},
			setup: func(s *soracomtest.Server) { s.Deny(soracomtest.PermListCredentials) },
			check: func(t *testing.T, s *soracomtest.Server, sess *session) {
				r := mustDo(t, s, sess, "GET", "/v1/credentials", nil)
				if r.status != 401 || r.errorCode(t) != "SEM0401" {
					t.Errorf("%d %s", r.status, r.body)
				}
			},
		},
		{
			name: "the operator ID is configurable", opts: []soracomtest.Option{soracomtest.WithOperatorID("OP9999999999")},
			check: func(t *testing.T, s *soracomtest.Server, _ *session) {
				r := mustDo(t, s, nil, "POST", "/v1/auth", map[string]any{"authKeyId": "keyId-test", "authKey": "secret-test"})
				if !strings.Contains(string(r.body), `"operatorId":"OP9999999999"`) {
					t.Errorf("auth answered %s", r.body)
				}
			},
		},
		{
			name: "the logged headers are configurable", opts: []soracomtest.Option{soracomtest.WithLoggedHeaders("Content-Type")},
			check: func(t *testing.T, s *soracomtest.Server, sess *session) {
				mustDo(t, s, sess, "POST", "/v1/credentials/x", awsBody("A", "S"))
				log := s.Requests()
				if h := log[len(log)-1].Header; len(h) != 1 || h.Get("Content-Type") != "application/json" {
					t.Errorf("logged headers %v", h)
				}
			},
		},
		{
			name:  "a removed auth key no longer logs in, its sessions stay",
			setup: func(s *soracomtest.Server) { s.RemoveAuthKey("keyId-test") },
			check: checkRemovedKeyKeepsSessions,
		},
		{
			name:  "a short token lifetime ends by the emulator's clock",
			check: checkShortTokenLifetime,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := soracomtest.Start(t, append([]soracomtest.Option{fixedClock()}, tt.opts...)...)
			sess := login(t, s)
			if tt.setup != nil {
				tt.setup(s)
			}
			tt.check(t, s, sess)
		})
	}
}
