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
	t.Run("assumes the role with the OIDC token and masks the temporary credentials", func(t *testing.T) {
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
	})
	t.Run("without a role uses the ambient credentials of the job", func(t *testing.T) {
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
	})
	t.Run("without a role and without credentials says how to provide them", func(t *testing.T) {
		newWorld(t)
		_, err := awskeys.Load(context.Background(), awskeys.Settings{}, &masks{})
		if err == nil || !strings.Contains(err.Error(), "set role-to-assume") || !strings.Contains(err.Error(), "configure-aws-credentials") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("with a role but no id-token permission says to add it", func(t *testing.T) {
		w := newWorld(t)
		w.role.IDTokenRequestURL, w.role.IDTokenRequestToken = "", secret.Secret{}
		_, err := awskeys.Load(context.Background(), awskeys.Settings{Role: w.role}, &masks{})
		if !errors.Is(err, awskeys.ErrIDTokenUnavailable) {
			t.Fatalf("err = %v, want ErrIDTokenUnavailable", err)
		}
	})
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
			msg := err.Error()
			for _, want := range append([]string{"assume role " + w.role.ARN, "token.actions.githubusercontent.com:aud",
				"token.actions.githubusercontent.com:sub", "trust policy"}, tt.wantIn...) {
				if !strings.Contains(msg, want) {
					t.Errorf("message lacks %q:\n%s", want, msg)
				}
			}
			for _, tok := range w.oidc.Issued() {
				if strings.Contains(msg, tok) {
					t.Error("message reveals the JWT")
				}
			}
		})
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
			acct := awstest.NewAccount(t)
			awstest.Setenv(t, acct.Env(), awstest.KeyEnv(acct.AddKey("admin", awstest.Active)))
			acct.AddUser("funnel")
			acct.SetPropagationDelay(tt.delay)
			if tt.fault != nil {
				acct.Fail("GetCallerIdentity", *tt.fault)
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
			worksAt := time.Now().Add(tt.delay)
			if tt.wrongKey {
				key.Secret = secret.New("not-the-secret")
			}
			start := time.Now()
			id, err := awskeys.VerifyKey(ctx, cfg, key, tt.budget)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), key.ID) || strings.Contains(err.Error(), key.Secret.Reveal()) {
					t.Errorf("error reveals the key: %v", err)
				}
				if elapsed := time.Since(start); elapsed > tt.budget+time.Second {
					t.Errorf("took %s with a budget of %s", elapsed, tt.budget)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.Arn != "arn:aws:iam::123456789012:user/funnel" || id.Account != "123456789012" {
				t.Errorf("identity = %+v", id)
			}
			if late := time.Since(worksAt); late > tt.maxLatency {
				t.Errorf("returned %s after the key started working, want at most %s", late, tt.maxLatency)
			}
		})
	}
}

func TestIAM(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) (*awstest.Account, *awskeys.IAM, *masks) {
		acct := awstest.NewAccount(t)
		awstest.Setenv(t, acct.Env(), awstest.KeyEnv(acct.AddKey("admin", awstest.Active)))
		acct.AddUser("funnel")
		cfg, err := awskeys.Load(ctx, awskeys.Settings{}, &masks{})
		if err != nil {
			t.Fatal(err)
		}
		m := &masks{}
		return acct, awskeys.NewIAM(cfg, m), m
	}
	t.Run("CreateAccessKey masks the new key id and secret at once", func(t *testing.T) {
		acct, c, m := setup(t)
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
	})
	t.Run("ListAccessKeys lists keys oldest first with their status", func(t *testing.T) {
		acct, c, _ := setup(t)
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
	})
	t.Run("a third key hits the two-keys-per-user limit", func(t *testing.T) {
		acct, c, _ := setup(t)
		acct.AddKey("funnel", awstest.Active)
		acct.AddKey("funnel", awstest.Inactive)
		_, err := c.CreateAccessKey(ctx, "funnel")
		if err == nil || !strings.Contains(err.Error(), "LimitExceeded") || !strings.Contains(err.Error(), "two access keys per user") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("Deactivate and Delete change the key in IAM", func(t *testing.T) {
		acct, c, _ := setup(t)
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
	})
	t.Run("errors name what failed and which key", func(t *testing.T) {
		_, c, _ := setup(t)
		err := c.Delete(ctx, "funnel", "AKIAGONE")
		if err == nil || !strings.Contains(err.Error(), "deleting access key AKIAGONE of IAM user funnel") || !strings.Contains(err.Error(), "NoSuchEntity") {
			t.Fatalf("err = %v", err)
		}
		_, err = c.ListAccessKeys(ctx, "nobody")
		if err == nil || !strings.Contains(err.Error(), "listing the access keys of IAM user nobody") || !strings.Contains(err.Error(), "check the IAM user name") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("calls go to AWS_ENDPOINT_URL_IAM signed with the configured credentials", func(t *testing.T) {
		acct, c, _ := setup(t)
		if _, err := c.ListAccessKeys(ctx, "funnel"); err != nil {
			t.Fatal(err)
		}
		reqs := acct.Requests()
		if r := reqs[len(reqs)-1]; r.Service != "iam" || r.CallerArn != "arn:aws:iam::123456789012:user/admin" {
			t.Errorf("last request = %+v", r)
		}
	})
}

func ptr[T any](v T) *T { return &v }
