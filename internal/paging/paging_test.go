package paging_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/paging"
)

var limit = paging.Limit{Service: "IAM", Call: "ListAccessKeys", MaxPages: 5, MaxItems: 20}

// server answers page n (its marker is "m<n>") as next says.
type server struct {
	next  func(n int) (more bool, marker string)
	items int // per page
	asked []string
}

func (s *server) fetch(_ context.Context, marker string) (paging.Page[int], error) {
	s.asked = append(s.asked, marker)
	n := len(s.asked)
	more, next := s.next(n)
	return paging.Page[int]{Items: make([]int, s.items), More: more, Next: next}, nil
}

func TestCollectEndsEveryListing(t *testing.T) {
	tests := []struct {
		name      string
		next      func(n int) (bool, string)
		items     int
		wantItems int
		wantErr   string
		wantPages int
	}{
		{"one page", func(int) (bool, string) { return false, "" }, 2, 2, "", 1},
		{"three pages", func(n int) (bool, string) { return n < 3, fmt.Sprint("m", n) }, 2, 6, "", 3},
		{"the cap's last page may end the listing", func(n int) (bool, string) { return n < 5, fmt.Sprint("m", n) }, 1, 5, "", 5},
		{"a new marker forever", func(n int) (bool, string) { return true, fmt.Sprint("m", n) }, 1, 0, "more than 5 pages", 5},
		{"the same marker forever", func(int) (bool, string) { return true, "again" }, 1, 0, "named a next page it had named before", 2},
		{"more pages without a marker", func(int) (bool, string) { return true, "" }, 1, 0, "named a next page it had named before", 1},
		{"a marker going back to an earlier page", func(n int) (bool, string) { return true, fmt.Sprint("m", n%2) }, 1, 0, "named a next page it had named before", 3},
		{"pages too full", func(n int) (bool, string) { return true, fmt.Sprint("m", n) }, 15, 0, "more than 20 items", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &server{next: tt.next, items: tt.items}
			items, err := paging.Collect(context.Background(), limit, s.fetch)
			if len(s.asked) != tt.wantPages {
				t.Errorf("asked %d pages (%q), want %d", len(s.asked), s.asked, tt.wantPages)
			}
			if tt.wantErr == "" {
				if err != nil || len(items) != tt.wantItems {
					t.Fatalf("Collect = %d items, %v; want %d", len(items), err, tt.wantItems)
				}
				return
			}
			var perr *paging.Error
			if !errors.As(err, &perr) || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "IAM ListAccessKeys ") {
				t.Fatalf("Collect = %v, want an error naming IAM ListAccessKeys and %q", err, tt.wantErr)
			}
		})
	}
}

func TestCollectStopsAtAFailedPage(t *testing.T) {
	boom := errors.New("throttled")
	calls := 0
	_, err := paging.Collect(context.Background(), limit, func(context.Context, string) (paging.Page[int], error) {
		calls++
		if calls == 2 {
			return paging.Page[int]{}, boom
		}
		return paging.Page[int]{Items: []int{1}, More: true, Next: fmt.Sprint(calls)}, nil
	})
	if !errors.Is(err, boom) || calls != 2 {
		t.Fatalf("Collect = %v after %d calls, want the page's error after 2", err, calls)
	}
}

// slowPages answers every page after wait (or fails when ctx ends first), always with
// a new marker: a server that is slow on purpose and never ends.
func slowPages(wait time.Duration) func(ctx context.Context, marker string) (paging.Page[int], error) {
	n := 0
	return func(ctx context.Context, _ string) (paging.Page[int], error) {
		n++
		select {
		case <-time.After(wait):
			return paging.Page[int]{Items: []int{n}, More: true, Next: fmt.Sprint("m", n)}, nil
		case <-ctx.Done():
			return paging.Page[int]{}, fmt.Errorf("page %d: %w", n, ctx.Err())
		}
	}
}

// The whole listing has a deadline: a server answering each page just within a call's
// bound, a new page every time, is stopped when the pages together take longer,
// naming the service and the call. A first page that alone is too slow is its own
// failure, and the caller's cancellation stays the caller's.
func TestCollectStopsAtTheListingsDeadline(t *testing.T) {
	l := paging.Limit{Service: "SORACOM", Call: "listGroups", MaxPages: 1000, MaxItems: 1000, Deadline: 100 * time.Millisecond}
	_, err := paging.Collect(context.Background(), l, slowPages(20*time.Millisecond))
	var perr *paging.Error
	if !errors.As(err, &perr) || !strings.Contains(err.Error(), "SORACOM listGroups kept answering more pages (more than 100ms for its pages)") {
		t.Errorf("slow pages: %v", err)
	}

	_, err = paging.Collect(context.Background(), l, slowPages(time.Second))
	if errors.As(err, &perr) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a first page slower than the deadline: %v, want its own error", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	l.Deadline = time.Minute
	_, err = paging.Collect(ctx, l, slowPages(20*time.Millisecond))
	if errors.As(err, &perr) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the caller's deadline: %v, want the page's error", err)
	}
}

// Items can be large: MaxBytes bounds the answers of a listing in all, so a server of
// few but huge pages is stopped too.
func TestCollectStopsAtTheByteCap(t *testing.T) {
	l := paging.Limit{Service: "SORACOM", Call: "listGroups", MaxPages: 100, MaxItems: 100, MaxBytes: 3 << 20}
	n := 0
	_, err := paging.Collect(context.Background(), l, func(context.Context, string) (paging.Page[int], error) {
		n++
		return paging.Page[int]{Items: []int{n}, More: true, Next: fmt.Sprint("m", n), Bytes: 1 << 20}, nil
	})
	var perr *paging.Error
	if !errors.As(err, &perr) || !strings.Contains(err.Error(), "more than 3 MiB in all") || n != 4 {
		t.Errorf("Collect = %v after %d pages, want a stop at the fourth page of 1 MiB", err, n)
	}
}

// A byte cap under a MiB is named as it is, not as "0 MiB".
func TestAByteCapUnderAMiBIsNamedAsItIs(t *testing.T) {
	for limit, says := range map[int]string{512 << 10: "more than 512 KiB in all", 1000: "more than 1000 bytes in all"} {
		l := paging.Limit{Service: "GitHub", Call: "listSecrets", MaxPages: 100, MaxItems: 100, MaxBytes: limit}
		_, err := paging.Collect(context.Background(), l, func(_ context.Context, next string) (paging.Page[int], error) {
			return paging.Page[int]{Items: []int{1}, More: true, Next: next + "x", Bytes: limit}, nil
		})
		if err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("cap %d: %v, want %q", limit, err, says)
		}
	}
}
