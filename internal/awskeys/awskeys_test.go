package awskeys_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awskeys"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awstest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
)

const roleARN = "arn:aws:iam::123456789012:role/soracom-rotator"

// masks records what was masked, as the runner would.
type masks struct {
	mu     sync.Mutex
	values []string
}

func (m *masks) AddMask(v string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.values = append(m.values, v)
}

func (m *masks) has(v string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Contains(m.values, v)
}

// world is a fake AWS account trusting a fake GitHub OIDC issuer, with the SDK
// pointed at it.
type world struct {
	acct *awstest.Account
	oidc *awstest.OIDC
	role awskeys.Role
	// bounds are what the hostile tests' calls are given; zero means fastBounds.
	bounds awskeys.Bounds
}

func newWorld(t *testing.T) world {
	t.Helper()
	acct := awstest.NewAccount(t)
	oidc := awstest.NewOIDC(t)
	acct.AddRole(roleARN, awstest.Trust{Issuer: oidc, Audience: "sts.amazonaws.com", Subject: "repo:owner/repo:*"})
	acct.AddUser("funnel")
	awstest.Setenv(t, acct.Env())
	return world{acct: acct, oidc: oidc, role: awskeys.Role{
		ARN:                 roleARN,
		SessionName:         "soracom-credentials-action",
		Duration:            15 * time.Minute,
		Audience:            "sts.amazonaws.com",
		IDTokenRequestURL:   oidc.URL(),
		IDTokenRequestToken: secret.New(oidc.RequestToken()),
	}}
}

func (w world) load(t *testing.T, m secret.Masker) aws.Config {
	t.Helper()
	cfg, err := awskeys.Load(context.Background(), awskeys.Settings{Role: w.role}, m)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg
}

func TestLoad(t *testing.T) {
	t.Run("assumes the role with the OIDC token and masks the temporary credentials", testLoadAssumesTheRole)
	t.Run("without a role uses the ambient credentials of the job", testLoadUsesAmbientCredentials)
	t.Run("without a role and without credentials says none were found", testLoadWithoutCredentials)
	t.Run("with a role but no id-token permission says to add it", testLoadWithoutIDTokenPermission)
}

// testLoadAssumesTheRole is the subtest "assumes the role with the OIDC token and masks the temporary credentials".
func testLoadAssumesTheRole(t *testing.T) {
	w := newWorld(t)
	m := &masks{}
	cfg := w.load(t, m)
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"JWT": w.oidc.Issued()[0], "access key id": creds.AccessKeyID,
		"secret access key": creds.SecretAccessKey, "session token": creds.SessionToken} {
		if !m.has(v) {
			t.Errorf("%s was not masked", name)
		}
	}
	if _, err := awskeys.NewIAM(cfg, m).ListAccessKeys(context.Background(), "funnel"); err != nil {
		t.Fatal(err)
	}
	reqs := w.acct.Requests()
	last := reqs[len(reqs)-1]
	if want := "arn:aws:sts::123456789012:assumed-role/soracom-rotator/soracom-credentials-action"; last.CallerArn != want {
		t.Errorf("IAM was called as %q, want %q", last.CallerArn, want)
	}
	if got := reqs[0].Params.Get("DurationSeconds"); got != "900" {
		t.Errorf("DurationSeconds = %s, want 900", got)
	}
}

