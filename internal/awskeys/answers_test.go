package awskeys_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awskeys"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awstest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/paging"
)

// ListAccessKeys, for the audit's reader and the rotation's IAM alike, reads every page
// and stops a listing that never ends (a new marker each time, or the same one) with an
// error naming IAM and the call.
func TestListAccessKeysPagesWithinBounds(t *testing.T) {
	tests := []struct {
		name    string
		paging  awstest.Paging
		wantErr string
	}{
		{"one key a page", awstest.Paging{PerPage: 1}, ""},
		{"pages that never end", awstest.Paging{PerPage: 1, Endless: true}, "more than 10 pages"},
		{"the same marker forever", awstest.Paging{PerPage: 1, Endless: true, SameMarker: true}, "named a next page it had named before"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acct := awstest.NewAccount(t)
			r := reader(t, acct)
			acct.AddKey("funnel", awstest.Active)
			acct.AddKey("funnel", awstest.Inactive)
			acct.SetPaging(tt.paging)
			cfg, err := awskeys.LoadDefault(context.Background(), awskeys.Settings{})
			if err != nil {
				t.Fatal(err)
			}
			lists := map[string]func() ([]awskeys.KeyMetadata, error){
				"reader": func() ([]awskeys.KeyMetadata, error) { return r.ListAccessKeys(context.Background(), "funnel") },
				"IAM": func() ([]awskeys.KeyMetadata, error) {
					return awskeys.NewIAM(cfg, nopMasker{}).ListAccessKeys(context.Background(), "funnel")
				},
			}
			for name, list := range lists {
				keys, err := list()
				checkListing(t, name, keys, err, tt.wantErr)
			}
		})
	}
}

// checkListing checks a listing of two keys: both, or a paging error saying wantErr.
func checkListing(t *testing.T, name string, keys []awskeys.KeyMetadata, err error, wantErr string) {
	t.Helper()
	if wantErr == "" {
		if err != nil || len(keys) != 2 {
			t.Errorf("%s: %d keys, %v; want both keys", name, len(keys), err)
		}
		return
	}
	var perr *paging.Error
	if !errors.As(err, &perr) || !strings.Contains(err.Error(), "IAM ListAccessKeys") || !strings.Contains(err.Error(), wantErr) {
		t.Errorf("%s: err = %v, want one naming IAM ListAccessKeys and %q", name, err, wantErr)
	}
}

type nopMasker struct{}

func (nopMasker) AddMask(string) {}

// What STS and IAM answer is checked against the formats of AWS's identifiers before
// anything uses it; the bad value is never in the error.
func TestAnswersWithoutTheirFormatsAreRefused(t *testing.T) {
	const forged = "\n::error::FORGED"
	tests := []struct {
		name, action, result, field string
		call                        func(r *awskeys.KeyReader) error
	}{
		{"an empty account from GetAccessKeyInfo", "GetAccessKeyInfo", "<Account></Account>", "Account",
			func(r *awskeys.KeyReader) error {
				_, err := r.AccessKeyAccount(context.Background(), "AKIAIOSFODNN7EXAMPLE")
				return err
			}},
		{"a forged account from GetAccessKeyInfo", "GetAccessKeyInfo", "<Account>1234" + forged + "</Account>", "Account",
			func(r *awskeys.KeyReader) error {
				_, err := r.AccessKeyAccount(context.Background(), "AKIAIOSFODNN7EXAMPLE")
				return err
			}},
		{"a short account from GetCallerIdentity", "GetCallerIdentity", "<Account>1234</Account>", "Account",
			func(r *awskeys.KeyReader) error { _, err := r.CallerAccount(context.Background()); return err }},
		{"a forged user from GetAccessKeyLastUsed", "GetAccessKeyLastUsed", "<UserName>ci" + forged + "</UserName>", "UserName",
			func(r *awskeys.KeyReader) error {
				_, err := r.AccessKeyLastUsed(context.Background(), "AKIAIOSFODNN7EXAMPLE")
				return err
			}},
		{"a forged key id in ListAccessKeys", "ListAccessKeys",
			"<AccessKeyMetadata><member><AccessKeyId>AKIA" + forged + "</AccessKeyId><Status>Active</Status></member></AccessKeyMetadata><IsTruncated>false</IsTruncated>", "AccessKeyId",
			func(r *awskeys.KeyReader) error {
				_, err := r.ListAccessKeys(context.Background(), "funnel")
				return err
			}},
		{"a forged status in ListAccessKeys", "ListAccessKeys",
			"<AccessKeyMetadata><member><AccessKeyId>AKIAIOSFODNN7EXAMPLE</AccessKeyId><Status>Gone" + forged + "</Status></member></AccessKeyMetadata><IsTruncated>false</IsTruncated>", "Status",
			func(r *awskeys.KeyReader) error {
				_, err := r.ListAccessKeys(context.Background(), "funnel")
				return err
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := forgingReader(t, tt.action, tt.result)
			err := tt.call(r)
			var bad *awskeys.AnswerError
			if !errors.As(err, &bad) || bad.Field != tt.field || strings.Contains(err.Error(), "FORGED") {
				t.Fatalf("err = %v, want an AnswerError on %s without the value", err, tt.field)
			}
		})
	}
}

