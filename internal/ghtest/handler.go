package ghtest

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/crypto/nacl/box"
)

// ServeHTTP answers as GitHub's secrets API would, unless a scripted fault says
// otherwise, and records the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	rec := &recorder{ResponseWriter: w, status: 0}
	defer func() {
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery,
			Authorization: r.Header.Get("Authorization"), Body: body, Status: rec.status})
		s.mu.Unlock()
	}()
	f := s.takeFault(r.Method, r.URL.EscapedPath())
	if f != nil && f.Hook != nil {
		f.Hook()
	}
	if f != nil && !f.AfterHandling && (f.Status != 0 || f.Drop) {
		s.fault(rec, f)
		return
	}
	if f != nil && f.AfterHandling {
		s.handle(&discard{header: http.Header{}}, r, body)
		s.fault(rec, f)
		return
	}
	s.handle(rec, r, body)
}

func (s *Server) fault(w http.ResponseWriter, f *Fault) {
	if f.Drop {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	for k, v := range f.Header {
		w.Header()[k] = v
	}
	message(w, f.Status, f.Message)
}

// handle routes a request: the token first, then the endpoint.
func (s *Server) handle(w http.ResponseWriter, r *http.Request, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	access, known := s.tokens[token]
	if !ok || !known {
		message(w, http.StatusUnauthorized, "Bad credentials")
		return
	}
	scope, rest, ok := s.splitLocked(r.URL.EscapedPath())
	if !ok {
		message(w, http.StatusNotFound, "Not Found")
		return
	}
	if !access.Read {
		// GitHub answers 403 to a token that may see the repository but not its secrets
		// (the job's GITHUB_TOKEN among them).
		message(w, http.StatusForbidden, "Resource not accessible by integration")
		return
	}
	switch {
	case rest == "" && r.Method == http.MethodGet:
		s.listLocked(w, r, scope)
	case rest == "public-key" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]string{"key_id": s.keyID, "key": base64.StdEncoding.EncodeToString(s.pub[:])})
	case strings.HasSuffix(rest, "/repositories") && r.Method == http.MethodGet && strings.HasPrefix(scope, "/orgs/"):
		s.selectedLocked(w, r, scope, strings.TrimSuffix(rest, "/repositories"))
	case !strings.Contains(rest, "/") && r.Method == http.MethodGet:
		s.getLocked(w, scope, rest)
	case !strings.Contains(rest, "/") && r.Method == http.MethodPut:
		if !access.Write {
			message(w, http.StatusForbidden, "Resource not accessible by integration")
			return
		}
		s.putLocked(w, scope, rest, body)
	default:
		message(w, http.StatusNotFound, "Not Found")
	}
}

// splitLocked splits a path into the scope (…/secrets) and what follows it ("" for the
// scope's list).
func (s *Server) splitLocked(path string) (scope, rest string, ok bool) {
	i := strings.Index(path+"/", "/secrets/")
	if i < 0 {
		return "", "", false
	}
	scope, rest = path[:i+len("/secrets")], strings.TrimPrefix(path[i+len("/secrets"):], "/")
	parts := strings.Split(scope, "/")
	switch {
	case len(parts) == 6 && parts[1] == "repos" && parts[4] == "actions",
		len(parts) == 7 && parts[1] == "repos" && parts[4] == "environments",
		len(parts) == 5 && parts[1] == "orgs" && parts[3] == "actions":
	default:
		return "", "", false
	}
	// An environment that has no secrets seeded does not exist here.
	if len(parts) == 7 && s.secrets[scope] == nil {
		return "", "", false
	}
	return scope, rest, true
}

func (s *Server) getLocked(w http.ResponseWriter, scope, name string) {
	sec, ok := s.secrets[scope][name]
	if !ok {
		message(w, http.StatusNotFound, "Not Found")
		return
	}
	writeJSON(w, http.StatusOK, metadata(scope, name, sec))
}

// listLocked answers a page of the scope's secrets, in the order of their names.
func (s *Server) listLocked(w http.ResponseWriter, r *http.Request, scope string) {
	names := slices.Sorted(maps.Keys(s.secrets[scope]))
	all := make([]map[string]any, len(names))
	for i, name := range names {
		all[i] = metadata(scope, name, s.secrets[scope][name])
	}
	from, to := pageOf(r, len(all), 30)
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(all), "secrets": append([]map[string]any{}, all[from:to]...)})
}

