package action

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/authkeyrotation"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/ghsecrets"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/rotation"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracom"
)

// samAuthKeys is the SAM user's AuthKeys as the AuthKey rotation sees them.
type samAuthKeys struct {
	log  *Log
	sess *soracom.Session
	// verifiers are the clients of every coverage of the run: the new key must work on
	// each before a secret holds it.
	verifiers []coverageClient
	several   bool // the run is on several coverages: name each in the log
}

func (k samAuthKeys) List(ctx context.Context) ([]authkeyrotation.Key, error) {
	list, err := k.sess.ListUserAuthKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]authkeyrotation.Key, len(list))
	for i, key := range list {
		out[i] = authkeyrotation.Key{ID: key.ID, Created: key.Created}
	}
	return out, nil
}

func (k samAuthKeys) Generate(ctx context.Context) (authkeyrotation.NewKey, error) {
	key, err := k.sess.GenerateUserAuthKey(ctx)
	if err != nil {
		outcome := soracomOutcome(err)
		if soracom.WriteInDoubt(err) {
			// An answer is not enough here: a success whose body could not be read, or
			// a refusal after an attempt whose answer was lost, may hide a key SORACOM
			// created. The rotation says so rather than "nothing changed".
			outcome = rotation.InDoubt
		}
		return authkeyrotation.NewKey{}, &rotation.OutcomeError{Outcome: outcome, Err: err}
	}
	k.log.Infof("Generated the new AuthKey %s", key.ID)
	return authkeyrotation.NewKey{ID: key.ID, Secret: key.Secret}, nil
}

// Verify authenticates with the new key on every coverage of the run, all at once, and
// revokes each token as soon as it is got. A coverage that refuses the key fails the
// verification, naming it, so the rotation deletes the new key and the secrets keep the
// old one. The rotation gives ctx the grace period on cancellation: each login then
// runs to its end and its token is revoked, rather than left valid. A token that could
// not be revoked is a warning: it expires in three minutes.
func (k samAuthKeys) Verify(ctx context.Context, key authkeyrotation.NewKey) error {
	errs := make([]error, len(k.verifiers))
	revoked := make([]bool, len(k.verifiers))
	var wg sync.WaitGroup
	for i, v := range k.verifiers {
		wg.Go(func() { revoked[i], errs[i] = k.verifyOn(ctx, v, key) })
	}
	wg.Wait()
	// The log reads in run order, whichever coverage answered first.
	for i, v := range k.verifiers {
		switch {
		case errs[i] != nil:
		case revoked[i]:
			k.log.Infof("The new AuthKey %s works%s (authenticated with it, token revoked)", key.ID, k.on(v))
		default:
			k.log.Infof("The new AuthKey %s works%s (authenticated with it)", key.ID, k.on(v))
		}
	}
	for i, v := range k.verifiers {
		if errs[i] != nil && k.several {
			return fmt.Errorf("coverage %s: %w", v.coverage, errs[i])
		}
		if errs[i] != nil {
			return errs[i]
		}
	}
	return nil
}

// verifyOn authenticates with key on one coverage and revokes the token it got, whether
// or not ctx has ended since (the logout has its own bound).
func (k samAuthKeys) verifyOn(ctx context.Context, v coverageClient, key authkeyrotation.NewKey) (revoked bool, err error) {
	sess, err := v.client.Auth(ctx, soracom.AuthKey{ID: key.ID, Secret: key.Secret}, soracom.MinTokenLifetime)
	if err != nil {
		return false, err
	}
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), logoutTimeout)
	defer cancel()
	if err := sess.Logout(lctx); err != nil {
		k.log.Warningf("could not revoke the token of the new AuthKey's test login%s (it expires within %s): %s", k.on(v), soracom.MinTokenLifetime, describe(err))
		return false, nil
	}
	return true, nil
}

// on names the coverage in the log when the run has several.
func (k samAuthKeys) on(v coverageClient) string {
	if k.several {
		return " on coverage " + v.coverage
	}
	return ""
}

func (k samAuthKeys) Delete(ctx context.Context, id string) error {
	if err := k.sess.DeleteUserAuthKey(ctx, id); err != nil {
		return &rotation.OutcomeError{Outcome: soracomOutcome(err), Err: err}
	}
	k.log.Infof("Deleted the AuthKey %s", id)
	return nil
}

// gitHubSecrets is the two secrets as the AuthKey rotation sees them.
type gitHubSecrets struct {
	log    *Log
	client *ghsecrets.Client
	scope  ghsecrets.Scope
	key    ghsecrets.PublicKey
	access map[string]*ghsecrets.OrgAccess
	// written notes the secrets written so far.
	written map[string]bool
}

