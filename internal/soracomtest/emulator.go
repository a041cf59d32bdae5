// Package soracomtest is an in-memory emulator of the part of the SORACOM API that the
// action uses: authentication, logout, credential sets, a SAM user's own AuthKeys, and
// the groups and event handlers that name sets. Tests, the local demo and the benchmarks
// run the action against it; Coverages serves two of them, Japan and global, as two places.
//
// It is written from the API description and the facts in the project's notes, not from
// the project's client, so that a misreading of the API in the client is not repeated
// here. Where the real API's answer is unknown (POST on an existing id, PUT on a missing
// id, SAM denial, expired tokens) the emulator can play every plausible answer, so the
// client can be tested against each.
//
// Beyond the API itself it offers what tests need: scripted faults (rate limits, 5xx,
// non-JSON bodies, dropped connections, lost responses, slow answers), latency, a request
// log, a view of the stored secrets, a per-minute rate limit with SORACOM's headers, and
// contract checking against the OpenAPI spec.
package soracomtest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults used when no option says otherwise.
const (
	// DefaultOperatorID is the operator every auth key belongs to unless WithOperatorID
	// says otherwise.
	DefaultOperatorID = "OP0012345678"
	// DefaultUserName is the SAM user AddAuthKey registers a key for.
	DefaultUserName = "soracom-credentials-action"
	// DemoAuthKeyID and DemoAuthKey are the AuthKey the local emulators accept without
	// being told (cmd/soracom-emulator, the demo, the local runner's --emulator). They
	// open nothing but an emulator, which is why the README may print them.
	DemoAuthKeyID = "keyId-demo"
	DemoAuthKey   = "secret-demo"
	// DefaultTokenTimeout is what /v1/auth uses when tokenTimeoutSeconds is absent.
	DefaultTokenTimeout = 86400 * time.Second
	// MinTokenTimeoutSeconds and MaxTokenTimeoutSeconds bound tokenTimeoutSeconds, as
	// SORACOM documents them; outside them /v1/auth answers 400.
	MinTokenTimeoutSeconds = 180
	MaxTokenTimeoutSeconds = 172800
)

// SAM permission names of the credential operations, as SORACOM spells them. Deny takes
// these.
const (
	PermListCredentials  = "Credential:listCredentials"
	PermCreateCredential = "Credential:createCredential"
	PermUpdateCredential = "Credential:updateCredential"
	PermDeleteCredential = "Credential:deleteCredential"
)

// maxBodyBytes bounds what the emulator reads of a request body; credential sets are
// small, and a bound keeps a runaway client from exhausting a test's memory.
const maxBodyBytes = 1 << 20

// ErrorAnswer is an error response in SORACOM's shape: the HTTP status and the
// {"code","message"} body.
type ErrorAnswer struct {
	Status  int
	Code    string
	Message string
}

// The answers the emulator gives by default; never modified. The codes imitate
// SORACOM's style (three letters and four digits); clients must not depend on the exact
// values.
var (
	answerAuthFailed       = ErrorAnswer{http.StatusUnauthorized, "SEM0015", "Authentication failed. Check the auth key ID and the auth key."}
	answerInvalidToken     = ErrorAnswer{http.StatusUnauthorized, "SEM0016", "Invalid API key or token."}
	answerExpiredToken     = ErrorAnswer{http.StatusUnauthorized, "SEM0017", "The API token has expired. Authenticate again."}
	answerDenied           = ErrorAnswer{http.StatusForbidden, "SEM0049", "You do not have permission to perform this operation."}
	answerCreateConflict   = ErrorAnswer{http.StatusBadRequest, "SEM0026", "The credential set already exists."}
	answerUpdateMissing    = ErrorAnswer{http.StatusBadRequest, "SEM0027", "The credential set does not exist."}
	answerNotFound         = ErrorAnswer{http.StatusNotFound, "SEM0404", "Not found."}
	answerMethodNotAllowed = ErrorAnswer{http.StatusMethodNotAllowed, "SEM0405", "Method not allowed."}
)

