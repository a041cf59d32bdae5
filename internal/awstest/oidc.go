package awstest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Issuer is the iss claim of GitHub Actions OIDC tokens.
const Issuer = "https://token.actions.githubusercontent.com"

// DefaultSubject is the sub claim the fake issues unless told otherwise: a job on the
// main branch of owner/repo.
const DefaultSubject = "repo:owner/repo:ref:refs/heads/main"

// Claims are the claims of a token the fake issued.
type Claims struct {
	Iss string `json:"iss"`
	Sub string `json:"sub"`
	Aud string `json:"aud"`
	Exp int64  `json:"exp"`
	Iat int64  `json:"iat"`
	// Repository and Ref, as GitHub adds them.
	Repository string `json:"repository"`
	Ref        string `json:"ref"`
}

var errExpired = errors.New("token expired")

// OIDC is a fake GitHub Actions ID token endpoint: GET <url>&audience=<aud> with
// "Authorization: Bearer <request token>" answers {"value": "<JWT>"}. Tokens are HS256
// JWTs signed with a key only this fake knows, so an Account trusting it can tell its
// tokens from forgeries.
type OIDC struct {
	srv          *httptest.Server
	requestToken string
	key          []byte

	mu       sync.Mutex
	subject  string
	failures []int
	attempts int
	issued   []string
}

// NewOIDC starts a fake token endpoint.
func NewOIDC(tb TB) *OIDC {
	tb.Helper()
	o := &OIDC{
		requestToken: randomString(40, secretChars),
		key:          make([]byte, 32),
		subject:      DefaultSubject,
	}
	_, _ = rand.Read(o.key)
	o.srv = httptest.NewServer(http.HandlerFunc(o.serve))
	tb.Cleanup(o.srv.Close)
	return o
}

// URL is the value for ACTIONS_ID_TOKEN_REQUEST_URL. Like the runner's, it already has
// a query.
func (o *OIDC) URL() string { return o.srv.URL + "/idtoken?api-version=2.0" }

// RequestToken is the value for ACTIONS_ID_TOKEN_REQUEST_TOKEN.
func (o *OIDC) RequestToken() string { return o.requestToken }

// Env returns ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN, as the
// runner sets them for a job with `permissions: id-token: write`.
func (o *OIDC) Env() map[string]string {
	return map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": o.URL(), "ACTIONS_ID_TOKEN_REQUEST_TOKEN": o.requestToken}
}

// SetSubject changes the sub claim of tokens issued from now on.
func (o *OIDC) SetSubject(sub string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.subject = sub
}

// FailNext makes the next requests answer the given HTTP statuses, one each.
func (o *OIDC) FailNext(statuses ...int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failures = append(o.failures, statuses...)
}

// Attempts returns how many requests reached the endpoint.
func (o *OIDC) Attempts() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.attempts
}

// Issued returns the tokens handed out so far.
func (o *OIDC) Issued() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.issued...)
}

func (o *OIDC) serve(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.attempts++
	w.Header().Set("Content-Type", "application/json")
	if len(o.failures) > 0 {
		status := o.failures[0]
		o.failures = o.failures[1:]
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, `{"message":"injected failure %d"}`, status)
		return
	}
	switch {
	case r.Method != http.MethodGet:
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	case r.Header.Get("Authorization") != "Bearer "+o.requestToken:
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"message":"Unauthorized"}`))
		return
	case r.URL.Query().Get("api-version") != "2.0":
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"message":"api-version is required"}`))
		return
	case r.URL.Query().Get("audience") == "":
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"message":"audience is required"}`))
		return
	}
	now := time.Now()
	tok := o.sign(Claims{
		Iss: Issuer, Sub: o.subject, Aud: r.URL.Query().Get("audience"),
		Iat: now.Unix(), Exp: now.Add(5 * time.Minute).Unix(),
		Repository: "owner/repo", Ref: "refs/heads/main",
	})
	o.issued = append(o.issued, tok)
	_ = json.NewEncoder(w).Encode(map[string]string{"value": tok})
}

func (o *OIDC) sign(c Claims) string {
	enc := base64.RawURLEncoding
	payload, _ := json.Marshal(c)
	unsigned := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(payload)
	mac := hmac.New(sha256.New, o.key)
	mac.Write([]byte(unsigned))
	return unsigned + "." + enc.EncodeToString(mac.Sum(nil))
}

// Verify checks that token was issued by this fake and has not expired, and returns its
// claims.
func (o *OIDC) Verify(token string) (Claims, error) {
	if o == nil {
		return Claims{}, errors.New("no OIDC provider for the issuer")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Claims{}, errors.New("not a JWT")
	}
	mac := hmac.New(sha256.New, o.key)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		return Claims{}, errors.New("bad signature")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return Claims{}, errors.New("bad payload")
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return Claims{}, errors.New("bad payload")
	}
	if c.Iss != Issuer {
		return Claims{}, errors.New("unknown issuer")
	}
	if time.Now().Unix() > c.Exp {
		return c, errExpired
	}
	return c, nil
}
