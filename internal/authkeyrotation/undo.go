package authkeyrotation

import (
	"fmt"
	"strings"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/rotation"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
)

// undo returns the secrets to the old AuthKey after a failed write: every secret that
// holds (or may hold) the new value gets the old one back, and then the new AuthKey is
// deleted. When a write-back fails too, both AuthKeys stay active, so whatever each
// secret holds still exists, and the error says which secret holds what and the one
// command that makes them one AuthKey again.
func (x *run) undo(key NewKey, step string, cause error) error {
	if x.state[x.p.KeySecret] == holdsOld && x.state[x.p.IDSecret] == holdsOld {
		// The first write was refused: nothing to write back.
		return &Error{Step: step, Err: cause, State: x.dropNew(key), Next: runAgain}
	}
	ctx, cancel := rotation.CleanupContext(x.ctx, x.grace())
	defer cancel()
	var failed []string
	for _, w := range []struct {
		name  string
		value secret.Secret
	}{{x.p.KeySecret, x.p.Current.Secret}, {x.p.IDSecret, secret.New(x.p.Current.ID)}} {
		if x.state[w.name] == holdsOld {
			continue
		}
		if err := x.secrets.Write(ctx, w.name, w.value); err != nil {
			failed = append(failed, fmt.Sprintf("%s (%v)", w.name, err))
			continue
		}
		x.state[w.name] = holdsOld
	}
	if len(failed) == 0 {
		return &Error{Step: step, Err: cause, Next: runAgain,
			State: "The old values were written back. " + x.dropNew(key)}
	}
	x.res.SecretsHold = ""
	state := fmt.Sprintf("Writing the old values back failed too (%s), so both AuthKeys are kept active (%s, the old one, and %s, the new one): %s.",
		strings.Join(failed, "; "), x.p.Current.ID, key.ID, x.holdings(key))
	return &Error{Step: step, Err: cause, State: state, Next: x.fix(key)}
}

// holdings says what each secret holds.
func (x *run) holdings(key NewKey) string {
	say := func(name string, s secretState, oldV, newV string) string {
		switch s {
		case holdsNew:
			return fmt.Sprintf("%s holds the new %s", name, newV)
		case holdsUnknown:
			return fmt.Sprintf("%s holds either the old or the new %s (a write got no answer)", name, newV)
		}
		return fmt.Sprintf("%s holds the old %s", name, oldV)
	}
	return say(x.p.KeySecret, x.state[x.p.KeySecret], "AuthKey secret", "AuthKey secret") + "; " +
		say(x.p.IDSecret, x.state[x.p.IDSecret], "id "+x.p.Current.ID, "id "+key.ID)
}

// fix is the one step that makes the secrets one AuthKey again. The id is not secret,
// so the command may carry it; the key's secret never appears: the id secret is made to
// match whatever the key's secret holds.
func (x *run) fix(key NewKey) string {
	switch x.state[x.p.KeySecret] {
	case holdsNew:
		return "To fix, run: " + x.secrets.SetCommand(x.p.IDSecret, key.ID) +
			fmt.Sprintf(" (both secrets then hold the new AuthKey; then delete the old AuthKey %s).", x.p.Current.ID)
	case holdsOld:
		return "To fix, run: " + x.secrets.SetCommand(x.p.IDSecret, x.p.Current.ID) +
			fmt.Sprintf(" (both secrets then hold the old AuthKey; then delete the new AuthKey %s).", key.ID)
	}
	return fmt.Sprintf("To fix: which AuthKey secret %s holds is unknown, so store one AuthKey in both secrets by hand "+
		"(generate a new AuthKey for SAM user %s in the SORACOM console, set %s to its secret and %s to its id), then delete %s and %s.",
		x.p.KeySecret, x.p.UserName, x.p.KeySecret, x.p.IDSecret, x.p.Current.ID, key.ID)
}
