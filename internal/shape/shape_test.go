package shape_test

import (
	"strings"
	"testing"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/shape"
)

// Each shape accepts what the services send and refuses what a forged answer could
// carry into the log, an output or a request path.
func TestShapes(t *testing.T) {
	tests := []struct {
		name  string
		check func(string) bool
		value string
		ok    bool
	}{
		{"operator id", shape.OperatorID, "OP0012345678", true},
		{"operator id with a trailing space", shape.OperatorID, "OP0099887766 ", false},
		{"operator id with markdown", shape.OperatorID, "OPevil [x](http://e.test)", false},
		{"operator id as a path", shape.OperatorID, "../../etc", false},
		{"operator id with a line break", shape.OperatorID, "OP1\nOP2", false},
		{"set id", shape.CredentialID, "funnel-aws_2.prod", true},
		{"set id as a path", shape.CredentialID, "../../etc", false},
		{"set id too long", shape.CredentialID, string(make([]byte, 101)), false},
		{"type", shape.CredentialType, "aws-credentials", true},
		{"type with a line break", shape.CredentialType, "psk\n::error::x", false},
		{"empty type", shape.CredentialType, "", false},
		{"user name", shape.UserName, "ci-bot", true},
		{"no user name (root)", shape.UserName, "", true},
		{"user name with a line break", shape.UserName, "ci\n::error::x", false},
		{"user name with invalid UTF-8", shape.UserName, "ci\xff", false},
		{"line with a NEL", shape.Line, "a\u0085b", false},
		{"namespace", shape.Namespace, "SoracomFunnel", true},
		{"action type", shape.Namespace, "InvokeAWSLambdaAction", true},
		{"namespace with markdown", shape.Namespace, "Soracom`x`", false},
		{"namespace with a line break", shape.Namespace, "Soracom\n::error::x", false},
		{"empty namespace", shape.Namespace, "", false},
		{"group id (a UUID)", shape.GroupID, "12345678-abcd-9012-efab-345678901234", true},
		{"group id as a path", shape.GroupID, "../groups", false},
		{"group id with markdown", shape.GroupID, "g|`x`", false},
		{"empty group id", shape.GroupID, "", false},
		{"event handler id", shape.EventHandlerID, "handler-1", true},
		{"event handler id with a line break", shape.EventHandlerID, "h\n::error::x", false},
		{"event handler id of 101 characters", shape.EventHandlerID, strings.Repeat("h", 101), false},
		{"group name", shape.Name, "sensors (Funnel → Kinesis)", true},
		{"empty name", shape.Name, "", true},
		{"name with a line break", shape.Name, "a\n::error::x", false},
		{"name of 201 characters", shape.Name, strings.Repeat("n", 201), false},
		{"AuthKey id", shape.AuthKeyID, "keyId-0123456789abcdefABCDEF_-x", true},
		{"AuthKey id without its prefix", shape.AuthKeyID, "0123456789abcdef", false},
		{"AuthKey id as a path", shape.AuthKeyID, "keyId-../../x", false},
		{"AuthKey id with a line break", shape.AuthKeyID, "keyId-a\n::error::x", false},
		{"empty AuthKey id", shape.AuthKeyID, "keyId-", false},
		{"public key id (github.com's digits)", shape.PublicKeyID, "568250167242549743", true},
		{"public key id with a line break", shape.PublicKeyID, "1\n::error::x", false},
		{"public key id with a quote", shape.PublicKeyID, `1","x":"`, false},
		{"empty public key id", shape.PublicKeyID, "", false},
		{"secret name", shape.SecretName, "SORACOM_AUTH_KEY", true},
		{"secret name in lower case", shape.SecretName, "soracom_auth_key_2", true},
		{"secret name starting with a digit", shape.SecretName, "1KEY", false},
		{"secret name starting with GITHUB_", shape.SecretName, "GITHUB_TOKEN", false},
		{"secret name starting with github_", shape.SecretName, "github_key", false},
		{"secret name with a hyphen", shape.SecretName, "SORACOM-KEY", false},
		{"repository", shape.Repository, "octo-org/hello.world_2", true},
		{"repository without an owner", shape.Repository, "hello", false},
		{"repository as a path", shape.Repository, "octo/..", false},
		{"repository with a third part", shape.Repository, "a/b/c", false},
		{"environment", shape.EnvironmentName, "production eu", true},
		{"environment with a line break", shape.EnvironmentName, "prod\nx", false},
		{"empty environment", shape.EnvironmentName, "", false},
	}
	for _, tt := range tests {
		if got := tt.check(tt.value); got != tt.ok {
			t.Errorf("%s: %q accepted = %v, want %v", tt.name, tt.value, got, tt.ok)
		}
	}
}
