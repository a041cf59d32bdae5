package soracom_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracom"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

const (
	keyID     = "keyId-test"
	keySecret = "secret-test-0123456789"
)

var (
	contractOnce sync.Once
	contract     *soracomtest.Contract
	contractSkip string
	contractErr  error
)

// emulator starts an emulator that checks every request and response against the
// published OpenAPI spec (when the spec is there) and fails the test on a violation.
func emulator(t *testing.T, opts ...soracomtest.Option) *soracomtest.Server {
	t.Helper()
	contractOnce.Do(func() { contract, contractSkip, contractErr = soracomtest.LoadProjectContract() })
	if contractErr != nil {
		t.Fatal(contractErr)
	}
	if contract != nil {
		opts = append(opts, soracomtest.WithContract(contract))
	}
	s := soracomtest.Start(t, opts...)
	s.AddAuthKey(keyID, keySecret)
	t.Cleanup(func() {
		for _, v := range s.ContractViolations() {
			t.Errorf("contract violation: %s", v)
		}
	})
	return s
}

// fastRetry keeps fault tests quick while keeping the shape of the default policy.
func fastRetry() soracom.Retry {
	r := soracom.DefaultRetry()
	r.InitialInterval = 5 * time.Millisecond
	r.MaxInterval = 20 * time.Millisecond
	r.AttemptTimeout = 300 * time.Millisecond
	r.Deadline = 5 * time.Second
	return r
}

type maskLog struct {
	mu   sync.Mutex
	vals []string
}

func (m *maskLog) AddMask(v string) { m.mu.Lock(); m.vals = append(m.vals, v); m.mu.Unlock() }

