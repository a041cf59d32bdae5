package awskeys_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awskeys"
)

// credentialsServer answers every credentials request the SDK's container and
// instance-metadata providers make, with working credentials, and counts the requests.
func credentialsServer(t *testing.T, delay time.Duration) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	body := `{"Code":"Success","AccessKeyId":"ASIAIOSFODNN7EXAMPLE","SecretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",` +
		`"Token":"session-token","Expiration":"` + time.Now().Add(time.Hour).UTC().Format(time.RFC3339) + `"}`
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		switch {
		case r.URL.Path == "/latest/api/token":
			fmt.Fprint(w, "imds-token")
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/":
			fmt.Fprint(w, "runner-role")
		default:
			fmt.Fprint(w, body)
		}
	}))
	t.Cleanup(s.Close)
	return s, &hits
}

// redirecting answers requests whose path starts with prefix with status, pointing at
// target (same path); the others it hands to next.
func redirecting(t *testing.T, prefix string, status int, target string, next http.Handler) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, prefix) {
			http.Redirect(w, r, target+r.URL.Path, status)
			return
		}
		next.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// The SDK's own credential providers, which the action uses without role-to-assume,
// follow no redirect: a container credentials endpoint or an instance metadata service
// on loopback that redirects to a server holding credentials gets the run no
// credentials, and that server is never asked.
func TestCredentialProvidersFollowNoRedirect(t *testing.T) {
	tests := []struct {
		name   string
		status int
		prefix string // the requests that are redirected
		env    func(url string) map[string]string
	}{
		{"container credentials, 307", http.StatusTemporaryRedirect, "/", containerEnv},
		{"container credentials, 308", http.StatusPermanentRedirect, "/", containerEnv},
		{"instance metadata, every request with 307", http.StatusTemporaryRedirect, "/latest/", metadataEnv},
		{"instance metadata, the credentials with 308", http.StatusPermanentRedirect, "/latest/meta-data/iam/", metadataEnv},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			newWorld(t)
			holder, hits := credentialsServer(t, 0)
			local, _ := credentialsServer(t, 0)
			s := redirecting(t, tt.prefix, tt.status, holder.URL, local.Config.Handler)
			for k, v := range tt.env(s.URL) {
				t.Setenv(k, v)
			}
			_, err := awskeys.Load(context.Background(), awskeys.Settings{Bounds: fastBounds}, &masks{})
			if err == nil || !strings.Contains(err.Error(), "no AWS credentials found") {
				t.Errorf("err = %v, want no credentials", err)
			}
			if n := hits.Load(); n > 0 {
				t.Errorf("the redirect was followed: the target got %d requests", n)
			}
		})
	}
}

func containerEnv(url string) map[string]string {
	return map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": url + "/v1/credentials"}
}

func metadataEnv(url string) map[string]string {
	return map[string]string{"AWS_EC2_METADATA_DISABLED": "false", "AWS_EC2_METADATA_SERVICE_ENDPOINT": url}
}

// The providers' requests are bounded per attempt like every other AWS call: an
// endpoint that answers, but only after the attempt bound, gets the run no credentials
// within the call bound, where the SDK's own client would have waited for it.
func TestCredentialProvidersAreBoundedPerAttempt(t *testing.T) {
	tests := []struct {
		name string
		env  func(url string) map[string]string
	}{
		{"container credentials", containerEnv},
		{"instance metadata", metadataEnv},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			newWorld(t)
			slow, hits := credentialsServer(t, 300*time.Millisecond)
			for k, v := range tt.env(slow.URL) {
				t.Setenv(k, v)
			}
			bounds := awskeys.Bounds{Attempt: 150 * time.Millisecond, Call: 10 * time.Second}
			_, err := awskeys.Load(context.Background(), awskeys.Settings{Bounds: bounds}, &masks{})
			if err == nil || !strings.Contains(err.Error(), "no AWS credentials found") {
				t.Errorf("err = %v, want no credentials", err)
			}
			if hits.Load() == 0 {
				t.Error("the endpoint was never asked")
			}
		})
	}
}