func badRequest(msg string) ErrorAnswer {
	return ErrorAnswer{http.StatusBadRequest, "SEM0005", msg}
}

// Option configures an Emulator, or the server around it (the options that say so are
// ignored by New).
type Option func(*config)

type config struct {
	now            func() time.Time
	operatorID     string
	expiredToken   ErrorAnswer
	createConflict ErrorAnswer
	updateMissing  ErrorAnswer
	denied         ErrorAnswer
	errorType      string
	authKeyMillis  bool
	authKeyLimit   int
	latency        time.Duration
	contract       *Contract
	headers        []string
	observe        func(Request)
	groupPage      int
	setPage        int // 0: the set list is not paged
	rateLimit      int
	rateWindow     time.Duration
	server         serverConfig
	authKeys       *authKeyStore
}

// WithClock makes the emulator read time from now instead of time.Now. Advance still
// adds to whatever now returns.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithOperatorID sets the operator ID that /v1/auth reports.
func WithOperatorID(id string) Option { return func(c *config) { c.operatorID = id } }

// WithExpiredTokenAnswer sets the answer to a request whose token has expired (by the
// clock or ExpireAllTokens). The default is 401; the spec's updateCredential says 400
// also means "token expired", so a client must cope with both.
func WithExpiredTokenAnswer(a ErrorAnswer) Option { return func(c *config) { c.expiredToken = a } }

// WithCreateConflictAnswer sets the answer to POST /v1/credentials/{id} when the id
// exists. SORACOM does not document it; the default is 400, 409 is the other plausible
// answer.
func WithCreateConflictAnswer(a ErrorAnswer) Option {
	return func(c *config) { c.createConflict = a }
}

// WithUpdateMissingAnswer sets the answer to PUT /v1/credentials/{id} when the id does
// not exist. SORACOM does not document it; the default is 400, 404 is the other
// plausible answer.
func WithUpdateMissingAnswer(a ErrorAnswer) Option {
	return func(c *config) { c.updateMissing = a }
}

// WithDeniedAnswer sets the answer to an operation denied by Deny (default 403).
func WithDeniedAnswer(a ErrorAnswer) Option { return func(c *config) { c.denied = a } }

// WithErrorContentType sets the Content-Type of the emulator's own error bodies. SORACOM
// sometimes sends its JSON error bodies as text/plain; a client must parse them anyway.
func WithErrorContentType(ct string) Option { return func(c *config) { c.errorType = ct } }

// WithLatency delays every request by d before it is handled, as a network round trip
// to the real API would. The wait ends early, and nothing is handled, when the client
// gives up.
func WithLatency(d time.Duration) Option { return func(c *config) { c.latency = d } }

// WithContract makes the emulator check every request it receives and every response it
// sends against the spec, and record what does not fit; see ContractViolations.
func WithContract(ct *Contract) Option { return func(c *config) { c.contract = ct } }

// WithLoggedHeaders replaces the request headers that the request log keeps (by default
// the SORACOM auth headers, Content-Type, Accept, X-Soracom-Lang and User-Agent).
func WithLoggedHeaders(names ...string) Option {
	return func(c *config) { c.headers = append([]string(nil), names...) }
}

// WithRequestObserver calls observe with every request log entry as it is recorded,
// outside the emulator's lock; the standalone server prints requests with it. Entries
// carry secrets (auth headers, bodies): redact before printing.
func WithRequestObserver(observe func(Request)) Option {
	return func(c *config) { c.observe = observe }
}

// Emulator is an in-memory SORACOM API. It serves the paths under /v1 as an
// http.Handler and is safe for concurrent use. Create it with New.
type Emulator struct {
	cfg config

	mu         sync.Mutex
	offset     time.Duration       // added to cfg.now by Advance
	authKeys   *authKeyStore       // shared by the two coverages of a Coverages
	sessions   map[string]*session // by API key
	sets       map[string]*CredentialSet
	groups     map[string]*Group
	handlers   map[string]*EventHandler
	budgets    map[string]*budget
	throttled  int // requests the rate limit answered 429
	denied     map[string]bool
	ownKeys    bool // the SAM policy's condition pathVariable('user_name') == samUserName
	faults     []*faultRule
	requests   []Request
	violations []ContractViolation

	inFlight, mostInFlight atomic.Int64
}

