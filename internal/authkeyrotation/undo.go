package authkeyrotation

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/rotation"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
)

// undo returns the secrets to the old AuthKey after a failed write: every secret that
// holds (or may hold) the new value gets the old one back, confirmed by its updated_at,
// and then the new AuthKey is deleted. When a write-back fails or is not confirmed, or a
// write of the new value may still land, both AuthKeys stay active, so whatever each
// secret holds still exists, and the error says which secret holds what and the one
// command that makes them one AuthKey again.
func (x *run) undo(key NewKey, step string, cause error) error {
	if x.untouched() {
		// The first write was refused: nothing to write back.
		return &Error{Step: step, Err: cause, State: x.dropNew(key), Next: runAgain}
	}
	ctx, cancel := rotation.CleanupContext(x.ctx, x.grace())
	failed, unconfirmed := x.writeBack(ctx)
	cancel()
	pending := x.pendingNames()
	if len(failed) == 0 && unconfirmed == nil && len(pending) == 0 {
		return &Error{Step: step, Err: cause, Next: runAgain,
			State: "The old values were written back, and their updated_at confirms it. " + x.dropNew(key)}
	}
	var why string
	switch {
	case len(failed) > 0:
		why = fmt.Sprintf("Writing the old values back failed too (%s)", strings.Join(failed, "; "))
	case unconfirmed != nil:
		why = fmt.Sprintf("The old values were written back (GitHub answered success), but the write-back is not confirmed (%v)", unconfirmed)
	default:
		why = "The old values were written back, and their updated_at confirms it"
	}
	if len(pending) > 0 {
		why += fmt.Sprintf("; the write of the new value to %s got no answer and may still land after the write-back", strings.Join(pending, " and "))
	}
	if x.holdsOldOnly() {
		x.res.SecretsHold, x.res.HoldUnconfirmed = x.p.Current.ID, unconfirmed != nil
	} else {
		x.res.SecretsHold = ""
	}
	state := fmt.Sprintf("%s, so both AuthKeys are kept active (%s, the old one, and %s, the new one).\nWhat each secret holds: %s.",
		why, x.p.Current.ID, key.ID, x.holdings(key))
	return &Error{Step: step, Err: cause, State: state, Next: x.fix(key)}
}

// untouched reports whether no write of the new values landed or may land.
func (x *run) untouched() bool {
	return x.state[x.p.KeySecret] == holdsOld && x.state[x.p.IDSecret] == holdsOld && len(x.pendingNames()) == 0
}

// holdsOldOnly reports whether both secrets hold the old values, as far as GitHub's
// answers tell, and no write of the new ones may still land.
func (x *run) holdsOldOnly() bool {
	return x.effective(x.p.KeySecret) == holdsOld && x.effective(x.p.IDSecret) == holdsOld
}

func (x *run) pendingNames() []string {
	var out []string
	for _, name := range []string{x.p.KeySecret, x.p.IDSecret} {
		if x.pending[name] {
			out = append(out, name)
		}
	}
	return out
}

// effective is what a secret holds for certain: unknown while a write may still land.
func (x *run) effective(name string) secretState {
	if x.pending[name] {
		return holdsUnknown
	}
	return x.state[name]
}

// writeBack writes the old value to every secret that holds or may hold the new one,
// and confirms it by updated_at. updated_at has whole seconds, so the write-back waits
// until one has passed since the run's last write, and compares with updated_at read
// just before: a later value can then only come from the write-back (or from a write
// that may still land, which keeps both AuthKeys anyway). It returns the secrets whose
// write-back failed, and why the write-back is not confirmed.
func (x *run) writeBack(ctx context.Context) (failed []string, unconfirmed error) {
	names := x.toWriteBack()
	until := time.Now().Add(x.resolution())
	bctx, bcancel := context.WithDeadline(ctx, until)
	base, baseErr := x.secrets.UpdatedAt(bctx, names)
	bcancel()
	sleepUntil(ctx, until)
	old := map[string]secret.Secret{x.p.KeySecret: x.p.Current.Secret, x.p.IDSecret: secret.New(x.p.Current.ID)}
	for _, name := range names {
		if err := x.secrets.Write(ctx, name, old[name]); err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", name, err))
			if mayLand(err) {
				x.state[name], x.pending[name] = holdsUnknown, true
			}
			continue
		}
		x.state[name] = holdsOld
	}
	switch {
	case len(failed) > 0:
		return failed, nil
	case baseErr != nil:
		return nil, fmt.Errorf("their updated_at could not be read before writing back: %w", baseErr)
	}
	if err := movedPast(x.secrets, ctx, names, base); err != nil {
		return nil, err
	}
	return nil, nil
}

