// Package inputs turns the action's inputs into one validated, typed Config. Every
// problem is reported at once, before any network call, and every secret is masked
// before any problem is reported.
package inputs

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
	DryRun              = "dry-run"
	RoleToAssume        = "role-to-assume"
	AWSRegion           = "aws-region"
	Audience            = "audience"
	RoleSessionName     = "role-session-name"
	RoleDurationSeconds = "role-duration-seconds"
	IAMUserName         = "iam-user-name"
	OldKey              = "old-key"
	VerifyAWSKey        = "verify-aws-key"
)

// Defaults are action.yml's defaults. The runner fills them in; they are applied here too
// so the binary behaves the same when run by hand with only some INPUT_ variables set.
var defaults = map[string]string{
	CredentialType:      "aws-credentials",
	CoverageType:        "jp",
	IfExists:            "update",
	DryRun:              "false",
	AWSRegion:           "us-east-1",
	Audience:            "sts.amazonaws.com",
	RoleSessionName:     "soracom-credentials-action",
	RoleDurationSeconds: "900",
	OldKey:              "deactivate",
	VerifyAWSKey:        "true",
}

// Default returns an input's default value ("" when it has none).
func Default(name string) string { return defaults[name] }

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
