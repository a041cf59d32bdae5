package soracomtest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// checkFaultAnswer checks the headers and body the client got.
func checkFaultAnswer(t *testing.T, r reply, wantHeader map[string]string, wantBody string) {
	t.Helper()
	for k, v := range wantHeader {
		if got := r.header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if !strings.Contains(string(r.body), wantBody) {
		t.Errorf("body %q does not contain %q", r.body, wantBody)
	}
}

// checkFaultLogged checks how the request log records the last request.
func checkFaultLogged(t *testing.T, s *soracomtest.Server, wantStatus int, wantHandled, wantFault bool) {
	t.Helper()
	log := s.Requests()
	last := log[len(log)-1]
	if last.Handled != wantHandled || last.Status != wantStatus || last.Dropped != (wantStatus == 0) {
		t.Errorf("logged %+v", last)
	}
	if last.Fault != wantFault {
		t.Errorf("logged Fault = %v, want %v", last.Fault, wantFault)
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name        string
		match       string
		fault       soracomtest.Fault
		wantStatus  int // 0: the client gets an error instead of a response
		wantHeader  map[string]string
		wantBody    string // substring
		wantHandled bool   // the set was written
	}{
		{
			name: "429 carries the rate limit headers", match: "PUT /v1/credentials/*",
			fault: soracomtest.TooManyRequests(42, false), wantStatus: 429,
			wantHeader: map[string]string{
				"X-Soracom-Ratelimit-Limit": "60", "X-Soracom-Ratelimit-Remaining": "0",
				"X-Soracom-Ratelimit-Seconds-Before-Refresh": "42", "Retry-After": "",
				"Content-Type": "application/json",
			},
			wantBody: `"code":"SEM0429"`,
		},
		{
			name: "429 may carry Retry-After", match: "PUT /v1/credentials/set-1",
			fault: soracomtest.TooManyRequests(7, true), wantStatus: 429,
			wantHeader: map[string]string{"Retry-After": "7"},
		},
		{
			name: "a 5xx has a SORACOM-style body", match: "* /v1/credentials/*",
			fault: soracomtest.StatusFault(503), wantStatus: 503, wantBody: `"code":"SEM0503"`,
		},
		{
			name: "an error may come as text/plain", match: "PUT /v1/credentials/*",
			fault: soracomtest.PlainTextFault(500, `{"code":"SEM0001","message":"oops"}`), wantStatus: 500,
			wantHeader: map[string]string{"Content-Type": "text/plain; charset=utf-8"}, wantBody: "SEM0001",
		},
		{
			name: "a load balancer answers with HTML", match: "/v1/credentials/*",
			fault: soracomtest.HTMLFault(502), wantStatus: 502,
			wantHeader: map[string]string{"Content-Type": "text/html"}, wantBody: "<h1>502 Bad Gateway</h1>",
		},
		{
			name: "a fault without Content-Type sends none", match: "PUT /v1/credentials/*",
			fault: soracomtest.Fault{Status: 500, Body: "x"}, wantStatus: 500, wantHeader: map[string]string{"Content-Type": ""},
		},
		{
			name: "a gateway error after handling still writes", match: "PUT /v1/credentials/*",
			fault: soracomtest.Fault{AfterHandling: true, Status: 502}, wantStatus: 502, wantHandled: true,
		},
		{
			name: "dropping before handling loses the request", match: "PUT /v1/credentials/*",
			fault: soracomtest.DropBeforeHandling(),
		},
		{
			name: "dropping after handling loses only the response", match: "PUT /v1/credentials/*",
			fault: soracomtest.DropAfterHandling(), wantHandled: true,
		},
		{
			name: "a slow answer is still the normal answer", match: "PUT /v1/credentials/*",
			fault: soracomtest.SlowFault(20 * time.Millisecond), wantStatus: 200, wantHandled: true,
		},
		{
			name: "a fault for another method does not apply", match: "POST /v1/credentials/*",
			fault: soracomtest.StatusFault(500), wantStatus: 200, wantHandled: true,
		},
		{
			name: "a fault for another path does not apply", match: "PUT /v1/credentials/other",
			fault: soracomtest.StatusFault(500), wantStatus: 200, wantHandled: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := soracomtest.Start(t)
			sess := login(t, s)
			s.PutCredentialSet(soracomtest.CredentialSet{ID: "set-1", Type: "aws-credentials", Credentials: map[string]any{"accessKeyId": "OLD"}})
			s.Inject(tt.match, 1, tt.fault)

			r, err := do(t, s, sess, "PUT", "/v1/credentials/set-1", awsBody("NEW", "new-secret"))
			switch {
			case tt.wantStatus == 0 && !errIsDropped(err):
				t.Fatalf("got %d %s, %v; want a dropped connection", r.status, r.body, err)
			case tt.wantStatus != 0 && err != nil:
				t.Fatal(err)
			case r.status != tt.wantStatus:
				t.Fatalf("status %d, want %d (%s)", r.status, tt.wantStatus, r.body)
			}
			checkFaultAnswer(t, r, tt.wantHeader, tt.wantBody)
			stored, _ := s.CredentialSet("set-1")
			if written := stored.Credentials["accessKeyId"] == "NEW"; written != tt.wantHandled {
				t.Errorf("set written = %v, want %v", written, tt.wantHandled)
			}
			// A slow answer is the normal answer, but still a fault in the log.
			wantFault := tt.wantStatus != 200 || tt.name == "a slow answer is still the normal answer"
			checkFaultLogged(t, s, tt.wantStatus, tt.wantHandled, wantFault)

			// A fault applies to the number of requests it was injected for.
			if r := mustDo(t, s, sess, "PUT", "/v1/credentials/set-1", awsBody("NEW", "new-secret")); r.status != 200 {
				t.Errorf("the next request got %d, want 200", r.status)
			}
		})
	}
}

