package awsid

import (
	"strings"
	"testing"
	"time"
)

func TestShapes(t *testing.T) {
	tests := []struct {
		name  string
		check func(string) bool
		value string
		want  bool
	}{
		{"a long-term key id is an access key id", AccessKeyID, "AKIAIOSFODNN7EXAMPLE", true},
		{"a temporary key id is an access key id", AccessKeyID, "ASIAIOSFODNN7EXAMPLE", true},
		{"a lower-case key id is not", AccessKeyID, "akiaiosfodnn7example", false},
		{"a user id (AIDA) is not an access key id", AccessKeyID, "AIDAIOSFODNN7EXAMPLE", false},
		{"a key id with a space is not", AccessKeyID, "AKIAIOSFODNN7EXAMPL ", false},
		{"a key id of 19 characters is not", AccessKeyID, "AKIAIOSFODNN7EXAMPL", false},
		{"a key id of 21 characters is not", AccessKeyID, "AKIAIOSFODNN7EXAMPLEX", false},
		{"a key id with a command after a line break is not", AccessKeyID, "AKIAIOSFODNN7EXAMPLE\n::error::x", false},
		{"12 digits are an account id", AccountID, "123456789012", true},
		{"11 digits are not an account id", AccountID, "12345678901", false},
		{"an empty account id is not one", AccountID, "", false},
		{"an account id with markup is not one", AccountID, "12345 [x](http://e.test)", false},
		{"an IAM user name of 64 characters", UserName, strings.Repeat("u", 64), true},
		{"an IAM user name of 65 characters is too long", UserName, strings.Repeat("u", 65), false},
		{"an IAM user name with a line break is not", UserName, "ci\n::error::x", false},
		{"ASIA is temporary", TemporaryAccessKeyID, "ASIAIOSFODNN7EXAMPLE", true},
		{"AKIA is not temporary", TemporaryAccessKeyID, "AKIAIOSFODNN7EXAMPLE", false},
		{"a plain role ARN", RoleARN, "arn:aws:iam::123456789012:role/rotator", true},
		{"a role ARN with a path", RoleARN, "arn:aws:iam::123456789012:role/ci/rotator", true},
		{"a GovCloud role ARN", RoleARN, "arn:aws-us-gov:iam::123456789012:role/r", true},
		{"a China role ARN", RoleARN, "arn:aws-cn:iam::123456789012:role/path/rotator", true},
		{"a user ARN is not a role", RoleARN, "arn:aws:iam::123456789012:user/bob", false},
		{"an account id must have 12 digits", RoleARN, "arn:aws:iam::1234:role/r", false},
		{"an assumed-role ARN is not a role ARN", RoleARN, "arn:aws:sts::123456789012:assumed-role/r/s", false},
		{"a role name of 65 characters is too long", RoleARN, "arn:aws:iam::123456789012:role/" + strings.Repeat("r", 65), false},
		{"an ARN over 2048 characters is too long", RoleARN, "arn:aws:iam::123456789012:role/" + strings.Repeat("p/", 1010) + "r", false},
		{"a role name alone is not an ARN", RoleARN, "rotator", false},
		{"a session name of letters, digits and _+=,.@-", SessionName, "gh_run-1.2@x=y,z+w", true},
		{"a one-character session name is too short", SessionName, "a", false},
		{"a 64-character session name is the longest", SessionName, strings.Repeat("a", 64), true},
		{"a 65-character session name is too long", SessionName, strings.Repeat("a", 65), false},
		{"a session name with a space", SessionName, "a b", false},
		{"a one-character user name", UserName, "u", true},
		{"a user name with a slash", UserName, "ci/u", false},
		{"us-east-1 is a region", Region, "us-east-1", true},
		{"us-gov-west-1 is a region", Region, "us-gov-west-1", true},
		{"Tokyo is not a region", Region, "Tokyo", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.check(tt.value); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRoleDurationBounds(t *testing.T) {
	for d, want := range map[time.Duration]bool{
		900 * time.Second:                  true,
		43200 * time.Second:                true,
		899 * time.Second:                  false,
		43201 * time.Second:                false,
		900*time.Second + time.Millisecond: false,
	} {
		if got := RoleDuration(d); got != want {
			t.Errorf("RoleDuration(%s) = %v, want %v", d, got, want)
		}
	}
}
