package rotation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/parallel"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
)

// DefaultGrace is how long clean-up may take once the run is cancelled. The runner
// kills a cancelled action about 10 s after its first signal (2.5 s after SIGTERM), and
// the SORACOM token must still be revoked (within 5 s) after the clean-up.
const DefaultGrace = 3 * time.Second

// cleanupTimeout bounds the clean-up calls after a failure that was no cancellation.
const cleanupTimeout = 30 * time.Second

// Options are the choices a rotation is run with.
type Options struct {
	// OldKey says what happens to the replaced key; empty means Deactivate.
	OldKey OldKeyPolicy
	// Grace bounds the clean-up once ctx is cancelled, and is how long the user's keys
	// are watched for a key whose CreateAccessKey answer never arrived. Zero means
	// DefaultGrace.
	Grace time.Duration
	// PollEvery is how often the keys are listed while watching; zero means 250 ms.
	PollEvery time.Duration
	// Parallel bounds the sets written at once (after the first, written alone); zero
	// means parallel.DefaultLimit.
	Parallel int
	// Stored, if set, is told of each set that took the new key, in plan order
	// whatever order the writes end in, so a log written from it reads in order.
	Stored func(id string)
}

// SetResult is a credential set that now holds the new key.
type SetResult struct {
	ID        string
	UpdatedAt time.Time // zero when the write's answer was lost
}

// What happened to the replaced key.
const (
	OldKeyDeactivated = "deactivated"
	OldKeyDeleted     = "deleted"
	OldKeyKept        = "kept"
	OldKeyNone        = "none"         // the user had no active key
	OldKeyStillActive = "still active" // retiring it failed, or the rotation stopped before
	OldKeyUnknown     = "unknown"      // retiring it got no answer: it may be retired or still active
)

// Result is what a rotation did. On error it still tells which key every set holds.
type Result struct {
	NewKeyID string // masked in the log; show ShortID in summaries
	// NewKeyCreated is when IAM created the new key (zero when it did not say).
	NewKeyCreated time.Time
	// NewKeyDeleted is true when the new key was deleted again (rolled back).
	NewKeyDeleted bool
	PreviousKeyID string // the replaced key; empty when there was none
	Account       string // the AWS account the new key belongs to
	// DeletedInactiveKey is the inactive key deleted to make room, if any.
	DeletedInactiveKey string
	// Updated are the sets that hold the new key, in the order they were updated.
	Updated []SetResult
	// InDoubt are sets whose write was sent but whose outcome is unknown: each holds
	// either the new key or what it held before.
	InDoubt []string
	// NotUpdated are planned sets that still hold what they held before.
	NotUpdated []string
	// OldKeyAction is what happened to PreviousKeyID: one of the OldKey* constants.
	OldKeyAction string
}

// Rotated reports whether every planned set holds the new key (the old key's
// retirement may still have failed).
func (r Result) Rotated() bool {
	return len(r.Updated) > 0 && len(r.NotUpdated) == 0 && len(r.InDoubt) == 0 && !r.NewKeyDeleted
}

// UpdatedIDs returns the ids of the updated sets.
func (r Result) UpdatedIDs() []string {
	ids := make([]string, len(r.Updated))
	for i, s := range r.Updated {
		ids[i] = s.ID
	}
	return ids
}

// execution is one run of Execute: its inputs and what it did so far.
type execution struct {
	ctx  context.Context
	keys Keys
	sets Sets
	p    Plan
	opt  Options
	res  Result
	// before says what the planned sets hold, and what was done before the new key
	// existed: the state a rollback returns to.
	before string
}

// Execute carries out p (steps 4 to 7 of the algorithm): delete the planned inactive
// key, create the new key, wait until it works, store it in every planned set, and
// retire the old key as opt.OldKey says. p must come from Inventory.Plan. On failure
// or cancellation the error is an *Error and the Result tells what was done.
//
// A cancelled ctx stops the rotation between steps; clean-up (deleting a key no set
// holds, asking SORACOM what a failed write did) runs after it within opt.Grace.
func Execute(ctx context.Context, keys Keys, sets Sets, p Plan, opt Options) (Result, error) {
	if !p.made {
		return Result{}, errors.New("rotation: Execute needs a Plan made by Inventory.Plan")
	}
	opt.OldKey = opt.OldKey.orDefault()
	x := &execution{ctx: ctx, keys: keys, sets: sets, p: p, opt: opt,
		res:    Result{PreviousKeyID: p.Replace, NotUpdated: p.TargetIDs(), OldKeyAction: OldKeyStillActive},
		before: "every credential set still holds what it held before (" + p.describeTargets() + ")"}
	if p.Replace == "" {
		x.res.OldKeyAction = OldKeyNone
	}
	err := x.steps()
	return x.res, whenCancelled(ctx, err)
}

