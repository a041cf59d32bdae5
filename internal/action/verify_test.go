package action_test

import (
	"net"
	"strings"
	"testing"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestAKeyCheckThatCannotReachSTSSaysSoNotThatTheKeyIsBad: when STS cannot be reached,
// nothing is known about the key; the error names the host and says the key was not
// judged, and nothing is stored.
func TestAKeyCheckThatCannotReachSTSSaysSoNotThatTheKeyIsBad(t *testing.T) {
	s := soracomtest.Start(t)
	s.AddAuthKey(chokeAuthKeyID, chokeAuthKey)
	sts := closedPort(t)
	t.Setenv("AWS_ENDPOINT_URL_STS", "http://"+sts)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	in := map[string]string{
		inputs.CredentialID: "set-1", inputs.AuthKeyID: chokeAuthKeyID, inputs.AuthKey: chokeAuthKey,
		inputs.Endpoint: s.URL(), inputs.VerifyAWSKey: "true",
		inputs.AWSAccessKeyID: chokeAWSKeyID, inputs.AWSSecretAccessKey: chokeAWSSecret,
	}
	o := chokeRun(t, in, true)
	if o.code != 1 {
		t.Fatalf("exit %d:\n%s", o.code, o.stdout)
	}
	var errLine string
	for _, l := range strings.Split(o.stdout, "\n") {
		if strings.HasPrefix(l, "::error::") {
			errLine = l
		}
	}
	for _, want := range []string{"could not reach AWS STS at " + sts, "the key was not judged", "check the runner's network access to AWS"} {
		if !strings.Contains(errLine, want) {
			t.Errorf("the error does not say %q: %s", want, errLine)
		}
	}
	if strings.Contains(errLine, "does not work") {
		t.Errorf("the error judges a key STS never saw: %s", errLine)
	}
	if _, ok := s.CredentialSet("set-1"); ok {
		t.Error("the unchecked key was stored")
	}
}
