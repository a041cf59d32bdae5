package rotation_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/rotation"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
)

// fault is what a fake does instead of (or besides) answering a request normally.
type fault struct {
	err     error // the error answered; context.Canceled when cancel is set and err is not
	outcome rotation.Outcome
	// apply carries the request out before answering the error (a lost answer).
	apply bool
	// late carries it out only after the run gave up (a request still in flight): a
	// created key shows up after lateLists more lists, a write when the test settles.
	late      bool
	lateLists int
	// cancel cancels the run's context as the request arrives (SIGTERM in flight).
	cancel bool
	// pass answers normally (after cancelling, with cancel: SIGTERM between steps).
	pass bool
}

// world is an in-memory IAM user ("funnel") and SORACOM operator. Keys are named by
// their ids: k0, k1 at the start, new1, new2 for keys the run creates.
type world struct {
	mu       sync.Mutex
	now      time.Time
	keys     []rotation.Key
	sets     map[string]rotation.Set
	faults   map[string]fault // "Create", "Delete k0", "Store cs-a", "WaitUntilWorks", "Deactivate k0", "ListSets"
	calls    []string
	pending  []func() // writes and keys still in flight, applied by settle
	lateKey  *lateKey
	created  int
	cancel   context.CancelFunc
	stored   map[string]string // set id → secret stored
	listsRun int
}

type lateKey struct {
	key   rotation.Key
	after int // lists to go
}

func newWorld(keys []rotation.Key, sets ...rotation.Set) *world {
	w := &world{now: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), keys: slices.Clone(keys),
		sets: map[string]rotation.Set{}, faults: map[string]fault{}, stored: map[string]string{}}
	for _, s := range sets {
		w.sets[s.ID] = s
	}
	return w
}

func key(id string, status rotation.KeyStatus, daysOld int) rotation.Key {
	return rotation.Key{ID: id, Status: status, Created: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -daysOld)}
}

func awsSet(id, key string) rotation.Set {
	return rotation.Set{ID: id, Type: rotation.AWSCredentials, AccessKeyID: key}
}

// call records op and returns its fault, cancelling the run when the fault says so.
func (w *world) call(op string) (fault, bool) {
	w.calls = append(w.calls, op)
	f, ok := w.faults[op]
	if ok && f.cancel && w.cancel != nil {
		w.cancel()
	}
	return f, ok && !f.pass
}

func (f fault) error() error {
	err := f.err
	if err == nil {
		err = context.Canceled
	}
	return &rotation.OutcomeError{Outcome: f.outcome, Err: err}
}

// settle lets every request still in flight land, as it would after the run.
func (w *world) settle() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range w.pending {
		p()
	}
	w.pending = nil
	if w.lateKey != nil {
		w.keys = append(w.keys, w.lateKey.key)
		w.lateKey = nil
	}
}

// keysFake is the world as rotation.Keys.
type keysFake struct{ *world }

func (k keysFake) List(context.Context) ([]rotation.Key, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if f, ok := k.call("ListKeys"); ok {
		return nil, f.error()
	}
	if lk := k.lateKey; lk != nil {
		if lk.after--; lk.after < 0 {
			k.keys, k.lateKey = append(k.keys, lk.key), nil
		}
	}
	return slices.Clone(k.keys), nil
}

func (k keysFake) Create(context.Context) (rotation.NewKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	f, faulted := k.call("Create")
	if faulted && !f.apply && !f.late {
		return rotation.NewKey{}, f.error()
	}
	k.created++
	nk := rotation.NewKey{ID: fmt.Sprintf("new%d", k.created), Secret: secret.New(fmt.Sprintf("secret-of-new%d", k.created)), Created: k.now}
	meta := rotation.Key{ID: nk.ID, Status: rotation.Active, Created: k.now}
	switch {
	case faulted && f.late:
		k.lateKey = &lateKey{key: meta, after: f.lateLists}
		return rotation.NewKey{}, f.error()
	case faulted:
		k.keys = append(k.keys, meta)
		return rotation.NewKey{}, f.error()
	}
	k.keys = append(k.keys, meta)
	return nk, nil
}

func (k keysFake) WaitUntilWorks(_ context.Context, nk rotation.NewKey) (rotation.Identity, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if f, ok := k.call("WaitUntilWorks"); ok {
		return rotation.Identity{}, f.error()
	}
	return rotation.Identity{Account: "123456789012"}, nil
}

func (k keysFake) Deactivate(_ context.Context, id string) error {
	return k.change("Deactivate "+id, id, func(i int) { k.keys[i].Status = rotation.Inactive })
}

func (k keysFake) Delete(_ context.Context, id string) error {
	return k.change("Delete "+id, id, func(i int) { k.keys = slices.Delete(k.keys, i, i+1) })
}

func (k keysFake) change(op, id string, do func(int)) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	apply := func() {
		if i := slices.IndexFunc(k.keys, func(key rotation.Key) bool { return key.ID == id }); i >= 0 {
			do(i)
		}
	}
	f, faulted := k.call(op)
	switch {
	case faulted && f.late:
		k.pending = append(k.pending, apply)
		return f.error()
	case faulted && f.apply:
		apply()
		return f.error()
	case faulted:
		return f.error()
	}
	if !slices.ContainsFunc(k.keys, func(key rotation.Key) bool { return key.ID == id }) {
		return &rotation.OutcomeError{Outcome: rotation.Answered, Err: fmt.Errorf("NoSuchEntity: key %s", id)}
	}
	apply()
	return nil
}

// setsFake is the world as rotation.Sets.
type setsFake struct{ *world }

func (s setsFake) List(context.Context) ([]rotation.Set, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listsRun++
	if f, ok := s.call("ListSets"); ok && s.listsRun > 1 {
		return nil, f.error()
	}
	out := slices.Collect(maps.Values(s.sets))
	slices.SortFunc(out, func(a, b rotation.Set) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func (s setsFake) Store(_ context.Context, id string, nk rotation.NewKey) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	apply := func() {
		s.sets[id] = awsSet(id, nk.ID)
		s.stored[id] = nk.Secret.Reveal()
	}
	f, faulted := s.call("Store " + id)
	switch {
	case faulted && f.late:
		s.pending = append(s.pending, apply)
		return time.Time{}, f.error()
	case faulted && f.apply:
		apply()
		return time.Time{}, f.error()
	case faulted:
		return time.Time{}, f.error()
	}
	apply()
	return s.now, nil
}

// keyState is the user's keys as "id:Status", oldest first.
func (w *world) keyState() string {
	var out []string
	for _, k := range w.keys {
		out = append(out, k.ID+":"+string(k.Status))
	}
	return strings.Join(out, " ")
}

// setState is which key each set holds: "cs-a=new1 cs-b=k0".
func (w *world) setState() string {
	var out []string
	for _, id := range slices.Sorted(maps.Keys(w.sets)) {
		out = append(out, id+"="+w.sets[id].AccessKeyID)
	}
	return strings.Join(out, " ")
}

var errRefused = errors.New("SORACOM answered 403 Forbidden")