func (x *execution) steps() error {
	if err := x.deleteInactive(); err != nil {
		return err
	}
	key, err := x.create()
	if err != nil {
		return err
	}
	if err := x.waitUntilWorks(key); err != nil {
		return err
	}
	if err := x.storeAll(key); err != nil {
		return err
	}
	if len(x.p.Unreadable) > 0 {
		return x.unreadableStop(key)
	}
	return x.retire(key)
}

// unreadableStop ends a rotation that stored the new key wherever it could, while sets
// that could not be read may hold the old key: retiring it could break them, so it
// stays active, and a person must look at those sets.
func (x *execution) unreadableStop(key NewKey) error {
	names := strings.Join(x.p.Unreadable, ", ")
	state := fmt.Sprintf("Every planned set (%s) holds the new key %s", listOrNothing(x.res.UpdatedIDs()), secret.ShortID(key.ID))
	if x.p.Replace != "" {
		state += fmt.Sprintf("; the old key %s stays active, as %s may hold it", x.p.Replace, names)
	}
	return &Error{Step: readEverySet, Err: x.p.unreadable(), State: state + ".", Next: unreadableNext}
}

// What a rotation that could not read every set says.
const (
	readEverySet   = "read every credential set"
	unreadableNext = "Look at those sets in the SORACOM console or API: store the new key in any that holds the old one (the next run does, once SORACOM lists them readably), " +
		"then retire the old key by hand."
)

// unreadable names the sets whose list entry could not be read.
func (p Plan) unreadable() error {
	return fmt.Errorf("%s could not be read from SORACOM's list", strings.Join(p.Unreadable, ", "))
}

// DryRunError is the error a real run of p is bound to end with, for a dry run to fail
// with too: with sets that could not be read, a rotation stores the new key wherever it
// can, keeps the old key active and fails (see Execute). Nil when a real run may
// succeed.
func (p Plan) DryRunError() error {
	if len(p.Unreadable) == 0 {
		return nil
	}
	state := fmt.Sprintf("Dry run: nothing was changed; a real run would store the new key in %s", listOrNothing(p.TargetIDs()))
	if p.Replace != "" {
		state += fmt.Sprintf(", keep the old key %s active, as %s may hold it,", p.Replace, strings.Join(p.Unreadable, ", "))
	}
	return &Error{Step: readEverySet, Err: p.unreadable(), State: state + " and fail.", Next: unreadableNext}
}

// whenCancelled replaces the advice of a failure that left the starting state when the
// cause was the job's cancellation: there is no cause to fix.
func whenCancelled(ctx context.Context, err error) error {
	var e *Error
	if ctx.Err() != nil && errors.As(err, &e) && e.Resumable {
		e.Next = "The job was cancelled: run the workflow again to rotate."
	}
	return err
}

func (x *execution) deleteInactive() error {
	id := x.p.DeleteInactive
	if id == "" {
		return nil
	}
	step := "delete the inactive access key " + id
	if err := x.ctx.Err(); err != nil {
		return &Error{Step: step, Err: err, State: nothingChanged, Next: runAgain, Resumable: true}
	}
	err := x.keys.Delete(x.ctx, id)
	if err == nil {
		x.res.DeletedInactiveKey = id
		x.before = fmt.Sprintf("the inactive access key %s was deleted; %s", id, x.before)
		return nil
	}
	state := nothingChanged
	if OutcomeOf(err) == InDoubt {
		state = fmt.Sprintf("Nothing else was changed, but the inactive access key %s may have been deleted (the request got no answer); "+
			"being inactive, it worked for no set either way.", id)
	}
	return &Error{Step: step, Err: err, State: state, Next: "Delete that key by hand, or fix the cause, then run again.", Resumable: true}
}

