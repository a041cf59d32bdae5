package authkeyrotation

import (
	"context"
	"fmt"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/rotation"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
)

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
			if mayLand(err) {
				x.state[w.name], x.pending[w.name] = holdsUnknown, true
			}
		}
		return x.undo(key, "write the secret "+w.name+" ("+x.secrets.Where()+")", err)
	}
	return x.confirm(key)
}

// mayLand reports whether a failed write may have landed, or may still land.
func mayLand(err error) bool {
	o := rotation.OutcomeOf(err)
	return o != rotation.NotSent && o != rotation.Answered
}

// confirm reads both secrets' updated_at back: each must have moved past what it was
// before the run wrote.
func (x *run) confirm(key NewKey) error {
	names := []string{x.p.KeySecret, x.p.IDSecret}
	err := x.ctx.Err()
	if err == nil {
		err = movedPast(x.secrets, x.ctx, names, x.before)
	}
	if err != nil {
		x.state[x.p.KeySecret], x.state[x.p.IDSecret] = holdsUnknown, holdsUnknown
		return x.undo(key, "confirm the writes of the secrets "+x.names(), err)
	}
	return nil
}

// movedPast reads the secrets' updated_at and fails unless each moved past its value in
// before.
func movedPast(s Secrets, ctx context.Context, names []string, before map[string]time.Time) error {
	at, err := s.UpdatedAt(ctx, names)
	if err != nil {
		return err
	}
	for _, name := range names {
		got, ok := at[name]
		switch {
		case !ok:
			return fmt.Errorf("GitHub did not list the secret %s", name)
		case !got.After(before[name]):
			return fmt.Errorf("the updated_at of %s (%s) did not move past %s", name, got.UTC().Format(time.RFC3339), before[name].UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// dropNew deletes the new AuthKey, which no secret holds, and says the state then.
func (x *run) dropNew(key NewKey) string { return x.unchanged() + " " + x.deleteNew(key) }

// deleteNew deletes the new AuthKey, which no secret holds, and says what became of it.
func (x *run) deleteNew(key NewKey) string {
	ctx, cancel := rotation.CleanupContext(x.ctx, x.grace())
	defer cancel()
	err := x.keys.Delete(ctx, key.ID)
	switch {
	case err == nil:
		x.res.NewKeyID = ""
		return fmt.Sprintf("The new AuthKey %s was deleted.", key.ID)
	case mayLand(err):
		return fmt.Sprintf("Deleting the new AuthKey %s, which no secret holds, got no answer (%v): it may be deleted or not; "+
			"if SORACOM still lists it, delete it by hand (%s).", key.ID, err, x.deleteCommand(key.ID))
	}
	return fmt.Sprintf("The new AuthKey %s, which no secret holds, could not be deleted (%v): delete it by hand (%s).",
		key.ID, err, x.deleteCommand(key.ID))
}

// deleteOld deletes the exact AuthKey the run started with, once both secrets hold the
// new one. A failure is a warning: the secrets work either way.
func (x *run) deleteOld() {
	ctx, cancel := rotation.CleanupContext(x.ctx, x.grace())
	defer cancel()
	err := x.keys.Delete(ctx, x.p.Current.ID)
	switch {
	case err == nil:
		return
	case mayLand(err):
		x.res.Warnings = append(x.res.Warnings, fmt.Sprintf("the secrets hold the new AuthKey, but deleting the old AuthKey %s got no answer (%v): "+
			"it may be deleted or still active; if SORACOM still lists it, delete it by hand (%s)", x.p.Current.ID, err, x.deleteCommand(x.p.Current.ID)))
	default:
		x.res.Warnings = append(x.res.Warnings, fmt.Sprintf("the secrets hold the new AuthKey, but the old AuthKey %s could not be deleted (%v): "+
			"delete it by hand (%s)", x.p.Current.ID, err, x.deleteCommand(x.p.Current.ID)))
	}
}
