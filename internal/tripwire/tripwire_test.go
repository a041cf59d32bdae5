package tripwire_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/tripwire"
)

// target records the requests that reach it.
type target struct {
	mu   sync.Mutex
	seen []string
}

func (tg *target) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tg.mu.Lock()
	tg.seen = append(tg.seen, r.Method+" "+r.URL.Path)
	tg.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (tg *target) requests() string {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return strings.Join(tg.seen, ", ")
}

// send sends a request with body through the wire with ctx and reports whether it was
// answered.
func send(t *testing.T, ctx context.Context, method, url, body string) bool {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

func TestWire(t *testing.T) {
	tests := []struct {
		name    string
		land    tripwire.Landing
		release func(w *tripwire.Wire, url string)
		want    string // requests the target saw, in order
	}{
		{name: "a request never landed is lost", land: tripwire.Never, want: "GET /before"},
		{name: "soon: the cut request lands once the caller gave up", land: tripwire.Soon, want: "GET /before, POST /cut"},
		{
			name: "late: the cut request lands just before the next logout passes",
			land: tripwire.Late,
			release: func(_ *tripwire.Wire, url string) {
				if resp, err := http.Post(url+"/v1/auth/logout", "text/plain", nil); err == nil {
					resp.Body.Close()
				}
			},
			want: "GET /before, POST /cut, POST /v1/auth/logout",
		},
		{
			name:    "late: or when released",
			land:    tripwire.Late,
			release: func(w *tripwire.Wire, _ string) { w.Release() },
			want:    "GET /before, POST /cut",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := &target{}
			srv := httptest.NewServer(tg)
			defer srv.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			wire := tripwire.New(t, srv.URL, tt.land, tripwire.Action("CreateAccessKey"), cancel)
			passThenCut(t, ctx, wire)
			if tt.release != nil {
				tt.release(wire, wire.URL)
			}
			if !wire.Wait(5 * time.Second) {
				t.Fatal("the held request was never handled")
			}
			if got := tg.requests(); got != tt.want {
				t.Errorf("target saw %q, want %q", got, tt.want)
			}
		})
	}
}

// passThenCut sends a request the wire passes, then one it cuts (cancelling ctx).
func passThenCut(t *testing.T, ctx context.Context, wire *tripwire.Wire) {
	t.Helper()
	if !send(t, context.Background(), http.MethodGet, wire.URL+"/before", "Action=ListAccessKeys&Version=1") {
		t.Fatal("a request that does not match was not passed through")
	}
	if send(t, ctx, http.MethodPost, wire.URL+"/cut", "Action=CreateAccessKey&Version=1") {
		t.Fatal("the cut request was answered")
	}
	if ctx.Err() == nil {
		t.Fatal("the wire did not fire")
	}
}

func TestMatchers(t *testing.T) {
	r := httptest.NewRequest(http.MethodPut, "/v1/credentials/cs", nil)
	if !tripwire.Request(http.MethodPut, "/v1/credentials/cs")(r, "") || tripwire.Request(http.MethodPost, "/v1/credentials/cs")(r, "") {
		t.Error("Request matches by method and path")
	}
	if !tripwire.Action("ListAccessKeys")(r, "Action=ListAccessKeys&UserName=u") || tripwire.Action("ListAccessKeys")(r, "Action=ListAccessKeysX") {
		t.Error("Action matches the whole action name")
	}
}
