package soracomtest

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultRateLimit is how many requests the emulator allows each caller per API per
// minute unless WithRateLimit says otherwise. SORACOM does not publish its limits; this
// one is high enough that no test meets it by accident, and every answer still carries
// the headers a client paces itself by.
const DefaultRateLimit = 1000

// RateLimitWindow is how long a rate-limit budget lasts: SORACOM's limits are per
// minute.
const RateLimitWindow = time.Minute

// WithRateLimit sets how many requests the emulator allows per API per minute: per
// operator for authenticated calls, per caller IP for /v1/auth and for calls without a
// valid session, as SORACOM documents. Every answer of the emulator's own carries
// X-Soracom-Ratelimit-Limit, -Remaining and -Seconds-Before-Refresh; a request over
// the budget is answered 429 and not handled. Zero or less turns the limit and the
// headers off (a proxy may strip them; a client must work without).
func WithRateLimit(perMinute int) Option { return func(c *config) { c.rateLimit = perMinute } }

// WithRateLimitWindow shortens the rate-limit window from a minute, so that a test
// can see a budget refresh without waiting a minute.
func WithRateLimitWindow(d time.Duration) Option { return func(c *config) { c.rateWindow = d } }

// answerRateLimited is the emulator's own 429.
var answerRateLimited = ErrorAnswer{http.StatusTooManyRequests, "SEM0429", "Rate limit exceeded."}

// budget is one caller's use of one API in the current window.
type budget struct {
	start time.Time
	used  int
}

// apiOf names the API a request spends its budget on: the method and the path with its
// parameters replaced, as one operation of the spec.
func apiOf(method, path string) string {
	if strings.HasPrefix(path, "/v1/credentials/") {
		return method + " /v1/credentials/{credentials_id}"
	}
	return method + " " + path
}

// budgetKeyLocked is who pays for a request: the operator when the request has a live
// session, else the caller's IP.
func (e *Emulator) budgetKeyLocked(r *http.Request) string {
	who := "operator " + e.cfg.operatorID
	if r.URL.Path == "/v1/auth" || !e.hasSessionLocked(r) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		who = "ip " + host
	}
	return who + " " + apiOf(r.Method, r.URL.Path)
}

func (e *Emulator) hasSessionLocked(r *http.Request) bool {
	_, errResp := e.sessionLocked(r)
	return errResp == nil
}

// spendLocked counts a request against key's budget. It returns the rate-limit headers
// to answer with (nil without a limit) and whether the request is within the budget.
func (e *Emulator) spendLocked(key string) (http.Header, bool) {
	limit := e.cfg.rateLimit
	if limit <= 0 {
		return nil, true
	}
	now := e.nowLocked()
	b := e.budgets[key]
	window := e.cfg.rateWindow
	if b == nil || !now.Before(b.start.Add(window)) {
		b = &budget{start: now}
		e.budgets[key] = b
	}
	b.used++
	left := b.start.Add(window).Sub(now)
	h := http.Header{}
	h.Set("X-Soracom-Ratelimit-Limit", strconv.Itoa(limit))
	h.Set("X-Soracom-Ratelimit-Remaining", strconv.Itoa(max(limit-b.used, 0)))
	h.Set("X-Soracom-Ratelimit-Seconds-Before-Refresh", strconv.Itoa(int(math.Ceil(left.Seconds()))))
	return h, b.used <= limit
}

// RateLimited returns how many requests the emulator's own rate limit answered 429
// (scripted faults not counted).
func (e *Emulator) RateLimited() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.throttled
}
