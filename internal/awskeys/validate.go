package awskeys

import (
	"fmt"
	"regexp"
	"time"
)

// The limits STS applies to AssumeRoleWithWebIdentity's parameters. Checking them before
// the call turns STS's terse ValidationError into a message about the input.
const (
	MinRoleDuration = 15 * time.Minute
	MaxRoleDuration = 12 * time.Hour
)

var (
	sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	// arn:<partition>:iam::<account>:role/<path/>name; the partition is aws, aws-cn,
	// aws-us-gov and the like.
	roleARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)
)

// ValidateSessionName checks a role session name the way STS does: 2 to 64 characters
// among letters, digits and _+=,.@-.
func ValidateSessionName(s string) error {
	if !sessionNamePattern.MatchString(s) {
		return fmt.Errorf("role session name %q is not valid: use 2 to 64 characters among letters, digits and _+=,.@-", s)
	}
	return nil
}

// ValidateRoleARN checks that s names an IAM role: arn:aws:iam::123456789012:role/name.
func ValidateRoleARN(s string) error {
	if !roleARNPattern.MatchString(s) {
		return fmt.Errorf("role ARN %q is not valid: expected arn:aws:iam::<12-digit account id>:role/<name>", s)
	}
	return nil
}

// ValidateRoleDuration checks a role session duration against STS's range, 900 to
// 43200 seconds. (The role's own maximum session duration may be lower; STS says so.)
func ValidateRoleDuration(d time.Duration) error {
	if d < MinRoleDuration || d > MaxRoleDuration || d%time.Second != 0 {
		return fmt.Errorf("role duration %d seconds is not valid: use a whole number of seconds from %d to %d",
			int64(d/time.Second), int64(MinRoleDuration/time.Second), int64(MaxRoleDuration/time.Second))
	}
	return nil
}
