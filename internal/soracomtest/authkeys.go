package soracomtest

import (
	"maps"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// SAM permission names of a user's AuthKey operations, as SORACOM spells them (the
// User API). Deny takes these.
const (
	PermListUserAuthKeys    = "User:listUserAuthKeys"
	PermGenerateUserAuthKey = "User:generateUserAuthKey"
	PermDeleteUserAuthKey   = "User:deleteUserAuthKey"
)

// answerAuthKeyLimit is the answer to a generate over WithAuthKeyLimit. SORACOM
// documents no per-user limit; 400 is the plausible answer.
var answerAuthKeyLimit = ErrorAnswer{http.StatusBadRequest, "SEM0042", "The maximum number of AuthKeys for this user has been reached."}

// WithAuthKeyTimesInMillis makes the AuthKey list give createDateTime and
// lastUsedDateTime in epoch milliseconds, as SORACOM's other times are, instead of the
// seconds the spec documents for them. A client must read either.
func WithAuthKeyTimesInMillis() Option { return func(c *config) { c.authKeyMillis = true } }

// WithAuthKeyLimit makes a generate answer 400 once the user has n AuthKeys. SORACOM
// documents no limit; the default is none.
func WithAuthKeyLimit(n int) Option { return func(c *config) { c.authKeyLimit = n } }

// OwnAuthKeysOnly plays the SAM policy that lets a user manage only its own AuthKeys
// (the condition pathVariable('user_name') == samUserName): a request for another
// user's keys answers as denied.
func (e *Emulator) OwnAuthKeysOnly() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ownKeys = true
}

// AuthKeyInfo is an AuthKey as the emulator stores it, secret included.
type AuthKeyInfo struct {
	ID, Secret, UserName string
	Created, LastUsed    time.Time
}

// UserAuthKeys returns the AuthKeys of userName, oldest first.
func (e *Emulator) UserAuthKeys(userName string) []AuthKeyInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.userKeysLocked(userName)
}

