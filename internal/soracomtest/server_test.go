package soracomtest_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

func TestServerURLHasNoV1(t *testing.T) {
	for _, tt := range []struct {
		name   string
		start  func(soracomtest.TB, ...soracomtest.Option) *soracomtest.Server
		scheme string
	}{
		{"plain", soracomtest.Start, "http://127.0.0.1:"},
		{"tls", soracomtest.StartTLS, "https://127.0.0.1:"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.start(t)
			if u := s.URL(); !strings.HasPrefix(u, tt.scheme) || strings.Contains(u, "/v1") {
				t.Errorf("URL() = %q, want %s<port> without /v1", u, tt.scheme)
			}
		})
	}
}

func TestTLSServer(t *testing.T) {
	s := soracomtest.StartTLS(t, soracomtest.WithCertHosts("soracom.test", "10.0.0.7"))

	block, _ := pem.Decode(s.CACertPEM())
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("CACertPEM is not a PEM certificate: %q", s.CACertPEM())
	}
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil || !ca.IsCA {
		t.Fatalf("CA certificate: %v, IsCA %v", err, ca != nil && ca.IsCA)
	}

	// A client that trusts the system roots only must refuse the server.
	if _, err := http.Get(s.URL() + "/v1/credentials"); err == nil {
		t.Error("a client without the CA trusted the server")
	}

	conn, err := tls.Dial("tcp", strings.TrimPrefix(s.URL(), "https://"), &tls.Config{RootCAs: s.CertPool(), ServerName: "soracom.test", MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("the certificate does not cover an extra host: %v", err)
	}
	leaf := conn.ConnectionState().PeerCertificates[0]
	conn.Close()
	if err := leaf.VerifyHostname("10.0.0.7"); err != nil {
		t.Errorf("the certificate does not cover an extra IP: %v", err)
	}
	if err := leaf.VerifyHostname("localhost"); err != nil {
		t.Errorf("the certificate does not cover localhost: %v", err)
	}
}

func TestConnectionsAndHandshakesAreCounted(t *testing.T) {
	tests := []struct {
		name          string
		keepAlive     bool
		wantConns     int64
		wantHandshake int64
	}{
		{"a reused connection is counted once", true, 1, 1},
		{"without keep-alive every request opens a connection", false, 3, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := soracomtest.StartTLS(t)
			c := s.Client()
			c.Transport.(*http.Transport).DisableKeepAlives = !tt.keepAlive
			for range 3 {
				resp, err := c.Get(s.URL() + "/v1/credentials")
				if err != nil {
					t.Fatal(err)
				}
				// Read to the end, or the client cannot reuse the connection.
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			if n := s.Connections(); n != tt.wantConns {
				t.Errorf("Connections() = %d, want %d", n, tt.wantConns)
			}
			if n := s.TLSHandshakes(); n != tt.wantHandshake {
				t.Errorf("TLSHandshakes() = %d, want %d", n, tt.wantHandshake)
			}
		})
	}
}

func TestConnLatencyIsPaidPerConnection(t *testing.T) {
	const d = 40 * time.Millisecond
	s := soracomtest.Start(t, soracomtest.WithConnLatency(d))
	c := s.Client()
	get := func() time.Duration {
		start := time.Now()
		resp, err := c.Get(s.URL() + "/v1/credentials")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return time.Since(start)
	}
	if first := get(); first < d {
		t.Errorf("the first request took %v, want at least %v", first, d)
	}
	if second := get(); second >= d {
		t.Errorf("a request on the reused connection took %v, want less than %v", second, d)
	}
}

func TestRequestLog(t *testing.T) {
	s := soracomtest.Start(t, fixedClock())
	sess := login(t, s)
	s.Advance(time.Second)
	mustDo(t, s, sess, "POST", "/v1/credentials/set-1", awsBody("AKIA", "top-secret"))
	mustDo(t, s, sess, "PUT", "/v1/credentials/set-1", awsBody("AKIA", "top-secret-2"))
	mustDo(t, s, sess, "GET", "/v1/credentials", nil)

	log := s.Requests()
	if len(log) != 4 {
		t.Fatalf("%d entries, want 4", len(log))
	}
	create := log[1]
	if create.Method != "POST" || create.Path != "/v1/credentials/set-1" || create.Status != 201 || !create.Handled || create.Fault || create.Dropped {
		t.Errorf("create logged as %+v", create)
	}
	if !create.Time.Equal(epoch.Add(time.Second)) {
		t.Errorf("logged at %v, want the emulator's clock %v", create.Time, epoch.Add(time.Second))
	}
	if create.Header.Get("X-Soracom-API-Key") != sess.apiKey || create.Header.Get("X-Soracom-Token") != sess.token || create.Header.Get("Content-Type") != "application/json" {
		t.Errorf("logged headers %v", create.Header)
	}
	if create.Header.Get("Accept-Encoding") != "" {
		t.Errorf("logged a header that was not asked for: %v", create.Header)
	}
	if !strings.Contains(string(create.Body), `"secretAccessKey":"top-secret"`) {
		t.Errorf("logged body %s", create.Body)
	}

	// The log hands out copies.
	log[1].Body[0] = 'X'
	log[1].Header.Set("X-Soracom-Token", "changed")
	if again := s.Requests()[1]; again.Body[0] != '{' || again.Header.Get("X-Soracom-Token") != sess.token {
		t.Error("changing a returned entry changed the log")
	}

	counts := []struct {
		method, prefix string
		want           int
	}{
		{"", "/v1/", 4},
		{"", "/v1/credentials", 3},
		{"POST", "/v1/credentials", 1},
		{"PUT", "/v1/credentials/set-1", 1},
		{"POST", "/v1/auth", 1},
		{"DELETE", "/v1/", 0},
	}
	for _, c := range counts {
		if got := s.CountRequests(c.method, c.prefix); got != c.want {
			t.Errorf("CountRequests(%q, %q) = %d, want %d", c.method, c.prefix, got, c.want)
		}
	}

	s.Reset()
	if n := len(s.Requests()); n != 0 {
		t.Errorf("after Reset: %d entries", n)
	}
	if _, ok := s.CredentialSet("set-1"); !ok || s.LiveSessions() != 1 {
		t.Error("Reset dropped state it must keep")
	}
}

func TestStoredSetsAreCopies(t *testing.T) {
	e := soracomtest.New()
	creds := map[string]any{"accessKeyId": "A", "secretAccessKey": "S"}
	e.PutCredentialSet(soracomtest.CredentialSet{ID: "x", Type: "aws-credentials", Credentials: creds})
	creds["secretAccessKey"] = "changed"
	got, _ := e.CredentialSet("x")
	got.Credentials["accessKeyId"] = "changed"
	again, _ := e.CredentialSet("x")
	if again.Credentials["secretAccessKey"] != "S" || again.Credentials["accessKeyId"] != "A" {
		t.Errorf("stored set changed through a shared map: %v", again.Credentials)
	}
	if sets := e.CredentialSets(); len(sets) != 1 || sets[0].ID != "x" || sets[0].Created.IsZero() {
		t.Errorf("CredentialSets() = %+v", sets)
	}
}
