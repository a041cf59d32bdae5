package soracom

import (
	"context"
	"errors"
	"net/http"
	"slices"
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
// waits instead of drawing a 429, which would cost the same wait and a request more:
// for the answers in flight, which may show that Remaining already counted them, and
// once none is in flight and none is left, for the refresh. A client is one coverage,
// so each coverage is paced on its own; each operation (listCredentials,
// updateCredential, …) is one API.
//
// Until an answer has told an API's budget, its first call goes alone (a probe): a
// budget smaller than the calls a pool would start at once is then learnt before it is
// overdrawn. Calls waiting for an API go in the order they came, and each is counted
// in flight under the same lock that decided it may go, so that a refresh lets out
// exactly what the budget holds and no call waits behind later ones.
//
// Without the headers (a proxy may strip them) nothing is known and nothing waits
// after the probe: the 429 handling of the retry policy is the fallback.
type pacer struct {
	now     func() time.Time
	maxWait time.Duration
	// notify is told of each wait, once per API and window.
	notify func(operation string, remaining, limit int, wait time.Duration)

	mu   sync.Mutex
	apis map[string]*apiBudget
}

// apiBudget is what the answers said about one API's budget, the calls in flight, and
// the calls waiting to go.
type apiBudget struct {
	known     bool
	limit     int
	remaining int
	refresh   time.Time
	inFlight  int
	announced time.Time // the refresh a wait was last announced for
	// guessed is true once a window has passed and no answer has told the new one yet.
	guessed bool
	// answered is true once a call of the API got an answer, with the headers or
	// without; probing while the first call is out before that.
	answered, probing bool
	// queue holds the tickets of the calls waiting, in the order they came; next is
	// the next ticket given.
	queue []uint64
	next  uint64
	// changed is closed, and replaced, whenever a waiting call may be able to go.
	changed chan struct{}
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

// acquire waits until a call of operation may go: its turn among the calls waiting,
// the first answer when the budget is not known yet, the answers of the calls in
// flight when Remaining is no more than their number, and the refresh when the budget
// is spent (each wait at most maxWait; the call's deadline bounds them all). Then it counts the call in flight. release must be called with the
// answer's headers (nil when there was none).
func (p *pacer) acquire(ctx context.Context, operation string) (release func(http.Header), err error) {
	p.mu.Lock()
	b := p.budget(operation)
	ticket := b.enqueue()
	for {
		wait, ok := p.admit(operation, b, ticket)
		if ok {
			b.dequeue(ticket)
			b.inFlight++
			p.mu.Unlock()
			return func(h http.Header) { p.release(operation, h) }, nil
		}
		changed := b.changed
		p.mu.Unlock()
		if err := waitFor(ctx, changed, wait); err != nil {
			p.mu.Lock()
			b.dequeue(ticket)
			p.mu.Unlock()
			return nil, &errPaceCancelled{err}
		}
		p.mu.Lock()
		b = p.budget(operation)
	}
}

// waitFor waits until changed is closed, wait has passed (0: no time limit), or ctx
// ends (its error).
func waitFor(ctx context.Context, changed <-chan struct{}, wait time.Duration) error {
	var timer <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-changed:
	case <-timer:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// admit decides, with mu held, whether the call holding ticket may go now; if not,
// how long to wait at most before deciding again (0: until something changes). The
// first call of an API goes alone, as a probe.
func (p *pacer) admit(operation string, b *apiBudget, ticket uint64) (wait time.Duration, ok bool) {
	switch {
	case b.queue[0] != ticket || b.probing:
		return 0, false // earlier calls first; the probe's answer first
	case !b.answered:
		b.probing = true
		return 0, true
	case !b.known || b.remaining > b.inFlight:
		return 0, true
	case b.inFlight > 0:
		// Remaining may already count the calls in flight (the server took them before
		// it answered another): their answers tell, and each frees a place. Only with
		// none in flight is the budget surely spent.
		return 0, false
	}
	wait = min(b.refresh.Sub(p.now()), p.maxWait)
	if wait <= 0 {
		// The refresh is due; budget() opens the new window when asked again.
		return time.Millisecond, false
	}
	if p.notify != nil && !b.announced.Equal(b.refresh) {
		b.announced = b.refresh
		p.notify(operation, b.remaining, b.limit, wait)
	}
	return wait, false
}

// enqueue gives a call its ticket and puts it at the end of the queue.
func (b *apiBudget) enqueue() uint64 {
	t := b.next
	b.next++
	b.queue = append(b.queue, t)
	return t
}

// dequeue takes ticket out of the queue and wakes the calls waiting: the next may go.
func (b *apiBudget) dequeue(ticket uint64) {
	if i := slices.Index(b.queue, ticket); i >= 0 {
		b.queue = slices.Delete(b.queue, i, i+1)
	}
	b.wake()
}

// wake tells the calls waiting that something changed.
func (b *apiBudget) wake() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// budget returns the budget of operation; a window that has passed is refreshed in
// full (the next answer corrects the guess). Called with mu held.
func (p *pacer) budget(operation string) *apiBudget {
	b := p.apis[operation]
	if b == nil {
		b = &apiBudget{changed: make(chan struct{})}
		p.apis[operation] = b
	}
	if now := p.now(); b.known && !now.Before(b.refresh) {
		// At least one call a window: a budget said to be none (a header that lies)
		// slows the calls down, it does not stop them.
		b.remaining = max(b.limit, 1)
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
	defer b.wake()
	b.inFlight = max(b.inFlight-1, 0)
	b.probing = false
	b.answered = b.answered || h != nil
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
