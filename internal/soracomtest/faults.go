package soracomtest

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// Always, as the times argument of Inject, makes a fault apply to every matching
// request until ClearFaults.
const Always = -1

// Fault scripts how the emulator answers a request, in place of or around its normal
// handling. The zero Fault changes nothing. Steps, in order:
//
//  1. wait Delay; if the client gives up meanwhile, nothing else happens (in particular
//     the request is not handled, so nothing is written);
//  2. handle the request normally (the write happens) when AfterHandling is set, or when
//     neither Drop nor Status is set (a merely slow answer);
//  3. if Drop, close the connection without answering; else if Status is set, answer
//     Status, Header and Body instead of the emulator's answer; else send the normal
//     answer.
//
// So Drop alone loses the request, Drop with AfterHandling loses the response of a
// request that took effect, and Status with AfterHandling is a gateway error after the
// write (a 502 whose request went through).
type Fault struct {
	Delay         time.Duration
	AfterHandling bool
	Drop          bool
	Status        int
	// Header is sent with Status. Without a Content-Type, none is sent: Go's server
	// would otherwise sniff one.
	Header http.Header
	Body   string
}

// StatusFault answers status with a SORACOM-style JSON error body.
func StatusFault(status int) Fault {
	return Fault{
		Status: status,
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   fmt.Sprintf(`{"code":"SEM%04d","message":"%s (injected)"}`, status, http.StatusText(status)),
	}
}

// TooManyRequests answers 429 the way SORACOM's rate limiter does: the
// X-Soracom-Ratelimit-* headers saying the limit is spent for secondsBeforeRefresh more
// seconds, and, if retryAfter, a Retry-After header with the same value (SORACOM does
// not document one, so a client must work without it).
func TooManyRequests(secondsBeforeRefresh int, retryAfter bool) Fault {
	f := StatusFault(http.StatusTooManyRequests)
	f.Header.Set("X-Soracom-Ratelimit-Limit", "60")
	f.Header.Set("X-Soracom-Ratelimit-Remaining", "0")
	f.Header.Set("X-Soracom-Ratelimit-Seconds-Before-Refresh", strconv.Itoa(secondsBeforeRefresh))
	if retryAfter {
		f.Header.Set("Retry-After", strconv.Itoa(secondsBeforeRefresh))
	}
	f.Body = `{"code":"SEM0429","message":"Rate limit exceeded."}`
	return f
}

// PlainTextFault answers status with body as text/plain, as SORACOM sometimes sends its
// errors.
func PlainTextFault(status int, body string) Fault {
	return Fault{Status: status, Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, Body: body}
}

// HTMLFault answers status with an HTML page, as a load balancer in front of the API
// does when the API itself is unreachable.
func HTMLFault(status int) Fault {
	text := fmt.Sprintf("%d %s", status, http.StatusText(status))
	return Fault{
		Status: status,
		Header: http.Header{"Content-Type": {"text/html"}},
		Body:   "<html>\r\n<head><title>" + text + "</title></head>\r\n<body>\r\n<center><h1>" + text + "</h1></center>\r\n</body>\r\n</html>\r\n",
	}
}

// DropBeforeHandling closes the connection without handling the request: the request
// is lost and nothing changed. Go's transport silently retries a GET dropped on a
// reused connection, so such a client may see the retry's answer rather than an
// error; POST and PUT are not retried.
func DropBeforeHandling() Fault { return Fault{Drop: true} }

// DropAfterHandling handles the request, so its write takes effect, then closes the
// connection without answering: the response is lost.
func DropAfterHandling() Fault { return Fault{AfterHandling: true, Drop: true} }

// SlowFault answers normally after d, or not at all if the client gives up first.
func SlowFault(d time.Duration) Fault { return Fault{Delay: d} }

type faultRule struct {
	method    string // "" matches any
	pattern   string // path.Match pattern
	remaining int    // Always, or how many more requests to affect
	fault     Fault
}

// Inject scripts f for the next times requests matching match (Always: for all of
// them). match is "METHOD PATH" or "PATH"; METHOD may be "*" and PATH is a path.Match
// pattern, so "PUT /v1/credentials/*" matches every update. Faults apply in the order
// they were injected; one request consumes at most one. Inject panics on a malformed
// pattern, which is a bug in the test.
func (e *Emulator) Inject(match string, times int, f Fault) {
	method, pattern := "", match
	if m, p, ok := strings.Cut(match, " "); ok {
		method, pattern = m, strings.TrimSpace(p)
	}
	if method == "*" {
		method = ""
	}
	if _, err := path.Match(pattern, ""); err != nil || !strings.HasPrefix(pattern, "/") {
		panic(fmt.Sprintf("soracomtest: bad fault pattern %q", match))
	}
	if times == 0 {
		return
	}
	f.Header = f.Header.Clone()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, &faultRule{method: strings.ToUpper(method), pattern: pattern, remaining: times, fault: f})
}

// ClearFaults removes every scripted fault that has not run out yet.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = nil
}

// PendingFaults returns how many requests scripted faults still wait for; Always
// faults count as one. A test asserts zero to check that every fault was met.
func (e *Emulator) PendingFaults() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, r := range e.faults {
		if r.remaining == Always {
			n++
		} else {
			n += r.remaining
		}
	}
	return n
}

func (e *Emulator) takeFaultLocked(method, p string) *Fault {
	for i, r := range e.faults {
		if r.method != "" && r.method != method {
			continue
		}
		if ok, _ := path.Match(r.pattern, p); !ok {
			continue
		}
		f := r.fault
		if r.remaining != Always {
			r.remaining--
			if r.remaining == 0 {
				e.faults = append(e.faults[:i:i], e.faults[i+1:]...)
			}
		}
		return &f
	}
	return nil
}

func (e *Emulator) serveFault(w http.ResponseWriter, r *http.Request, body []byte, f *Fault) {
	if !sleep(r.Context(), f.Delay) {
		e.record(r, body, 0, outcome{fault: true, note: "client gave up during fault delay"})
		return
	}
	var resp *response
	handled := f.AfterHandling || (f.Status == 0 && !f.Drop)
	if handled {
		resp = e.handle(r, body)
	}
	switch {
	case f.Drop:
		// Record first: dropping may unwind the handler with a panic.
		e.record(r, body, 0, outcome{handled: handled, fault: true, dropped: true})
		drop(w)
	case f.Status != 0:
		injected := &response{status: f.Status, header: maps.Clone(f.Header), body: []byte(f.Body)}
		if injected.header == nil {
			injected.header = http.Header{}
		}
		if injected.header.Get("Content-Type") == "" {
			// An empty value keeps net/http from sniffing and adding one.
			injected.header["Content-Type"] = nil
		}
		e.record(r, body, f.Status, outcome{handled: handled, fault: true})
		injected.writeTo(w)
	default:
		e.record(r, body, resp.status, outcome{handled: true, fault: true, resp: resp})
		resp.writeTo(w)
	}
}

// drop closes the connection without a response. Hijacking closes it at once; where
// the connection cannot be hijacked (HTTP/2), ErrAbortHandler makes net/http reset the
// stream instead.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// sleep waits d, and reports false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		// No wait, no check: a real server handles a request whose client has just
		// gone, and tests of lost responses rely on that.
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