func TestFaultCounts(t *testing.T) {
	s := soracomtest.Start(t)
	sess := login(t, s)
	s.Inject("GET /v1/credentials", 2, soracomtest.StatusFault(503))
	s.Inject("GET /v1/credentials", 1, soracomtest.StatusFault(500))
	if n := s.PendingFaults(); n != 3 {
		t.Errorf("PendingFaults = %d, want 3", n)
	}
	var got []int
	for range 4 {
		got = append(got, mustDo(t, s, sess, "GET", "/v1/credentials", nil).status)
	}
	if want := []int{503, 503, 500, 200}; !equalJSON(got, want) {
		t.Errorf("statuses %v, want %v: faults apply in order, each as often as asked", got, want)
	}
	if n := s.PendingFaults(); n != 0 {
		t.Errorf("PendingFaults = %d, want 0", n)
	}

	s.Inject("/v1/credentials", soracomtest.Always, soracomtest.StatusFault(500))
	for range 3 {
		if r := mustDo(t, s, sess, "GET", "/v1/credentials", nil); r.status != 500 {
			t.Errorf("Always fault: %d", r.status)
		}
	}
	s.ClearFaults()
	if r := mustDo(t, s, sess, "GET", "/v1/credentials", nil); r.status != 200 {
		t.Errorf("after ClearFaults: %d", r.status)
	}
}

func TestInjectRejectsBadPatterns(t *testing.T) {
	for _, match := range []string{"PUT credentials/*", "PUT /v1/[", ""} {
		t.Run(match, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Inject(%q) did not panic", match)
				}
			}()
			soracomtest.New().Inject(match, 1, soracomtest.StatusFault(500))
		})
	}
}

func TestSlowAnswersRespectCancellation(t *testing.T) {
	tests := []struct {
		name string
		opts []soracomtest.Option
		f    *soracomtest.Fault
	}{
		{"a slow fault", nil, &soracomtest.Fault{Delay: 5 * time.Second}},
		{"global latency", []soracomtest.Option{soracomtest.WithLatency(5 * time.Second)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name+" does not handle a request whose client gave up", func(t *testing.T) {
			s := soracomtest.Start(t, tt.opts...)
			s.AddAuthKey("k", "s")
			if tt.f != nil {
				s.Inject("POST /v1/auth", 1, *tt.f)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "POST", s.URL()+"/v1/auth", strings.NewReader(`{"authKeyId":"k","authKey":"s"}`))
			req.Header.Set("Content-Type", "application/json")
			start := time.Now()
			if _, err := s.Client().Do(req); err == nil {
				t.Fatal("the request succeeded")
			}
			if time.Since(start) > 2*time.Second {
				t.Errorf("the client waited %v", time.Since(start))
			}
			waitFor(t, func() bool { return len(s.Requests()) == 1 })
			if r := s.Requests()[0]; r.Handled || r.Status != 0 || r.Note == "" {
				t.Errorf("logged %+v", r)
			}
			if s.LiveSessions() != 0 {
				t.Error("the request was handled")
			}
		})
	}
}

func TestLatency(t *testing.T) {
	s := soracomtest.Start(t, soracomtest.WithLatency(30*time.Millisecond))
	start := time.Now()
	mustDo(t, s, nil, "GET", "/v1/credentials", nil)
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("request took %v, want at least 30ms", d)
	}
}

// waitFor polls cond: the server logs a request after the client has already seen the
// outcome.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
