package parallel_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/parallel"
)

// trace records what a run did.
type trace struct {
	inFlight, most atomic.Int32
	mu             sync.Mutex
	done           []string
}

func (tr *trace) step(wait func(i int) time.Duration) func(context.Context, int) bool {
	return func(ctx context.Context, i int) bool {
		n := tr.inFlight.Add(1)
		for {
			m := tr.most.Load()
			if n <= m || tr.most.CompareAndSwap(m, n) {
				break
			}
		}
		select {
		case <-time.After(wait(i)):
		case <-ctx.Done():
		}
		tr.inFlight.Add(-1)
		return true
	}
}

func (tr *trace) record(i int, started bool) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.done = append(tr.done, fmt.Sprintf("%d:%v", i, started))
}

func TestRunKeepsTheBoundAndTheOrder(t *testing.T) {
	tr := &trace{}
	// Later items end first: the report must still come in index order.
	wait := func(i int) time.Duration { return time.Duration(20-i) * time.Millisecond }
	parallel.Run(context.Background(), 20, 4, tr.step(wait), tr.record)
	var want []string
	for i := range 20 {
		want = append(want, fmt.Sprintf("%d:true", i))
	}
	if !slices.Equal(tr.done, want) {
		t.Errorf("done %v, want %v", tr.done, want)
	}
	if m := tr.most.Load(); m > 4 || m < 2 {
		t.Errorf("at most %d in flight, want several and never over the limit 4", m)
	}
}

func TestRunStopsStartingAfterAFailure(t *testing.T) {
	tr := &trace{}
	// Item 1 fails once 0 to 3 are all in flight: they finish, nothing after them
	// starts.
	var started sync.WaitGroup
	started.Add(4)
	step := func(_ context.Context, i int) bool {
		started.Done()
		if i == 1 {
			started.Wait()
			return false
		}
		time.Sleep(30 * time.Millisecond)
		return true
	}
	parallel.Run(context.Background(), 10, 4, step, tr.record)
	want := []string{"0:true", "1:true", "2:true", "3:true", "4:false", "5:false", "6:false", "7:false", "8:false", "9:false"}
	if !slices.Equal(tr.done, want) {
		t.Errorf("done %v, want %v", tr.done, want)
	}
}

func TestRunStopsStartingWhenCancelled(t *testing.T) {
	tr := &trace{}
	ctx, cancel := context.WithCancel(context.Background())
	var started atomic.Int32
	step := func(ctx context.Context, i int) bool {
		if started.Add(1) == 2 {
			cancel()
		}
		<-ctx.Done()
		return true
	}
	parallel.Run(ctx, 10, 2, step, tr.record)
	if started.Load() != 2 || !slices.Equal(tr.done, []string{"0:true", "1:true", "2:false", "3:false", "4:false", "5:false", "6:false", "7:false", "8:false", "9:false"}) {
		t.Errorf("started %d, done %v; want 2 started, the rest never", started.Load(), tr.done)
	}
}

func TestRunOneAtATime(t *testing.T) {
	tr := &trace{}
	parallel.Run(context.Background(), 5, 1, tr.step(func(int) time.Duration { return time.Millisecond }), tr.record)
	if tr.most.Load() != 1 || len(tr.done) != 5 {
		t.Errorf("limit 1: %d in flight at most, %d done", tr.most.Load(), len(tr.done))
	}
	parallel.Run(context.Background(), 0, 4, tr.step(nil), tr.record) // nothing to do
}