// testLoadUsesAmbientCredentials is the subtest "without a role uses the ambient credentials of the job".
func testLoadUsesAmbientCredentials(t *testing.T) {
	w := newWorld(t)
	admin := w.acct.AddKey("admin", awstest.Active)
	awstest.Setenv(t, awstest.KeyEnv(admin))
	cfg, err := awskeys.Load(context.Background(), awskeys.Settings{}, &masks{})
	if err != nil {
		t.Fatal(err)
	}
	id, err := awskeys.VerifyKey(context.Background(), cfg, awskeys.AccessKey{ID: admin.ID, Secret: secret.New(admin.Secret)}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if id.Arn != "arn:aws:iam::123456789012:user/admin" {
		t.Errorf("arn = %s", id.Arn)
	}
	if _, err := awskeys.NewIAM(cfg, &masks{}).ListAccessKeys(context.Background(), "funnel"); err != nil {
		t.Fatal(err)
	}
}

// testLoadWithoutCredentials is the subtest "without a role and without credentials says none were found".
func testLoadWithoutCredentials(t *testing.T) {
	newWorld(t)
	_, err := awskeys.Load(context.Background(), awskeys.Settings{}, &masks{})
	if !errors.Is(err, awskeys.ErrNoCredentials) {
		t.Fatalf("err = %v, want ErrNoCredentials (the action adds how to give them, for where it runs)", err)
	}
}

// testLoadWithoutIDTokenPermission is the subtest "with a role but no id-token permission says to add it".
func testLoadWithoutIDTokenPermission(t *testing.T) {
	w := newWorld(t)
	w.role.IDTokenRequestURL, w.role.IDTokenRequestToken = "", secret.Secret{}
	_, err := awskeys.Load(context.Background(), awskeys.Settings{Role: w.role}, &masks{})
	if !errors.Is(err, awskeys.ErrIDTokenUnavailable) {
		t.Fatalf("err = %v, want ErrIDTokenUnavailable", err)
	}
}

// checkTrustPolicyMessage checks that msg names the role, the claims a trust policy
// matches and every one of wantIn, and does not reveal the JWT.
func checkTrustPolicyMessage(t *testing.T, w world, msg string, wantIn []string) {
	t.Helper()
	for _, want := range append([]string{"assume role " + w.role.ARN, "token.actions.githubusercontent.com:aud",
		"token.actions.githubusercontent.com:sub", "trust policy"}, wantIn...) {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	for _, tok := range w.oidc.Issued() {
		if strings.Contains(msg, tok) {
			t.Error("message reveals the JWT")
		}
	}
}

func TestLoadExplainsTrustPolicyRejections(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(*world)
		wantCode string
		wantIn   []string
	}{
		{
			name:     "a sub the trust policy does not allow is AccessDenied",
			setup:    func(w *world) { w.oidc.SetSubject("repo:someone/else:ref:refs/heads/main") },
			wantCode: "AccessDenied",
			wantIn:   []string{`sub "repo:someone/else:ref:refs/heads/main"`},
		},
		{
			name:     "an audience the provider does not list is InvalidIdentityToken",
			setup:    func(w *world) { w.role.Audience = "my-audience" },
			wantCode: "InvalidIdentityToken",
			wantIn:   []string{`audience input ("my-audience")`, `aud "my-audience"`},
		},
		{
			name:     "a role the account does not have is AccessDenied",
			setup:    func(w *world) { w.role.ARN = "arn:aws:iam::123456789012:role/missing" },
			wantCode: "AccessDenied",
			wantIn:   []string{"arn:aws:iam::123456789012:role/missing"},
		},
		{
			name: "a claim the provider rejects is IDPRejectedClaim",
			setup: func(w *world) {
				w.acct.Fail("AssumeRoleWithWebIdentity", awstest.Fault{Status: 403, Code: "IDPRejectedClaim", Message: "rejected"})
			},
			wantCode: "IDPRejectedClaim",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			tt.setup(&w)
			_, err := awskeys.Load(context.Background(), awskeys.Settings{Role: w.role}, &masks{})
			var tpe *awskeys.TrustPolicyError
			if !errors.As(err, &tpe) {
				t.Fatalf("err = %v, want a TrustPolicyError", err)
			}
			if tpe.Code != tt.wantCode {
				t.Errorf("code = %s, want %s", tpe.Code, tt.wantCode)
			}
			checkTrustPolicyMessage(t, w, err.Error(), tt.wantIn)
		})
	}
}

// newKeyToVerify creates a key for the user funnel in an account whose new keys start
// working after delay and whose GetCallerIdentity answers fault first (when not nil);
// it returns the job's AWS configuration (an admin key) and the new key.
func newKeyToVerify(t *testing.T, delay time.Duration, fault *awstest.Fault) (aws.Config, awskeys.AccessKey) {
	t.Helper()
	acct := awstest.NewAccount(t)
	awstest.Setenv(t, acct.Env(), awstest.KeyEnv(acct.AddKey("admin", awstest.Active)))
	acct.AddUser("funnel")
	acct.SetPropagationDelay(delay)
	if fault != nil {
		acct.Fail("GetCallerIdentity", *fault)
	}
	ctx := context.Background()
	cfg, err := awskeys.Load(ctx, awskeys.Settings{}, &masks{})
	if err != nil {
		t.Fatal(err)
	}
	key, err := awskeys.NewIAM(cfg, &masks{}).CreateAccessKey(ctx, "funnel")
	if err != nil {
		t.Fatal(err)
	}
	return cfg, key
}

