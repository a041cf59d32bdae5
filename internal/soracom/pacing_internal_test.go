package soracom

import (
	"net/http"
	"testing"
	"time"
)

// Rate-limit headers come from the server: a refresh said to be far away is believed
// only up to the longest wait, and values out of range are not read at all.
func TestPacerBoundsWhatTheHeadersSay(t *testing.T) {
	start := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	now := start
	p := newPacer(func() time.Time { return now }, time.Minute)
	header := func(rem, secs string) http.Header {
		return http.Header{"X-Soracom-Ratelimit-Remaining": {rem}, "X-Soracom-Ratelimit-Seconds-Before-Refresh": {secs}}
	}
	p.release("op", header("0", "1e9"))
	b := p.apis["op"]
	if !b.known || b.remaining != 0 || !b.refresh.Equal(start.Add(time.Minute)) {
		t.Fatalf("budget after a refresh 1e9 s away = %+v, want none left until one minute on", b)
	}
	if wait, ok := p.admit("op", b, b.enqueue()); ok || wait != time.Minute {
		t.Errorf("admit = %s, %v; want a wait of the cap", wait, ok)
	}
	now = start.Add(time.Minute)
	if b := p.budget("op"); b.remaining != 1 || !b.guessed {
		t.Errorf("budget after the window = %+v, want one call (a budget of none slows, never stops)", b)
	}
	for _, bad := range [][2]string{{"NaN", "1"}, {"-1", "1"}, {"1", "Inf"}, {"1", "-5"}, {"2e9", "1"}, {"x", "1"}} {
		if _, _, _, ok := readLimit(header(bad[0], bad[1]), now); ok {
			t.Errorf("readLimit(Remaining %s, Seconds %s) was believed", bad[0], bad[1])
		}
	}
}
