package authkeyrotation

import (
	"fmt"
	"sync"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/rotation"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
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
		return fmt.Sprintf("the AuthKey %s this run started with is no longer listed: another run has rotated it already", x.p.Current.ID)
	}
	for _, k := range keys {
		if k.ID != current.ID && k.ID != own && !k.Created.Before(current.Created) {
			return fmt.Sprintf("the AuthKey %s, newer than the one in use (%s), exists: another run is rotating, or an earlier run left it behind. "+
				"If no other run is rotating, delete %s (soracom users auth-keys delete --user-name %s --auth-key-id %s) and the next run rotates",
				k.ID, current.ID, k.ID, x.p.UserName, k.ID)
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
		state += fmt.Sprintf(" SORACOM may have generated an AuthKey all the same (the request got no answer); no secret holds it and its secret never arrived: "+
			"delete the newest AuthKey of SAM user %s if it is not %s.", x.p.UserName, x.p.Current.ID)
	}
	return NewKey{}, &Error{Step: step, Err: err, State: state, Next: runAgain}
}

func (x *run) verify(key NewKey) error {
	err := x.ctx.Err()
	if err == nil {
		err = x.keys.Verify(x.ctx, key)
	}
	if err == nil {
		return nil
	}
	return &Error{Step: "authenticate with the new AuthKey " + key.ID, Err: err, State: x.dropNew(key), Next: runAgain}
}

// recheck lists the AuthKeys right before the first write and stands back when another
// run got there first.
func (x *run) recheck(key NewKey) (stood bool, err error) {
	step := "list the AuthKeys of SAM user " + x.p.UserName + " before writing"
	if err := x.ctx.Err(); err != nil {
		return false, &Error{Step: step, Err: err, State: x.dropNew(key), Next: runAgain}
	}
	keys, err := x.keys.List(x.ctx)
	if err != nil {
		return false, &Error{Step: step, Err: err, State: x.dropNew(key), Next: runAgain}
	}
	if why := x.standBack(keys, key.ID); why != "" {
		x.res.Outcome, x.res.Reason = StoodBack, why+". "+x.dropNew(key)
		return true, nil
	}
	return false, nil
}

// dropNew deletes the new AuthKey, which no secret holds, and says the state then.
func (x *run) dropNew(key NewKey) string {
	ctx, cancel := rotation.CleanupContext(x.ctx, x.grace())
	defer cancel()
	if err := x.keys.Delete(ctx, key.ID); err != nil {
		return x.unchanged() + fmt.Sprintf(" The new AuthKey %s, which no secret holds, could not be deleted (%v): delete it by hand "+
			"(soracom users auth-keys delete --user-name %s --auth-key-id %s).", key.ID, err, x.p.UserName, key.ID)
	}
	x.res.NewKeyID = ""
	return x.unchanged() + fmt.Sprintf(" The new AuthKey %s was deleted.", key.ID)
}

// write stores the new key's secret, then its id, and confirms both.
func (x *run) write(key NewKey) error {
	for _, w := range []struct {
		name  string
		value secret.Secret
	}{{x.p.KeySecret, key.Secret}, {x.p.IDSecret, secret.New(key.ID)}} {
		err := x.ctx.Err()
		if err == nil {
			err = x.secrets.Write(x.ctx, w.name, w.value)
			if err == nil {
				x.state[w.name] = holdsNew
				continue
			}
			if rotation.OutcomeOf(err) != rotation.NotSent && rotation.OutcomeOf(err) != rotation.Answered {
				x.state[w.name] = holdsUnknown
			}
		}
		return x.undo(key, "write the secret "+w.name+" ("+x.secrets.Where()+")", err)
	}
	return x.confirm(key)
}

// confirm reads both secrets' updated_at back: each must have moved past what it was
// before the run wrote.
func (x *run) confirm(key NewKey) error {
	for _, name := range []string{x.p.KeySecret, x.p.IDSecret} {
		at, err := x.secrets.UpdatedAt(x.ctx, name)
		if err == nil && !at.After(x.before[name]) {
			err = fmt.Errorf("its updated_at (%s) did not move past %s", at.UTC().Format(time.RFC3339), x.before[name].UTC().Format(time.RFC3339))
		}
		if err != nil {
			x.state[x.p.KeySecret], x.state[x.p.IDSecret] = holdsUnknown, holdsUnknown
			return x.undo(key, "confirm the write of the secret "+name, err)
		}
	}
	return nil
}

// deleteOld deletes the exact AuthKey the run started with, once both secrets hold the
// new one. A failure is a warning: the secrets work either way.
func (x *run) deleteOld() {
	ctx, cancel := rotation.CleanupContext(x.ctx, x.grace())
	defer cancel()
	if err := x.keys.Delete(ctx, x.p.Current.ID); err != nil {
		x.res.Warnings = append(x.res.Warnings, fmt.Sprintf("the secrets hold the new AuthKey, but the old AuthKey %s could not be deleted (%v): "+
			"delete it by hand (soracom users auth-keys delete --user-name %s --auth-key-id %s)", x.p.Current.ID, err, x.p.UserName, x.p.Current.ID))
	}
}
