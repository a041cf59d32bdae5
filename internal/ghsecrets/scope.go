package ghsecrets

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/shape"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/untrusted"
)

// Kind is where a secret lives.
type Kind string

// The kinds of scope, as the secrets-scope input names them.
const (
	Repository   Kind = "repository"
	Environment  Kind = "environment"
	Organization Kind = "organization"
)

// Scope is one place secrets live: a repository, one of its deployment environments,
// or an organization (the repository's owner).
type Scope struct {
	Kind Kind
	// Owner and Repo are the job's repository (GITHUB_REPOSITORY); for an
	// organization scope, Owner is the organization.
	Owner, Repo string
	// Environment is the environment's name (Environment scope only).
	Environment string
}

// ScopeForms lists what ParseScope accepts, for errors.
const ScopeForms = "repository, environment:NAME or organization"

// ParseScope reads the secrets-scope input ("repository", "environment:NAME" or
// "organization") for the repository owner/name (GITHUB_REPOSITORY).
func ParseScope(v, repository string) (Scope, error) {
	owner, repo, _ := strings.Cut(repository, "/")
	s := Scope{Owner: owner, Repo: repo}
	kind, env, hasEnv := strings.Cut(v, ":")
	switch {
	case v == string(Repository):
		s.Kind = Repository
	case v == string(Organization):
		s.Kind = Organization
	case kind == string(Environment) && hasEnv:
		s.Kind, s.Environment = Environment, strings.TrimSpace(env)
		if !shape.EnvironmentName(s.Environment) {
			return Scope{}, fmt.Errorf("%q names no environment: write environment:NAME with the environment's name (%s)", v, shape.EnvironmentShape)
		}
	default:
		return Scope{}, fmt.Errorf("%q is not a scope: use %s", v, ScopeForms)
	}
	if !shape.Repository(repository) {
		return Scope{}, fmt.Errorf("GITHUB_REPOSITORY %q is not %s: the %s scope is the job's repository or its owner, so it must be set as the runner sets it",
			repository, shape.RepositoryShape, s.Kind)
	}
	return s, nil
}

// String names the scope for people: "repository octo/app", "environment prod of
// octo/app", "organization octo".
func (s Scope) String() string {
	switch s.Kind {
	case Environment:
		return fmt.Sprintf("environment %s of %s/%s", s.Environment, s.Owner, s.Repo)
	case Organization:
		return "organization " + s.Owner
	}
	return fmt.Sprintf("repository %s/%s", s.Owner, s.Repo)
}

// path is the API path of the scope's secrets.
func (s Scope) path() string {
	repo := "/repos/" + url.PathEscape(s.Owner) + "/" + url.PathEscape(s.Repo)
	switch s.Kind {
	case Environment:
		return repo + "/environments/" + url.PathEscape(s.Environment) + "/secrets"
	case Organization:
		return "/orgs/" + url.PathEscape(s.Owner) + "/actions/secrets"
	}
	return repo + "/actions/secrets"
}

// operation is GitHub's name of an operation on the scope's secrets ("list",
// "public-key", "create-or-update", "list-selected-repos"), for errors.
func (s Scope) operation(what string) string {
	kind := map[Kind]string{Repository: "repo", Environment: "environment", Organization: "org"}[s.Kind]
	switch what {
	case "public-key":
		return "actions/get-" + kind + "-public-key"
	case "list-selected-repos":
		return "actions/list-selected-repos-for-org-secret"
	case "list":
		return "actions/list-" + kind + "-secrets"
	}
	return "actions/" + what + "-" + kind + "-secret"
}

// Permission names what a token needs to read and write the scope's secrets: the
// fine-grained permission, and the classic scope.
func (s Scope) Permission() string {
	switch s.Kind {
	case Environment:
		return `the repository permission "Environments: read and write" (fine-grained token or GitHub App), or the classic scope repo`
	case Organization:
		return `the organization permission "Secrets: read and write" (fine-grained token or GitHub App), or the classic scope admin:org`
	}
	return `the repository permission "Secrets: read and write" (fine-grained token or GitHub App), or the classic scope repo`
}

// SetCommand is the gh command that stores value in the secret name of the scope. Only
// for values that may be printed (an AuthKey id); an organization secret keeps its
// visibility, which gh would otherwise reset.
func (s Scope) SetCommand(name, value string, access *OrgAccess) string {
	cmd := "gh secret set " + name + " --body " + value
	switch s.Kind {
	case Environment:
		return cmd + " --repo " + s.Owner + "/" + s.Repo + " --env " + untrusted.ShellWord(s.Environment)
	case Organization:
		cmd += " --org " + s.Owner
		if access != nil && access.Visibility != "" {
			cmd += " --visibility " + access.Visibility
		}
		if access != nil && access.Visibility == VisibilitySelected && len(access.SelectedRepositoryNames) > 0 {
			cmd += " --repos " + strings.Join(access.SelectedRepositoryNames, ",")
		}
		return cmd
	}
	return cmd + " --repo " + s.Owner + "/" + s.Repo
}