func (e *Emulator) userKeysLocked(userName string) []AuthKeyInfo {
	var out []AuthKeyInfo
	for id, k := range e.authKeys.all() {
		if k.userName == userName {
			out = append(out, AuthKeyInfo{ID: id, Secret: k.secret, UserName: k.userName, Created: k.created, LastUsed: k.lastUsed})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// SetAuthKeyCreated sets when the AuthKey id was created (to age it); it reports
// whether the key exists.
func (e *Emulator) SetAuthKeyCreated(id string, t time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	k, ok := e.authKeys.get(id)
	if ok {
		k.created = t
		e.authKeys.put(id, k)
	}
	return ok
}

// authKeysLocked serves /v1/operators/{operator_id}/users/{user_name}/auth_keys and
// …/auth_keys/{auth_key_id}. The escaped path is split, so that a user name with an
// escaped "/" stays one segment.
func (e *Emulator) authKeysLocked(r *http.Request) *response {
	parts := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/v1/operators/"), "/")
	if len(parts) < 4 || len(parts) > 5 || parts[1] != "users" || parts[3] != "auth_keys" {
		return e.errorResponse(answerNotFound)
	}
	op, user := unescape(parts[0]), unescape(parts[2])
	keyID := ""
	if len(parts) == 5 {
		keyID = unescape(parts[4])
	}
	var permission string
	var serve func() *response
	switch {
	case keyID == "" && r.Method == http.MethodGet:
		permission, serve = PermListUserAuthKeys, func() *response { return e.listAuthKeysLocked(user) }
	case keyID == "" && r.Method == http.MethodPost:
		permission, serve = PermGenerateUserAuthKey, func() *response { return e.generateAuthKeyLocked(user) }
	case keyID != "" && r.Method == http.MethodDelete:
		permission, serve = PermDeleteUserAuthKey, func() *response { return e.deleteAuthKeyLocked(user, keyID) }
	default:
		return e.errorResponse(answerMethodNotAllowed)
	}
	return e.authorizedLocked(r, permission, func() *response {
		if resp := e.checkUserPathLocked(r, op, user, permission); resp != nil {
			return resp
		}
		return serve()
	})
}

// checkUserPathLocked refuses a path of another operator, and, under OwnAuthKeysOnly,
// of another user than the session's.
func (e *Emulator) checkUserPathLocked(r *http.Request, op, user, permission string) *response {
	if op != e.cfg.operatorID {
		return e.deniedLocked(permission)
	}
	s := e.sessions[r.Header.Get("X-Soracom-API-Key")]
	if e.ownKeys && (s == nil || s.userName != user) {
		return e.deniedLocked(permission)
	}
	return nil
}

func (e *Emulator) deniedLocked(permission string) *response {
	a := e.cfg.denied
	if a == answerDenied {
		a.Message = "You do not have permission to perform this operation (" + permission + ")."
	}
	return e.errorResponse(a)
}

type authKeyEntry struct {
	AuthKeyID        string `json:"authKeyId"`
	CreateDateTime   int64  `json:"createDateTime"`
	LastUsedDateTime *int64 `json:"lastUsedDateTime,omitempty"`
}

func (e *Emulator) epoch(t time.Time) int64 {
	if e.cfg.authKeyMillis {
		return t.UnixMilli()
	}
	return t.Unix()
}

func (e *Emulator) listAuthKeysLocked(user string) *response {
	if !e.userExistsLocked(user) {
		return e.errorResponse(answerNotFound)
	}
	out := []authKeyEntry{}
	for _, k := range e.userKeysLocked(user) {
		entry := authKeyEntry{AuthKeyID: k.ID, CreateDateTime: e.epoch(k.Created)}
		if !k.LastUsed.IsZero() {
			used := e.epoch(k.LastUsed)
			entry.LastUsedDateTime = &used
		}
		out = append(out, entry)
	}
	return jsonResponse(http.StatusOK, out)
}

func (e *Emulator) generateAuthKeyLocked(user string) *response {
	if !e.userExistsLocked(user) {
		return e.errorResponse(answerNotFound)
	}
	if n := e.cfg.authKeyLimit; n > 0 && len(e.userKeysLocked(user)) >= n {
		return e.errorResponse(answerAuthKeyLimit)
	}
	id := "keyId-" + randomHex(16)
	secret := "secret-" + randomHex(32)
	e.authKeys.put(id, authKey{secret: secret, userName: user, created: e.nowLocked()})
	return jsonResponse(http.StatusOK, map[string]string{"authKeyId": id, "authKey": secret})
}

func (e *Emulator) deleteAuthKeyLocked(user, id string) *response {
	k, ok := e.authKeys.get(id)
	if !ok || k.userName != user {
		return e.errorResponse(answerNotFound)
	}
	// Sessions opened with the key stay, as with RemoveAuthKey: SORACOM does not say
	// that deleting a key revokes its tokens.
	e.authKeys.remove(id)
	return &response{status: http.StatusNoContent, header: http.Header{}}
}

// userExistsLocked: the emulator knows a SAM user by its AuthKeys, and by the sessions
// opened with them (a user whose last key was deleted still exists).
func (e *Emulator) userExistsLocked(user string) bool {
	if user == "" {
		return false
	}
	for _, k := range e.authKeys.all() {
		if k.userName == user {
			return true
		}
	}
	for _, s := range e.sessions {
		if s.userName == user {
			return true
		}
	}
	return false
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// authKeyStore holds the AuthKeys an emulator accepts. SAM users and their AuthKeys are
// the operator's, valid on both coverages, so the two emulators of a Coverages share
// one store (while each keeps its own sets, groups and sessions). It has its own lock,
// taken inside an emulator's.
type authKeyStore struct {
	mu   sync.Mutex
	keys map[string]authKey
}

func newAuthKeyStore() *authKeyStore { return &authKeyStore{keys: map[string]authKey{}} }

func (s *authKeyStore) get(id string) (authKey, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[id]
	return k, ok
}

func (s *authKeyStore) put(id string, k authKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[id] = k
}

func (s *authKeyStore) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.keys, id)
}

// all returns a copy of every key by id.
func (s *authKeyStore) all() map[string]authKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.keys)
}

// withAuthKeys makes an emulator use store for its AuthKeys (see authKeyStore).
func withAuthKeys(store *authKeyStore) Option { return func(c *config) { c.authKeys = store } }