func (x *execution) create() (NewKey, error) {
	const step = "create a new access key"
	if err := x.ctx.Err(); err != nil {
		return NewKey{}, &Error{Step: step, Err: err, State: capitalize(x.before) + ".", Next: runAgain, Resumable: true}
	}
	key, err := x.keys.Create(x.ctx)
	if err == nil {
		x.res.NewKeyID, x.res.NewKeyCreated = key.ID, key.Created
		return key, nil
	}
	state, clean := x.removeStrays(OutcomeOf(err))
	next := runAgain
	if !clean {
		next = "Delete the key the failed request created (the user's newest key, which no set holds), then run the workflow again."
	}
	return NewKey{}, &Error{Step: step, Err: err, State: state, Next: next, Resumable: clean}
}

func (x *execution) waitUntilWorks(key NewKey) error {
	step := fmt.Sprintf("wait until the new access key %s works", secret.ShortID(key.ID))
	err := x.ctx.Err()
	if err == nil {
		var id Identity
		if id, err = x.keys.WaitUntilWorks(x.ctx, key); err == nil {
			x.res.Account = id.Account
			return nil
		}
	}
	state := x.rollback(key)
	return &Error{Step: step, Err: err, State: state,
		Next: "Run the workflow again; if it keeps failing, check that STS is reachable from the runner.", Resumable: x.res.NewKeyDeleted}
}

// storeAll stores the new key in every planned set and stops at the first failure or
// at a cancellation. The first set is written alone: if it fails, no set holds the new
// key and it can be deleted. The rest are written opt.Parallel at a time; after a
// failure no further write starts, and the writes in flight finish.
func (x *execution) storeAll(key NewKey) error {
	targets := x.p.Targets
	for len(targets) > 0 {
		n := len(targets)
		if len(x.res.Updated) == 0 {
			n = 1
		}
		if failures := x.storeBatch(key, targets[:n]); len(failures) > 0 {
			return x.storeFailed(key, failures)
		}
		targets = targets[n:]
	}
	x.res.NotUpdated = nil
	return nil
}

// storeFailure is a set the new key could not be stored in.
type storeFailure struct {
	t       Target
	err     error
	outcome Outcome
}

// storeBatch stores the new key in targets, up to opt.Parallel at a time, and returns
// the sets it failed on, in order; a set whose failed write SORACOM shows on the new
// key counts as stored.
func (x *execution) storeBatch(key NewKey, targets []Target) []storeFailure {
	at := make([]time.Time, len(targets))
	errs := make([]error, len(targets))
	var failures []storeFailure
	step := func(ctx context.Context, i int) bool {
		at[i], errs[i] = x.sets.Store(ctx, targets[i].ID, key)
		return errs[i] == nil
	}
	done := func(i int, started bool) {
		switch {
		case !started && len(failures) == 0:
			// Cancelled between writes: the first set not written says so.
			failures = append(failures, storeFailure{targets[i], x.ctx.Err(), NotSent})
		case !started:
		case errs[i] == nil:
			x.res.stored(targets[i].ID, at[i])
			if x.opt.Stored != nil {
				x.opt.Stored(targets[i].ID)
			}
		default:
			failures = append(failures, storeFailure{targets[i], errs[i], OutcomeOf(errs[i])})
		}
	}
	parallel.Run(x.ctx, len(targets), x.parallel(), step, done)
	return x.resolve(key, failures)
}

// resolve asks SORACOM, once, what failed writes that may have reached it did (a lost
// answer, a cancelled job) before anything is decided: rolling back a key that a set
// holds would break it. A set on the new key counts as stored; when the list fails,
// every such write is in doubt.
func (x *execution) resolve(key NewKey, failures []storeFailure) []storeFailure {
	if !slices.ContainsFunc(failures, func(f storeFailure) bool { return f.outcome != NotSent }) {
		return failures
	}
	onNew, known := x.holders(key.ID)
	var left []storeFailure
	for _, f := range failures {
		switch {
		case f.outcome == NotSent:
		case known && onNew[f.t.ID]:
			x.res.stored(f.t.ID, time.Time{})
			continue // the write went through; only its answer was lost
		case !known:
			f.outcome = InDoubt
		}
		left = append(left, f)
	}
	// Stored in the order the plan lists them, whatever order the answers came in.
	slices.SortStableFunc(x.res.Updated, func(a, b SetResult) int {
		return x.p.index(a.ID) - x.p.index(b.ID)
	})
	return left
}

