package soracom

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/shape"
)

// AuthKey is a SAM user's (or the operator's) AuthKey.
type AuthKey struct {
	ID     string
	Secret secret.Secret
}

// Token lifetimes SORACOM accepts for tokenTimeoutSeconds.
const (
	MinTokenLifetime = 180 * time.Second
	MaxTokenLifetime = 172800 * time.Second
)

// Session is an authenticated API session. Its token is renewed when it nears expiry or
// is rejected, and revoked by Logout.
type Session struct {
	c        *Client
	key      AuthKey
	lifetime time.Duration

	// OperatorID is the operator the AuthKey belongs to.
	OperatorID string
	// UserName is the SAM user's name, empty for the operator's root AuthKey.
	UserName string

	// renewing serializes renewals, so calls in parallel that find the token stale
	// renew it once.
	renewing sync.Mutex

	mu      sync.Mutex
	apiKey  secret.Secret
	token   secret.Secret
	expires time.Time
	// tokens counts the tokens this session has had, so a caller can tell that the
	// token was replaced during a sequence of calls.
	tokens int
}

type authRequest struct {
	AuthKeyID           string `json:"authKeyId"`
	AuthKey             string `json:"authKey"`
	TokenTimeoutSeconds int    `json:"tokenTimeoutSeconds"`
}

type authResponse struct {
	APIKey     string `json:"apiKey"`
	OperatorID string `json:"operatorId"`
	Token      string `json:"token"`
	UserName   string `json:"userName"`
}

// Auth authenticates with key and asks for a token that lives for lifetime (clamped to
// what SORACOM accepts). The API key and token are masked as soon as they are read.
func (c *Client) Auth(ctx context.Context, key AuthKey, lifetime time.Duration) (*Session, error) {
	lifetime = min(max(lifetime, MinTokenLifetime), MaxTokenLifetime)
	s := &Session{c: c, key: key, lifetime: lifetime}
	if err := s.authenticate(ctx); err != nil {
		var bad *AnswerError
		if errors.As(err, &bad) {
			// The answer carried a token: revoke it before giving up, as every run does.
			lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), LogoutTimeout)
			defer cancel()
			bad.RevokeErr = s.Logout(lctx)
			bad.Revoked = bad.RevokeErr == nil
		}
		return nil, err
	}
	return s, nil
}

// LogoutTimeout bounds a logout: it runs even when the job is being cancelled, and the
// runner kills the container a few seconds after SIGTERM.
const LogoutTimeout = 5 * time.Second

func (s *Session) authenticate(ctx context.Context) error {
	cl := call{operation: "auth", method: http.MethodPost, path: "/auth", body: authRequest{
		AuthKeyID:           s.key.ID,
		AuthKey:             s.key.Secret.Reveal(),
		TokenTimeoutSeconds: int(s.lifetime / time.Second),
	}}
	issued := s.c.now()
	resp, err := s.c.do(ctx, cl, nil)
	if err != nil {
		return err
	}
	ar, err := decode[authResponse](cl, resp)
	if err != nil {
		return err
	}
	// Mask before anything else can touch the values.
	apiKey := secret.Mask(s.c.masker, ar.APIKey)
	token := secret.Mask(s.c.masker, ar.Token)
	if ar.APIKey == "" || ar.Token == "" {
		return fmt.Errorf("SORACOM auth answered without an API key or token")
	}
	s.mu.Lock()
	s.apiKey, s.token, s.expires = apiKey, token, issued.Add(s.lifetime)
	s.tokens++
	s.mu.Unlock()
	// Checked once the token is kept, so that it can still be revoked: these values
	// reach the log, the summary and the operator-id output, and a forged one must not
	// get that far.
	if err := checkIdentity(cl, ar); err != nil {
		return err
	}
	s.mu.Lock()
	s.OperatorID, s.UserName = ar.OperatorID, ar.UserName
	s.mu.Unlock()
	return nil
}

