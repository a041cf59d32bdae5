package awskeys_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awskeys"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awstest"
)

// reader returns a KeyReader signing as an IAM user of the fake account, as a job's
// ambient credentials would.
func reader(t *testing.T, acct *awstest.Account) *awskeys.KeyReader {
	t.Helper()
	auditor := acct.AddKey("auditor", awstest.Active)
	awstest.Setenv(t, acct.Env(), awstest.KeyEnv(auditor))
	cfg, err := awskeys.LoadDefault(context.Background(), awskeys.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	return awskeys.NewKeyReader(cfg, 10*time.Millisecond)
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestKeyReaderLastUse(t *testing.T) {
	ctx := context.Background()
	acct := awstest.NewAccount(t)
	r := reader(t, acct)
	unused := acct.AddKey("funnel", awstest.Active)
	used := acct.AddKey("funk", awstest.Active)
	at := time.Date(2026, 11, 1, 9, 30, 0, 0, time.UTC)
	acct.SetLastUsed(used.ID, at, "s3", "ap-northeast-1")

	got, err := r.AccessKeyLastUsed(ctx, unused.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := (awskeys.LastUse{User: "funnel", Service: "N/A", Region: "N/A"}); got != want {
		t.Errorf("a never-used key: %+v, want %+v", got, want)
	}
	got, err = r.AccessKeyLastUsed(ctx, used.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := (awskeys.LastUse{User: "funk", Date: at, Service: "s3", Region: "ap-northeast-1"}); got != want {
		t.Errorf("a used key: %+v, want %+v", got, want)
	}
}

func TestKeyReaderUnknownKeyAnswers(t *testing.T) {
	for _, code := range []string{"NoSuchEntity", "AccessDenied"} {
		t.Run(code, func(t *testing.T) {
			acct := awstest.NewAccount(t)
			r := reader(t, acct)
			acct.SetUnknownKeyAnswer(code)
			gone := acct.AddKey("funnel", awstest.Active)
			if _, err := r.AccessKeyLastUsed(context.Background(), gone.ID); err != nil {
				t.Fatal(err)
			}
			acct.DeleteKey(gone.ID)
			_, err := r.AccessKeyLastUsed(context.Background(), gone.ID)
			if errorCode(err) != code {
				t.Errorf("a deleted key: %v, want %s", err, code)
			}
		})
	}
}

func TestKeyReaderAccounts(t *testing.T) {
	ctx := context.Background()
	acct := awstest.NewAccount(t)
	r := reader(t, acct)
	own := acct.AddKey("funnel", awstest.Active)
	foreign := acct.AddForeignKey("210987654321")
	for id, want := range map[string]string{own.ID: acct.ID(), foreign: "210987654321", "AKIADELETEDLONGAGO01": acct.ID()} {
		got, err := r.AccessKeyAccount(ctx, id)
		if err != nil || got != want {
			t.Errorf("account of %s = %q, %v; want %s", id, got, err, want)
		}
	}
	caller, err := r.CallerAccount(ctx)
	if err != nil || caller != acct.ID() {
		t.Errorf("caller account = %q, %v", caller, err)
	}
}

func TestKeyReaderRetriesThrottlingWithinBounds(t *testing.T) {
	ctx := context.Background()
	acct := awstest.NewAccount(t)
	r := reader(t, acct)
	k := acct.AddKey("funnel", awstest.Active)

	acct.Fail("GetAccessKeyLastUsed", awstest.Throttling(2))
	if _, err := r.AccessKeyLastUsed(ctx, k.ID); err != nil {
		t.Errorf("after two throttled attempts: %v", err)
	}
	acct.Fail("ListAccessKeys", awstest.Unavailable(100))
	_, err := r.ListAccessKeys(ctx, "funnel")
	if errorCode(err) != "ServiceUnavailable" {
		t.Errorf("a 503 that lasts: %v", err)
	}
	n := 0
	for _, a := range acct.Actions() {
		if a == "ListAccessKeys" {
			n++
		}
	}
	if n != 5 {
		t.Errorf("ListAccessKeys tried %d times, want 5", n)
	}
}

func TestKeyReaderDenied(t *testing.T) {
	acct := awstest.NewAccount(t)
	r := reader(t, acct)
	acct.Deny("GetAccessKeyLastUsed", "ListAccessKeys", "GetAccessKeyInfo")
	k := acct.AddKey("funnel", awstest.Active)
	_, e1 := r.AccessKeyLastUsed(context.Background(), k.ID)
	_, e2 := r.ListAccessKeys(context.Background(), "funnel")
	_, e3 := r.AccessKeyAccount(context.Background(), k.ID)
	for _, err := range []error{e1, e2, e3} {
		if errorCode(err) != "AccessDenied" {
			t.Errorf("err = %v, want AccessDenied", err)
		}
	}
	if _, err := r.CallerAccount(context.Background()); err != nil {
		t.Errorf("GetCallerIdentity needs no permission: %v", err)
	}
}