// storeFailed decides what failed writes leave: the new key is deleted only when no
// set holds it and no write that might still land was sent.
func (x *execution) storeFailed(key NewKey, failures []storeFailure) error {
	first := failures[0]
	step := "store the new key in credential set " + first.t.ID
	if n := len(failures) - 1; n > 0 {
		ids := make([]string, n)
		for i, f := range failures[1:] {
			ids[i] = f.t.ID
		}
		step += fmt.Sprintf(" (and in %s, written at the same time)", strings.Join(ids, ", "))
	}
	for _, f := range failures {
		if f.outcome == InDoubt {
			x.res.InDoubt = append(x.res.InDoubt, f.t.ID)
			x.res.NotUpdated = without(x.res.NotUpdated, f.t.ID)
		}
	}
	if len(x.res.InDoubt) == 0 && len(x.res.Updated) == 0 {
		state := x.rollback(key)
		return &Error{Step: step, Err: first.err, State: state,
			Next: "Fix the cause (SORACOM credentials and permissions, the set id), then run the workflow again.", Resumable: x.res.NewKeyDeleted}
	}
	return &Error{Step: step, Err: first.err, State: x.splitState(key), Next: x.finishByHand()}
}

func (x *execution) retire(key NewKey) error {
	old := x.opt.OldKey
	switch {
	case x.p.Replace == "":
		return nil
	case old == Keep:
		x.res.OldKeyAction = OldKeyKept
		return nil
	}
	retire, done := x.keys.Deactivate, OldKeyDeactivated
	if old == Delete {
		retire, done = x.keys.Delete, OldKeyDeleted
	}
	err, sent := x.ctx.Err(), false
	if err == nil {
		if err, sent = retire(x.ctx, x.p.Replace), true; err == nil {
			x.res.OldKeyAction = done
			return nil
		}
	}
	// Not Resumable: a new run changes nothing while the user has two active keys, so
	// the inner error's "run again" advice would mislead.
	state := fmt.Sprintf("Every planned set (%s) holds the new key %s; the old key %s is still active.",
		listOrNothing(x.res.UpdatedIDs()), secret.ShortID(key.ID), x.p.Replace)
	if sent && OutcomeOf(err) == InDoubt {
		x.res.OldKeyAction = OldKeyUnknown
		state = fmt.Sprintf("Every planned set (%s) holds the new key %s; the old key %s may be %s or still active (the request got no answer).",
			listOrNothing(x.res.UpdatedIDs()), secret.ShortID(key.ID), x.p.Replace, done)
	}
	return &Error{Step: fmt.Sprintf("%s the old access key %s", old, x.p.Replace), Err: err, State: state,
		Next: fmt.Sprintf("%s the old key %s by hand (IAM console, or aws iam) if it is still active. %s",
			capitalize(string(old)), x.p.Replace, untilTwoKeysAreOne)}
}

// untilTwoKeysAreOne is what the next run does while the user has two active keys: it
// stops (or skips, when the key is not due), so a person must finish.
const untilTwoKeysAreOne = "Until then the next run changes nothing, as the user has two active keys."

// removeStrays deletes a key that a failed CreateAccessKey may have created all the
// same (the SDK retries a request whose answer was lost; a request in flight when the
// run was cancelled may be carried out after it), and says what state that leaves.
// For a request in doubt it watches the keys for the grace period; clean is false when
// a key may be left that no set holds.
func (x *execution) removeStrays(outcome Outcome) (state string, clean bool) {
	state = capitalize(x.before) + "."
	if outcome == NotSent {
		return state, true
	}
	ctx, cancel := x.cleanupContext()
	defer cancel()
	watchUntil := time.Now()
	if outcome == InDoubt {
		watchUntil = watchUntil.Add(x.grace())
	}
	deleted, problem := x.watchForStrays(ctx, watchUntil)
	for _, id := range deleted {
		state += fmt.Sprintf(" A key the failed request created all the same (%s) was deleted.", secret.ShortID(id))
	}
	switch {
	case problem != "":
		return state + " " + problem, false
	case outcome == InDoubt && len(deleted) == 0:
		state += fmt.Sprintf(" No key made by the unanswered request appeared within %s; if one appears later, it is the user's newest key and no set holds it: delete it.", x.grace())
	}
	return state, true
}

