// Package shape holds the shapes of identifiers the action receives from servers
// (SORACOM, AWS) or inputs and passes on: in outputs, in the log, in later requests.
// One place, so that a value is checked the same way where it enters (an API answer)
// and where it leaves (an output).
package shape

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awsid"
)

var (
	operatorID     = regexp.MustCompile(`^OP[0-9]{1,30}$`)
	credentialID   = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
	credentialType = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	accountID      = regexp.MustCompile(`^[0-9]{12}$`)
	days           = regexp.MustCompile(`^[0-9]{1,6}$`)
	namespace      = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{0,63}$`)
)

// Descriptions of each shape, for errors that say what was expected.
const (
	OperatorIDShape     = "a SORACOM operator id (OP followed by digits)"
	CredentialIDShape   = "a credential set id (1 to 100 letters, digits, '.', '_' or '-')"
	CredentialTypeShape = "a credential set type (letters, digits, '-', '_', '.')"
	AccessKeyIDShape    = "an AWS access key id (AKIA or ASIA, then upper-case letters and digits)"
	AccountIDShape      = "an AWS account id (12 digits)"
	DaysShape           = "a number of days"
	LineShape           = "one line of text without control characters"
	UserNameShape       = "a SAM user name (one line of at most 100 characters, no control characters)"
	NamespaceShape      = "a SORACOM name such as SoracomFunnel or InvokeAWSLambdaAction (letters and digits)"
)

// OperatorID reports whether s is a SORACOM operator id: OP and digits.
func OperatorID(s string) bool { return operatorID.MatchString(s) }

// CredentialID reports whether s is a credential set id.
func CredentialID(s string) bool { return credentialID.MatchString(s) }

// CredentialType reports whether s has the shape of SORACOM's type names
// ("aws-credentials", "x509").
func CredentialType(s string) bool { return credentialType.MatchString(s) }

// AccessKeyID reports whether s has the shape of an AWS access key id. The rule is
// awsid's, the one inputs apply: an id the action may print must be one it would accept.
func AccessKeyID(s string) bool { return awsid.AccessKeyID(s) }

// AccountID reports whether s is an AWS account id.
func AccountID(s string) bool { return accountID.MatchString(s) }

// Namespace reports whether s has the shape of a group configuration namespace
// (SoracomFunnel, SoracomBeam, …) or an event handler action type
// (InvokeAWSLambdaAction): a letter, then letters and digits.
func Namespace(s string) bool { return namespace.MatchString(s) }

// Days reports whether s is a whole number of days.
func Days(s string) bool { return days.MatchString(s) }

// Line reports whether s is one line of valid UTF-8 without control characters.
func Line(s string) bool {
	return utf8.ValidString(s) && strings.IndexFunc(s, unicode.IsControl) < 0
}

// UserName reports whether s may be a SAM user name: empty (the operator's own AuthKey)
// or one line of at most 100 characters.
func UserName(s string) bool { return Line(s) && utf8.RuneCountInString(s) <= 100 }
