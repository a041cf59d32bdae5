package soracom

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/paging"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/parallel"
)

// CredentialSet is a credential set as SORACOM returns it. Secret fields are write-only:
// SORACOM never returns them.
type CredentialSet struct {
	ID          string         `json:"credentialsId"`
	Type        string         `json:"type"`
	Description string         `json:"description"`
	Credentials map[string]any `json:"credentials"`
	// Timestamps are epoch milliseconds (SORACOM's Go SDK reads them so).
	CreateDateTime   int64 `json:"createDateTime"`
	UpdateDateTime   int64 `json:"updateDateTime"`
	LastUsedDateTime int64 `json:"lastUsedDateTime"`

	// Index is the set's position in the list answer (from 0), to name a set whose id
	// could not be read.
	Index int `json:"-"`
	// Unreadable names the fields of the list entry that could not be read or have not
	// their shape (FieldID, FieldLastUsedDateTime, …); empty when the entry is whole.
	// Of such a set only ID and Type are kept, each when it was readable and shaped
	// (else empty): nothing else an entry that fails a check holds is believed.
	Unreadable []string `json:"-"`
}

// UpdatedAt is the time of the last change, or zero when SORACOM gave none or gave one
// that cannot be true (see Millis).
func (c CredentialSet) UpdatedAt() time.Time {
	if t := Millis(c.UpdateDateTime); !t.IsZero() {
		return t
	}
	return Millis(c.CreateDateTime)
}

// LastUsedAt is when SORACOM last used the set (to reach AWS, a device's TLS, …); zero
// when it never has, or gave no usable time.
func (c CredentialSet) LastUsedAt() time.Time { return Millis(c.LastUsedDateTime) }

// Plausible bounds of a SORACOM timestamp: the service started in 2015, and a time
// centuries ahead is a broken or hostile answer, not a date to print.
var (
	earliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	latest   = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Millis reads a SORACOM timestamp (epoch milliseconds). Zero, and any time outside
// 2000–2200, is the zero time: unknown, never printed.
func Millis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	t := time.UnixMilli(ms).UTC()
	if t.Before(earliest) || !t.Before(latest) {
		return time.Time{}
	}
	return t
}

// Field returns a non-secret field of the set's credentials as the list shows it
// (accessKeyId of aws-credentials, cert and ca of x509), "" when absent or not text.
func (c CredentialSet) Field(name string) string {
	v, _ := c.Credentials[name].(string)
	return v
}

// Fields are the values of a credential set to write. They print as a redaction, so a
// stray %v cannot leak the secrets among them.
type Fields map[string]any

// String returns a redaction.
func (Fields) String() string { return "{…}" }

// GoString returns a redaction.
func (Fields) GoString() string { return "{…}" }

// Content is what a create or an update writes.
type Content struct {
	Type        string
	Description string
	// KeepDescription leaves an existing set's description as it is (Description then
	// only goes to new sets). SORACOM does not document what an update without a
	// description does, so the stored one is read first and written back: one list more.
	KeepDescription bool
	Credentials     Fields
}

type writeBody struct {
	Type        string         `json:"type"`
	Description string         `json:"description"`
	Credentials map[string]any `json:"credentials"`
}

func (c Content) body() writeBody {
	return writeBody{Type: c.Type, Description: c.Description, Credentials: c.Credentials}
}

// ListCredentials returns every credential set of the operator, at most MaxSets. The
// spec says the list is not paged; should an answer name a next key all the same, it is
// followed through paging.Collect (at most MaxSetPages pages, a repeated key stops),
// never taken for the whole list (see pagePath). Each entry is read on its own: one
// that cannot be read, or holds an id, type or key id without its shape, comes back
// with Unreadable set (see CredentialSet) instead of failing the list, so one odd set
// does not hide the others. Callers that decide from the whole list check it with
// Whole.
func (s *Session) ListCredentials(ctx context.Context) ([]CredentialSet, error) {
	lim := s.listLimit("listCredentials (GET /v1/credentials)", MaxSetPages, MaxSets)
	var read int
	return paging.Collect(ctx, lim, func(ctx context.Context, marker string) (paging.Page[CredentialSet], error) {
		cl := call{operation: "listCredentials", method: http.MethodGet, path: pagePath("/credentials", marker)}
		resp, next, err := s.sendPage(ctx, cl)
		if err != nil {
			return paging.Page[CredentialSet]{}, err
		}
		sets, err := decodeList(cl, resp, read)
		if err != nil {
			return paging.Page[CredentialSet]{}, err
		}
		read += len(sets)
		return paging.Page[CredentialSet]{Items: sets, More: next != "", Next: next, Bytes: len(resp.body)}, nil
	})
}

// listWhole is ListCredentials for decisions that rest on every set (which exist, what
// their descriptions are): a list with an unreadable entry is refused, before any write.
func (s *Session) listWhole(ctx context.Context) ([]CredentialSet, error) {
	sets, err := s.ListCredentials(ctx)
	if err != nil {
		return nil, err
	}
	return sets, Whole(sets)
}

