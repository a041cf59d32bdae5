// Package inputs turns the action's inputs into one validated, typed Config. Every
// problem is reported at once, before any network call, and every secret is masked
// before any problem is reported.
package inputs

import (
	"slices"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/credtypes"
)

// Every input of action.yml, in one place. The runner passes each as INPUT_<NAME> with
// the name upper-cased and hyphens kept.
const (
	CredentialID        = "credential-id"
	CredentialType      = "credential-type"
	Description         = "description"
	AuthKeyID           = "soracom-auth-key-id"
	AuthKey             = "soracom-auth-key"
	CoverageType        = "soracom-coverage-type"
	Endpoint            = "soracom-endpoint"
	AWSAccessKeyID      = "aws-access-key-id"
	AWSSecretAccessKey  = "aws-secret-access-key"
	Credentials         = "credentials"
	CredentialsFile     = "credentials-file"
	IfExists            = "if-exists"
	MaxParallel         = "max-parallel"
	DryRun              = "dry-run"
	RoleToAssume        = "role-to-assume"
	AWSRegion           = "aws-region"
	Audience            = "audience"
	RoleSessionName     = "role-session-name"
	RoleDurationSeconds = "role-duration-seconds"
	IAMUserName         = "iam-user-name"
	OldKey              = "old-key"
	VerifyAWSKey        = "verify-aws-key"
	RotateAfter         = "rotate-after"
	AuditInput          = "audit"
	MaxKeyAge           = "max-key-age"
	UnusedAfter         = "unused-after"
	ExpiryWarning       = "expiry-warning"
	FailOnInput         = "fail-on"
	RotateAuthKey       = "rotate-auth-key"
	AuthKeyMaxAge       = "auth-key-max-age"
	GitHubToken         = "github-token"
	AuthKeyIDSecret     = "auth-key-id-secret"
	AuthKeySecret       = "auth-key-secret"
	SecretsScope        = "secrets-scope"
)

// Spec is one input as action.yml declares it.
type Spec struct {
	Name string
	// Default is action.yml's default ("" when it has none).
	Default string
	// Required is action.yml's required flag: the input is needed in every mode.
	Required bool
	// Secret inputs are masked the moment they are read and never echoed.
	Secret bool
}

// Specs lists every input as action.yml declares it; a test holds the two
// together. Each call returns a fresh copy, so no caller can change the table for another.
func Specs() []Spec { return slices.Clone(specs) }

// specs is the table Specs returns. The runner fills the defaults in; they are applied
// here too so the binary behaves the same when run by hand with only some INPUT_
// variables set.
var specs = []Spec{
	{Name: CredentialID},
	{Name: CredentialType, Default: credtypes.AWSCredentials},
	{Name: Description},
	{Name: AuthKeyID, Required: true},
	{Name: AuthKey, Required: true, Secret: true},
	{Name: CoverageType, Default: "jp"},
	{Name: Endpoint},
	{Name: AWSAccessKeyID},
	{Name: AWSSecretAccessKey, Secret: true},
	{Name: Credentials, Secret: true},
	{Name: CredentialsFile},
	{Name: IfExists, Default: "update"},
	{Name: MaxParallel, Default: "4"},
	{Name: DryRun, Default: "false"},
	{Name: RoleToAssume},
	{Name: AWSRegion, Default: "us-east-1"},
	{Name: Audience, Default: "sts.amazonaws.com"},
	{Name: RoleSessionName, Default: "soracom-credentials-action"},
	{Name: RoleDurationSeconds, Default: "900"},
	{Name: IAMUserName},
	{Name: OldKey, Default: "deactivate"},
	{Name: VerifyAWSKey, Default: "true"},
	{Name: RotateAfter},
	{Name: AuditInput, Default: "false"},
	{Name: MaxKeyAge, Default: "90d"},
	{Name: UnusedAfter, Default: "90d"},
	{Name: ExpiryWarning, Default: "30d"},
	{Name: FailOnInput, Default: "broken"},
	{Name: RotateAuthKey, Default: "false"},
	{Name: AuthKeyMaxAge},
	{Name: GitHubToken, Secret: true},
	{Name: AuthKeyIDSecret, Default: "SORACOM_AUTH_KEY_ID"},
	{Name: AuthKeySecret, Default: "SORACOM_AUTH_KEY"},
	{Name: SecretsScope, Default: "repository"},
}

// defaults indexes the defaults of Specs.
var defaults = func() map[string]string {
	m := make(map[string]string, len(specs))
	for _, s := range specs {
		m[s.Name] = s.Default
	}
	return m
}()

// EnvName is the environment variable the runner sets for an input.
func EnvName(input string) string {
	b := []byte(input)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
		case c == ' ':
			b[i] = '_'
		}
	}
	return "INPUT_" + string(b)
}
