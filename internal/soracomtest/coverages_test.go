package soracomtest_test

import (
	"net/http"
	"testing"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

func TestCoveragesAreTwoPlaces(t *testing.T) {
	c := soracomtest.StartBoth(t)
	if c.JP.URL() == c.G.URL() {
		t.Fatalf("both coverages at %s", c.JP.URL())
	}
	c.AddAuthKey("keyId-test", "secret-test")
	c.JP.PutCredentialSet(soracomtest.CredentialSet{ID: "only-jp", Type: "aws-credentials"})
	c.JP.Deny(soracomtest.PermListGroups)
	c.Each(func(coverage string, s *soracomtest.Server) {
		r := mustDo(t, s, nil, "POST", "/v1/auth", map[string]any{"authKeyId": "keyId-test", "authKey": "secret-test"})
		if r.status != http.StatusOK {
			t.Fatalf("%s: auth %d", coverage, r.status)
		}
		var a struct{ APIKey, Token string }
		r.json(t, &a)
		sess := &session{a.APIKey, a.Token}
		_, jpOnly := s.CredentialSet("only-jp")
		if jpOnly != (coverage == soracomtest.CoverageJP) {
			t.Errorf("%s holds only-jp: %v", coverage, jpOnly)
		}
		groups := mustDo(t, s, sess, "GET", "/v1/groups", nil)
		if denied := groups.status == http.StatusForbidden; denied != (coverage == soracomtest.CoverageJP) {
			t.Errorf("%s: listGroups %d; a denial on jp must not reach g", coverage, groups.status)
		}
		mustDo(t, s, sess, "POST", "/v1/auth/logout", nil)
	})
	if c.Server(soracomtest.CoverageG) != c.G || c.Server("x") != nil || c.LiveSessions() != 0 {
		t.Errorf("Server or LiveSessions is wrong")
	}
}

// SAM users and their AuthKeys are the operator's: a key generated through one
// coverage authenticates on the other, and one deleted through either is gone from
// both. Sets stay where they were written.
func TestCoveragesShareTheOperatorsAuthKeys(t *testing.T) {
	c := soracomtest.StartBoth(t)
	c.AddAuthKey("keyId-test", "secret-test")
	auth := func(s *soracomtest.Server, id, secret string) (*session, int) {
		r := mustDo(t, s, nil, "POST", "/v1/auth", map[string]any{"authKeyId": id, "authKey": secret})
		var a struct{ APIKey, Token, OperatorID string }
		if r.status == http.StatusOK {
			r.json(t, &a)
		}
		return &session{a.APIKey, a.Token}, r.status
	}
	jp, _ := auth(c.JP, "keyId-test", "secret-test")
	gen := mustDo(t, c.JP, jp, "POST", "/v1/operators/"+soracomtest.DefaultOperatorID+"/users/"+soracomtest.DefaultUserName+"/auth_keys", nil)
	var key struct{ AuthKeyID, AuthKey string }
	gen.json(t, &key)
	if _, status := auth(c.G, key.AuthKeyID, key.AuthKey); status != http.StatusOK {
		t.Fatalf("a key generated on jp: auth on g %d", status)
	}
	mustDo(t, c.JP, jp, "DELETE", "/v1/operators/"+soracomtest.DefaultOperatorID+"/users/"+soracomtest.DefaultUserName+"/auth_keys/"+key.AuthKeyID, nil)
	if _, status := auth(c.G, key.AuthKeyID, key.AuthKey); status == http.StatusOK {
		t.Errorf("a key deleted on jp still works on g")
	}
	if len(c.G.UserAuthKeys(soracomtest.DefaultUserName)) != 1 {
		t.Errorf("g's view of the user's keys: %+v", c.G.UserAuthKeys(soracomtest.DefaultUserName))
	}
}