// metadata is a secret as GitHub shows it: never its value; updated_at in whole seconds.
func metadata(scope, name string, sec *Secret) map[string]any {
	a := map[string]any{"name": name, "created_at": sec.Created.UTC().Format("2006-01-02T15:04:05Z"),
		"updated_at": sec.Updated.UTC().Format("2006-01-02T15:04:05Z")}
	if strings.HasPrefix(scope, "/orgs/") {
		a["visibility"] = sec.Visibility
		if sec.Visibility == "selected" {
			a["selected_repositories_url"] = "https://api.github.com" + scope + "/" + name + "/repositories"
		}
	}
	return a
}

// pageOf is the range of n items the request's per_page (GitHub's default def, at most
// 100) and page ask for.
func pageOf(r *http.Request, n, def int) (from, to int) {
	perPage, err := strconv.Atoi(r.URL.Query().Get("per_page"))
	if err != nil {
		perPage = def
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	perPage, page = max(min(perPage, 100), 1), max(page, 1)
	return min((page-1)*perPage, n), min(page*perPage, n)
}

type putRequest struct {
	EncryptedValue        string   `json:"encrypted_value"`
	KeyID                 string   `json:"key_id"`
	Visibility            string   `json:"visibility"`
	SelectedRepositoryIDs *[]int64 `json:"selected_repository_ids"`
}

func (s *Server) putLocked(w http.ResponseWriter, scope, name string, body []byte) {
	var req putRequest
	if err := json.Unmarshal(body, &req); err != nil {
		message(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	if req.KeyID != s.keyID {
		message(w, http.StatusUnprocessableEntity, "Invalid request.\n\nkey_id does not match the public key.")
		return
	}
	sealed, err := base64.StdEncoding.DecodeString(req.EncryptedValue)
	plain, opened := box.OpenAnonymous(nil, sealed, s.pub, s.priv)
	if err != nil || !opened {
		message(w, http.StatusUnprocessableEntity, "Invalid request.\n\nencrypted_value is not a sealed box for this key.")
		return
	}
	org := strings.HasPrefix(scope, "/orgs/")
	if org && !s.orgAccessValidLocked(w, req) {
		return
	}
	if s.secrets[scope] == nil {
		s.secrets[scope] = map[string]*Secret{}
	}
	sec, existed := s.secrets[scope][name]
	now := s.now().UTC()
	if !existed {
		sec = &Secret{Created: now}
		s.secrets[scope][name] = sec
	}
	sec.Value, sec.Updated, sec.Writes = string(plain), now, sec.Writes+1
	if org {
		sec.Visibility, sec.Selected = req.Visibility, nil
		if req.SelectedRepositoryIDs != nil {
			sec.Selected = append([]int64(nil), (*req.SelectedRepositoryIDs)...)
		}
	}
	if existed {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{})
}

func (s *Server) orgAccessValidLocked(w http.ResponseWriter, req putRequest) bool {
	switch {
	case req.Visibility != "all" && req.Visibility != "private" && req.Visibility != "selected":
		message(w, http.StatusUnprocessableEntity, "Invalid request.\n\nvisibility is required (all, private or selected).")
	case req.Visibility != "selected" && req.SelectedRepositoryIDs != nil:
		message(w, http.StatusUnprocessableEntity, "Invalid request.\n\nselected_repository_ids applies to selected visibility only.")
	default:
		return true
	}
	return false
}

func (s *Server) selectedLocked(w http.ResponseWriter, r *http.Request, scope, name string) {
	sec, ok := s.secrets[scope][name]
	if !ok || sec.Visibility != "selected" {
		message(w, http.StatusNotFound, "Not Found")
		return
	}
	org := strings.Split(scope, "/")[2]
	var all []map[string]any
	for _, id := range sec.Selected {
		for _, repo := range s.repos[org] {
			if repo.ID == id {
				all = append(all, map[string]any{"id": repo.ID, "name": repo.Name, "full_name": org + "/" + repo.Name})
			}
		}
	}
	from, to := pageOf(r, len(all), 30)
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(all), "repositories": append([]map[string]any{}, all[from:to]...)})
}

// recorder notes the status sent.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Hijack lets a dropped-connection fault close the connection.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if hj, ok := r.ResponseWriter.(http.Hijacker); ok {
		return hj.Hijack()
	}
	return nil, nil, http.ErrNotSupported
}

// discard is a ResponseWriter for a request handled before a fault answers.
type discard struct{ header http.Header }

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}