type authKey struct {
	secret   string
	userName string
	created  time.Time
	lastUsed time.Time
}

type session struct {
	token    string
	expires  time.Time
	expired  bool   // set by ExpireAllTokens
	userName string // the SAM user the AuthKey belongs to; "" for root
}

// New returns an emulator with no auth keys, credential sets, groups or event handlers.
func New(opts ...Option) *Emulator {
	cfg := config{
		now:            time.Now,
		operatorID:     DefaultOperatorID,
		expiredToken:   answerExpiredToken,
		createConflict: answerCreateConflict,
		updateMissing:  answerUpdateMissing,
		denied:         answerDenied,
		errorType:      "application/json",
		groupPage:      DefaultGroupPageSize,
		rateLimit:      DefaultRateLimit,
		rateWindow:     RateLimitWindow,
		headers: []string{
			"X-Soracom-API-Key", "X-Soracom-Token", "X-Soracom-Lang",
			"Content-Type", "Accept", "User-Agent",
		},
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.authKeys == nil {
		cfg.authKeys = newAuthKeyStore()
	}
	return &Emulator{
		cfg:      cfg,
		authKeys: cfg.authKeys,
		sessions: map[string]*session{},
		sets:     map[string]*CredentialSet{},
		groups:   map[string]*Group{},
		handlers: map[string]*EventHandler{},
		budgets:  map[string]*budget{},
		denied:   map[string]bool{},
	}
}

// Now returns the emulator's current time: its clock plus everything Advance added.
func (e *Emulator) Now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.nowLocked()
}

func (e *Emulator) nowLocked() time.Time { return e.cfg.now().Add(e.offset) }

// Advance moves the emulator's clock forward by d; sessions whose lifetime has passed
// expire.
func (e *Emulator) Advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.offset += d
}

// AddAuthKey registers an auth key of the SAM user DefaultUserName, which /v1/auth will
// accept.
func (e *Emulator) AddAuthKey(id, secret string) { e.AddUserAuthKey(DefaultUserName, id, secret) }

// AddUserAuthKey registers an auth key of the SAM user userName; an empty userName
// means the root user, for whom /v1/auth leaves userName out, as SORACOM does.
func (e *Emulator) AddUserAuthKey(userName, id, secret string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.authKeys.put(id, authKey{secret: secret, userName: userName, created: e.nowLocked()})
}

// RemoveAuthKey makes /v1/auth reject the key from now on; sessions already open stay.
func (e *Emulator) RemoveAuthKey(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.authKeys.remove(id)
}

// ExpireAllTokens makes every session issued so far expired, as if its lifetime had
// passed. Requests with them get the expired-token answer.
func (e *Emulator) ExpireAllTokens() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range e.sessions {
		s.expired = true
	}
}

// LiveSessions returns how many sessions can still be used: issued, not logged out, not
// expired. A test asserts it is zero to check that the client logged out.
func (e *Emulator) LiveSessions() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.nowLocked()
	n := 0
	for _, s := range e.sessions {
		if !s.expired && now.Before(s.expires) {
			n++
		}
	}
	return n
}

// Deny makes the operation with the given SAM permission (e.g. PermUpdateCredential,
// "Credential:updateCredential") answer 403, as a SAM policy without it would.
func (e *Emulator) Deny(permission string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.denied[permission] = true
}

// raiseTo sets a to n if n is larger.
func raiseTo(a *atomic.Int64, n int64) {
	for {
		m := a.Load()
		if n <= m || a.CompareAndSwap(m, n) {
			return
		}
	}
}

// MostInFlight returns the most requests the emulator has served at once: a client's
// parallelism as the server sees it.
func (e *Emulator) MostInFlight() int { return int(e.mostInFlight.Load()) }

// Allow undoes Deny.
func (e *Emulator) Allow(permission string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.denied, permission)
}