// CreateCredential creates the set id.
func (s *Session) CreateCredential(ctx context.Context, id string, c Content) (CredentialSet, error) {
	return s.write(ctx, call{operation: "createCredential", method: http.MethodPost, path: "/credentials/" + url.PathEscape(id), body: c.body()})
}

// UpdateCredential replaces the content of the set id.
func (s *Session) UpdateCredential(ctx context.Context, id string, c Content) (CredentialSet, error) {
	return s.write(ctx, call{operation: "updateCredential", method: http.MethodPut, path: "/credentials/" + url.PathEscape(id), body: c.body()})
}

func (s *Session) write(ctx context.Context, cl call) (CredentialSet, error) {
	resp, err := s.send(ctx, cl)
	if err != nil {
		return CredentialSet{}, err
	}
	return decode[CredentialSet](cl, resp)
}

// IfExists says what Store does when the set already exists.
type IfExists string

// What Store may do with an existing set.
const (
	Update IfExists = "update"
	Skip   IfExists = "skip"
	Fail   IfExists = "fail"
)

// Operation is what Store did.
type Operation string

// Store's outcomes.
const (
	Created Operation = "created"
	Updated Operation = "updated"
	Skipped Operation = "skipped"
)

// ErrExists is returned by StoreAll with Fail when a set exists.
var ErrExists = errors.New("already exists")

// Stored is the outcome of storing one set.
type Stored struct {
	ID        string
	Set       CredentialSet
	Operation Operation
}

// StoreError is a StoreAll that failed on one set or more: each with its error, in
// input order. Sets neither stored nor failed were not written at all.
type StoreError struct {
	Failed []Failure
}

// Failure is one set StoreAll failed to store.
type Failure struct {
	ID  string
	Err error
}

func (e *StoreError) Error() string {
	msg := fmt.Sprintf("credential set %s: %v", e.Failed[0].ID, e.Failed[0].Err)
	if n := len(e.Failed) - 1; n > 0 {
		ids := make([]string, n)
		for i, f := range e.Failed[1:] {
			ids[i] = f.ID
		}
		msg += fmt.Sprintf(" (and %d more in flight failed: %s)", n, strings.Join(ids, ", "))
	}
	return msg
}

// Unwrap returns every set's error, so errors.As finds the first of a kind.
func (e *StoreError) Unwrap() []error {
	errs := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		errs[i] = f.Err
	}
	return errs
}

// storeStep is what StoreAll does for one set: write content (upsert, or create only
// when the set is known to be missing), or nothing when it is kept as it is.
type storeStep struct {
	id      string
	content Content
	create  bool           // the set is known to be missing
	keep    *CredentialSet // the set exists and is skipped
}

// StoreAll creates every set of ids with content c, or handles existing ones as ifExists
// says, in as few round trips as correctness allows, with up to the client's parallel
// limit of writes in flight. It returns what it stored, in input order, also on error,
// so the caller can report exactly which sets changed; each (Stored, nil) or failure is
// also passed to each as it is known, in input order (each may be nil). After a failure
// no further write starts; the writes in flight finish. A failure is a *StoreError.
//
// SORACOM does not document what a POST on an existing id or a PUT on a missing id
// answers (400, 404 or 409 are all plausible, and 400 also means "bad fields"), so no
// branch below trusts one status: a rejected write is followed by the other write, and
// only when both are rejected does a list decide which rejection was the real one.
//
// With Update, the common case (the set exists) costs one PUT; a missing set costs a PUT
// and a POST. With Skip and Fail one list comes first, since the answer depends on
// existence anyway; with Fail nothing is written when any set exists.
func (s *Session) StoreAll(ctx context.Context, ids []string, c Content, ifExists IfExists, each func(Stored, error)) ([]Stored, error) {
	steps, err := s.storeSteps(ctx, ids, c, ifExists)
	if err != nil {
		return nil, err
	}
	stored := make([]Stored, len(steps))
	errs := make([]error, len(steps))
	var done []Stored
	var failed []Failure
	step := func(ctx context.Context, i int) bool {
		stored[i], errs[i] = s.storeOne(ctx, steps[i])
		return errs[i] == nil
	}
	report := func(i int, started bool) {
		switch {
		case !started:
			return
		case errs[i] != nil:
			failed = append(failed, Failure{ID: steps[i].id, Err: errs[i]})
		default:
			done = append(done, stored[i])
		}
		if each != nil {
			each(stored[i], errs[i])
		}
	}
	parallel.Run(ctx, len(steps), s.c.parallel, step, report)
	if len(failed) > 0 {
		return done, &StoreError{Failed: failed}
	}
	if len(done) < len(steps) {
		// Cancelled before every write started: the first set not written was never
		// sent (and might have been a create rather than an update), so it says so.
		return done, &StoreError{Failed: []Failure{{ID: steps[len(done)].id, Err: &NetworkError{
			Operation: "store", Method: http.MethodPut, Path: "/v1/credentials/" + steps[len(done)].id, Err: ctx.Err(), NotSent: true}}}}
	}
	return done, nil
}