// watchForStrays lists the user's keys until a key this run did not see at the start
// shows up (and deletes it) or until the watch ends. It lists at least once. problem
// says what is left to do by hand, if anything.
func (x *execution) watchForStrays(ctx context.Context, until time.Time) (deleted []string, problem string) {
	listed := false
	for {
		keys, lerr := x.keys.List(ctx)
		if lerr == nil {
			listed = true
			for _, k := range keys {
				if slices.Contains(x.p.keyIDs, k.ID) || slices.Contains(deleted, k.ID) {
					continue
				}
				if derr := x.keys.Delete(ctx, k.ID); derr != nil {
					return deleted, fmt.Sprintf("A key the failed request created (%s) could not be deleted: delete it by hand (%v).", secret.ShortID(k.ID), derr)
				}
				deleted = append(deleted, k.ID)
			}
		}
		if len(deleted) > 0 || !time.Now().Before(until) || !sleep(ctx, x.pollEvery()) {
			break
		}
	}
	if !listed {
		return nil, "(The user's keys could not be listed again to check that no key was created: look for an unused newest key.)"
	}
	return deleted, ""
}

// holders asks SORACOM which sets hold keyID. It runs after a failure, even when the
// run's context was cancelled, within the clean-up bound; known is false when the list
// failed.
func (x *execution) holders(keyID string) (onKey map[string]bool, known bool) {
	ctx, cancel := x.cleanupContext()
	defer cancel()
	sets, err := x.sets.List(ctx)
	if err != nil {
		return nil, false
	}
	onKey = map[string]bool{}
	for _, s := range sets {
		if s.AccessKeyID == keyID {
			onKey[s.ID] = true
		}
	}
	return onKey, true
}

// rollback deletes the new key after a failure that left it unused, and says what the
// state is then.
func (x *execution) rollback(key NewKey) string {
	ctx, cancel := x.cleanupContext()
	defer cancel()
	if err := x.keys.Delete(ctx, key.ID); err != nil {
		return fmt.Sprintf("The new access key %s was not used, but deleting it failed (%v): delete it by hand "+
			"(the newest key of the IAM user). Otherwise %s.", secret.ShortID(key.ID), err, x.before)
	}
	x.res.NewKeyDeleted = true
	return fmt.Sprintf("The new access key %s was deleted; %s.", secret.ShortID(key.ID), x.before)
}

// cleanupContext is the context clean-up calls run in (see CleanupContext).
func (x *execution) cleanupContext() (context.Context, context.CancelFunc) {
	return CleanupContext(x.ctx, x.grace())
}

// CleanupContext is the context clean-up calls run in after a failure or a
// cancellation of ctx: detached from ctx, so that a cancelled run still cleans up, but
// bounded (30 s), and cut short grace after ctx ends, as the runner kills the action
// soon after.
func CleanupContext(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
			return
		case <-ctx.Done():
		}
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			cancel()
		}
	}()
	return cctx, func() {
		close(done)
		cancel()
	}
}

func (x *execution) grace() time.Duration {
	if x.opt.Grace > 0 {
		return x.opt.Grace
	}
	return DefaultGrace
}

func (x *execution) parallel() int {
	if x.opt.Parallel > 0 {
		return x.opt.Parallel
	}
	return parallel.DefaultLimit
}

func (x *execution) pollEvery() time.Duration {
	if x.opt.PollEvery > 0 {
		return x.opt.PollEvery
	}
	return 250 * time.Millisecond
}

// sleep waits d, and reports false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// stored records that set id holds the new key.
func (r *Result) stored(id string, at time.Time) {
	r.Updated = append(r.Updated, SetResult{ID: id, UpdatedAt: at})
	r.NotUpdated = without(r.NotUpdated, id)
}

func without(ids []string, id string) []string {
	return slices.DeleteFunc(slices.Clone(ids), func(s string) bool { return s == id })
}
