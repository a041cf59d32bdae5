package soracomtest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"time"
)

// CredentialSet is a credential set as the emulator stores it, secrets included, so a
// test can check that the right secret was written. The API never returns the secrets.
type CredentialSet struct {
	ID          string
	Type        string
	Description string
	// Credentials holds every field the client sent, secret or not. Values are what
	// encoding/json decodes (strings in practice; numbers as json.Number).
	Credentials map[string]any
	Created     time.Time
	Updated     time.Time
	// LastUsed is zero until a test sets it; nothing in the emulator uses the sets.
	LastUsed time.Time
	// Listed, when set, replaces fields of the set's entry in the list answer with
	// values as they are (a float lastUsedDateTime, a number as type, a forged key id):
	// a broken or hostile answer, for the tests of what the client makes of it. A nil
	// value removes the field; the key "" replaces the whole entry.
	Listed map[string]any
}

// nonSecretFields lists, per type, the fields of credentials that responses carry.
// SORACOM treats every other field as write-only; a type missing here (an unknown one,
// or one whose fields are all secret) gets an empty credentials object back.
var nonSecretFields = map[string][]string{
	"aws-credentials":                {"accessKeyId"},
	"aws-iam-role-credentials":       {"roleArn"},
	"azure-credentials":              {"policyName"},
	"azureIoT-credentials":           {"sharedAccessKeyName"},
	"esrij-credentials":              {"refererUrl"},
	"googleIoT-credentials":          {"algorithm", "deviceId", "projectId", "region", "registryId"},
	"infoteria-platio-credentials":   {"tokenId"},
	"kii-thingif-credentials":        {"app_id", "client_id"},
	"landlog-credentials":            {"client_id"},
	"mmcloud-credentials":            {"commandcode", "customerid", "machineid", "machineidtype"},
	"motionboard-credentials":        {"tenant", "template"},
	"optim-cloud-IoT-OS-credentials": {"client_id"},
	"username-password-credentials":  {"username"},
	"x509":                           {"cert", "ca"},
}

// knownTypes are the credential set types the spec's CredentialsModel lists; the
// emulator rejects others with 400, as the real API validates the type.
var knownTypes = []string{
	"api-token-credentials", "aws-credentials", "aws-iam-role-credentials",
	"azure-credentials", "azureIoT-credentials", "esrij-credentials",
	"google-service-account-json", "googleIoT-credentials",
	"infoteria-platio-credentials", "kii-thingif-credentials", "landlog-credentials",
	"mmcloud-credentials", "motionboard-credentials", "optim-cloud-IoT-OS-credentials",
	"private-key-pem", "psk", "pubnub-credentials", "sensorcorpus-credentials",
	"username-password-credentials", "x509",
}

// NonSecretFields returns the fields of a credential set of type typ that the API
// returns; all others are write-only secrets.
func NonSecretFields(typ string) []string { return slices.Clone(nonSecretFields[typ]) }

// PutCredentialSet stores s as is, replacing a set with the same ID; it is how a test
// seeds state. Zero Created and Updated become the emulator's current time.
func (e *Emulator) PutCredentialSet(s CredentialSet) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.nowLocked()
	if s.Created.IsZero() {
		s.Created = now
	}
	if s.Updated.IsZero() {
		s.Updated = now
	}
	s.Credentials = cloneCredentials(s.Credentials)
	e.sets[s.ID] = &s
}

// CredentialSet returns the stored set with the given ID, secrets included.
func (e *Emulator) CredentialSet(id string) (CredentialSet, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.sets[id]
	if !ok {
		return CredentialSet{}, false
	}
	return s.clone(), true
}

// CredentialSets returns every stored set, secrets included, sorted by ID.
func (e *Emulator) CredentialSets() []CredentialSet {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sortedSetsLocked()
}

// DeleteCredentialSet removes a stored set, as if it had been deleted in the console.
func (e *Emulator) DeleteCredentialSet(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.sets, id)
}

func (e *Emulator) sortedSetsLocked() []CredentialSet {
	out := make([]CredentialSet, 0, len(e.sets))
	for _, s := range e.sets {
		out = append(out, s.clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *CredentialSet) clone() CredentialSet {
	c := *s
	c.Credentials = cloneCredentials(s.Credentials)
	return c
}

// cloneCredentials deep-copies decoded JSON, so neither a test nor a later request can
// change a stored set through a shared map.
func cloneCredentials(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneJSON(v)
	}
	return out
}

func cloneJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return cloneCredentials(v)
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = cloneJSON(x)
		}
		return out
	default:
		return v
	}
}

// credentialsModel is the CredentialsModel of the spec.
type credentialsModel struct {
	CredentialsID    string         `json:"credentialsId"`
	Type             string         `json:"type"`
	Description      string         `json:"description"`
	Credentials      map[string]any `json:"credentials"`
	CreateDateTime   int64          `json:"createDateTime"`
	UpdateDateTime   int64          `json:"updateDateTime"`
	LastUsedDateTime int64          `json:"lastUsedDateTime"`
}

