// Package tripwire is a test proxy that puts a cancellation in the middle of a
// request: placed in front of a fake (the SORACOM emulator, the fake IAM or STS), it
// passes every request through until a chosen one arrives, then fires (the test
// cancels the run there, as SIGTERM would), holds that request until the caller gives
// up on it, and carries it out all the same, as a request already on its way is.
package tripwire

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Landing is when the held request is carried out.
type Landing int

// The landings.
const (
	// Never: the request is lost.
	Never Landing = iota
	// Soon: as soon as the caller gave up on it.
	Soon
	// Late: just before the next SORACOM logout passes, or when Release is called:
	// nothing the caller checked before could have seen it.
	Late
)

// giveUpWait bounds how long the held request waits for the caller to give up.
const giveUpWait = 10 * time.Second

// Wire is the proxy.
type Wire struct {
	// URL is the proxy's address: point the client here instead of at the target.
	URL string

	target string
	match  func(r *http.Request, body string) bool
	land   Landing
	fire   func()

	mu       sync.Mutex
	fired    bool
	released bool
	release  chan struct{}
	done     chan struct{} // closed once the held request was handled
}

// New starts a proxy to target that calls fire when the first request match accepts
// arrives, and lands that request as land says. It stops when the test ends.
func New(t testing.TB, target string, land Landing, match func(r *http.Request, body string) bool, fire func()) *Wire {
	w := &Wire{target: target, match: match, land: land, fire: fire, release: make(chan struct{}), done: make(chan struct{})}
	srv := httptest.NewServer(w)
	t.Cleanup(srv.Close)
	w.URL = srv.URL
	return w
}

// Action matches an AWS query API request (IAM, STS) for the action name.
func Action(name string) func(*http.Request, string) bool {
	return func(_ *http.Request, body string) bool { return strings.Contains(body+"&", "Action="+name+"&") }
}

// Request matches a request by method and path.
func Request(method, path string) func(*http.Request, string) bool {
	return func(r *http.Request, _ string) bool { return r.Method == method && r.URL.Path == path }
}

// Release lands a Late request now, if one is held, and waits until it has landed.
func (w *Wire) Release() {
	w.mu.Lock()
	fired := w.fired
	if fired && !w.released {
		w.released = true
		close(w.release)
	}
	w.mu.Unlock()
	if fired {
		<-w.done
	}
}

// Wait waits until the held request was handled, and reports false if the wire never
// fired within d.
func (w *Wire) Wait(d time.Duration) bool {
	select {
	case <-w.done:
		return true
	case <-time.After(d):
		return false
	}
}

func (w *Wire) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.URL.Path == "/v1/auth/logout" {
		w.Release()
	}
	w.mu.Lock()
	trip := !w.fired && w.match(r, string(body))
	w.fired = w.fired || trip
	w.mu.Unlock()
	if !trip {
		w.pass(rw, r, body)
		return
	}
	defer close(w.done)
	w.fire()
	select { // the caller gives up on the request
	case <-r.Context().Done():
	case <-time.After(giveUpWait):
	}
	if w.land == Late {
		select {
		case <-w.release:
		case <-time.After(giveUpWait):
		}
	}
	if w.land != Never {
		w.pass(httptest.NewRecorder(), r.WithContext(context.Background()), body)
	}
}

func (w *Wire) pass(rw http.ResponseWriter, r *http.Request, body []byte) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, w.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	req.Host = r.Host // AWS clients sign it
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		rw.Header()[k] = v
	}
	rw.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(rw, resp.Body)
}
