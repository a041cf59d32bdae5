package soracomtest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// authKeysPath is the AuthKey path of the emulator's default operator and user.
const authKeysPath = "/v1/operators/" + soracomtest.DefaultOperatorID + "/users/" + soracomtest.DefaultUserName + "/auth_keys"

func loginAs(t *testing.T, s *soracomtest.Server, id, secret string) *session {
	t.Helper()
	r := mustDo(t, s, nil, "POST", "/v1/auth", map[string]any{"authKeyId": id, "authKey": secret})
	var a struct{ APIKey, Token string }
	r.json(t, &a)
	return &session{a.APIKey, a.Token}
}

// TestAuthKeyOperationsFitTheSpec lists, generates and deletes a SAM user's AuthKeys
// through an emulator that checks every request and answer against the spec.
func TestAuthKeyOperationsFitTheSpec(t *testing.T) {
	s := soracomtest.Start(t, soracomtest.WithContract(requireContract(t)))
	s.AddAuthKey("keyId-old", "secret-old-0123")
	sess := loginAs(t, s, "keyId-old", "secret-old-0123")

	var generated struct{ AuthKeyID, AuthKey string }
	mustDo(t, s, sess, "POST", authKeysPath, nil).json(t, &generated)
	if generated.AuthKeyID == "" || generated.AuthKey == "" {
		t.Fatalf("generate answered %+v", generated)
	}
	var list []struct {
		AuthKeyID        string
		CreateDateTime   int64
		LastUsedDateTime int64
	}
	mustDo(t, s, sess, "GET", authKeysPath, nil).json(t, &list)
	if len(list) != 2 || list[0].AuthKeyID != "keyId-old" || list[1].AuthKeyID != generated.AuthKeyID {
		t.Fatalf("list %+v, want the old key then the new one", list)
	}
	if now := time.Now().Unix(); list[0].CreateDateTime < now-60 || list[0].CreateDateTime > now+60 || list[0].LastUsedDateTime == 0 {
		t.Errorf("times %+v are not the spec's seconds, or the login did not count as a use", list[0])
	}
	if r := mustDo(t, s, sess, "DELETE", authKeysPath+"/keyId-old", nil); r.status != http.StatusNoContent {
		t.Errorf("delete: %d", r.status)
	}
	if r := mustDo(t, s, sess, "DELETE", authKeysPath+"/keyId-old", nil); r.status != http.StatusNotFound {
		t.Errorf("delete again: %d, want 404", r.status)
	}
	// The new key logs in; the deleted one does not.
	loginAs(t, s, generated.AuthKeyID, generated.AuthKey)
	if r := mustDo(t, s, nil, "POST", "/v1/auth", map[string]any{"authKeyId": "keyId-old", "authKey": "secret-old-0123"}); r.status != http.StatusUnauthorized {
		t.Errorf("login with the deleted key: %d", r.status)
	}
	for _, v := range s.ContractViolations() {
		t.Errorf("contract violation: %s", v)
	}
}

func TestAuthKeyTimesInMillisecondsOnRequest(t *testing.T) {
	s := soracomtest.Start(t, soracomtest.WithAuthKeyTimesInMillis())
	s.AddAuthKey("keyId-a", "secret-a-0123")
	var list []struct{ CreateDateTime int64 }
	mustDo(t, s, loginAs(t, s, "keyId-a", "secret-a-0123"), "GET", authKeysPath, nil).json(t, &list)
	if len(list) != 1 || list[0].CreateDateTime < time.Now().Add(-time.Minute).UnixMilli() {
		t.Errorf("list %+v, want milliseconds", list)
	}
}

// The SAM policy with the condition pathVariable('user_name') == samUserName: a user
// manages its own keys and nobody else's; a denied permission answers 403.
func TestAuthKeysOfAnotherUserAreDeniedUnderTheOwnKeysPolicy(t *testing.T) {
	s := soracomtest.Start(t)
	s.AddAuthKey("keyId-a", "secret-a-0123")
	s.AddUserAuthKey("other", "keyId-b", "secret-b-0123")
	sess := loginAs(t, s, "keyId-a", "secret-a-0123")
	other := "/v1/operators/" + soracomtest.DefaultOperatorID + "/users/other/auth_keys"
	if r := mustDo(t, s, sess, "GET", other, nil); r.status != http.StatusOK {
		t.Errorf("without the policy: %d", r.status)
	}
	s.OwnAuthKeysOnly()
	for _, c := range []struct{ method, path string }{{"GET", other}, {"POST", other}, {"DELETE", other + "/keyId-b"}} {
		if r := mustDo(t, s, sess, c.method, c.path, nil); r.status != http.StatusForbidden {
			t.Errorf("%s %s: %d, want 403", c.method, c.path, r.status)
		}
	}
	if r := mustDo(t, s, sess, "GET", authKeysPath, nil); r.status != http.StatusOK {
		t.Errorf("own keys: %d", r.status)
	}
	s.Deny(soracomtest.PermGenerateUserAuthKey)
	if r := mustDo(t, s, sess, "POST", authKeysPath, nil); r.status != http.StatusForbidden {
		t.Errorf("denied generate: %d", r.status)
	}
	if r := mustDo(t, s, sess, "GET", "/v1/operators/OP0099/users/"+soracomtest.DefaultUserName+"/auth_keys", nil); r.status != http.StatusForbidden {
		t.Errorf("another operator: %d", r.status)
	}
	if n := len(s.UserAuthKeys("other")); n != 1 {
		t.Errorf("other user has %d keys, want 1", n)
	}
}

func TestAuthKeyLimit(t *testing.T) {
	s := soracomtest.Start(t, soracomtest.WithAuthKeyLimit(2))
	s.AddAuthKey("keyId-a", "secret-a-0123")
	sess := loginAs(t, s, "keyId-a", "secret-a-0123")
	if r := mustDo(t, s, sess, "POST", authKeysPath, nil); r.status != http.StatusOK {
		t.Fatalf("second key: %d", r.status)
	}
	if r := mustDo(t, s, sess, "POST", authKeysPath, nil); r.status != http.StatusBadRequest {
		t.Errorf("third key: %d, want 400", r.status)
	}
}