// model is what the API returns for s: the non-secret fields only, and timestamps in
// epoch milliseconds (SORACOM's SDK reads them so).
func (s *CredentialSet) model() credentialsModel {
	public := map[string]any{}
	for _, f := range nonSecretFields[s.Type] {
		if v, ok := s.Credentials[f]; ok {
			public[f] = cloneJSON(v)
		}
	}
	return credentialsModel{
		CredentialsID:    s.ID,
		Type:             s.Type,
		Description:      s.Description,
		Credentials:      public,
		CreateDateTime:   millis(s.Created),
		UpdateDateTime:   millis(s.Updated),
		LastUsedDateTime: millis(s.LastUsed),
	}
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// createAndUpdateModel is the request body of create and update.
type createAndUpdateModel struct {
	Type        string          `json:"type"`
	Description string          `json:"description"`
	Credentials json.RawMessage `json:"credentials"`
}

// parseSetBody validates a create/update body and returns its parts.
func parseSetBody(body []byte) (typ, description string, creds map[string]any, problem string) {
	var m createAndUpdateModel
	if err := decodeJSON(body, &m); err != nil {
		return "", "", nil, "Invalid request body: " + err.Error()
	}
	if !slices.Contains(knownTypes, m.Type) {
		return "", "", nil, "Invalid credentials type: " + m.Type
	}
	if len(m.Credentials) == 0 || string(m.Credentials) == "null" {
		return "", "", nil, "credentials is required."
	}
	if err := decodeJSON(m.Credentials, &creds); err != nil {
		return "", "", nil, "credentials must be an object."
	}
	return m.Type, m.Description, creds, ""
}

// WithCredentialPageSize makes GET /v1/credentials answer at most n sets a page (n at
// least 1), paged as groups are: sorted by id, x-soracom-next-key naming the page's
// last set when more follow, the next page asked for with last_evaluated_key. The spec
// says the list is not paged, and by default it is not; whether SORACOM ever pages it
// is not documented, so a client must read every page when it does.
func WithCredentialPageSize(n int) Option {
	return func(c *config) { c.setPage = max(n, 1) }
}

// listLocked answers GET /v1/credentials: every set sorted by id, or a page of them
// under WithCredentialPageSize.
func (e *Emulator) listLocked(q url.Values) *response {
	sets := e.sortedSetsLocked()
	next := ""
	if e.cfg.setPage > 0 {
		ids := make([]string, len(sets))
		for i := range sets {
			ids[i] = sets[i].ID
		}
		var from, to int
		from, to, next = pageOf(ids, q.Get("last_evaluated_key"), e.cfg.setPage)
		sets = sets[from:to]
	}
	out := make([]any, 0, len(sets))
	for i := range sets {
		out = append(out, sets[i].listed())
	}
	return withNextKey(jsonResponse(http.StatusOK, out), next)
}

// listed is s's entry in the list answer: its model, with the fields of Listed
// replaced.
func (s *CredentialSet) listed() any {
	if len(s.Listed) == 0 {
		return s.model()
	}
	if whole, ok := s.Listed[""]; ok {
		return whole
	}
	var entry map[string]any
	b, _ := json.Marshal(s.model())
	_ = json.Unmarshal(b, &entry)
	for k, v := range s.Listed {
		if v == nil {
			delete(entry, k)
		} else {
			entry[k] = v
		}
	}
	return entry
}

func (e *Emulator) createLocked(id string, body []byte) *response {
	typ, desc, creds, problem := parseSetBody(body)
	if problem != "" {
		return e.errorResponse(badRequest(problem))
	}
	if _, ok := e.sets[id]; ok {
		return e.errorResponse(e.cfg.createConflict)
	}
	now := e.nowLocked()
	s := &CredentialSet{ID: id, Type: typ, Description: desc, Credentials: creds, Created: now, Updated: now}
	e.sets[id] = s
	return jsonResponse(http.StatusCreated, s.model())
}

func (e *Emulator) updateLocked(id string, body []byte) *response {
	typ, desc, creds, problem := parseSetBody(body)
	if problem != "" {
		return e.errorResponse(badRequest(problem))
	}
	s, ok := e.sets[id]
	if !ok {
		return e.errorResponse(e.cfg.updateMissing)
	}
	// An update replaces the whole set but its creation and last-use times.
	s.Type, s.Description, s.Credentials = typ, desc, creds
	s.Updated = e.nowLocked()
	return jsonResponse(http.StatusOK, s.model())
}

func (e *Emulator) deleteLocked(id string) *response {
	if _, ok := e.sets[id]; !ok {
		return e.errorResponse(answerNotFound)
	}
	delete(e.sets, id)
	return &response{status: http.StatusNoContent, header: http.Header{}}
}
