package awstest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awstest"
)

// A session whose key signed a request is used; one STS issued and nobody used (an
// answer lost on the way) is not.
func TestSessionSecretsByUse(t *testing.T) {
	acct, oidc := awstest.NewAccount(t), awstest.NewOIDC(t)
	const role = "arn:aws:iam::123456789012:role/rotator"
	acct.AddRole(role, awstest.Trust{Issuer: oidc, Audience: "sts.amazonaws.com", Subject: awstest.DefaultSubject})
	client := func(creds aws.CredentialsProvider) *sts.Client {
		return sts.New(sts.Options{Region: awstest.Region, BaseEndpoint: aws.String(acct.STSURL()), Credentials: creds})
	}
	token := idToken(t, oidc)
	var sessions []*sts.AssumeRoleWithWebIdentityOutput
	for range 2 {
		out, err := client(aws.AnonymousCredentials{}).AssumeRoleWithWebIdentity(context.Background(), &sts.AssumeRoleWithWebIdentityInput{
			RoleArn: aws.String(role), RoleSessionName: aws.String("session"), WebIdentityToken: aws.String(token)})
		if err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, out)
	}
	c := sessions[0].Credentials
	creds := credentials.NewStaticCredentialsProvider(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
	if _, err := client(creds).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	used, unused := acct.SessionSecretsByUse()
	other := sessions[1].Credentials
	if !slices.Equal(used, []string{*c.SecretAccessKey, *c.SessionToken}) || !slices.Equal(unused, []string{*other.SecretAccessKey, *other.SessionToken}) {
		t.Errorf("used %d secrets, unused %d; want the first session's two used and the second's two unused", len(used), len(unused))
	}
}

func idToken(t *testing.T, o *awstest.OIDC) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, o.URL()+"&audience=sts.amazonaws.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+o.RequestToken())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct{ Value string }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || v.Value == "" {
		t.Fatalf("no token: %v", err)
	}
	return v.Value
}
