package inputs

import (
	"net/url"
	"strings"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/ghsecrets"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/shape"
)

// AuthKeyRotation is how the run rotates its own AuthKey (rotate-auth-key).
type AuthKeyRotation struct {
	Enabled bool
	// MaxAge rotates only an AuthKey older than this; zero rotates on every run.
	MaxAge time.Duration
	// GitHubToken writes the secrets; masked when read.
	GitHubToken secret.Secret
	// IDSecret and KeySecret name the secrets that hold the AuthKey id and secret.
	IDSecret, KeySecret string
	Scope               ghsecrets.Scope
	// APIURL is GitHub's REST API (GITHUB_API_URL, or api.github.com).
	APIURL string
}

// authKeyInputs are the inputs that only mean something with rotate-auth-key: true.
var authKeyInputs = []string{AuthKeyMaxAge, GitHubToken, AuthKeyIDSecret, AuthKeySecret, SecretsScope}

// readAuthKeyRotation reads rotate-auth-key and the inputs that go with it. The token
// is masked before anything is checked.
func readAuthKeyRotation(e reader, m secret.Masker, c *Config, p *problems) {
	a := &c.AuthKeyRotation
	a.GitHubToken = secret.Mask(m, strings.TrimSpace(e.raw(GitHubToken)))
	a.Enabled = boolean(RotateAuthKey, e.value(RotateAuthKey), p)
	if !a.Enabled {
		for _, name := range authKeyInputs {
			if e.given(name) {
				p.addf("%s applies to rotate-auth-key: true, which is not set: set %s: true, or remove %s", name, RotateAuthKey, name)
			}
		}
		return
	}
	a.MaxAge = duration(AuthKeyMaxAge, e.value(AuthKeyMaxAge), false, p)
	if a.GitHubToken.IsZero() {
		p.addf("%s is required with %s: true: a fine-grained token with \"Secrets: read and write\" on the repository (or a GitHub App installation token), "+
			"passed from a secret. The job's GITHUB_TOKEN cannot write secrets", GitHubToken, RotateAuthKey)
	}
	a.IDSecret, a.KeySecret = e.value(AuthKeyIDSecret), e.value(AuthKeySecret)
	for _, n := range []struct{ input, v string }{{AuthKeyIDSecret, a.IDSecret}, {AuthKeySecret, a.KeySecret}} {
		if !shape.SecretName(n.v) {
			p.addf("%s %q is not %s", n.input, n.v, shape.SecretNameShape)
		}
	}
	if strings.EqualFold(a.IDSecret, a.KeySecret) {
		p.addf("%s and %s are both %q: the AuthKey id and its secret need a secret each", AuthKeyIDSecret, AuthKeySecret, a.KeySecret)
	}
	scope, err := ghsecrets.ParseScope(e.value(SecretsScope), strings.TrimSpace(e.getenv("GITHUB_REPOSITORY")))
	if err != nil {
		p.addf("%s: %v", SecretsScope, err)
	}
	a.Scope = scope
	a.APIURL = gitHubAPIURL(e.getenv, p)
	if c.AuthKeyID != "" && !shape.AuthKeyID(c.AuthKeyID) {
		p.addf("%s %q is not %s, so it cannot be rotated", AuthKeyID, c.AuthKeyID, shape.AuthKeyIDShape)
	}
}

// gitHubAPIURL is GITHUB_API_URL (GitHub Enterprise Server sets its own), else
// api.github.com, checked as the SORACOM endpoint is: the token goes there.
func gitHubAPIURL(getenv Getenv, p *problems) string {
	v := strings.TrimSpace(getenv("GITHUB_API_URL"))
	if v == "" {
		return ghsecrets.DefaultAPIURL
	}
	before := len(*p)
	checkURL("GITHUB_API_URL", v, p)
	if len(*p) > before {
		return ""
	}
	// The request paths are appended to it: a query or fragment would swallow them, and
	// user info would be a second credential beside the token.
	if u, _ := url.Parse(v); u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || u.User != nil {
		p.addf("GITHUB_API_URL %q must be a plain base URL, without query, fragment or user info (e.g. %s)", u.Scheme+"://"+u.Host, urlExample("GITHUB_API_URL"))
		return ""
	}
	return strings.TrimRight(v, "/")
}
