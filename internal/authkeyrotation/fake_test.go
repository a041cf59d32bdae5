package authkeyrotation_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/authkeyrotation"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/rotation"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
)

var t0 = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// world is SORACOM's AuthKeys and the two GitHub secrets, in memory.
type world struct {
	mu      sync.Mutex
	keys    map[string]string // id -> secret
	created map[string]time.Time
	secrets map[string]string
	updated map[string]time.Time
	clock   time.Time
	n       int
	calls   []string
	// fail makes the named call fail (with the outcome); hook runs as it starts, outside
	// the lock (a hook may start a second run).
	fail map[string]error
	hook map[string]func()
	// late holds back a failed write whose outcome is in doubt until land is called: a
	// request that lands after the run gave up on it.
	late   map[string]bool
	landed []func()
}

func newWorld() *world {
	w := &world{keys: map[string]string{"keyId-old": "secret-old"}, created: map[string]time.Time{"keyId-old": t0.Add(-100 * 24 * time.Hour)},
		secrets: map[string]string{"KEY": "secret-old", "ID": "keyId-old"}, updated: map[string]time.Time{"KEY": t0.Add(-time.Hour), "ID": t0.Add(-time.Hour)},
		clock: t0, fail: map[string]error{}, hook: map[string]func(){}, late: map[string]bool{}}
	return w
}

var plan = authkeyrotation.Plan{Current: authkeyrotation.NewKey{ID: "keyId-old", Secret: secret.New("secret-old")},
	KeySecret: "KEY", IDSecret: "ID", Now: t0, UserName: "ci"}

func answered(msg string) error {
	return &rotation.OutcomeError{Outcome: rotation.Answered, Err: errors.New(msg)}
}

func inDoubt(msg string) error {
	return &rotation.OutcomeError{Outcome: rotation.InDoubt, Err: errors.New(msg)}
}

// step records a call and says whether it fails. A hook and a failure fire once, and
// both leave their maps under the lock: the run verifies a new key and lists the keys
// at the same time, so two steps may be in here together.
func (w *world) step(name string) error {
	w.mu.Lock()
	w.calls = append(w.calls, name)
	hook, err := w.hook[name], w.fail[name]
	delete(w.hook, name)
	delete(w.fail, name)
	w.mu.Unlock()
	if hook != nil {
		hook()
	}
	return err
}

type keys struct{ *world }

func (k keys) List(context.Context) ([]authkeyrotation.Key, error) {
	if err := k.step("list"); err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []authkeyrotation.Key
	for id := range k.keys {
		out = append(out, authkeyrotation.Key{ID: id, Created: k.created[id]})
	}
	return out, nil
}

func (k keys) Generate(context.Context) (authkeyrotation.NewKey, error) {
	if err := k.step("generate"); err != nil {
		return authkeyrotation.NewKey{}, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.n++
	id := fmt.Sprintf("keyId-new%d", k.n)
	k.keys[id], k.created[id] = "secret-new", k.clock.Add(time.Duration(k.n)*time.Second)
	return authkeyrotation.NewKey{ID: id, Secret: secret.New("secret-new")}, nil
}

func (k keys) Verify(_ context.Context, key authkeyrotation.NewKey) error { return k.step("verify") }

func (k keys) Delete(_ context.Context, id string) error {
	if err := k.step("delete " + id); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.keys, id)
	return nil
}

type secrets struct{ *world }

func (s secrets) Prepare(_ context.Context, names []string) (map[string]time.Time, error) {
	return s.updatedAt("prepare", names)
}

func (s secrets) Write(_ context.Context, name string, v secret.Secret) error {
	call := "write " + name + "=" + v.Reveal()
	err := s.step(call)
	if err != nil && rotation.OutcomeOf(err) == rotation.Answered {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	store := func() {
		// Every write moves the clock a second: updated_at has whole seconds.
		s.clock = s.clock.Add(time.Second)
		s.secrets[name], s.updated[name] = v.Reveal(), s.clock
	}
	if err != nil && s.late[call] {
		s.landed = append(s.landed, store)
		return err
	}
	store() // an answer lost after the write: it landed
	return err
}

// land carries out the writes held back by late.
func (w *world) land() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, f := range w.landed {
		f()
	}
	w.landed = nil
}

func (s secrets) UpdatedAt(_ context.Context, names []string) (map[string]time.Time, error) {
	return s.updatedAt("confirm "+strings.Join(names, ","), names)
}

// updatedAt records the call and reads the secrets' updated_at, by name.
func (s secrets) updatedAt(call string, names []string) (map[string]time.Time, error) {
	if err := s.step(call); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]time.Time{}
	for _, n := range names {
		out[n] = s.updated[n]
	}
	return out, nil
}

func (secrets) SetCommand(name, value string) string {
	return "gh secret set " + name + " --body " + value
}
func (secrets) Where() string { return "repository octo/app" }

// consistent reports whether the two secrets name one AuthKey that exists, with its
// secret: the workflow can authenticate.
func (w *world) consistent() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, ok := w.keys[w.secrets["ID"]]
	return ok && s == w.secrets["KEY"]
}
