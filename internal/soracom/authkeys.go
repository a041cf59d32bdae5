package soracom

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/paging"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/shape"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/untrusted"
)

// UserAuthKey is one AuthKey of a SAM user as the list shows it: its id and times,
// never its secret.
type UserAuthKey struct {
	ID string
	// Created and LastUsed are zero when SORACOM gave no usable time.
	Created  time.Time
	LastUsed time.Time
}

// ErrRootAuthKey is an AuthKey call made with the operator's root AuthKey: only a SAM
// user's AuthKeys are managed (a root AuthKey has no user path, and rotating the
// account's master key from a workflow is not something to automate).
var ErrRootAuthKey = errors.New("the AuthKey in use is the operator's root AuthKey, not a SAM user's: only a SAM user's AuthKey can be rotated")

// maxAuthKeys bounds the list of a user's AuthKeys; SORACOM documents no limit, and a
// user with more is not one this action manages. maxAuthKeyPages bounds its pages,
// should SORACOM ever page it (see pagePath).
const (
	maxAuthKeys     = 100
	maxAuthKeyPages = 10
)

type authKeyAnswer struct {
	AuthKeyID        string `json:"authKeyId"`
	CreateDateTime   int64  `json:"createDateTime"`
	LastUsedDateTime int64  `json:"lastUsedDateTime"`
}

type generatedAuthKey struct {
	AuthKeyID string `json:"authKeyId"`
	AuthKey   string `json:"authKey"`
}

// userPath is /operators/{operator_id}/users/{user_name}/auth_keys of the session's
// user; a root session has none.
func (s *Session) userPath() (string, error) {
	s.mu.Lock()
	op, user := s.OperatorID, s.UserName
	s.mu.Unlock()
	if user == "" {
		return "", ErrRootAuthKey
	}
	return "/operators/" + url.PathEscape(op) + "/users/" + url.PathEscape(user) + "/auth_keys", nil
}

// ListUserAuthKeys returns the AuthKeys of the session's SAM user. Every id is checked
// against its shape: the ids decide which key is deleted. The spec says the list is
// not paged; a next key is followed all the same, within bounds (see pagePath).
func (s *Session) ListUserAuthKeys(ctx context.Context) ([]UserAuthKey, error) {
	path, err := s.userPath()
	if err != nil {
		return nil, err
	}
	lim := s.listLimit("listUserAuthKeys (GET /v1/operators/{operator_id}/users/{user_name}/auth_keys)", maxAuthKeyPages, maxAuthKeys)
	return paging.Collect(ctx, lim, func(ctx context.Context, marker string) (paging.Page[UserAuthKey], error) {
		cl := call{operation: "listUserAuthKeys", method: http.MethodGet, path: pagePath(path, marker)}
		resp, next, err := s.sendPage(ctx, cl)
		if err != nil {
			return paging.Page[UserAuthKey]{}, err
		}
		keys, err := readAuthKeys(cl, resp)
		return paging.Page[UserAuthKey]{Items: keys, More: next != "", Next: next, Bytes: len(resp.body)}, err
	})
}

// readAuthKeys reads one answer of the AuthKey list, each id checked against its shape.
// Past maxAuthKeys entries the rest is not read (see rawArray).
func readAuthKeys(cl call, resp response) ([]UserAuthKey, error) {
	raw, err := rawArray(resp.body, maxAuthKeys)
	if err != nil {
		return nil, fmt.Errorf("%s: SORACOM answered %d with a body that is not a JSON array of AuthKeys: %w", cl.operation, resp.status, err)
	}
	if len(raw) > maxAuthKeys {
		return nil, newAnswerError(cl, "list", fmt.Sprintf("a list of at most %d AuthKeys", maxAuthKeys), fmt.Sprintf("more than %d AuthKeys", maxAuthKeys))
	}
	out := make([]UserAuthKey, len(raw))
	for i, r := range raw {
		k, err := decode[authKeyAnswer](cl, response{status: resp.status, body: r})
		if err != nil {
			return nil, err
		}
		if !shape.AuthKeyID(k.AuthKeyID) {
			return nil, newAnswerError(cl, "authKeyId", shape.AuthKeyIDShape, k.AuthKeyID)
		}
		out[i] = UserAuthKey{ID: k.AuthKeyID, Created: EpochTime(k.CreateDateTime), LastUsed: EpochTime(k.LastUsedDateTime)}
	}
	return out, nil
}

// minAuthKeySecret is the shortest secret accepted from a generate answer: a shorter
// one is not SORACOM's and the answer is refused. It is masked all the same (the mask
// comes before any check, as it may be a secret), so a hostile short one can blank out
// ordinary text in the log: unreadable, never revealing.
const minAuthKeySecret = 8

// GenerateUserAuthKey creates a new AuthKey for the session's SAM user. The secret is
// masked before anything else looks at the answer. A generate that SORACOM may have
// carried out without the answer arriving is a *NetworkError or *APIError for which
// WriteInDoubt is true.
func (s *Session) GenerateUserAuthKey(ctx context.Context) (AuthKey, error) {
	path, err := s.userPath()
	if err != nil {
		return AuthKey{}, err
	}
	cl := call{operation: "generateUserAuthKey", method: http.MethodPost, path: path}
	resp, err := s.send(ctx, cl)
	if err != nil {
		return AuthKey{}, err
	}
	g, err := decode[generatedAuthKey](cl, resp)
	if err != nil {
		// The body was not readable JSON; whatever it held is not printed.
		return AuthKey{}, &APIError{Operation: cl.operation, Method: cl.method, Path: "/v1" + cl.path, Status: resp.status,
			Message: "the answer is not the expected JSON"}
	}
	key := AuthKey{ID: g.AuthKeyID, Secret: secret.Mask(s.c.masker, g.AuthKey)}
	if !shape.AuthKeyID(g.AuthKeyID) {
		return AuthKey{}, newAnswerError(cl, "authKeyId", shape.AuthKeyIDShape, g.AuthKeyID)
	}
	if len(g.AuthKey) < minAuthKeySecret || !shape.Line(g.AuthKey) {
		// Not quoted: it is (or holds) the secret.
		return AuthKey{}, newAnswerError(cl, "authKey", "an AuthKey secret (one line of 8 or more characters)", untrusted.Withheld)
	}
	return key, nil
}

// DeleteUserAuthKey deletes the AuthKey id of the session's SAM user.
func (s *Session) DeleteUserAuthKey(ctx context.Context, id string) error {
	path, err := s.userPath()
	if err != nil {
		return err
	}
	if !shape.AuthKeyID(id) {
		return fmt.Errorf("refusing to delete %q: it is not %s", id, shape.AuthKeyIDShape)
	}
	_, err = s.send(ctx, call{operation: "deleteUserAuthKey", method: http.MethodDelete, path: path + "/" + url.PathEscape(id)})
	return err
}

// secondsBefore is the first value read as milliseconds by EpochTime: 10^11 seconds is
// the year 5138, 10^11 milliseconds is 1973, before SORACOM existed.
const secondsBefore = 100_000_000_000

// EpochTime reads a SORACOM timestamp given in seconds or in milliseconds. The spec
// documents the AuthKey times in seconds while SORACOM's other times are milliseconds,
// so either is accepted: no date SORACOM can hold is ambiguous between the two. Zero,
// and any time outside 2000–2200, is the zero time.
func EpochTime(v int64) time.Time {
	if v > 0 && v < secondsBefore {
		v *= 1000
	}
	return Millis(v)
}