// toWriteBack names the secrets that hold or may hold the new value, key first.
func (x *run) toWriteBack() []string {
	var out []string
	for _, name := range []string{x.p.KeySecret, x.p.IDSecret} {
		if x.state[name] != holdsOld || x.pending[name] {
			out = append(out, name)
		}
	}
	return out
}

// sleepUntil waits until t, or until ctx ends.
func sleepUntil(ctx context.Context, t time.Time) {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}

// holdings says what each secret holds.
func (x *run) holdings(key NewKey) string {
	return x.holds(x.p.KeySecret, "AuthKey secret", "AuthKey secret") + "; " +
		x.holds(x.p.IDSecret, "id "+x.p.Current.ID, "id "+key.ID)
}

func (x *run) holds(name, oldV, newV string) string {
	switch {
	case x.pending[name] && x.state[name] == holdsOld:
		return fmt.Sprintf("%s holds the old %s, unless the unanswered write lands after the write-back (then it holds the new %s)", name, oldV, newV)
	case x.effective(name) == holdsNew:
		return fmt.Sprintf("%s holds the new %s", name, newV)
	case x.effective(name) == holdsUnknown:
		return fmt.Sprintf("%s holds either the old or the new %s", name, newV)
	}
	return fmt.Sprintf("%s holds the old %s", name, oldV)
}

// fix is the one step that makes the secrets one AuthKey again. The id is not secret,
// so the command may carry it; the key's secret never appears: the id secret is made to
// match whatever the key's secret holds.
func (x *run) fix(key NewKey) string {
	keyHolds, idHolds := x.effective(x.p.KeySecret), x.effective(x.p.IDSecret)
	switch {
	case keyHolds == holdsNew:
		return "To fix, run: " + x.secrets.SetCommand(x.p.IDSecret, key.ID) +
			fmt.Sprintf(" (both secrets then hold the new AuthKey; then delete the old AuthKey %s: %s).", x.p.Current.ID, x.deleteCommand(x.p.Current.ID))
	case keyHolds == holdsOld && idHolds == holdsOld:
		return fmt.Sprintf("To fix: both secrets hold the old AuthKey; once a run has authenticated with them, delete the new AuthKey %s: %s.",
			key.ID, x.deleteCommand(key.ID))
	case keyHolds == holdsOld:
		return "To fix, run: " + x.secrets.SetCommand(x.p.IDSecret, x.p.Current.ID) +
			fmt.Sprintf(" (both secrets then hold the old AuthKey; then delete the new AuthKey %s: %s).", key.ID, x.deleteCommand(key.ID))
	case idHolds != holdsUnknown:
		return x.fixByTrying(key, idHolds)
	}
	return fmt.Sprintf("To fix: which AuthKey secret %s holds is unknown, so store one AuthKey in both secrets by hand "+
		"(generate a new AuthKey for SAM user %s in the SORACOM console, set %s to its secret and %s to its id), then delete %s and %s.",
		x.p.KeySecret, x.p.UserName, x.p.KeySecret, x.p.IDSecret, x.p.Current.ID, key.ID)
}

// fixByTrying is the fix when the id secret's value is known and the key secret's is
// not: a run tells which, as it authenticates only when they match.
func (x *run) fixByTrying(key NewKey, idHolds secretState) string {
	same, other := x.p.Current.ID, key.ID
	if idHolds == holdsNew {
		same, other = key.ID, x.p.Current.ID
	}
	return fmt.Sprintf("To fix: %s holds %s. Run the workflow: if it authenticates, %s holds that AuthKey's secret, so delete the other AuthKey %s (%s). "+
		"If it cannot authenticate, %s holds the secret of %s: run %s, then delete %s (%s).",
		x.p.IDSecret, same, x.p.KeySecret, other, x.deleteCommand(other),
		x.p.KeySecret, other, x.secrets.SetCommand(x.p.IDSecret, other), same, x.deleteCommand(same))
}
