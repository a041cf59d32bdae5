package credtypes

import (
	"strconv"
	"strings"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awsid"
)

// checkAWSKey refuses what SORACOM would store but AWS would reject later, when a
// device first uses the credential set: a malformed key id, temporary STS keys, which
// need a session token aws-credentials has no field for, and a secret key too short to
// be one.
func checkAWSKey(p *parser) {
	id, haveID := p.values["accessKeyId"]
	key, haveKey := p.values["secretAccessKey"]
	if haveID {
		switch {
		case awsid.TemporaryAccessKeyID(id):
			p.fail("accessKeyId", "field `accessKeyId` for type aws-credentials holds a temporary STS access key (ASIA…): "+
				"aws-credentials has no field for the session token it needs, so SORACOM could not use it; "+
				"register a long-term IAM user key (AKIA…), or let SORACOM assume a role with type aws-iam-role-credentials")
		case !awsid.AccessKeyID(id):
			msg := "field `accessKeyId` for type aws-credentials is not an AWS access key id (AKIA followed by upper-case letters and digits, 20 characters)"
			switch {
			case haveKey && awsid.AccessKeyID(key):
				msg += "; it looks swapped with `secretAccessKey`"
			case strings.ContainsFunc(id, isSpace):
				msg += "; it contains whitespace (check for a stray space or newline when it was copied)"
			}
			p.fail("accessKeyId", "%s", msg)
		}
	}
	switch {
	case !haveKey:
	case strings.ContainsFunc(key, isSpace):
		p.fail("secretAccessKey", "field `secretAccessKey` for type aws-credentials contains whitespace; an AWS secret access key has none (check for a stray space or newline when it was copied)")
	case len(key) < awsid.MinSecretAccessKeyLength:
		p.fail("secretAccessKey", "field `secretAccessKey` for type aws-credentials is only %s long; an AWS secret access key has %d (check that it was copied whole)", characters(len(key)), awsid.SecretAccessKeyLength)
	}
}

func isSpace(r rune) bool { return strings.ContainsRune(" \t\r\n\v\f", r) }

// checkRoleARN refuses a role ARN SORACOM could never assume, with a hint for the ARNs
// people paste by mistake (the session's assumed-role ARN, a user's ARN).
func checkRoleARN(p *parser) {
	arn, ok := p.values["roleArn"]
	if !ok || awsid.RoleARN(arn) {
		return
	}
	// An ARN is public, so it may be quoted; anything else could be a secret pasted
	// into the wrong field, so it is not.
	shown := ""
	if strings.HasPrefix(arn, "arn:") && !strings.ContainsFunc(arn, isSpace) {
		shown = " `" + arn + "`"
	}
	hint := ""
	parts := strings.SplitN(arn, ":", 6)
	switch {
	case len(parts) == 6 && parts[2] == "sts":
		hint = "; an sts assumed-role ARN names a session, give the role's own IAM ARN"
	case len(parts) == 6 && parts[2] == "iam" && !strings.HasPrefix(parts[5], "role/"):
		hint = "; it names an IAM resource that is not a role"
	case len(parts) == 6 && parts[2] == "iam" && !awsid.AccountID(parts[4]):
		hint = "; the account id must be 12 digits"
	case strings.ContainsFunc(arn, isSpace):
		hint = "; it contains whitespace"
	}
	p.fail("roleArn", "field `roleArn`%s for type aws-iam-role-credentials is not an IAM role ARN "+
		"(arn:<partition>:iam::<12-digit account id>:role/<optional path/><name>)%s", shown, hint)
}

// characters reads "1 character", "2 characters".
func characters(n int) string {
	if n == 1 {
		return "1 character"
	}
	return strconv.Itoa(n) + " characters"
}
