// Package awsid knows the formats of the AWS identifiers the action handles (access key
// ids, account ids, IAM role ARNs, user and session names, regions) and STS's
// role-session limits. Each format is written here once; the inputs, the credential
// types, the redaction, the outputs and the checks of what STS and IAM answer all ask
// it. Checking a format before a call turns AWS's terse ValidationError into a message
// about the input, a value that is not even shaped right is never sent, and one that
// came from a server is never printed or passed on.
package awsid

import (
	"regexp"
	"strings"
	"time"
)

// STS's range for a role session's duration (AssumeRoleWithWebIdentity's
// DurationSeconds). The role's own maximum may be lower; STS says so.
const (
	MinRoleDuration = 15 * time.Minute
	MaxRoleDuration = 12 * time.Hour
)

// RoleARNExample is what a role ARN looks like, for messages.
const RoleARNExample = "arn:aws:iam::123456789012:role/name"

// maxARNLength is IAM's limit for a role ARN. Lengths are checked apart from the
// patterns: a counted repetition like {1,2048} compiles into thousands of states.
const maxARNLength = 2048

var (
	// accessKeyIDPattern: AKIA (long-term) or ASIA (temporary) and 16 upper-case
	// letters and digits. IAM's API reference allows 16 to 128 characters, but every
	// key AWS issues has 20; a longer "key id" from a server is a forgery, not a key.
	accessKeyIDPattern = regexp.MustCompile(`^A[KS]IA[A-Z0-9]{16}$`)
	accountIDPattern   = regexp.MustCompile(`^[0-9]{12}$`)
	// roleARNPattern: any partition (aws, aws-cn, aws-us-gov, aws-iso…), a 12-digit
	// account, an optional path, a role name of at most 64 characters.
	roleARNPattern     = regexp.MustCompile(`^arn:aws[a-z0-9-]*:iam::[0-9]{12}:role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}$`)
	sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	userNamePattern    = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	regionPattern      = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$`)
)

// Descriptions of the formats, for messages that say what was expected.
const (
	AccessKeyIDFormat = "an AWS access key id (AKIA or ASIA, then 16 upper-case letters and digits)"
	AccountIDFormat   = "an AWS account id (12 digits)"
	UserNameFormat    = "an IAM user name (1 to 64 letters, digits and _+=,.@-)"
)

// AccessKeyID reports whether s is shaped like an AWS access key id (AKIA… or ASIA…).
func AccessKeyID(s string) bool { return accessKeyIDPattern.MatchString(s) }

// AccountID reports whether s is an AWS account id: 12 digits.
func AccountID(s string) bool { return accountIDPattern.MatchString(s) }

// TemporaryAccessKeyID reports whether s is the id of a temporary key from STS, which
// works only with its session token.
func TemporaryAccessKeyID(s string) bool { return strings.HasPrefix(s, "ASIA") && AccessKeyID(s) }

// SecretAccessKeyLength is the length of every AWS secret access key.
const SecretAccessKeyLength = 40

// MinSecretAccessKeyLength is the shortest value accepted as a secret access key. A
// shorter one is certainly not a key (cut short when copied, or another value): it is
// refused before anything is sent, and so a value of a few letters never becomes a
// mask that blanks out parts of ordinary words in the log. Wrong values of a plausible
// length are for STS to refuse (verify-aws-key).
const MinSecretAccessKeyLength = 16

// RoleARN reports whether s is an IAM role ARN.
func RoleARN(s string) bool { return len(s) <= maxARNLength && roleARNPattern.MatchString(s) }

// SessionName reports whether s is a role session name STS accepts: 2 to 64 characters
// among letters, digits and _+=,.@-.
func SessionName(s string) bool { return sessionNamePattern.MatchString(s) }

// UserName reports whether s is an IAM user name: 1 to 64 characters among letters,
// digits and _+=,.@-.
func UserName(s string) bool { return userNamePattern.MatchString(s) }

// Region reports whether s is shaped like an AWS region (us-east-1, ap-northeast-1).
func Region(s string) bool { return regionPattern.MatchString(s) }

// RoleDuration reports whether d is a role session duration STS grants: whole seconds
// from MinRoleDuration to MaxRoleDuration.
func RoleDuration(d time.Duration) bool {
	return d >= MinRoleDuration && d <= MaxRoleDuration && d%time.Second == 0
}