// forgingReader is a KeyReader against one endpoint (STS and IAM alike) that answers
// action with result and every other call with an error.
func forgingReader(t *testing.T, action, result string) *awskeys.KeyReader {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "text/xml")
		if r.Form.Get("Action") != action {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `<ErrorResponse><Error><Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>`)
			return
		}
		fmt.Fprintf(w, `<%sResponse><%sResult>%s</%sResult></%sResponse>`, action, action, result, action, action)
	}))
	t.Cleanup(srv.Close)
	acct := awstest.NewAccount(t)
	awstest.Setenv(t, acct.Env(), map[string]string{"AWS_ENDPOINT_URL_STS": srv.URL, "AWS_ENDPOINT_URL_IAM": srv.URL,
		"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"})
	cfg, err := awskeys.LoadDefault(context.Background(), awskeys.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	return awskeys.NewKeyReader(cfg, 10*time.Millisecond)
}

// readmePolicy is the health report's policy as the README narrows it: the IAM reads on
// the users soracom-*, sts:GetAccessKeyInfo on *.
const readmePolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["iam:GetAccessKeyLastUsed", "iam:ListAccessKeys"], "Resource": "arn:aws:iam::123456789012:user/soracom-*"},
    {"Effect": "Allow", "Action": "sts:GetAccessKeyInfo", "Resource": "*"}
  ]
}`

// The fake evaluates the caller's policy on each request's resource, as IAM does: the
// narrowed policy allows the reads on soracom-* users and denies them elsewhere.
func TestFakeIAMEvaluatesTheNarrowedPolicy(t *testing.T) {
	ctx := context.Background()
	acct := awstest.NewAccount(t)
	r := reader(t, acct)
	covered := acct.AddKey("soracom-funnel", awstest.Active)
	other := acct.AddKey("ops", awstest.Active)
	if err := acct.SetPolicy(readmePolicy); err != nil {
		t.Fatal(err)
	}
	if _, err := r.AccessKeyLastUsed(ctx, covered.ID); err != nil {
		t.Errorf("GetAccessKeyLastUsed on soracom-funnel's key: %v", err)
	}
	if _, err := r.ListAccessKeys(ctx, "soracom-funnel"); err != nil {
		t.Errorf("ListAccessKeys of soracom-funnel: %v", err)
	}
	if _, err := r.AccessKeyAccount(ctx, other.ID); err != nil {
		t.Errorf("GetAccessKeyInfo: %v", err)
	}
	if _, err := r.CallerAccount(ctx); err != nil {
		t.Errorf("GetCallerIdentity needs no permission: %v", err)
	}
	for name, err := range map[string]error{
		"GetAccessKeyLastUsed on ops's key": second(r.AccessKeyLastUsed(ctx, other.ID)),
		"GetAccessKeyLastUsed on a deleted key": func() error {
			acct.DeleteKey(covered.ID)
			return second(r.AccessKeyLastUsed(ctx, covered.ID))
		}(),
		"ListAccessKeys of ops": second(r.ListAccessKeys(ctx, "ops")),
	} {
		if errorCode(err) != "AccessDenied" {
			t.Errorf("%s: %v, want AccessDenied", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }
