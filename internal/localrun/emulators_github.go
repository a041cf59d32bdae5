//go:build !noemulator

package localrun

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/ghtest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
)

// DemoGitHubToken is the token the fake GitHub secrets API accepts without being told:
// it opens nothing but the fake.
const DemoGitHubToken = "github_pat_demo_emulator_only"

// demoRepository is the job's repository when none is set.
const demoRepository = "demo-org/demo-app"

// gitHubSide starts the fake GitHub secrets API for rotate-auth-key: the two secrets of
// the scope hold the AuthKey the run uses, and the token given (or the demo one) may
// write them.
func gitHubSide(r *runSetup) (stop func(), notes []string, err error) {
	gh, err := ghtest.New()
	if err != nil {
		return nil, nil, fmt.Errorf("starting the fake GitHub API: %w", err)
	}
	token, ok := r.given(inputs.GitHubToken)
	if !ok {
		token = DemoGitHubToken
		r.vars[inputs.EnvName(inputs.GitHubToken)] = token
	}
	gh.AddToken(token, ghtest.Access{Read: true, Write: true})
	repo := r.getenv("GITHUB_REPOSITORY")
	if repo == "" {
		repo = demoRepository
		r.vars["GITHUB_REPOSITORY"] = repo
	}
	r.vars["GITHUB_API_URL"] = gh.URL
	path := scopePath(r.value(inputs.SecretsScope), repo)
	past := time.Now().Add(-30 * 24 * time.Hour)
	gh.SetSecret(path, r.value(inputs.AuthKeySecret), r.getenv(inputs.EnvName(inputs.AuthKey)), past, "all")
	gh.SetSecret(path, r.value(inputs.AuthKeyIDSecret), r.getenv(inputs.EnvName(inputs.AuthKeyID)), past, "all")
	return gh.Close, []string{"fake GitHub secrets API at " + gh.URL + ": " + r.value(inputs.AuthKeySecret) + " and " +
		r.value(inputs.AuthKeyIDSecret) + " hold the AuthKey in use"}, nil
}

// scopePath is the fake's path of a secrets-scope input for repository owner/name.
func scopePath(scope, repo string) string {
	owner, name, _ := strings.Cut(repo, "/")
	switch {
	case scope == "organization":
		return ghtest.OrgScope(owner)
	case strings.HasPrefix(scope, "environment:"):
		return ghtest.EnvScope(owner, name, url.PathEscape(strings.TrimSpace(strings.TrimPrefix(scope, "environment:"))))
	}
	return ghtest.RepoScope(owner, name)
}
