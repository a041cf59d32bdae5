package soracomtest

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// Request is one entry of the request log.
type Request struct {
	// Time is when the request arrived, by the emulator's clock.
	Time   time.Time
	Method string
	Path   string
	// Header holds the logged headers only (see WithLoggedHeaders).
	Header http.Header
	// Body is the request body as received, secrets included: it is test data.
	Body []byte
	// Status is the status answered; 0 when nothing was answered (dropped connection,
	// client gone).
	Status int
	// Handled reports that the emulator ran the operation, so a write took effect if
	// the operation succeeded, whatever the client saw.
	Handled bool
	// Fault reports that a scripted fault shaped the answer; Dropped that the
	// connection was closed without one.
	Fault   bool
	Dropped bool
	// Note says why nothing was answered, when that is the case.
	Note string
}

// outcome is what became of a request, for the log and the contract check.
type outcome struct {
	handled bool
	fault   bool
	dropped bool
	note    string
	// resp is the emulator's own answer when it was sent, for the contract check;
	// answers shaped by a fault are the test's script, not the emulator's behaviour.
	resp *response
}

// record logs a request and, with a contract, checks it and the emulator's answer.
func (e *Emulator) record(r *http.Request, body []byte, status int, o outcome) {
	var violations []ContractViolation
	if ct := e.cfg.contract; ct != nil {
		violations = ct.check(r, body, o.resp)
	}
	header := http.Header{}
	for _, name := range e.cfg.headers {
		if v := r.Header.Values(name); len(v) > 0 {
			header[http.CanonicalHeaderKey(name)] = slices.Clone(v)
		}
	}
	e.mu.Lock()
	entry := Request{
		Time:    e.nowLocked(),
		Method:  r.Method,
		Path:    r.URL.Path,
		Header:  header,
		Body:    slices.Clone(body),
		Status:  status,
		Handled: o.handled,
		Fault:   o.fault,
		Dropped: o.dropped,
		Note:    o.note,
	}
	e.requests = append(e.requests, entry)
	e.violations = append(e.violations, violations...)
	e.mu.Unlock()
	if e.cfg.observe != nil {
		entry.Header = entry.Header.Clone()
		entry.Body = slices.Clone(entry.Body)
		e.cfg.observe(entry)
	}
}

// Requests returns the request log, oldest first.
func (e *Emulator) Requests() []Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Request, len(e.requests))
	for i, r := range e.requests {
		r.Header = r.Header.Clone()
		r.Body = slices.Clone(r.Body)
		out[i] = r
	}
	return out
}

// CountRequests returns how many logged requests have the method (any if empty) and a
// path starting with pathPrefix.
func (e *Emulator) CountRequests(method, pathPrefix string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, r := range e.requests {
		if (method == "" || r.Method == method) && strings.HasPrefix(r.Path, pathPrefix) {
			n++
		}
	}
	return n
}

// Reset clears the request log and the recorded contract violations. Auth keys,
// sessions, credential sets, denials and faults stay.
func (e *Emulator) Reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.requests = nil
	e.violations = nil
}
