// Package authkeyrotation replaces the SORACOM AuthKey a workflow authenticates with,
// stored in two GitHub secrets (the key's secret and its id), without ever locking the
// workflow out: at every moment the two secrets name one AuthKey that exists, or the
// run says exactly which secret holds what and the one command that fixes it.
//
// The flow: read what writing needs (the secrets' public key and metadata) and, with
// a maximum age, the SAM user's AuthKeys, all at once; generate a new AuthKey; prove it
// works (authenticate, revoke that token) while listing the AuthKeys again, and stand
// back if another run is rotating; write the key's secret, then its id; confirm both by
// their updated_at; only then delete the exact AuthKey the run started with.
//
// What each failure leaves (the docs' failure table says the same):
//
//	step                          failure                       end state, exit
//	read public key / metadata    token refused, secret missing nothing changed, 1
//	list AuthKeys                 any                           nothing changed, 1
//	(either list)                 a newer AuthKey, or the one   nothing changed (own new key
//	                              in use is gone                deleted), 0 with a warning
//	generate                      answered                      nothing changed, 1
//	generate                      no answer, or unreadable      a key may exist that nobody
//	                                                            holds: named, 1
//	verify, second list           any                           new key deleted, nothing
//	                                                            changed, 1
//	write the key's secret        refused (not applied)         new key deleted, nothing
//	                                                            changed, 1
//	write (either), confirm       the second write refused, or  old values written back and
//	                              a write not confirmed         confirmed, new key deleted, 1
//	write (either)                no answer (it may still land) old values written back, both
//	                                                            AuthKeys kept; what each
//	                                                            secret holds and the fix, 1
//	write back                    any, or not confirmed         both AuthKeys kept; which
//	                                                            secret holds what and the
//	                                                            command that fixes it, 1
//	delete the old AuthKey        any                           rotated; a warning names the
//	                                                            old key to delete, 0
//
// Written-back values are confirmed as the new ones are, by updated_at: GitHub gives it
// in whole seconds, so the write-back waits until a second has passed since the last
// write and compares with updated_at read just before it. A new AuthKey is deleted only
// when both secrets are confirmed to hold the old one and no write of the new one can
// still land.
//
// A cancellation (SIGTERM) between steps is a failure at that step; clean-up runs after
// it within the grace period. The package is pure: it sees SORACOM and GitHub only
// through the AuthKeys and Secrets interfaces, which internal/action adapts.
package authkeyrotation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/rotation"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/untrusted"
)

// Key is an AuthKey of the SAM user as the list shows it.
type Key struct {
	ID      string
	Created time.Time // zero when SORACOM gave none
}

// NewKey is the AuthKey this run generated; its secret is masked already.
type NewKey struct {
	ID     string
	Secret secret.Secret
}

// AuthKeys is the SAM user's AuthKeys.
type AuthKeys interface {
	List(ctx context.Context) ([]Key, error)
	// Generate creates an AuthKey. A failure should say with a *rotation.OutcomeError
	// whether SORACOM may have created one all the same.
	Generate(ctx context.Context) (NewKey, error)
	// Verify authenticates with key and revokes the token it got.
	Verify(ctx context.Context, key NewKey) error
	// Delete deletes the AuthKey id. A failure should say with a
	// *rotation.OutcomeError whether the key may be deleted all the same.
	Delete(ctx context.Context, id string) error
}

// Secrets is the two GitHub secrets that hold the AuthKey.
type Secrets interface {
	// Prepare reads what writing needs (the public key, which also proves the token
	// may read the secrets, and each secret's metadata) and returns each secret's
	// updated_at by name. It fails when the token may not, or a secret is missing.
	Prepare(ctx context.Context, names []string) (map[string]time.Time, error)
	// Write stores value in the secret name. A failure should say with a
	// *rotation.OutcomeError whether the write may have landed.
	Write(ctx context.Context, name string, value secret.Secret) error
	// UpdatedAt reads the secrets' updated_at back, by name; a secret missing from the
	// map is an error.
	UpdatedAt(ctx context.Context, names []string) (map[string]time.Time, error)
	// SetCommand is the one command a person runs to store value (printable: an
	// AuthKey id) in the secret name.
	SetCommand(name, value string) string
	// Where names the scope, for messages ("repository octo/app").
	Where() string
}

// Plan is what a run starts from.
type Plan struct {
	// Current is the AuthKey the run authenticated with; its secret is what the
	// key's secret held when the job started, written back after a failure.
	Current NewKey
	// KeySecret and IDSecret are the names of the secrets holding the key and its id.
	KeySecret, IDSecret string
	// MaxAge rotates only an AuthKey older than this; zero rotates on every run.
	MaxAge time.Duration
	Now    time.Time
	DryRun bool
	// UserName names the SAM user in messages and commands.
	UserName string
}

// Options tune a run.
type Options struct {
	// Grace bounds clean-up once ctx is cancelled; zero means rotation.DefaultGrace.
	Grace time.Duration
	// Resolution is that of the secrets' updated_at; zero means a second (GitHub's).
	Resolution time.Duration
}

