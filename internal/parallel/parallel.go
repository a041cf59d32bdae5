// Package parallel runs one step for many items, a bounded number at a time, and
// reports each item's end in input order, so that a log written from it reads as if
// the items had been handled one after the other.
package parallel

import (
	"context"
	"sync"
)

// Default and bounds of the number of steps in flight (the max-parallel input).
const (
	DefaultLimit = 4
	MinLimit     = 1
	MaxLimit     = 16
)

// Run calls step for the items 0..n-1, at most limit at a time, starting them in
// index order. Once a step reports false (a failure) or ctx ends, no further step
// starts; steps in flight finish. done is called once per item, in index order and
// never concurrently, as soon as the item and every item before it have ended; started
// is false for an item whose step never ran. Run returns after every call of done.
//
// step runs in its own goroutine with ctx; it must record its own outcome (by index)
// and return whether the run should go on.
func Run(ctx context.Context, n, limit int, step func(ctx context.Context, i int) bool, done func(i int, started bool)) {
	limit = max(limit, 1)
	o := &ordered{done: done, ended: make([]bool, n), started: make([]bool, n)}
	slots := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range n {
		if o.stopped() || ctx.Err() != nil {
			break
		}
		if !acquire(ctx, slots) {
			break
		}
		// Checked again: a failure may have come while waiting for a slot.
		if ctx.Err() != nil || o.stopped() {
			<-slots
			break
		}
		o.start(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok := step(ctx, i)
			// Ended before the slot is freed, so that no item starts after a failure
			// the dispatcher could have seen.
			o.end(i, ok)
			<-slots
		}()
	}
	wg.Wait()
	o.finish()
}

// acquire takes a slot, or reports false when ctx ends first.
func acquire(ctx context.Context, slots chan struct{}) bool {
	select {
	case slots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// ordered reports ends in index order.
type ordered struct {
	mu      sync.Mutex
	done    func(i int, started bool)
	ended   []bool
	started []bool
	next    int
	stop    bool
}

func (o *ordered) stopped() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.stop
}

func (o *ordered) start(i int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.started[i] = true
}

// end records an item's end and reports every item now at the head of the order.
func (o *ordered) end(i int, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ended[i] = true
	o.stop = o.stop || !ok
	for o.next < len(o.ended) && o.ended[o.next] {
		o.done(o.next, true)
		o.next++
	}
}

// finish reports the items that never started (and any ended item behind them).
func (o *ordered) finish() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for ; o.next < len(o.ended); o.next++ {
		o.done(o.next, o.started[o.next])
	}
}
