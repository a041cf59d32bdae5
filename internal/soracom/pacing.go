package soracom

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// pacer keeps one client's calls within SORACOM's rate limits before they are met.
// SORACOM limits each operator per API per minute and says on every answer how much
// of the minute's budget is left (X-Soracom-Ratelimit-Remaining) and when it refreshes
// (X-Soracom-Ratelimit-Seconds-Before-Refresh). A call that would spend the last of
// the budget while others are in flight (Remaining no more than the calls in flight)
// waits for the refresh instead of drawing a 429, which would cost the same wait and a
// request more. A client is one coverage, so each coverage is paced on its own; each
// operation (listCredentials, updateCredential, …) is one API.
//
// Without the headers (a proxy may strip them) nothing is known and nothing waits: the
// 429 handling of the retry policy is the fallback.
type pacer struct {
	now     func() time.Time
	maxWait time.Duration
	// notify is told of each wait, once per API and window.
	notify func(operation string, remaining, limit int, wait time.Duration)

	mu   sync.Mutex
	apis map[string]*apiBudget
}

// apiBudget is what the answers said about one API's budget, and the calls in flight.
type apiBudget struct {
	known     bool
	limit     int
	remaining int
	refresh   time.Time
	inFlight  int
	announced time.Time // the refresh a wait was last announced for
	// guessed is true once a window has passed and no answer has told the new one yet.
	guessed bool
}

// refreshSlack is how far apart two answers may place the same refresh: the header
// counts whole seconds.
const refreshSlack = 2 * time.Second

func newPacer(now func() time.Time, maxWait time.Duration) *pacer {
	return &pacer{now: now, maxWait: maxWait, apis: map[string]*apiBudget{}}
}

// errPaceCancelled is a call that ended while it waited for the budget: it was never
// sent.
type errPaceCancelled struct{ err error }

func (e *errPaceCancelled) Error() string {
	return "stopped while waiting for SORACOM's rate limit to refresh: " + e.err.Error()
}
func (e *errPaceCancelled) Unwrap() error { return e.err }

// acquire waits, when the budget of operation is spent but for the calls in flight,
// until it refreshes (at most maxWait, and once: a call that still meets a 429 is
// retried by the policy), then counts the call in flight. release must be called with
// the answer's headers (nil when there was none).
func (p *pacer) acquire(ctx context.Context, operation string) (release func(http.Header), err error) {
	if wait := p.waitFor(operation); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, &errPaceCancelled{ctx.Err()}
		}
	}
	p.mu.Lock()
	b := p.budget(operation)
	b.inFlight++
	p.mu.Unlock()
	return func(h http.Header) { p.release(operation, h) }, nil
}

// waitFor returns how long a new call of operation should wait, and announces it.
func (p *pacer) waitFor(operation string) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.budget(operation)
	if !b.known || b.remaining > b.inFlight {
		return 0
	}
	wait := min(b.refresh.Sub(p.now()), p.maxWait)
	if wait > 0 && p.notify != nil && !b.announced.Equal(b.refresh) {
		b.announced = b.refresh
		p.notify(operation, b.remaining, b.limit, wait)
	}
	return wait
}

// budget returns the budget of operation; a window that has passed is refreshed in
// full (the next answer corrects the guess). Called with mu held.
func (p *pacer) budget(operation string) *apiBudget {
	b := p.apis[operation]
	if b == nil {
		b = &apiBudget{}
		p.apis[operation] = b
	}
	if now := p.now(); b.known && !now.Before(b.refresh) {
		b.remaining = b.limit
		b.refresh = now.Add(time.Minute)
		b.guessed = true
	}
	return b
}

// release counts a call out and learns from its answer's headers. Answers arrive out
// of order: within one window the lowest Remaining is the truth; an answer placing the
// refresh clearly later opens a new window.
func (p *pacer) release(operation string, h http.Header) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.budget(operation)
	b.inFlight = max(b.inFlight-1, 0)
	now := p.now()
	limit, remaining, refresh, ok := readLimit(h, now)
	if !ok {
		return
	}
	// SORACOM's windows last a minute; a refresh said to be further away is not
	// believed beyond the longest wait.
	if latest := now.Add(p.maxWait); refresh.After(latest) {
		refresh = latest
	}
	if !b.known || b.guessed || refresh.After(b.refresh.Add(refreshSlack)) {
		b.remaining, b.refresh, b.guessed = remaining, refresh, false
	} else {
		b.remaining = min(b.remaining, remaining)
	}
	b.limit, b.known = max(limit, remaining), true
}

// readLimit reads SORACOM's rate-limit headers. They come from the server, so values
// out of any sane range are ignored rather than waited on: the wait is capped anyway.
func readLimit(h http.Header, now time.Time) (limit, remaining int, refresh time.Time, ok bool) {
	if h == nil {
		return 0, 0, time.Time{}, false
	}
	num := func(name string) (float64, error) {
		v := strings.TrimSpace(h.Get("X-Soracom-Ratelimit-" + name))
		f, err := strconv.ParseFloat(v, 64)
		if err == nil && (f < 0 || f > 1e9 || f != f) {
			err = errors.New("out of range")
		}
		return f, err
	}
	rem, errRem := num("Remaining")
	secs, errSecs := num("Seconds-Before-Refresh")
	if errRem != nil || errSecs != nil {
		return 0, 0, time.Time{}, false
	}
	lim, err := num("Limit")
	if err != nil {
		lim = rem
	}
	return int(lim), int(rem), now.Add(time.Duration(secs * float64(time.Second))), true
}