// Outcome is how a run ended.
type Outcome string

// The outcomes.
const (
	Rotated   Outcome = "rotated"
	NotDue    Outcome = "not due"
	StoodBack Outcome = "stood back"
	DryRun    Outcome = "dry run"
	Failed    Outcome = "failed"
)

// Result is what a run did; on error too.
type Result struct {
	Outcome Outcome
	// SecretsHold is the AuthKey id both secrets hold at the end; empty when they do
	// not hold one AuthKey (see the error), or when another run rotated the key this
	// one started with.
	SecretsHold string
	// HoldUnconfirmed is true when SecretsHold rests on GitHub's success answers to a
	// write-back that the secrets' updated_at did not confirm.
	HoldUnconfirmed bool
	// NewKeyID is the generated AuthKey, empty when none was generated.
	NewKeyID string
	// Age is the age of the AuthKey in use when it was listed; NextRotation when it
	// becomes due (with MaxAge).
	Age          time.Duration
	NextRotation time.Time
	// Reason says why the run did not rotate (not due, stood back, dry run).
	Reason string
	// Warnings are problems that did not fail the run (the old key not deleted).
	Warnings []string
}

// Error is a failed run: the step, the cause, the end state and what to do.
type Error struct {
	Step  string
	Err   error
	State string
	Next  string
}

// Error is three lines (the cause, the end state, what to do), so that a log that caps
// the length of a line never cuts what the secrets hold or the fix.
func (e *Error) Error() string {
	return fmt.Sprintf("AuthKey rotation failed: could not %s: %s.\n%s\n%s",
		e.Step, strings.TrimSuffix(e.Err.Error(), "."), e.State, e.Next)
}

func (e *Error) Unwrap() error { return e.Err }

const (
	nothingChanged = "Nothing was changed: the secrets still hold the AuthKey %s, which still works."
	runAgain       = "Fix the cause, then run the workflow again."
)

// secretState is what one secret holds during a run.
type secretState int

const (
	holdsOld secretState = iota
	holdsNew
	holdsUnknown // a write whose outcome is unknown
)

// Run rotates the AuthKey as the package doc says.
func Run(ctx context.Context, keys AuthKeys, secrets Secrets, p Plan, opt Options) (Result, error) {
	x := &run{ctx: ctx, keys: keys, secrets: secrets, p: p, opt: opt,
		res: Result{Outcome: Failed, SecretsHold: p.Current.ID}}
	x.state = map[string]secretState{p.KeySecret: holdsOld, p.IDSecret: holdsOld}
	x.pending = map[string]bool{}
	err := x.steps()
	if err != nil {
		x.res.Outcome = Failed
		var e *Error
		if ctx.Err() != nil && errors.As(err, &e) {
			e.Next = "The job was cancelled. " + e.Next
		}
	}
	return x.res, err
}

// run is one execution of Run.
type run struct {
	ctx     context.Context
	keys    AuthKeys
	secrets Secrets
	p       Plan
	opt     Options
	res     Result
	state   map[string]secretState
	// pending marks a secret whose write of the new value got no answer: it may still
	// land, after anything the run does later.
	pending map[string]bool
	before  map[string]time.Time // updated_at before the run wrote
}

func (x *run) steps() error {
	due, err := x.prepare()
	if err != nil || !due {
		return err
	}
	if x.p.DryRun {
		x.res.Outcome, x.res.Reason = DryRun, "dry run: a real run would generate a new AuthKey and store it in "+x.names()
		return nil
	}
	key, err := x.generate()
	if err != nil {
		return err
	}
	if stood, err := x.check(key); err != nil || stood {
		return err
	}
	if err := x.write(key); err != nil {
		return err
	}
	x.res.Outcome, x.res.SecretsHold = Rotated, key.ID
	if x.p.MaxAge > 0 {
		x.res.NextRotation = x.p.Now.Add(x.p.MaxAge)
	}
	x.deleteOld()
	return nil
}

func (x *run) names() string {
	return x.p.KeySecret + " and " + x.p.IDSecret + " (" + x.secrets.Where() + ")"
}

func (x *run) grace() time.Duration {
	if x.opt.Grace > 0 {
		return x.opt.Grace
	}
	return rotation.DefaultGrace
}

func (x *run) resolution() time.Duration {
	if x.opt.Resolution > 0 {
		return x.opt.Resolution
	}
	return time.Second
}

func (x *run) unchanged() string { return fmt.Sprintf(nothingChanged, x.p.Current.ID) }

// deleteCommand is the soracom-cli command that deletes the AuthKey id. The user name
// came from SORACOM's answer (any one line), so it is quoted for the shell; the id has
// the AuthKey id's shape.
func (x *run) deleteCommand(id string) string {
	return fmt.Sprintf("soracom users auth-keys delete --user-name %s --auth-key-id %s", untrusted.ShellWord(x.p.UserName), id)
}