// ServeHTTP answers a request as the SORACOM API would, unless a fault scripted with
// Inject says otherwise, and records it in the request log.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := e.inFlight.Add(1)
	defer e.inFlight.Add(-1)
	raiseTo(&e.mostInFlight, n)
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
	if err != nil {
		// The client went away mid-body; there is nobody to answer.
		e.record(r, body, 0, outcome{note: "body read failed: " + err.Error()})
		return
	}
	e.mu.Lock()
	fault := e.takeFaultLocked(r.Method, r.URL.Path)
	latency := e.cfg.latency
	e.mu.Unlock()

	ctx := r.Context()
	if !sleep(ctx, latency) {
		e.record(r, body, 0, outcome{note: "client gave up during latency"})
		return
	}
	if fault != nil {
		e.serveFault(w, r, body, fault)
		return
	}
	resp := e.handle(r, body)
	// Logged before it is sent, so a test that has the response sees the entry.
	e.record(r, body, resp.status, outcome{handled: true, resp: resp})
	resp.writeTo(w)
}

// response is an answer built in memory, so that a fault can replace it after the
// handler ran, and the contract check can see it.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r *response) writeTo(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body)
}

func jsonResponse(status int, v any) *response {
	b, err := json.Marshal(v)
	if err != nil {
		// Only the emulator's own types are marshalled; failing here is a bug in it.
		panic("soracomtest: marshal response: " + err.Error())
	}
	return &response{status: status, header: http.Header{"Content-Type": {"application/json"}}, body: b}
}

func (e *Emulator) errorResponse(a ErrorAnswer) *response {
	b, _ := json.Marshal(map[string]string{"code": a.Code, "message": a.Message})
	return &response{status: a.Status, header: http.Header{"Content-Type": {e.cfg.errorType}}, body: b}
}

// handle charges a request to its rate-limit budget and routes it to its operation. It
// holds the lock for the whole operation, so each request sees and leaves a consistent
// state.
func (e *Emulator) handle(r *http.Request, body []byte) *response {
	e.mu.Lock()
	defer e.mu.Unlock()
	limit, within := e.spendLocked(e.budgetKeyLocked(r))
	var resp *response
	if within {
		resp = e.routeLocked(r, body)
	} else {
		e.throttled++
		resp = e.errorResponse(answerRateLimited)
	}
	for k, v := range limit {
		resp.header[k] = v
	}
	return resp
}

// routeLocked runs the operation a request names.
func (e *Emulator) routeLocked(r *http.Request, body []byte) *response {
	path := r.URL.Path
	switch {
	case path == "/v1/auth":
		if r.Method != http.MethodPost {
			return e.errorResponse(answerMethodNotAllowed)
		}
		return e.authLocked(body)
	case path == "/v1/auth/logout":
		if r.Method != http.MethodPost {
			return e.errorResponse(answerMethodNotAllowed)
		}
		// Logout needs a live session but no permission: SORACOM allows it whatever the
		// SAM policy says.
		apiKey, errResp := e.sessionLocked(r)
		if errResp != nil {
			return errResp
		}
		delete(e.sessions, apiKey)
		return &response{status: http.StatusNoContent, header: http.Header{}}
	case path == "/v1/credentials":
		if r.Method != http.MethodGet {
			return e.errorResponse(answerMethodNotAllowed)
		}
		return e.authorizedLocked(r, PermListCredentials, func() *response { return e.listLocked(r.URL.Query()) })
	case path == "/v1/groups":
		if r.Method != http.MethodGet {
			return e.errorResponse(answerMethodNotAllowed)
		}
		return e.authorizedLocked(r, PermListGroups, func() *response { return e.listGroupsLocked(r.URL.Query()) })
	case path == "/v1/event_handlers":
		if r.Method != http.MethodGet {
			return e.errorResponse(answerMethodNotAllowed)
		}
		return e.authorizedLocked(r, PermListEventHandlers, func() *response { return e.listEventHandlersLocked(r.URL.Query()) })
	case strings.HasPrefix(path, "/v1/operators/"):
		return e.authKeysLocked(r)
	case strings.HasPrefix(path, "/v1/credentials/"):
		id := strings.TrimPrefix(path, "/v1/credentials/")
		if id == "" || strings.Contains(id, "/") {
			return e.errorResponse(answerNotFound)
		}
		switch r.Method {
		case http.MethodPost:
			return e.authorizedLocked(r, PermCreateCredential, func() *response { return e.createLocked(id, body) })
		case http.MethodPut:
			return e.authorizedLocked(r, PermUpdateCredential, func() *response { return e.updateLocked(id, body) })
		case http.MethodDelete:
			return e.authorizedLocked(r, PermDeleteCredential, func() *response { return e.deleteLocked(id) })
		default:
			return e.errorResponse(answerMethodNotAllowed)
		}
	default:
		return e.errorResponse(answerNotFound)
	}
}