// Prepare reads the public key and the secrets' metadata at once (two requests, one
// round trip): a token that may not read the secrets fails there, before any AuthKey
// exists. An organization secret with selected visibility also has its repositories
// read, so that writing it keeps them.
func (g *gitHubSecrets) Prepare(ctx context.Context, names []string) (map[string]time.Time, error) {
	var wg sync.WaitGroup
	var key ghsecrets.PublicKey
	var keyErr error
	wg.Go(func() { key, keyErr = g.client.PublicKey(ctx, g.scope) })
	metas, listErr := g.client.Secrets(ctx, g.scope, names)
	wg.Wait()
	switch {
	case keyErr != nil:
		return nil, tokenRefused(g.scope, keyErr)
	case listErr != nil:
		return nil, tokenRefused(g.scope, listErr)
	}
	g.key, g.access = key, map[string]*ghsecrets.OrgAccess{}
	out := map[string]time.Time{}
	for _, name := range names {
		meta, ok := metas[name]
		if !ok {
			return nil, fmt.Errorf("the secret %s does not exist in the %s: the run must authenticate with the AuthKey those secrets hold (set %s and %s, or %s)",
				name, g.scope, inputs.AuthKeySecret, inputs.AuthKeyIDSecret, inputs.SecretsScope)
		}
		var err error
		if g.access[name], err = g.client.Access(ctx, g.scope, meta); err != nil {
			return nil, tokenRefused(g.scope, err) // a token that may not read them gets the same hint
		}
		out[name] = meta.UpdatedAt
	}
	return out, nil
}

// Write stores value in the secret name. The rotation writes a secret again only to
// put the old value back, which the log says.
func (g *gitHubSecrets) Write(ctx context.Context, name string, value secret.Secret) error {
	again := g.written[name]
	g.written[name] = true
	err := g.client.Put(ctx, g.scope, name, value, g.key, g.access[name])
	if err != nil {
		return &rotation.OutcomeError{Outcome: gitHubOutcome(err), Err: err}
	}
	if again {
		g.log.Infof("Wrote the old value back to the secret %s (%s)", name, g.scope)
	} else {
		g.log.Infof("Wrote the secret %s (%s)", name, g.scope)
	}
	return nil
}

// UpdatedAt reads the secrets' updated_at from the scope's list: one request for both.
func (g *gitHubSecrets) UpdatedAt(ctx context.Context, names []string) (map[string]time.Time, error) {
	metas, err := g.client.Secrets(ctx, g.scope, names)
	if err != nil {
		return nil, err
	}
	out := map[string]time.Time{}
	for name, meta := range metas {
		out[name] = meta.UpdatedAt
	}
	return out, nil
}

func (g *gitHubSecrets) SetCommand(name, value string) string {
	return g.scope.SetCommand(name, value, g.access[name])
}

func (g *gitHubSecrets) Where() string { return g.scope.String() }

// gitHubOutcome tells whether a failed write may still land.
func gitHubOutcome(err error) rotation.Outcome {
	var netErr *ghsecrets.NetworkError
	if errors.As(err, &netErr) && !netErr.InDoubt {
		return rotation.NotSent
	}
	if ghsecrets.WriteInDoubt(err) {
		return rotation.InDoubt
	}
	var apiErr *ghsecrets.APIError
	if errors.As(err, &apiErr) {
		return rotation.Answered
	}
	return rotation.NotSent // refused before sending (no visibility, sealing)
}

// tokenRefusedError is github-token refused on the public key: the permission it needs,
// and that the job's GITHUB_TOKEN cannot do it.
type tokenRefusedError struct {
	scope ghsecrets.Scope
	err   error
}

func (e *tokenRefusedError) Error() string {
	return fmt.Sprintf("%s may not read the secrets of the %s: %v", inputs.GitHubToken, e.scope, e.err)
}

func (e *tokenRefusedError) Unwrap() error { return e.err }

func (e *tokenRefusedError) Hint() string {
	h := fmt.Sprintf("give %s %s. The job's GITHUB_TOKEN cannot write secrets: create a fine-grained personal access token "+
		"(or use a GitHub App installation token), store it as a secret and pass it as %s", inputs.GitHubToken, e.scope.Permission(), inputs.GitHubToken)
	var apiErr *ghsecrets.APIError
	if e.scope.Kind == ghsecrets.Environment && errors.As(e.err, &apiErr) && apiErr.Status == http.StatusNotFound {
		h += fmt.Sprintf(". GitHub also answers 404 when the repository has no environment %q: check %s", e.scope.Environment, inputs.SecretsScope)
	}
	return h
}

func tokenRefused(scope ghsecrets.Scope, err error) error {
	var apiErr *ghsecrets.APIError
	if errors.As(err, &apiErr) && apiErr.Refused() {
		return &tokenRefusedError{scope: scope, err: err}
	}
	return err
}
