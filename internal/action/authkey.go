package action

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/authkeyrotation"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/ghsecrets"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracom"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/untrusted"
)

// heldSession is the SORACOM session a run keeps open past its mode when it rotates its
// AuthKey: the rotation lists, generates and deletes the user's keys with it, and only
// then is its token revoked.
//
// With coverage both the AuthKey is still one key of one SAM user: SAM is the
// operator's, and the operator is the same on both coverages (the run refuses
// endpoints whose AuthKey belongs to two). So the key is rotated once, through the
// first coverage's session (jp), and the new key is proved on every coverage of the
// run before any secret is written: a key that one endpoint refuses is deleted and the
// secrets keep the old one.
type heldSession struct {
	sess   *soracom.Session
	logout func()
	// verifiers are every coverage's client, the first one's included, in run order.
	verifiers []coverageClient
}

// coverageClient is the client of one coverage, for proving the new AuthKey there.
type coverageClient struct {
	coverage string
	client   *soracom.Client
}

// hold keeps a coverage's session open for the AuthKey rotation: the first one rotates,
// every one proves the new key, and all are revoked at the end.
func (r *run) hold(coverage string, sess *soracom.Session, client *soracom.Client, logout func()) {
	if r.held == nil {
		r.held = &heldSession{sess: sess, logout: logout}
	} else {
		before := r.held.logout
		r.held.logout = func() { before(); logout() }
	}
	r.held.verifiers = append(r.held.verifiers, coverageClient{coverage: coverage, client: client})
}

// authKeyTokenLifetime is what the held session's token must outlive beyond the mode's:
// the rotation's SORACOM and GitHub calls, each up to its deadline.
func authKeyTokenLifetime(r soracom.Retry) time.Duration { return 10 * r.Deadline }

// afterMode rotates the AuthKey once the mode succeeded, then revokes the held token.
func (r *run) afterMode(ctx context.Context, rep *Report, err error) (*Report, error) {
	if r.held == nil {
		return rep, err
	}
	defer r.held.logout()
	if err != nil || rep == nil || rep.failsRun() {
		r.log.Infof("The AuthKey was not rotated: the run did not succeed")
		return rep, err
	}
	return rep, r.rotateAuthKey(ctx, rep)
}

// rotateAuthKey rotates the run's own AuthKey and writes it to the GitHub secrets (see
// internal/authkeyrotation).
func (r *run) rotateAuthKey(ctx context.Context, rep *Report) error {
	cfg := r.cfg.AuthKeyRotation
	opts := []ghsecrets.Option{ghsecrets.WithRetry(r.env.Retry), ghsecrets.WithClock(r.env.Now),
		ghsecrets.WithRetryNotify(func(op string, err error, wait time.Duration) {
			r.log.Infof("GitHub %s failed (%s); retrying in %s", op, untrusted.Text(err.Error()), wait.Round(time.Millisecond))
		})}
	if r.env.HTTPClient != nil {
		opts = append(opts, ghsecrets.WithHTTPClient(r.env.HTTPClient))
	}
	secrets := &gitHubSecrets{log: r.log, client: ghsecrets.New(cfg.APIURL, cfg.GitHubToken, r.log, opts...), scope: cfg.Scope, written: map[string]bool{}}
	keys := samAuthKeys{log: r.log, sess: r.held.sess, verifiers: r.held.verifiers, several: len(r.cfg.Coverages) > 1}
	plan := authkeyrotation.Plan{
		Current:   authkeyrotation.NewKey{ID: r.cfg.AuthKeyID, Secret: r.cfg.AuthKey},
		KeySecret: cfg.KeySecret, IDSecret: cfg.IDSecret, MaxAge: cfg.MaxAge,
		Now: r.env.Now(), DryRun: r.cfg.DryRun, UserName: r.held.sess.UserName,
	}
	r.log.Infof("Rotating the AuthKey %s of SAM user %s (secrets %s and %s, %s)", r.cfg.AuthKeyID, untrusted.Text(plan.UserName), cfg.KeySecret, cfg.IDSecret, cfg.Scope)
	res, err := authkeyrotation.Run(ctx, keys, secrets, plan, authkeyrotation.Options{Grace: r.env.Grace})
	rep.AuthKey = &res
	for _, w := range res.Warnings {
		r.log.Warningf("%s", w)
	}
	switch res.Outcome {
	case authkeyrotation.Rotated:
		r.log.Infof("AuthKey rotated: the secrets %s and %s hold the AuthKey %s", cfg.KeySecret, cfg.IDSecret, res.SecretsHold)
	case authkeyrotation.StoodBack:
		r.log.Warningf("The AuthKey was not rotated: %s", res.Reason)
	case authkeyrotation.NotDue, authkeyrotation.DryRun:
		r.log.Infof("The AuthKey was not rotated: %s", res.Reason)
	}
	return err
}

// authKeyOutputs are the outputs of the AuthKey rotation.
func (r *run) authKeyOutputs(rep *Report) map[string]string {
	out := map[string]string{}
	if !r.cfg.AuthKeyRotation.Enabled {
		return out
	}
	out["auth-key-rotated"] = "false"
	if rep == nil || rep.AuthKey == nil {
		return out
	}
	res := rep.AuthKey
	if res.Outcome == authkeyrotation.Rotated {
		out["auth-key-rotated"] = "true"
	}
	out["auth-key-id"] = res.SecretsHold
	if !res.NextRotation.IsZero() {
		out["auth-key-next-rotation"] = res.NextRotation.UTC().Format(time.RFC3339)
	}
	return out
}

// publishAuthKey writes the AuthKey outputs and its line of the summary.
func (r *run) publishAuthKey(rep *Report) error {
	if !r.cfg.AuthKeyRotation.Enabled {
		return nil
	}
	out := r.authKeyOutputs(rep)
	for _, name := range []string{"auth-key-rotated", "auth-key-id", "auth-key-next-rotation"} {
		if v := out[name]; v != "" {
			if err := r.files.SetOutput(name, v); err != nil {
				return err
			}
		}
	}
	if rep == nil || rep.AuthKey == nil {
		return nil
	}
	return r.files.AddSummary(r.authKeySummary(rep.AuthKey))
}

func (r *run) authKeySummary(res *authkeyrotation.Result) string {
	failed := res.Outcome == authkeyrotation.Failed
	var b strings.Builder
	b.WriteString("\n**AuthKey**: ")
	switch {
	case res.Outcome == authkeyrotation.Rotated:
		fmt.Fprintf(&b, "rotated %s → %s", r.log.Code(r.cfg.AuthKeyID), r.log.Code(res.SecretsHold))
	case failed && res.SecretsHold == "":
		b.WriteString("**rotation incomplete**: both AuthKeys are kept; the error says which secret holds what")
	case failed && res.HoldUnconfirmed:
		fmt.Fprintf(&b, "**rotation failed**; the secrets should hold %s again (GitHub answered the write-back with success; their updated_at did not confirm it)",
			r.log.Code(res.SecretsHold))
	case failed:
		fmt.Fprintf(&b, "**rotation failed**; the secrets hold %s", r.log.Code(res.SecretsHold))
	default:
		fmt.Fprintf(&b, "not rotated (%s)", r.log.Markdown(string(res.Outcome)))
	}
	if !res.NextRotation.IsZero() {
		fmt.Fprintf(&b, " · next rotation %s", res.NextRotation.UTC().Format(time.RFC3339))
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(&b, "\n\n> [!WARNING]\n%s", r.log.MarkdownBlock(w, "> "))
	}
	b.WriteString("\n")
	return b.String()
}
