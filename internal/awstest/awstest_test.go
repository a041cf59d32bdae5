package awstest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awstest"
)

func post(t *testing.T, endpoint string, form url.Values, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestFakeEndpointsAnswerLikeAWS(t *testing.T) {
	acct := awstest.NewAccount(t)
	k := acct.AddKey("funnel", awstest.Active)
	forged := http.Header{"Authorization": {"AWS4-HMAC-SHA256 Credential=" + k.ID +
		"/20250101/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"}, "X-Amz-Date": {"20250101T000000Z"}}
	tests := []struct {
		name       string
		endpoint   string
		form       url.Values
		header     http.Header
		wantStatus int
		wantBody   []string
	}{
		{"an unknown action is InvalidAction", acct.STSURL(), url.Values{"Action": {"Nope"}, "Version": {"2011-06-15"}},
			forged, 400, []string{"<Code>InvalidAction</Code>"}},
		{"a wrong API version is InvalidAction", acct.IAMURL(), url.Values{"Action": {"ListAccessKeys"}, "Version": {"2011-06-15"}},
			nil, 400, []string{"<Code>InvalidAction</Code>"}},
		{"an unsigned IAM call is refused", acct.IAMURL(), url.Values{"Action": {"ListAccessKeys"}, "Version": {"2010-05-08"}},
			nil, 403, []string{"<Code>MissingAuthenticationToken</Code>"}},
		{"a wrong signature is SignatureDoesNotMatch", acct.STSURL(), url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}},
			forged, 403, []string{"<Code>SignatureDoesNotMatch</Code>"}},
		{"errors are ErrorResponse documents in the service's namespace", acct.IAMURL(),
			url.Values{"Action": {"ListAccessKeys"}, "Version": {"2010-05-08"}}, nil, 403,
			[]string{`<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>`, "<RequestId>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(t, tt.endpoint, tt.form, tt.header)
			if status != tt.wantStatus {
				t.Errorf("status = %d, want %d; body %s", status, tt.wantStatus, body)
			}
			for _, want := range tt.wantBody {
				if !strings.Contains(body, want) {
					t.Errorf("body lacks %q: %s", want, body)
				}
			}
		})
	}
}

func TestFaultsQueueInOrderAndLastTheirTimes(t *testing.T) {
	acct := awstest.NewAccount(t)
	acct.Fail("AssumeRoleWithWebIdentity", awstest.Throttling(2))
	acct.Fail("AssumeRoleWithWebIdentity", awstest.Unavailable(1))
	form := url.Values{"Action": {"AssumeRoleWithWebIdentity"}, "Version": {"2011-06-15"},
		"RoleArn": {"arn:aws:iam::123456789012:role/none"}, "RoleSessionName": {"s1"}, "WebIdentityToken": {"a.b.c"}}
	var got []string
	for range 4 {
		status, body := post(t, acct.STSURL(), form, nil)
		code := body[strings.Index(body, "<Code>")+6 : strings.Index(body, "</Code>")]
		got = append(got, fmt.Sprintf("%d %s", status, code))
	}
	want := []string{"400 Throttling", "400 Throttling", "503 ServiceUnavailable", "403 AccessDenied"}
	if !slices.Equal(got, want) {
		t.Errorf("answers = %v, want %v", got, want)
	}
	for _, r := range acct.Requests() {
		if r.Params.Get("WebIdentityToken") != "REDACTED" {
			t.Errorf("the request log keeps the web identity token")
		}
	}
}

func TestOIDCTokensVerifyOnlyWhenIssuedByTheFake(t *testing.T) {
	o := awstest.NewOIDC(t)
	other := awstest.NewOIDC(t)
	req, _ := http.NewRequest(http.MethodGet, o.URL()+"&audience=sts.amazonaws.com", nil)
	req.Header.Set("Authorization", "Bearer "+o.RequestToken())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	tok := o.Issued()[0]
	c, err := o.Verify(tok)
	if err != nil || c.Aud != "sts.amazonaws.com" || c.Sub != awstest.DefaultSubject || c.Iss != awstest.Issuer {
		t.Fatalf("claims = %+v, err = %v", c, err)
	}
	if _, err := other.Verify(tok); err == nil {
		t.Error("another issuer's token verified")
	}

	req, _ = http.NewRequest(http.MethodGet, o.URL(), nil)
	req.Header.Set("Authorization", "Bearer "+o.RequestToken())
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("without audience: status %d, want 400", resp.StatusCode)
	}
}

func TestEnvList(t *testing.T) {
	got := awstest.EnvList(map[string]string{"B": "1", "A": "x"}, map[string]string{"B": "2"})
	if strings.Join(got, " ") != "A=x B=2" {
		t.Errorf("EnvList = %v", got)
	}
}
