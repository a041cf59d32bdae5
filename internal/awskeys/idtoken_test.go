package awskeys

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awstest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
)

// fastRetry is defaultIDTokenRetry scaled down so that the tests stay quick.
var fastRetry = idTokenRetry{initial: 5 * time.Millisecond, max: 20 * time.Millisecond, elapsed: time.Second, tries: 5, attempt: time.Second}

type masks struct{ values []string }

func (m *masks) AddMask(v string)  { m.values = append(m.values, v) }
func (m *masks) has(v string) bool { return slices.Contains(m.values, v) }

// checkIDTokenError checks that err says want and does not reveal the request token.
func checkIDTokenError(t *testing.T, err error, want, requestToken string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want it to contain %q", err, want)
	}
	if strings.Contains(err.Error(), requestToken) {
		t.Errorf("error reveals the request token: %v", err)
	}
}

// checkIDToken checks that got is a JWT the issuer signed for STS, and was masked.
func checkIDToken(t *testing.T, oidc *awstest.OIDC, got secret.Secret, m *masks) {
	t.Helper()
	claims, err := oidc.Verify(got.Reveal())
	if err != nil {
		t.Fatalf("token does not verify: %v", err)
	}
	if claims.Aud != "sts.amazonaws.com" {
		t.Errorf("aud = %q, want sts.amazonaws.com", claims.Aud)
	}
	if !m.has(got.Reveal()) {
		t.Error("the JWT was not masked")
	}
}

func TestFetchIDToken(t *testing.T) {
	tests := []struct {
		name         string
		failures     []int
		url, token   func(*awstest.OIDC) string
		wantErr      string
		wantAttempts int
	}{
		{name: "returns the JWT for the audience and masks it", wantAttempts: 1},
		{name: "retries 5xx and 429 answers, then succeeds", failures: []int{503, 429, 500}, wantAttempts: 4},
		{name: "gives up after five attempts", failures: []int{503, 503, 503, 503, 503, 503},
			wantErr: "HTTP 503", wantAttempts: 5},
		{name: "does not retry a refused request token",
			token:   func(*awstest.OIDC) string { return "wrong" },
			wantErr: "HTTP 401", wantAttempts: 1},
		{name: "without ACTIONS_ID_TOKEN_REQUEST_URL says no token is available",
			url:     func(*awstest.OIDC) string { return "" },
			wantErr: "ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set", wantAttempts: 0},
		{name: "without ACTIONS_ID_TOKEN_REQUEST_TOKEN says no token is available",
			token:   func(*awstest.OIDC) string { return "" },
			wantErr: "ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set", wantAttempts: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oidc := awstest.NewOIDC(t)
			oidc.FailNext(tt.failures...)
			u, tok := oidc.URL(), oidc.RequestToken()
			if tt.url != nil {
				u = tt.url(oidc)
			}
			if tt.token != nil {
				tok = tt.token(oidc)
			}
			m := &masks{}
			got, err := fetchIDToken(context.Background(), nil, u, secret.New(tok), "sts.amazonaws.com", m, fastRetry)
			if n := oidc.Attempts(); n != tt.wantAttempts {
				t.Errorf("attempts = %d, want %d", n, tt.wantAttempts)
			}
			if tt.wantErr != "" {
				checkIDTokenError(t, err, tt.wantErr, oidc.RequestToken())
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkIDToken(t, oidc, got, m)
		})
	}
}

func TestIDTokenURLAppendsTheAudience(t *testing.T) {
	tests := []struct{ name, in, audience, want string }{
		{"to the runner's query, keeping it as it is", "https://x.example/idtoken?api-version=2.0", "sts.amazonaws.com",
			"https://x.example/idtoken?api-version=2.0&audience=sts.amazonaws.com"},
		{"to a URL without a query", "https://x.example/idtoken", "sts.amazonaws.com", "https://x.example/idtoken?audience=sts.amazonaws.com"},
		{"escaped", "https://x.example/t?a=b", "https://my aud/?x=1&y", "https://x.example/t?a=b&audience=https%3A%2F%2Fmy+aud%2F%3Fx%3D1%26y"},
		{"only when there is one", "https://x.example/t?a=b", "", "https://x.example/t?a=b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := idTokenURL(tt.in, tt.audience)
			if err != nil || got != tt.want {
				t.Fatalf("idTokenURL(%q, %q) = %q, %v; want %q", tt.in, tt.audience, got, err, tt.want)
			}
		})
	}
	if _, err := idTokenURL("not a url", "a"); err == nil || !strings.Contains(err.Error(), "ACTIONS_ID_TOKEN_REQUEST_URL") {
		t.Errorf("a bad URL: err = %v", err)
	}
}
