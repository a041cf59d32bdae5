package soracom_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracom"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

const userKeys = "/v1/operators/" + soracomtest.DefaultOperatorID + "/users/" + soracomtest.DefaultUserName + "/auth_keys"

func TestUserAuthKeysListGenerateDelete(t *testing.T) {
	for _, millis := range []bool{false, true} {
		name := "times in seconds (the spec)"
		var opts []soracomtest.Option
		if millis {
			name, opts = "times in milliseconds", []soracomtest.Option{soracomtest.WithAuthKeyTimesInMillis()}
		}
		t.Run(name, func(t *testing.T) { checkListGenerateDelete(t, emulator(t, opts...)) })
	}
}

// checkListGenerateDelete generates a key, lists both, deletes the old one.
func checkListGenerateDelete(t *testing.T, s *soracomtest.Server) {
	t.Helper()
	created := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s.SetAuthKeyCreated(keyID, created)
	masks := &maskLog{}
	sess := login(t, s, masks)
	ctx := context.Background()

	key, err := sess.GenerateUserAuthKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(masks.vals, "\n"), key.Secret.Reveal()) {
		t.Error("the new secret was not masked")
	}
	keys, err := sess.ListUserAuthKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].ID != keyID || !keys[0].Created.Equal(created) || keys[1].ID != key.ID {
		t.Fatalf("list %+v, want %s created %s, then %s", keys, keyID, created, key.ID)
	}
	if err := sess.DeleteUserAuthKey(ctx, keyID); err != nil {
		t.Fatal(err)
	}
	if left := s.UserAuthKeys(soracomtest.DefaultUserName); len(left) != 1 || left[0].ID != key.ID || left[0].Secret != key.Secret.Reveal() {
		t.Errorf("left %+v, want only the new key with the secret the client got", left)
	}
}

func TestRootAuthKeyIsNotRotated(t *testing.T) {
	s := emulator(t)
	s.AddUserAuthKey("", "keyId-root", "secret-root-0123")
	c := soracom.New(s.URL(), &maskLog{}, soracom.WithRetry(fastRetry()))
	sess, err := c.Auth(context.Background(), soracom.AuthKey{ID: "keyId-root", Secret: secret.New("secret-root-0123")}, soracom.MinTokenLifetime)
	if err != nil {
		t.Fatal(err)
	}
	before := len(s.Requests())
	if _, err := sess.ListUserAuthKeys(context.Background()); !errors.Is(err, soracom.ErrRootAuthKey) {
		t.Errorf("list with a root key: %v, want ErrRootAuthKey", err)
	}
	if _, err := sess.GenerateUserAuthKey(context.Background()); !errors.Is(err, soracom.ErrRootAuthKey) {
		t.Errorf("generate with a root key: %v, want ErrRootAuthKey", err)
	}
	if n := len(s.Requests()) - before; n != 0 {
		t.Errorf("%d requests sent for a root key", n)
	}
}

func TestForgedAuthKeyAnswersAreRefused(t *testing.T) {
	ok := `{"authKeyId":"keyId-good","createDateTime":1722480500}`
	tests := []struct {
		name, match, body, want string
		generate                bool
	}{
		{"a listed id that is a path", "GET " + userKeys, `[{"authKeyId":"keyId-../../credentials","createDateTime":1}]`, "authKeyId", false},
		{"a listed id with a line break", "GET " + userKeys, `[` + ok + `,{"authKeyId":"keyId-a\n::error::x","createDateTime":1}]`, "authKeyId", false},
		{"a list that is too long", "GET " + userKeys, "[" + strings.Repeat(ok+",", 100) + ok + "]", "at most 100", false},
		{"a generated id that is not one", "POST " + userKeys, `{"authKeyId":"x","authKey":"secret-0123456789"}`, "authKeyId", true},
		{"a generated secret that is too short", "POST " + userKeys, `{"authKeyId":"keyId-new","authKey":"s"}`, "authKey", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := emulator(t)
			s.Inject(tt.match, 1, soracomtest.Fault{Status: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Body: tt.body})
			sess := login(t, s, nil)
			var err error
			if tt.generate {
				_, err = sess.GenerateUserAuthKey(context.Background())
			} else {
				_, err = sess.ListUserAuthKeys(context.Background())
			}
			var bad *soracom.AnswerError
			if !errors.As(err, &bad) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want an AnswerError about %s", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret-0123456789") {
				t.Errorf("the error shows the generated secret: %v", err)
			}
		})
	}
}

func TestDeniedAuthKeyOperationNamesTheUserPermission(t *testing.T) {
	s := emulator(t)
	s.Deny(soracomtest.PermGenerateUserAuthKey)
	sess := login(t, s, nil)
	_, err := sess.GenerateUserAuthKey(context.Background())
	var apiErr *soracom.APIError
	if !errors.As(err, &apiErr) || apiErr.Permission() != "User:generateUserAuthKey" {
		t.Errorf("err = %v, want a 403 naming User:generateUserAuthKey", err)
	}
}

func TestEpochTimeReadsSecondsAndMilliseconds(t *testing.T) {
	want := time.Date(2024, 8, 1, 2, 48, 20, 0, time.UTC)
	for _, v := range []int64{1722480500, 1722480500000} {
		if got := soracom.EpochTime(v); !got.Equal(want) {
			t.Errorf("EpochTime(%d) = %s, want %s", v, got, want)
		}
	}
	for _, v := range []int64{0, -1, 99999999999, 1 << 62} {
		if got := soracom.EpochTime(v); !got.IsZero() {
			t.Errorf("EpochTime(%d) = %s, want the zero time", v, got)
		}
	}
}
