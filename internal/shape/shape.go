// Package shape holds the shapes of SORACOM identifiers (operator, credential set,
// type, SAM user, group, event handler, AuthKey), of GitHub's (secret name,
// repository, environment, public key id) and of text the action receives from
// servers or inputs and passes on: in outputs, in the log, in later requests. One
// place, so that a value is checked the same way where it enters (an API answer) and
// where it leaves (an output). AWS identifiers (access key ids, account ids, IAM user
// names) have theirs in awsid.
package shape

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

var (
	operatorID     = regexp.MustCompile(`^OP[0-9]{1,30}$`)
	credentialID   = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
	credentialType = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	days           = regexp.MustCompile(`^[0-9]{1,6}$`)
	namespace      = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{0,63}$`)
	resourceID     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)
	authKeyID      = regexp.MustCompile(`^keyId-[A-Za-z0-9_-]{1,120}$`)
	secretName     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,254}$`)
	ghOwner        = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,98}[A-Za-z0-9])?$`)
	ghRepo         = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
	ghKeyID        = regexp.MustCompile(`^[A-Za-z0-9_=+/-]{1,100}$`)
)

// Descriptions of each shape, for errors that say what was expected.
const (
	OperatorIDShape     = "a SORACOM operator id (OP followed by digits)"
	CredentialIDShape   = "a credential set id (1 to 100 letters, digits, '.', '_' or '-')"
	CredentialTypeShape = "a credential set type (letters, digits, '-', '_', '.')"
	DaysShape           = "a number of days"
	LineShape           = "one line of text without control characters"
	UserNameShape       = "a SAM user name (one line of at most 100 characters, no control characters)"
	NamespaceShape      = "a SORACOM name such as SoracomFunnel or InvokeAWSLambdaAction (letters and digits)"
	GroupIDShape        = "a SORACOM group id (1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit)"
	EventHandlerIDShape = "a SORACOM event handler id (1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit)"
	NameShape           = "a name of one line of at most 200 characters without control characters"
	AuthKeyIDShape      = "a SORACOM AuthKey id (keyId- followed by letters, digits, '_' or '-')"
	SecretNameShape     = "a GitHub secret name (letters, digits and underscores, not starting with a digit or GITHUB_)"
	RepositoryShape     = "a GitHub repository (owner/name)"
	EnvironmentShape    = "a GitHub environment name (one line of 1 to 255 characters)"
)

// OperatorID reports whether s is a SORACOM operator id: OP and digits.
func OperatorID(s string) bool { return operatorID.MatchString(s) }

// CredentialID reports whether s is a credential set id.
func CredentialID(s string) bool { return credentialID.MatchString(s) }

// CredentialType reports whether s has the shape of SORACOM's type names
// ("aws-credentials", "x509").
func CredentialType(s string) bool { return credentialType.MatchString(s) }

// Namespace reports whether s has the shape of a group configuration namespace
// (SoracomFunnel, SoracomBeam, …) or an event handler action type
// (InvokeAWSLambdaAction): a letter, then letters and digits.
func Namespace(s string) bool { return namespace.MatchString(s) }

// GroupID reports whether s may be a SORACOM group id. SORACOM does not document the
// format (its ids are UUIDs); the shape admits any plain id and nothing that could
// change a request path, a log line or a Markdown table.
func GroupID(s string) bool { return resourceID.MatchString(s) }

// EventHandlerID reports whether s may be a SORACOM event handler id (see GroupID).
func EventHandlerID(s string) bool { return resourceID.MatchString(s) }

// Name reports whether s may be the name of a group (its name tag) or an event
// handler: empty, or one line of at most 200 characters. Names are free text; the
// bound keeps a forged one from filling a log line or a table cell.
func Name(s string) bool { return Line(s) && utf8.RuneCountInString(s) <= 200 }

// Days reports whether s is a whole number of days.
func Days(s string) bool { return days.MatchString(s) }

// Line reports whether s is one line of valid UTF-8 without control characters.
func Line(s string) bool {
	return utf8.ValidString(s) && strings.IndexFunc(s, unicode.IsControl) < 0
}

// UserName reports whether s may be a SAM user name: empty (the operator's own AuthKey)
// or one line of at most 100 characters.
func UserName(s string) bool { return Line(s) && utf8.RuneCountInString(s) <= 100 }

// AuthKeyID reports whether s is a SORACOM AuthKey id: keyId- and letters, digits, '_'
// or '-'. Ids from a list or a generate answer go into request paths, the log and the
// auth-key-id output, so nothing else passes.
func AuthKeyID(s string) bool { return authKeyID.MatchString(s) }

// SecretName reports whether s is a name GitHub accepts for an Actions secret: letters,
// digits and underscores, not starting with a digit, and not starting with GITHUB_ (in
// any case; GitHub reserves the prefix).
func SecretName(s string) bool {
	return secretName.MatchString(s) && !strings.HasPrefix(strings.ToUpper(s), "GITHUB_")
}

// Repository reports whether s is owner/name as GITHUB_REPOSITORY spells it.
func Repository(s string) bool {
	owner, name, ok := strings.Cut(s, "/")
	return ok && GitHubOwner(owner) && ghRepo.MatchString(name) && name != "." && name != ".."
}

// GitHubOwner reports whether s is a GitHub user or organization name: letters, digits
// and single hyphens, at most 100 characters (GitHub Enterprise Server allows more
// than github.com's 39).
func GitHubOwner(s string) bool { return ghOwner.MatchString(s) }

// EnvironmentName reports whether s may be a GitHub deployment environment's name: one
// line of 1 to 255 characters (it goes into request paths escaped).
func EnvironmentName(s string) bool {
	n := utf8.RuneCountInString(s)
	return Line(s) && n >= 1 && n <= 255 && strings.TrimSpace(s) == s
}

// PublicKeyID reports whether s may be the id of the public key GitHub encrypts a
// scope's secrets with (digits on github.com and GitHub Enterprise Server): it goes
// back to GitHub in every write's body.
func PublicKeyID(s string) bool { return ghKeyID.MatchString(s) }