// authorizedLocked runs op if the request has a live session and the permission is not
// denied. Authentication is checked before authorization, as an API gateway does.
func (e *Emulator) authorizedLocked(r *http.Request, permission string, op func() *response) *response {
	if _, errResp := e.sessionLocked(r); errResp != nil {
		return errResp
	}
	if e.denied[permission] {
		a := e.cfg.denied
		// The default message names the missing permission, which helps whoever reads
		// the client's error; a configured answer is sent as configured.
		if a == answerDenied {
			a.Message = "You do not have permission to perform this operation (" + permission + ")."
		}
		return e.errorResponse(a)
	}
	return op()
}

// sessionLocked finds the live session of the request's API key and token.
func (e *Emulator) sessionLocked(r *http.Request) (apiKey string, errResp *response) {
	apiKey = r.Header.Get("X-Soracom-API-Key")
	token := r.Header.Get("X-Soracom-Token")
	s, ok := e.sessions[apiKey]
	if apiKey == "" || token == "" || !ok || s.token != token {
		return "", e.errorResponse(answerInvalidToken)
	}
	if s.expired || !e.nowLocked().Before(s.expires) {
		return "", e.errorResponse(e.cfg.expiredToken)
	}
	return apiKey, nil
}

type authRequest struct {
	AuthKeyID           string `json:"authKeyId"`
	AuthKey             string `json:"authKey"`
	TokenTimeoutSeconds *int64 `json:"tokenTimeoutSeconds"`
}

type authResponse struct {
	APIKey     string `json:"apiKey"`
	OperatorID string `json:"operatorId"`
	Token      string `json:"token"`
	UserName   string `json:"userName,omitempty"`
}

func (e *Emulator) authLocked(body []byte) *response {
	var req authRequest
	if err := decodeJSON(body, &req); err != nil {
		return e.errorResponse(badRequest("Invalid request body: " + err.Error()))
	}
	timeout := DefaultTokenTimeout
	if req.TokenTimeoutSeconds != nil {
		s := *req.TokenTimeoutSeconds
		if s < MinTokenTimeoutSeconds || s > MaxTokenTimeoutSeconds {
			return e.errorResponse(badRequest("tokenTimeoutSeconds must be between 180 and 172800."))
		}
		timeout = time.Duration(s) * time.Second
	}
	if req.AuthKeyID == "" || req.AuthKey == "" {
		// Email/password and SAM user/password logins exist in the real API but the
		// action never uses them; the emulator treats them as failed logins.
		return e.errorResponse(answerAuthFailed)
	}
	k, ok := e.authKeys.get(req.AuthKeyID)
	if !ok || k.secret != req.AuthKey {
		return e.errorResponse(answerAuthFailed)
	}
	apiKey := "api-" + randomHex(16)
	token := randomHex(48)
	e.sessions[apiKey] = &session{token: token, expires: e.nowLocked().Add(timeout), userName: k.userName}
	k.lastUsed = e.nowLocked()
	e.authKeys.put(req.AuthKeyID, k)
	return jsonResponse(http.StatusOK, authResponse{
		APIKey:     apiKey,
		OperatorID: e.cfg.operatorID,
		Token:      token,
		UserName:   k.userName,
	})
}

// decodeJSON decodes one JSON value and rejects trailing data, as a strict API would.
func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms.
	return hex.EncodeToString(b)
}