// storeSteps decides what StoreAll does for each set, from one list where existence
// or stored descriptions matter.
func (s *Session) storeSteps(ctx context.Context, ids []string, c Content, ifExists IfExists) ([]storeStep, error) {
	steps := make([]storeStep, len(ids))
	for i, id := range ids {
		steps[i] = storeStep{id: id, content: c}
	}
	if ifExists == Update && !c.KeepDescription {
		return steps, nil
	}
	sets, err := s.listWhole(ctx)
	if err != nil {
		return nil, err
	}
	var exist []string
	for i, id := range ids {
		existing, ok := Find(sets, id)
		switch {
		case !ok:
			steps[i].create = true
		case ifExists == Update:
			// An empty description input keeps what the set holds.
			steps[i].content.Description = existing.Description
		default:
			steps[i].keep = &existing
			exist = append(exist, id)
		}
	}
	if ifExists == Fail && len(exist) > 0 {
		return nil, fmt.Errorf("credential set %s %w and if-exists is fail; nothing was changed. Use if-exists: update to replace it, or skip to leave it", strings.Join(exist, ", "), ErrExists)
	}
	return steps, nil
}

// storeOne carries out one step.
func (s *Session) storeOne(ctx context.Context, st storeStep) (Stored, error) {
	switch {
	case st.keep != nil:
		return Stored{ID: st.id, Set: *st.keep, Operation: Skipped}, nil
	case st.create:
		set, err := s.create(ctx, st.id, st.content)
		return Stored{ID: st.id, Set: set, Operation: Created}, err
	}
	set, op, err := s.upsert(ctx, st.id, st.content)
	return Stored{ID: st.id, Set: set, Operation: op}, err
}

// create posts a new set. When the POST is rejected after an attempt whose answer was
// lost, the set may exist because of that very attempt: a list tells.
func (s *Session) create(ctx context.Context, id string, c Content) (CredentialSet, error) {
	set, err := s.CreateCredential(ctx, id, c)
	if err == nil || !rejected(err) || !wasRetried(err) {
		return set, err
	}
	if set, ok, lerr := s.find(ctx, id); lerr == nil && ok {
		return set, nil
	}
	return CredentialSet{}, err
}

func (s *Session) upsert(ctx context.Context, id string, c Content) (CredentialSet, Operation, error) {
	return s.upsertOnce(ctx, id, c, true)
}

// upsertOnce is upsert; again allows one more try when the token turned out to be
// expired, which SORACOM may answer with the same 400 as a rejected write.
func (s *Session) upsertOnce(ctx context.Context, id string, c Content, again bool) (CredentialSet, Operation, error) {
	tokens := s.tokenCount()
	set, updErr := s.UpdateCredential(ctx, id, c)
	if updErr == nil {
		return set, Updated, nil
	}
	if !rejected(updErr) {
		return CredentialSet{}, "", updErr
	}
	set, creErr := s.CreateCredential(ctx, id, c)
	if creErr == nil {
		return set, Created, nil
	}
	if !rejected(creErr) {
		return CredentialSet{}, "", creErr
	}
	if wasRetried(creErr) {
		// A lost answer to our own POST: the set now exists, so the update goes through.
		if set, err := s.UpdateCredential(ctx, id, c); err == nil {
			return set, Created, nil
		}
	}
	// Both writes rejected: the one that matches the set's existence carries the reason.
	_, exists, err := s.find(ctx, id)
	if err != nil {
		return CredentialSet{}, "", errors.Join(updErr, err)
	}
	if again && s.tokenCount() != tokens {
		// The list needed a new token: both rejections may have been the old token's.
		return s.upsertOnce(ctx, id, c, false)
	}
	if exists {
		return CredentialSet{}, "", updErr
	}
	return CredentialSet{}, "", creErr
}

func (s *Session) find(ctx context.Context, id string) (CredentialSet, bool, error) {
	sets, err := s.ListCredentials(ctx)
	if err != nil {
		return CredentialSet{}, false, err
	}
	set, ok := Find(sets, id)
	return set, ok, nil
}

// Find returns the set with id.
func Find(sets []CredentialSet, id string) (CredentialSet, bool) {
	for _, s := range sets {
		if s.ID == id {
			return s, true
		}
	}
	return CredentialSet{}, false
}

// rejected reports whether err is SORACOM refusing a write for a reason that may be the
// set's (non-)existence: any 4xx but auth, permission and rate-limit answers.
func rejected(err error) bool {
	var e *APIError
	if !errors.As(err, &e) {
		return false
	}
	switch e.Status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests, http.StatusRequestTimeout:
		return false
	}
	return e.Status >= 400 && e.Status < 500
}

func wasRetried(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Retried
}
