package action_test

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/action"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awstest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// forgedXML is forged without the escape character, which XML 1.0 cannot carry: the
// SDK would refuse the whole answer.
var forgedXML = xmlEscape(strings.ReplaceAll(forged, "\x1b", ""))

// callerIdentityForgeries are GetCallerIdentity answers a proxy in front of STS rewrites:
// each leaves the key working (STS accepted it) but says nothing true of its account.
var callerIdentityForgeries = map[string]func(string) string{
	"an account holding a workflow command": func(b string) string {
		return regexp.MustCompile(`<Account>[^<]*</Account>`).ReplaceAllString(b, "<Account>123456789012"+forgedXML+"</Account>")
	},
	"an empty account": func(b string) string {
		return regexp.MustCompile(`<Account>[^<]*</Account>`).ReplaceAllString(b, "<Account></Account>")
	},
	"an account of 11 digits": func(b string) string {
		return regexp.MustCompile(`<Account>[^<]*</Account>`).ReplaceAllString(b, "<Account>12345678901</Account>")
	},
	"an ARN holding a workflow command": func(b string) string {
		return regexp.MustCompile(`<Arn>[^<]*</Arn>`).ReplaceAllString(b, "<Arn>arn:aws:iam::123456789012:user/x"+forgedXML+"</Arn>")
	},
}

// checkAccountUnknown: the run succeeded, said that STS's answer was not used and, when
// the account was forged, that the account is unknown and aws-account-id not written;
// nothing of the forgery is printed or written.
func checkAccountUnknown(t *testing.T, o outcome, wantAccount bool) {
	t.Helper()
	if o.code != 0 {
		t.Fatalf("exit %d, want 0: the key works\n%s", o.code, o.stdout)
	}
	if !strings.Contains(o.stdout, "::warning::") || !strings.Contains(o.stdout, "works, but STS's answer about whom it signs as was not used") {
		t.Errorf("the run does not say that STS's answer was not used:\n%s", o.stdout)
	}
	if unknown := strings.Contains(o.stdout, "the AWS account it belongs to is unknown"); unknown == wantAccount {
		t.Errorf("the run says the account is unknown: %v, want %v\n%s", unknown, !wantAccount, o.stdout)
	}
	account := regexp.MustCompile(`(?m)^aws-account-id<<(\S+)\n(.*)\n`).FindStringSubmatch(o.outputs)
	if got := account != nil && account[2] != ""; got != wantAccount {
		t.Errorf("aws-account-id written: %v, want %v\n%s", got, wantAccount, o.outputs)
	}
	noneOf(t, o, "FORGED", "touch", "12345678901<")
}

// The account (and ARN) STS answers for a key that a registration verifies is checked
// where it arrives: a malformed one is unknown, said so, never printed or output.
func TestRegistrationTreatsAMalformedAccountFromSTSAsUnknown(t *testing.T) {
	for name, rewrite := range callerIdentityForgeries {
		t.Run(name, func(t *testing.T) {
			acct := awstest.NewAccount(t)
			key := acct.AddKey("soracom-funnel", awstest.Active)
			s := soracomtest.Start(t)
			s.AddAuthKey(chokeAuthKeyID, chokeAuthKey)
			for k, v := range acct.Env() {
				t.Setenv(k, v)
			}
			t.Setenv("AWS_ENDPOINT_URL_STS", forgingProxy(t, acct.Env()["AWS_ENDPOINT_URL_STS"], "GetCallerIdentity", rewrite))
			in := map[string]string{
				inputs.CredentialID: "set-1", inputs.AuthKeyID: chokeAuthKeyID, inputs.AuthKey: chokeAuthKey,
				inputs.Endpoint: s.URL(), inputs.VerifyAWSKey: "true",
				inputs.AWSAccessKeyID: key.ID, inputs.AWSSecretAccessKey: key.Secret,
			}
			o := chokeRun(t, in, true)
			checkAccountUnknown(t, o, strings.Contains(name, "ARN"))
			if _, ok := s.CredentialSet("set-1"); !ok {
				t.Error("the working key was not stored")
			}
		})
	}
}

// So it is for the new key of a rotation.
func TestRotationTreatsAMalformedAccountFromSTSAsUnknown(t *testing.T) {
	for name, rewrite := range callerIdentityForgeries {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			proxy := forgingProxy(t, w.acct.Env()["AWS_ENDPOINT_URL_STS"], "GetCallerIdentity", rewrite)
			files := prepareRun(t, w.inputs, w.acct.Env(), w.oidc.Env(), map[string]string{"AWS_ENDPOINT_URL_STS": proxy})
			var stdout bytes.Buffer
			code := action.Run(context.Background(), action.Env{Getenv: os.Getenv, Stdout: &stdout, Retry: quickRetry(), KeyWait: 5 * time.Second})
			o := files.result(code, stdout.String())
			checkAccountUnknown(t, o, strings.Contains(name, "ARN"))
			if set, _ := w.soracom.CredentialSet("funnel-aws"); set.Credentials["accessKeyId"] == w.old.ID {
				t.Error("the rotation did not store the new key")
			}
		})
	}
}