func login(t *testing.T, s *soracomtest.Server, m secret.Masker, opts ...soracom.Option) *soracom.Session {
	t.Helper()
	if m == nil {
		m = &maskLog{}
	}
	c := soracom.New(s.URL(), m, append([]soracom.Option{soracom.WithRetry(fastRetry())}, opts...)...)
	sess, err := c.Auth(context.Background(), soracom.AuthKey{ID: keyID, Secret: secret.New(keySecret)}, soracom.MinTokenLifetime)
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

var content = soracom.Content{Type: "aws-credentials", Description: "test", Credentials: soracom.Fields{
	"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}}

func seed(s *soracomtest.Server, id string) {
	s.PutCredentialSet(soracomtest.CredentialSet{ID: id, Type: "aws-credentials", Credentials: map[string]any{"accessKeyId": "AKIAOLDOLDOLDOLDOLD1", "secretAccessKey": "old"}})
}

// trips lists the requests the emulator received, as "METHOD PATH".
func trips(s *soracomtest.Server) []string {
	var out []string
	for _, r := range s.Requests() {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

func TestAuthAsksForTheShortestTokenAndMasksIt(t *testing.T) {
	s := emulator(t)
	m := &maskLog{}
	sess := login(t, s, m)
	if sess.OperatorID != soracomtest.DefaultOperatorID {
		t.Errorf("OperatorID = %q", sess.OperatorID)
	}
	body := string(s.Requests()[0].Body)
	if !strings.Contains(body, `"tokenTimeoutSeconds":180`) {
		t.Errorf("auth body does not ask for 180 s: %s", body)
	}
	if len(m.vals) != 2 {
		t.Fatalf("masked %d values, want the API key and the token", len(m.vals))
	}
	req := s.Requests()[0]
	_ = req
	if err := sess.Logout(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s.LiveSessions() != 0 {
		t.Errorf("logout left %d live sessions", s.LiveSessions())
	}
}

func TestAuthWithAWrongKeyIs401AndNotRetried(t *testing.T) {
	s := emulator(t)
	c := soracom.New(s.URL(), &maskLog{}, soracom.WithRetry(fastRetry()))
	_, err := c.Auth(context.Background(), soracom.AuthKey{ID: keyID, Secret: secret.New("secret-wrong")}, 0)
	var apiErr *soracom.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized {
		t.Fatalf("err = %v", err)
	}
	if got := s.CountRequests("POST", "/v1/auth"); got != 1 {
		t.Errorf("a 401 was retried: %d attempts", got)
	}
}

// The undocumented answers: POST on an existing id and PUT on a missing id. The client
// must be right, in the fewest round trips, whatever SORACOM answers.
// storeCase is one if-exists mode against a set that exists or not.
type storeCase struct {
	ifExists soracom.IfExists
	exists   bool
	wantOp   soracom.Operation
	wantErr  bool
	want     []string // request methods, in order
}

func TestStoreIsCorrectWhateverTheUndocumentedStatuses(t *testing.T) {
	conflicts := []soracomtest.ErrorAnswer{
		{Status: 400, Code: "SEM0026", Message: "exists"},
		{Status: 409, Code: "SEM0409", Message: "conflict"},
	}
	missings := []soracomtest.ErrorAnswer{
		{Status: 400, Code: "SEM0027", Message: "no such set"},
		{Status: 404, Code: "SEM0404", Message: "not found"},
	}
	cases := []storeCase{
		{soracom.Update, true, soracom.Updated, false, []string{"PUT"}},
		{soracom.Update, false, soracom.Created, false, []string{"PUT", "POST"}},
		{soracom.Skip, true, soracom.Skipped, false, []string{"GET"}},
		{soracom.Skip, false, soracom.Created, false, []string{"GET", "POST"}},
		{soracom.Fail, true, "", true, []string{"GET"}},
		{soracom.Fail, false, soracom.Created, false, []string{"GET", "POST"}},
	}
	for _, conflict := range conflicts {
		for _, missing := range missings {
			for _, tc := range cases {
				name := string(tc.ifExists) + map[bool]string{true: " existing", false: " missing"}[tc.exists] +
					" with POST-existing " + http.StatusText(conflict.Status) + " and PUT-missing " + http.StatusText(missing.Status)
				t.Run(name, func(t *testing.T) {
					s := emulator(t, soracomtest.WithCreateConflictAnswer(conflict), soracomtest.WithUpdateMissingAnswer(missing))
					if tc.exists {
						seed(s, "set-1")
					}
					sess := login(t, s, nil)
					s.Reset()
					stored, err := sess.StoreAll(context.Background(), []string{"set-1"}, content, tc.ifExists, nil)
					tc.checkResult(t, stored, err)
					tc.checkRequests(t, s)
					tc.checkSet(t, s)
				})
			}
		}
	}
}

// checkResult checks the operation StoreAll reports, or ErrExists.
func (tc storeCase) checkResult(t *testing.T, stored []soracom.Stored, err error) {
	t.Helper()
	switch {
	case tc.wantErr:
		if !errors.Is(err, soracom.ErrExists) {
			t.Fatalf("err = %v, want ErrExists", err)
		}
	case err != nil:
		t.Fatal(err)
	case stored[0].Operation != tc.wantOp:
		t.Errorf("operation = %s, want %s", stored[0].Operation, tc.wantOp)
	}
}

// checkRequests checks the methods of the requests after login, in order.
func (tc storeCase) checkRequests(t *testing.T, s *soracomtest.Server) {
	t.Helper()
	var methods []string
	for _, r := range s.Requests() {
		methods = append(methods, r.Method)
	}
	if strings.Join(methods, " ") != strings.Join(tc.want, " ") {
		t.Errorf("requests = %v, want %v", methods, tc.want)
	}
}

// checkSet checks that the set holds the new secret after an update or a create, and
// the old one after a skip or a refusal.
func (tc storeCase) checkSet(t *testing.T, s *soracomtest.Server) {
	t.Helper()
	set, ok := s.CredentialSet("set-1")
	if tc.ifExists == soracom.Update || (!tc.exists) {
		if !ok || set.Credentials["secretAccessKey"] != content.Credentials["secretAccessKey"] {
			t.Errorf("the set does not hold the new secret: %v", ok)
		}
	} else if set.Credentials["secretAccessKey"] != "old" {
		t.Errorf("skip/fail changed an existing set")
	}
}

func TestStoreWithFailWritesNothingWhenAnyOfSeveralSetsExists(t *testing.T) {
	s := emulator(t)
	seed(s, "b")
	sess := login(t, s, nil)
	_, err := sess.StoreAll(context.Background(), []string{"a", "b", "c"}, content, soracom.Fail, nil)
	if !errors.Is(err, soracom.ErrExists) || !strings.Contains(err.Error(), "b") {
		t.Fatalf("err = %v", err)
	}
	if n := len(s.CredentialSets()); n != 1 {
		t.Errorf("%d sets exist, want only the seeded one", n)
	}
}

// A rejected update of an existing set must report SORACOM's reason for the update,
// not the create's "already exists".
func TestStoreReportsTheRealRejection(t *testing.T) {
	s := emulator(t)
	seed(s, "set-1")
	sess := login(t, s, nil)
	s.Inject("PUT /v1/credentials/*", 1, soracomtest.Fault{Status: 400, Header: http.Header{"Content-Type": {"application/json"}}, Body: `{"code":"CRD0001","message":"invalid accessKeyId"}`})
	_, err := sess.StoreAll(context.Background(), []string{"set-1"}, content, soracom.Update, nil)
	var apiErr *soracom.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "CRD0001" || apiErr.Operation != "updateCredential" {
		t.Fatalf("err = %v, want the update's rejection", err)
	}
	if apiErr.Message != "invalid accessKeyId" {
		t.Errorf("message = %q", apiErr.Message)
	}
}

func TestStoreSurvivesALostCreateResponse(t *testing.T) {
	for _, conflict := range []int{400, 409} {
		for _, ifExists := range []soracom.IfExists{soracom.Update, soracom.Skip} {
			t.Run(string(ifExists)+" "+http.StatusText(conflict), func(t *testing.T) {
				s := emulator(t, soracomtest.WithCreateConflictAnswer(soracomtest.ErrorAnswer{Status: conflict, Code: "SEM0026", Message: "exists"}))
				sess := login(t, s, nil)
				s.Inject("POST /v1/credentials/*", 1, soracomtest.DropAfterHandling())
				stored, err := sess.StoreAll(context.Background(), []string{"set-1"}, content, ifExists, nil)
				if err != nil {
					t.Fatalf("a create whose response was lost ended as a failure: %v", err)
				}
				if stored[0].Operation != soracom.Created {
					t.Errorf("operation = %s", stored[0].Operation)
				}
				if set, ok := s.CredentialSet("set-1"); !ok || set.Credentials["secretAccessKey"] != content.Credentials["secretAccessKey"] {
					t.Errorf("set not stored")
				}
			})
		}
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name     string
		fault    soracomtest.Fault
		times    int
		wantOK   bool
		attempts int
		minWait  time.Duration
		wantMsg  string
	}{
		{"429 with the rate-limit header is retried after the refresh", soracomtest.TooManyRequests(1, false), 1, true, 2, time.Second, ""},
		{"429 with Retry-After is honoured", soracomtest.TooManyRequests(1, true), 1, true, 2, time.Second, ""},
		{"429 without any wait header waits a second", soracomtest.StatusFault(429), 1, true, 2, time.Second, ""},
		{"503 is retried", soracomtest.StatusFault(503), 2, true, 3, 0, ""},
		{"a proxy's HTML 502 is retried", soracomtest.HTMLFault(502), 1, true, 2, 0, ""},
		{"a dropped connection is retried", soracomtest.DropBeforeHandling(), 2, true, 3, 0, ""},
		{"a slow answer costs one attempt", soracomtest.SlowFault(2 * time.Second), 1, true, 2, 0, ""},
		{"a 500 that never ends fails after the attempt bound", soracomtest.StatusFault(500), soracomtest.Always, false, 6, 0, "answered 500"},
		{"a non-JSON 503 that never ends fails with its text", soracomtest.PlainTextFault(503, "upstream connect error"), soracomtest.Always, false, 6, 0, "upstream connect error"},
		{"a 400 is not retried", soracomtest.StatusFault(400), 1, false, 1, 0, "answered 400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := emulator(t)
			seed(s, "set-1")
			sess := login(t, s, nil)
			s.Reset()
			s.Inject("PUT /v1/credentials/*", tt.times, tt.fault)
			start := time.Now()
			stored, err := sess.StoreAll(context.Background(), []string{"set-1"}, content, soracom.Update, nil)
			elapsed := time.Since(start)
			if tt.wantOK != (err == nil) {
				t.Fatalf("err = %v", err)
			}
			if err == nil && stored[0].Operation != soracom.Updated {
				t.Errorf("operation = %s", stored[0].Operation)
			}
			if err != nil && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not say %q", err, tt.wantMsg)
			}
			if got := s.CountRequests("PUT", "/v1/credentials/"); got != tt.attempts {
				t.Errorf("PUT attempts = %d, want %d", got, tt.attempts)
			}
			if elapsed < tt.minWait {
				t.Errorf("retried after %s, before the %s the server asked for", elapsed, tt.minWait)
			}
		})
	}
}

func TestServerWaitIsCappedAndBoundedByTheDeadline(t *testing.T) {
	s := emulator(t)
	seed(s, "set-1")
	r := fastRetry()
	r.Deadline = 500 * time.Millisecond
	sess := login(t, s, nil, soracom.WithRetry(r))
	s.Inject("PUT /v1/credentials/*", soracomtest.Always, soracomtest.TooManyRequests(30, false))
	_, err := sess.StoreAll(context.Background(), []string{"set-1"}, content, soracom.Update, nil)
	var apiErr *soracom.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 429 {
		t.Fatalf("err = %v, want the 429", err)
	}
}

func TestDeniedOperationNamesTheSAMPermission(t *testing.T) {
	for _, perm := range []string{"Credential:updateCredential", "Credential:listCredentials"} {
		t.Run(perm, func(t *testing.T) {
			s := emulator(t)
			seed(s, "set-1")
			s.Deny(perm)
			sess := login(t, s, nil)
			ifExists := soracom.Update
			if perm == "Credential:listCredentials" {
				ifExists = soracom.Skip
			}
			_, err := sess.StoreAll(context.Background(), []string{"set-1"}, content, ifExists, nil)
			var apiErr *soracom.APIError
			if !errors.As(err, &apiErr) || apiErr.Status != 403 {
				t.Fatalf("err = %v", err)
			}
			if apiErr.Permission() != perm {
				t.Errorf("permission = %q, want %s", apiErr.Permission(), perm)
			}
		})
	}
}

func TestRevokedTokenIsReplacedOnce(t *testing.T) {
	s := emulator(t)
	seed(s, "set-1")
	m := &maskLog{}
	sess := login(t, s, m)
	s.ExpireAllTokens()
	s.Reset()
	if _, err := sess.StoreAll(context.Background(), []string{"set-1"}, content, soracom.Update, nil); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(trips(s), ", "); got != "PUT /v1/credentials/set-1, POST /v1/auth, POST /v1/auth/logout, PUT /v1/credentials/set-1" {
		t.Errorf("requests = %s", got)
	}
	if len(m.vals) != 4 {
		t.Errorf("the new token was not masked (%d masks)", len(m.vals))
	}
}

// A 401 from something in front of SORACOM may reject a token that is still valid: the
// replaced token is revoked all the same, so none is left alive.
func TestSpurious401LeavesNoTokenAlive(t *testing.T) {
	s := emulator(t)
	seed(s, "set-1")
	sess := login(t, s, nil)
	s.Inject("PUT /v1/credentials/*", 1, soracomtest.StatusFault(401))
	if _, err := sess.StoreAll(context.Background(), []string{"set-1"}, content, soracom.Update, nil); err != nil {
		t.Fatal(err)
	}
	if err := sess.Logout(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := s.LiveSessions(); n != 0 {
		t.Errorf("%d tokens left alive", n)
	}
}

// SORACOM may answer an expired token with a 400 that looks like bad fields, so the
// client must never send a token that could expire during the call.
func TestTokenNearExpiryIsRenewedAndTheOldOneRevoked(t *testing.T) {
	s := emulator(t, soracomtest.WithExpiredTokenAnswer(soracomtest.ErrorAnswer{Status: 400, Code: "SEM0017", Message: "token expired"}))
	seed(s, "set-1")
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	sess := login(t, s, nil, soracom.WithClock(clock))
	mu.Lock()
	now = now.Add(soracom.MinTokenLifetime - time.Second)
	mu.Unlock()
	s.Advance(soracom.MinTokenLifetime - time.Second)
	s.Reset()
	if _, err := sess.StoreAll(context.Background(), []string{"set-1"}, content, soracom.Update, nil); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(trips(s), ", "); got != "POST /v1/auth, POST /v1/auth/logout, PUT /v1/credentials/set-1" {
		t.Errorf("requests = %s", got)
	}
	if err := sess.Logout(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s.LiveSessions() != 0 {
		t.Errorf("%d sessions left alive", s.LiveSessions())
	}
}

func TestCancelledContextStopsRetrying(t *testing.T) {
	s := emulator(t)
	seed(s, "set-1")
	sess := login(t, s, nil)
	s.Inject("PUT /v1/credentials/*", soracomtest.Always, soracomtest.StatusFault(503))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := sess.StoreAll(ctx, []string{"set-1"}, content, soracom.Update, nil)
	if err == nil {
		t.Fatal("no error")
	}
}

func TestErrorsNeverShowTheSecrets(t *testing.T) {
	s := emulator(t)
	sess := login(t, s, nil)
	s.Inject("PUT /v1/credentials/*", soracomtest.Always, soracomtest.StatusFault(500))
	_, err := sess.StoreAll(context.Background(), []string{"set-1"}, content, soracom.Update, nil)
	if err == nil {
		t.Fatal("no error")
	}
	for _, v := range []string{keySecret, content.Credentials["secretAccessKey"].(string)} {
		if strings.Contains(err.Error(), v) {
			t.Errorf("error shows a secret: %v", err)
		}
	}
}

// SORACOM may answer an expired token with a 400, the same status as a rejected write.
// A token revoked behind the client's back must not end as "the fields are invalid".
func TestTokenExpiredAnsweredWith400IsNotMistakenForBadFields(t *testing.T) {
	s := emulator(t, soracomtest.WithExpiredTokenAnswer(soracomtest.ErrorAnswer{Status: 400, Code: "SEM0017", Message: "token expired"}))
	seed(s, "set-1")
	sess := login(t, s, nil)
	s.ExpireAllTokens()
	stored, err := sess.StoreAll(context.Background(), []string{"set-1"}, content, soracom.Update, nil)
	if err != nil {
		t.Fatal(err)
	}
	if stored[0].Operation != soracom.Updated {
		t.Errorf("operation = %s", stored[0].Operation)
	}
	if set, _ := s.CredentialSet("set-1"); set.Credentials["secretAccessKey"] != content.Credentials["secretAccessKey"] {
		t.Errorf("set not updated")
	}
}
