package action

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
		return authkeyrotation.NewKey{}, &rotation.OutcomeError{Outcome: soracomOutcome(err), Err: err}
	}
	k.log.Infof("Generated the new AuthKey %s", key.ID)
	return authkeyrotation.NewKey{ID: key.ID, Secret: key.Secret}, nil
}

// Verify authenticates with the new key on every coverage of the run and revokes each
// token at once. A token that could not be revoked is a warning: it expires in three
// minutes. A coverage that refuses the key fails the verification, naming it, so the
// rotation deletes the new key and the secrets keep the old one.
func (k samAuthKeys) Verify(ctx context.Context, key authkeyrotation.NewKey) error {
	for _, v := range k.verifiers {
		on := ""
		if k.several {
			on = " on coverage " + v.coverage
		}
		sess, err := v.client.Auth(ctx, soracom.AuthKey{ID: key.ID, Secret: key.Secret}, soracom.MinTokenLifetime)
		if err != nil {
			if k.several {
				return fmt.Errorf("coverage %s: %w", v.coverage, err)
			}
			return err
		}
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), logoutTimeout)
		if err := sess.Logout(lctx); err != nil {
			k.log.Warningf("could not revoke the token of the new AuthKey's test login%s (it expires within %s): %s", on, soracom.MinTokenLifetime, describe(err))
		}
		cancel()
		k.log.Infof("The new AuthKey %s works%s (authenticated with it, token revoked)", key.ID, on)
	}
	return nil
}

func (k samAuthKeys) Delete(ctx context.Context, id string) error {
	if err := k.sess.DeleteUserAuthKey(ctx, id); err != nil {
		return err
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
}

// Prepare reads the public key first: a token that may not read the secrets fails
// there, before any AuthKey exists.
func (g *gitHubSecrets) Prepare(ctx context.Context, names []string) (map[string]time.Time, error) {
	key, err := g.client.PublicKey(ctx, g.scope)
	if err != nil {
		return nil, tokenRefused(g.scope, err)
	}
	g.key, g.access = key, map[string]*ghsecrets.OrgAccess{}
	out := map[string]time.Time{}
	for _, name := range names {
		meta, err := g.client.Secret(ctx, g.scope, name)
		var apiErr *ghsecrets.APIError
		if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
			return nil, fmt.Errorf("the secret %s does not exist in the %s: the run must authenticate with the AuthKey those secrets hold (set %s and %s, or %s)",
				name, g.scope, inputs.AuthKeySecret, inputs.AuthKeyIDSecret, inputs.SecretsScope)
		}
		if err != nil {
			return nil, err
		}
		if g.access[name], err = g.client.Access(ctx, g.scope, meta); err != nil {
			return nil, err
		}
		out[name] = meta.UpdatedAt
	}
	return out, nil
}

func (g *gitHubSecrets) Write(ctx context.Context, name string, value secret.Secret) error {
	err := g.client.Put(ctx, g.scope, name, value, g.key, g.access[name])
	if err != nil {
		return &rotation.OutcomeError{Outcome: gitHubOutcome(err), Err: err}
	}
	g.log.Infof("Wrote the secret %s (%s)", name, g.scope)
	return nil
}

func (g *gitHubSecrets) UpdatedAt(ctx context.Context, name string) (time.Time, error) {
	meta, err := g.client.Secret(ctx, g.scope, name)
	return meta.UpdatedAt, err
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
	return fmt.Sprintf("give %s %s. The job's GITHUB_TOKEN cannot write secrets: create a fine-grained personal access token "+
		"(or use a GitHub App installation token), store it as a secret and pass it as %s", inputs.GitHubToken, e.scope.Permission(), inputs.GitHubToken)
}

func tokenRefused(scope ghsecrets.Scope, err error) error {
	var apiErr *ghsecrets.APIError
	if errors.As(err, &apiErr) && apiErr.Refused() {
		return &tokenRefusedError{scope: scope, err: err}
	}
	return err
}