// checkIdentity checks the operator id and SAM user name of an auth answer against
// their shapes.
func checkIdentity(cl call, ar authResponse) error {
	if !shape.OperatorID(ar.OperatorID) {
		return newAnswerError(cl, "operatorId", shape.OperatorIDShape, ar.OperatorID)
	}
	if !shape.UserName(ar.UserName) {
		return newAnswerError(cl, "userName", shape.UserNameShape, ar.UserName)
	}
	return nil
}

func (s *Session) headers() headers {
	h, _ := s.current()
	return h
}

// current returns the session headers and which token they carry (tokenCount), read
// together, so a caller whose token is rejected can tell whether another call has
// renewed it meanwhile.
func (s *Session) current() (headers, int) {
	s.mu.Lock()
	apiKey, token, n := s.apiKey, s.token, s.tokens
	s.mu.Unlock()
	return func(h http.Header) {
		h.Set("X-Soracom-API-Key", apiKey.Reveal())
		h.Set("X-Soracom-Token", token.Reveal())
	}, n
}

// TokenExpiry returns when the current token expires and the lifetime it was issued
// for (the one asked for, within SORACOM's bounds), so that a token that could not be
// revoked can be described truthfully.
func (s *Session) TokenExpiry() (expires time.Time, lifetime time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expires, s.lifetime
}

// renewMargin is how long before expiry a token is replaced. A call with all its retries
// can last up to the retry deadline, and SORACOM may answer an expired token with a 400
// that looks like a validation error, so the token must outlive any call started with it.
func (s *Session) renewMargin() time.Duration { return s.c.retry.Deadline + 10*time.Second }

// tokenCount returns how many tokens the session has had.
func (s *Session) tokenCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens
}

// send runs an authenticated call. It renews a token that would expire during the call,
// and re-authenticates once when the token is rejected (revoked or expired early): a 401,
// or a 400 to a GET, which has no input that could be invalid (the spec says SORACOM
// may answer an expired token with a 400). Calls run in parallel share one token: the
// first to find it stale renews it, the others use the new one.
func (s *Session) send(ctx context.Context, cl call) (response, error) {
	s.mu.Lock()
	renew := s.c.now().Add(s.renewMargin()).After(s.expires)
	seen := s.tokens
	s.mu.Unlock()
	if renew {
		if err := s.renewFrom(ctx, seen); err != nil {
			return response{}, err
		}
	}
	h, seen := s.current()
	resp, err := s.c.do(ctx, cl, h)
	var apiErr *APIError
	if errors.As(err, &apiErr) && (apiErr.Status == http.StatusUnauthorized || apiErr.Status == http.StatusBadRequest && cl.method == http.MethodGet) {
		// renew also revokes the rejected token: a 401 from a proxy, or a 400 that
		// was not about the token, would otherwise leave it alive.
		if rerr := s.renewFrom(ctx, seen); rerr != nil {
			return response{}, rerr
		}
		resp, err = s.c.do(ctx, cl, s.headers())
	}
	return resp, err
}

// renewFrom renews the token if it is still the seen-th one: a call in parallel may
// have renewed it already.
func (s *Session) renewFrom(ctx context.Context, seen int) error {
	s.renewing.Lock()
	defer s.renewing.Unlock()
	if s.tokenCount() != seen {
		return nil
	}
	return s.renew(ctx)
}

// renew authenticates again and revokes the old token, so no live token is left behind.
func (s *Session) renew(ctx context.Context) error {
	old := s.headers()
	err := s.authenticate(ctx)
	var bad *AnswerError
	if err != nil && !errors.As(err, &bad) {
		return err
	}
	// A refused answer still replaced the token (the caller's logout revokes the new
	// one): the old one is revoked all the same.
	_, _ = s.c.do(ctx, call{operation: "logout", method: http.MethodPost, path: "/auth/logout"}, old)
	return err
}

// Logout revokes the session's API key and token. SORACOM allows it whatever the SAM
// permissions.
func (s *Session) Logout(ctx context.Context) error {
	_, err := s.c.do(ctx, call{operation: "logout", method: http.MethodPost, path: "/auth/logout"}, s.headers())
	return err
}
