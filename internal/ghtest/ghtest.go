// Package ghtest is an in-memory fake of GitHub's REST API for Actions secrets, for
// tests, the demo and the local runner's --emulator: a repository's, an environment's
// and an organization's public key, the list of their secrets' metadata (paged), a
// secret's metadata, writing a secret, and an organization secret's selected
// repositories.
//
// It is written from GitHub's REST documentation, not from the project's client. It
// holds a real Curve25519 key pair and opens every written value with
// box.OpenAnonymous, so a test reads back the plaintext the client sealed, and a value
// sealed wrongly is refused as GitHub refuses it. Tokens have read and write access set
// by the test; faults can be scripted per endpoint; every request is recorded.
package ghtest

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/nacl/box"
)

// Access is what a token may do with secrets.
type Access struct{ Read, Write bool }

// Scope paths, as the API spells them (the prefix before /public-key or /{name}).
func RepoScope(owner, repo string) string { return "/repos/" + owner + "/" + repo + "/actions/secrets" }

// EnvScope is the path of a repository environment's secrets.
func EnvScope(owner, repo, env string) string {
	return "/repos/" + owner + "/" + repo + "/environments/" + env + "/secrets"
}

// OrgScope is the path of an organization's secrets.
func OrgScope(org string) string { return "/orgs/" + org + "/actions/secrets" }

// Repo is a repository an organization secret may reach.
type Repo struct {
	ID   int64
	Name string
}

// Secret is a stored secret, value included (tests read it back).
type Secret struct {
	Value      string
	Created    time.Time
	Updated    time.Time
	Visibility string // organization secrets: all, private or selected
	Selected   []int64
	// Writes counts the writes since it was seeded.
	Writes int
}

// Request is one recorded request. Body is as received (encrypted values included).
type Request struct {
	Method, Path, Query string
	Authorization       string
	Body                []byte
	Status              int
}

// Fault scripts an answer: Status (with Body as GitHub's message) instead of handling,
// or after handling when AfterHandling is set (the write happened, the answer is an
// error: a gateway's); Drop closes the connection (after handling with AfterHandling).
type Fault struct {
	Status        int
	Header        http.Header
	Message       string
	AfterHandling bool
	Drop          bool
	// Hook runs as the request arrives, before anything else (a test cancels a run here).
	Hook func()
}

type fault struct {
	method, path string // path is a prefix match on the escaped path
	times        int
	f            Fault
}

// Server is the fake API on a loopback listener.
type Server struct {
	*httptest.Server

	pub, priv *[32]byte
	keyID     string

	mu       sync.Mutex
	now      func() time.Time
	tokens   map[string]Access
	secrets  map[string]map[string]*Secret // scope path -> name -> secret
	repos    map[string][]Repo             // org -> repositories
	faults   []*fault
	requests []Request
}

// Start serves a fake API for the length of a test.
func Start(t interface {
	Helper()
	Cleanup(func())
	Fatalf(string, ...any)
}) *Server {
	t.Helper()
	s, err := New()
	if err != nil {
		t.Fatalf("ghtest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// New starts a fake API on 127.0.0.1 over plain HTTP; Close stops it.
func New() (*Server, error) {
	pub, priv, err := box.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	s := &Server{pub: pub, priv: priv, keyID: "568250167242549743", now: time.Now,
		tokens: map[string]Access{}, secrets: map[string]map[string]*Secret{}, repos: map[string][]Repo{}}
	s.Server = httptest.NewServer(s)
	return s, nil
}

// SetClock makes the fake read time from now (updated_at of written secrets).
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// AddToken lets token use the API with access.
func (s *Server) AddToken(token string, a Access) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = a
}

// SetSecret seeds the secret name of scope (a RepoScope, EnvScope or OrgScope path)
// with value, last updated at updated. An organization secret gets visibility and the
// ids of the repositories it reaches when selected.
func (s *Server) SetSecret(scope, name, value string, updated time.Time, visibility string, selected ...int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secrets[scope] == nil {
		s.secrets[scope] = map[string]*Secret{}
	}
	s.secrets[scope][name] = &Secret{Value: value, Created: updated, Updated: updated, Visibility: visibility, Selected: selected}
}

// AddRepos makes repositories known to an organization (for selected secrets).
func (s *Server) AddRepos(org string, repos ...Repo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repos[org] = append(s.repos[org], repos...)
}

// Secret returns a stored secret, value included.
func (s *Server) Secret(scope, name string) (Secret, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, ok := s.secrets[scope][name]
	if !ok {
		return Secret{}, false
	}
	out := *sec
	out.Selected = append([]int64(nil), sec.Selected...)
	return out, true
}

// Inject scripts f for the next times requests whose method is method ("" any) and
// whose path starts with pathPrefix (e.g. RepoScope(o, r)+"/SORACOM_AUTH_KEY").
func (s *Server) Inject(method, pathPrefix string, times int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{method: method, path: pathPrefix, times: times, f: f})
}

// PendingFaults is how many scripted fault answers are still waiting.
func (s *Server) PendingFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, f := range s.faults {
		n += f.times
	}
	return n
}

// Requests returns the recorded requests.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// PublicKey returns the public key the fake hands out (tests seal with it).
func (s *Server) PublicKey() (id string, key [32]byte) { return s.keyID, *s.pub }

func (s *Server) takeFault(method, path string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if (f.method == "" || f.method == method) && strings.HasPrefix(path, f.path) {
			out := f.f
			if f.times--; f.times <= 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
			return &out
		}
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

func message(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest/actions/secrets"})
}