// checkVerified checks the identity VerifyKey returned, and that it returned within
// maxLatency of the moment the key started working.
func checkVerified(t *testing.T, id awskeys.Identity, worksAt time.Time, maxLatency time.Duration) {
	t.Helper()
	if id.Arn != "arn:aws:iam::123456789012:user/funnel" || id.Account != "123456789012" {
		t.Errorf("identity = %+v", id)
	}
	if late := time.Since(worksAt); late > maxLatency {
		t.Errorf("returned %s after the key started working, want at most %s", late, maxLatency)
	}
}

// checkVerifyError checks that err says want and reveals neither half of the key.
func checkVerifyError(t *testing.T, err error, want string, key awskeys.AccessKey) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want it to contain %q", err, want)
	}
	if strings.Contains(err.Error(), key.ID) || strings.Contains(err.Error(), key.Secret.Reveal()) {
		t.Errorf("error reveals the key: %v", err)
	}
}

func TestVerifyKey(t *testing.T) {
	tests := []struct {
		name       string
		delay      time.Duration
		budget     time.Duration
		fault      *awstest.Fault
		wrongKey   bool
		wantErr    string
		maxLatency time.Duration // how long after the key starts working VerifyKey may return
	}{
		{name: "returns the identity of a key that works at once", budget: time.Second, maxLatency: 500 * time.Millisecond},
		{name: "waits through the propagation delay and notices the key soon after it works",
			delay: 1500 * time.Millisecond, budget: 5 * time.Second, maxLatency: 1500 * time.Millisecond},
		{name: "retries throttling", fault: ptr(awstest.Throttling(1)), budget: 5 * time.Second, maxLatency: 2500 * time.Millisecond},
		{name: "gives up when the key does not work within the budget",
			delay: 10 * time.Second, budget: 800 * time.Millisecond, wantErr: "did not start working within 800ms"},
		{name: "gives up on a key whose secret is wrong",
			wrongKey: true, budget: 600 * time.Millisecond, wantErr: "SignatureDoesNotMatch"},
		{name: "stops at once on an answer that waiting cannot fix",
			fault:  &awstest.Fault{Status: 403, Code: "AccessDenied", Message: "no"},
			budget: 5 * time.Second, wantErr: "AccessDenied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			cfg, key := newKeyToVerify(t, tt.delay, tt.fault)
			worksAt := time.Now().Add(tt.delay)
			if tt.wrongKey {
				key.Secret = secret.New("not-the-secret")
			}
			start := time.Now()
			id, err := awskeys.VerifyKey(ctx, cfg, key, tt.budget)
			if tt.wantErr != "" {
				checkVerifyError(t, err, tt.wantErr, key)
				if elapsed := time.Since(start); elapsed > tt.budget+time.Second {
					t.Errorf("took %s with a budget of %s", elapsed, tt.budget)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkVerified(t, id, worksAt, tt.maxLatency)
		})
	}
}

// iamSetup is an account with the user funnel, and an IAM client signed with an
// admin key of the job's environment that masks into its own masks.
func iamSetup(t *testing.T) (*awstest.Account, *awskeys.IAM, *masks) {
	t.Helper()
	acct := awstest.NewAccount(t)
	awstest.Setenv(t, acct.Env(), awstest.KeyEnv(acct.AddKey("admin", awstest.Active)))
	acct.AddUser("funnel")
	cfg, err := awskeys.Load(context.Background(), awskeys.Settings{}, &masks{})
	if err != nil {
		t.Fatal(err)
	}
	m := &masks{}
	return acct, awskeys.NewIAM(cfg, m), m
}

func TestIAM(t *testing.T) {
	t.Run("CreateAccessKey masks the new key id and secret at once", testIAMCreateAccessKey)
	t.Run("ListAccessKeys lists keys oldest first with their status", testIAMListAccessKeys)
	t.Run("a third key hits the two-keys-per-user limit", testIAMThirdKeyLimit)
	t.Run("Deactivate and Delete change the key in IAM", testIAMDeactivateAndDelete)
	t.Run("errors name what failed and which key", testIAMErrors)
	t.Run("calls go to AWS_ENDPOINT_URL_IAM signed with the configured credentials", testIAMEndpoint)
}

// testIAMCreateAccessKey is the subtest "CreateAccessKey masks the new key id and secret at once".
func testIAMCreateAccessKey(t *testing.T) {
	ctx := context.Background()
	acct, c, m := iamSetup(t)
	k, err := c.CreateAccessKey(ctx, "funnel")
	if err != nil {
		t.Fatal(err)
	}
	if !m.has(k.ID) || !m.has(k.Secret.Reveal()) {
		t.Errorf("masked %d values, want the key id and the secret", len(m.values))
	}
	if got := acct.Keys("funnel"); len(got) != 1 || got[0].ID != k.ID || got[0].Secret != k.Secret.Reveal() {
		t.Errorf("account keys = %+v", got)
	}
}

// testIAMListAccessKeys is the subtest "ListAccessKeys lists keys oldest first with their status".
func testIAMListAccessKeys(t *testing.T) {
	ctx := context.Background()
	acct, c, _ := iamSetup(t)
	old := acct.AddKey("funnel", awstest.Inactive)
	k, err := c.CreateAccessKey(ctx, "funnel")
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.ListAccessKeys(ctx, "funnel")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != old.ID || got[0].Status != awskeys.Inactive || got[1].ID != k.ID || got[1].Status != awskeys.Active {
		t.Errorf("keys = %+v", got)
	}
}

// testIAMThirdKeyLimit is the subtest "a third key hits the two-keys-per-user limit".
func testIAMThirdKeyLimit(t *testing.T) {
	ctx := context.Background()
	acct, c, _ := iamSetup(t)
	acct.AddKey("funnel", awstest.Active)
	acct.AddKey("funnel", awstest.Inactive)
	_, err := c.CreateAccessKey(ctx, "funnel")
	if err == nil || !strings.Contains(err.Error(), "LimitExceeded") || !strings.Contains(err.Error(), "two access keys per user") {
		t.Fatalf("err = %v", err)
	}
}

// testIAMDeactivateAndDelete is the subtest "Deactivate and Delete change the key in IAM".
func testIAMDeactivateAndDelete(t *testing.T) {
	ctx := context.Background()
	acct, c, _ := iamSetup(t)
	a, b := acct.AddKey("funnel", awstest.Active), acct.AddKey("funnel", awstest.Active)
	if err := c.Deactivate(ctx, "funnel", a.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, "funnel", b.ID); err != nil {
		t.Fatal(err)
	}
	if got := acct.Keys("funnel"); len(got) != 1 || got[0].ID != a.ID || got[0].Status != awstest.Inactive {
		t.Errorf("keys = %+v", got)
	}
}

// testIAMErrors is the subtest "errors name what failed and which key".
func testIAMErrors(t *testing.T) {
	ctx := context.Background()
	_, c, _ := iamSetup(t)
	err := c.Delete(ctx, "funnel", "AKIAGONE")
	if err == nil || !strings.Contains(err.Error(), "deleting access key AKIAGONE of IAM user funnel") || !strings.Contains(err.Error(), "NoSuchEntity") {
		t.Fatalf("err = %v", err)
	}
	_, err = c.ListAccessKeys(ctx, "nobody")
	if err == nil || !strings.Contains(err.Error(), "listing the access keys of IAM user nobody") || !strings.Contains(err.Error(), "check the IAM user name") {
		t.Fatalf("err = %v", err)
	}
}

// testIAMEndpoint is the subtest "calls go to AWS_ENDPOINT_URL_IAM signed with the configured credentials".
func testIAMEndpoint(t *testing.T) {
	ctx := context.Background()
	acct, c, _ := iamSetup(t)
	if _, err := c.ListAccessKeys(ctx, "funnel"); err != nil {
		t.Fatal(err)
	}
	reqs := acct.Requests()
	if r := reqs[len(reqs)-1]; r.Service != "iam" || r.CallerArn != "arn:aws:iam::123456789012:user/admin" {
		t.Errorf("last request = %+v", r)
	}
}

func ptr[T any](v T) *T { return &v }
