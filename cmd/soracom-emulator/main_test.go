package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// syncBuffer is a writer the server goroutine and the test can share.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serve runs the command until the test ends and returns the jp URL it printed first.
func serve(t *testing.T, args ...string) (url string, stderr *syncBuffer) {
	t.Helper()
	urls, stderr := serveBoth(t, args...)
	return urls[0], stderr
}

// serveBoth runs the command until the test ends and returns the URLs it printed: jp,
// then g.
func serveBoth(t *testing.T, args ...string) (urls [2]string, stderr *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr = &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, pw, stderr)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("run did not stop after cancellation")
		}
	})
	rd := bufio.NewReader(pr)
	for i := range urls {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("no URL %d printed: %v (stderr: %s)", i+1, err, stderr)
		}
		urls[i] = strings.TrimSpace(line)
	}
	go func() { _, _ = io.Copy(io.Discard, rd) }()
	return urls, stderr
}

func post(t *testing.T, c *http.Client, url, body string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func TestServesOnLoopbackAndLogsWithoutSecrets(t *testing.T) {
	url, stderr := serve(t, "-log")
	if !strings.HasPrefix(url, "http://127.0.0.1:") || strings.HasSuffix(url, "/v1") {
		t.Fatalf("printed %q, want a loopback base URL without /v1", url)
	}
	c := &http.Client{}
	if st := post(t, c, url+"/v1/auth", `{"authKeyId":"keyId-demo","authKey":"secret-demo"}`); st != 200 {
		t.Fatalf("demo key: %d", st)
	}
	if st := post(t, c, url+"/v1/auth", `{"authKeyId":"keyId-demo","authKey":"wrong-secret"}`); st != 401 {
		t.Fatalf("wrong key: %d", st)
	}
	out := stderr.String()
	if !strings.Contains(out, "POST /v1/auth -> 200") || !strings.Contains(out, "POST /v1/auth -> 401") {
		t.Errorf("log lacks the requests:\n%s", out)
	}
	if strings.Contains(out, "secret-demo") || strings.Contains(out, "wrong-secret") {
		t.Errorf("log leaks an auth key:\n%s", out)
	}
}

func TestServesBothCoveragesAsTwoPlaces(t *testing.T) {
	urls, stderr := serveBoth(t, "-log", "-rate-limit", "1")
	if urls[0] == urls[1] || !strings.HasPrefix(urls[1], "http://127.0.0.1:") {
		t.Fatalf("printed %q, want two loopback base URLs", urls)
	}
	c := &http.Client{}
	for _, url := range urls {
		if st := post(t, c, url+"/v1/auth", `{"authKeyId":"keyId-demo","authKey":"secret-demo"}`); st != 200 {
			t.Errorf("demo key at %s: %d", url, st)
		}
	}
	// -rate-limit 1: a second auth within the minute is over the budget of that coverage.
	if st := post(t, c, urls[1]+"/v1/auth", `{"authKeyId":"keyId-demo","authKey":"secret-demo"}`); st != 429 {
		t.Errorf("second auth at g: %d, want 429", st)
	}
	out := stderr.String()
	if !strings.Contains(out, "jp ") || !strings.Contains(out, "g ") {
		t.Errorf("log does not say which coverage answered:\n%s", out)
	}
}

func TestTLSWritesTheCA(t *testing.T) {
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	urls, _ := serveBoth(t, "-tls", "-cert-host", "emulator.test", "-ca-out", caFile, "-auth-key-id", "k", "-auth-key", "s")
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", caFile)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	for _, url := range urls {
		if st := post(t, c, url+"/v1/auth", `{"authKeyId":"k","authKey":"s"}`); st != 200 {
			t.Errorf("auth over TLS at %s: %d", url, st)
		}
	}
}

func TestRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-ca-out", "x.pem"},
		{"-cert-host", "a.test"},
		{"extra"},
		{"-latency", "soon"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			if err := run(context.Background(), args, io.Discard, io.Discard); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestRedactBody(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"auth keys are redacted", `{"authKeyId":"k","authKey":"s","tokenTimeoutSeconds":600}`, `{"authKey":"***","authKeyId":"k","tokenTimeoutSeconds":600}`},
		{"secret credential fields are redacted", `{"type":"aws-credentials","credentials":{"accessKeyId":"A","secretAccessKey":"S"}}`, `{"credentials":{"accessKeyId":"A","secretAccessKey":"***"},"type":"aws-credentials"}`},
		{"every field of an unknown type is redacted", `{"type":"new","credentials":{"a":"1"}}`, `{"credentials":{"a":"***"},"type":"new"}`},
		{"credentials that are not an object are redacted", `{"type":"psk","credentials":"k"}`, `{"credentials":"***","type":"psk"}`},
		{"a body that is not JSON is not printed", `authKey=s`, `<9 bytes, not a JSON object>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redactBody([]byte(tt.body)); got != tt.want {
				t.Errorf("redactBody(%s) = %s, want %s", tt.body, got, tt.want)
			}
		})
	}
}

func TestDescribeNamesFaultsAndDrops(t *testing.T) {
	r := soracomtest.Request{Time: time.Unix(0, 0).UTC(), Method: "PUT", Path: "/v1/credentials/x", Dropped: true, Fault: true, Handled: true}
	if got, want := describe(r), "1970-01-01T00:00:00Z PUT /v1/credentials/x -> dropped (fault)"; got != want {
		t.Errorf("describe = %q, want %q", got, want)
	}
}

func TestHelpPrintsTheFlagsAndServesNothing(t *testing.T) {
	for _, arg := range []string{"-h", "--help", "-help"} {
		var stdout strings.Builder
		err := run(context.Background(), []string{arg}, &stdout, io.Discard)
		if !errors.Is(err, flag.ErrHelp) || !strings.Contains(stdout.String(), "-auth-key-id") || strings.Contains(stdout.String(), "http://") {
			t.Errorf("%s: err %v, stdout:\n%s", arg, err, stdout.String())
		}
	}
}

func TestBooleanFlagsTakeAValueAfterASpace(t *testing.T) {
	s, err := parseFlags([]string{"-log", "false", "--tls", "true", "-addr", "127.0.0.1:0"}, io.Discard, io.Discard)
	if err != nil || s.logRequests || !s.useTLS || s.addr != "127.0.0.1:0" {
		t.Errorf("parseFlags = %+v, %v", s, err)
	}
	s, err = parseFlags([]string{"-log", "-addr", "127.0.0.1:0"}, io.Discard, io.Discard)
	if err != nil || !s.logRequests {
		t.Errorf("a bare -log before another flag: %+v, %v", s, err)
	}
}
