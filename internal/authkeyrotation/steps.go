package authkeyrotation

import (
	"fmt"
	"sync"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/rotation"
)

// prepare reads, at once, what writing needs and (with a maximum age) the AuthKeys, and
// decides whether a rotation is due. Nothing is generated before the token proved it
// may read the secrets.
func (x *run) prepare() (due bool, err error) {
	if err := x.ctx.Err(); err != nil {
		return false, &Error{Step: "start the AuthKey rotation", Err: err, State: x.unchanged(), Next: runAgain}
	}
	var wg sync.WaitGroup
	var keys []Key
	var listErr error
	if x.p.MaxAge > 0 {
		wg.Go(func() { keys, listErr = x.keys.List(x.ctx) })
	}
	x.before, err = x.secrets.Prepare(x.ctx, []string{x.p.KeySecret, x.p.IDSecret})
	wg.Wait()
	switch {
	case err != nil:
		return false, &Error{Step: "read the secrets " + x.names(), Err: err, State: x.unchanged(), Next: runAgain}
	case listErr != nil:
		return false, &Error{Step: "list the AuthKeys of SAM user " + x.p.UserName, Err: listErr, State: x.unchanged(), Next: runAgain}
	case x.p.MaxAge <= 0:
		return true, nil
	}
	if why := x.standBack(keys, ""); why != "" {
		x.res.Outcome, x.res.Reason = StoodBack, why
		return false, nil
	}
	return x.due(keys), nil
}

// due decides from the list whether the AuthKey in use is old enough to rotate.
func (x *run) due(keys []Key) bool {
	var created time.Time
	for _, k := range keys {
		if k.ID == x.p.Current.ID {
			created = k.Created
		}
	}
	if created.IsZero() {
		x.res.Reason = "SORACOM gave no creation time for the AuthKey in use, so it is rotated now"
		return true
	}
	x.res.Age = x.p.Now.Sub(created)
	if x.res.Age >= x.p.MaxAge {
		return true
	}
	x.res.Outcome = NotDue
	x.res.NextRotation = created.Add(x.p.MaxAge)
	x.res.Reason = fmt.Sprintf("the AuthKey %s is %s old; auth-key-max-age is %s, so the next rotation is due %s",
		x.p.Current.ID, rotation.Days(x.res.Age), rotation.Span(x.p.MaxAge), x.res.NextRotation.UTC().Format(time.RFC3339))
	return false
}

// standBack says why this run must not write, from a list of the AuthKeys: the one it
// started with is gone (another run finished a rotation), or one newer than it exists
// that is not this run's own (another run is rotating, or one left a key behind).
// SORACOM's list is the one place overlapping runs all see.
func (x *run) standBack(keys []Key, own string) string {
	var current *Key
	for i, k := range keys {
		if k.ID == x.p.Current.ID {
			current = &keys[i]
		}
	}
	if current == nil {
		// The secrets hold another run's AuthKey, or soon will: which one, this run
		// cannot say (SecretsHold is what the auth-key-id output reports).
		x.res.SecretsHold = ""
		return fmt.Sprintf("the AuthKey %s this run started with is no longer listed: another run has rotated it already", x.p.Current.ID)
	}
	for _, k := range keys {
		if k.ID != current.ID && k.ID != own && !k.Created.Before(current.Created) {
			return fmt.Sprintf("the AuthKey %s, newer than the one in use (%s), exists: another run is rotating, or an earlier run left it behind. "+
				"If no other run is rotating, delete %s (%s) and the next run rotates",
				k.ID, current.ID, k.ID, x.deleteCommand(k.ID))
		}
	}
	return ""
}

func (x *run) generate() (NewKey, error) {
	const step = "generate a new AuthKey"
	if err := x.ctx.Err(); err != nil {
		return NewKey{}, &Error{Step: step, Err: err, State: x.unchanged(), Next: runAgain}
	}
	key, err := x.keys.Generate(x.ctx)
	if err == nil {
		x.res.NewKeyID = key.ID
		return key, nil
	}
	state := x.unchanged()
	if rotation.OutcomeOf(err) == rotation.InDoubt {
		state += fmt.Sprintf(" SORACOM may have generated an AuthKey all the same (its answer was lost or could not be read); no secret holds it and its secret never arrived: "+
			"delete the newest AuthKey of SAM user %s if it is not %s.", x.p.UserName, x.p.Current.ID)
	}
	return NewKey{}, &Error{Step: step, Err: err, State: state, Next: runAgain}
}

// check proves the new key works (authenticate, revoke that token) and, at the same
// time, lists the AuthKeys again, to stand back when another run got there first. Both
// come before the first write; the list is read after this run's own key exists, so of
// two overlapping runs at least one sees the other's key. The verification runs to its
// end within the grace period even when the job is cancelled: a token it got is then
// revoked rather than left valid; the next step sees the cancellation.
func (x *run) check(key NewKey) (stood bool, err error) {
	verifyStep := "authenticate with the new AuthKey " + key.ID
	if err := x.ctx.Err(); err != nil {
		return false, &Error{Step: verifyStep, Err: err, State: x.dropNew(key), Next: runAgain}
	}
	var wg sync.WaitGroup
	var keys []Key
	var listErr error
	wg.Go(func() { keys, listErr = x.keys.List(x.ctx) })
	vctx, cancel := rotation.CleanupContext(x.ctx, x.grace())
	verifyErr := x.keys.Verify(vctx, key)
	cancel()
	wg.Wait()
	switch {
	case verifyErr != nil:
		return false, &Error{Step: verifyStep, Err: verifyErr, State: x.dropNew(key), Next: runAgain}
	case listErr != nil:
		return false, &Error{Step: "list the AuthKeys of SAM user " + x.p.UserName + " before writing", Err: listErr, State: x.dropNew(key), Next: runAgain}
	}
	if why := x.standBack(keys, key.ID); why != "" {
		// Not "the secrets still hold the AuthKey in use": another run may be writing
		// them, or has; this run only says what it did.
		x.res.Outcome, x.res.Reason = StoodBack, why+". This run wrote no secret. "+x.deleteNew(key)
		return true, nil
	}
	return false, nil
}
