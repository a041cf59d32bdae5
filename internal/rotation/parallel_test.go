package rotation_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/rotation"
)

// slowSets is setsFake whose writes take a while outside the world's lock, so writes
// can overlap, and which records how they did.
type slowSets struct {
	setsFake
	mu            sync.Mutex
	inFlight      int
	most          int
	firstOverlaps bool // another write ran while the first was in flight
	writes        int
	// early's write answers as soon as the write of id after has started, without
	// the delay: a failure that comes while the writes after it are surely in flight,
	// not one that races them to the end.
	early, after string
	afterStarted chan struct{}
}

func (s *slowSets) Store(ctx context.Context, id string, nk rotation.NewKey) (time.Time, error) {
	s.mu.Lock()
	s.writes++
	s.inFlight++
	s.most = max(s.most, s.inFlight)
	// The second write starting while another is in flight: the first one still is.
	s.firstOverlaps = s.firstOverlaps || s.writes == 2 && s.inFlight > 1
	s.mu.Unlock()
	switch id {
	case s.early:
		<-s.afterStarted
	case s.after:
		close(s.afterStarted)
		time.Sleep(10 * time.Millisecond)
	default:
		time.Sleep(10 * time.Millisecond)
	}
	at, err := s.setsFake.Store(ctx, id, nk)
	s.mu.Lock()
	s.inFlight--
	s.mu.Unlock()
	return at, err
}

func setsOnK0(n int) []rotation.Set {
	sets := make([]rotation.Set, n)
	for i := range sets {
		sets[i] = awsSet(fmt.Sprintf("cs-%02d", i), "k0")
	}
	return sets
}

func runWith(t *testing.T, w *world, sets rotation.Sets, opt rotation.Options) (rotation.Result, error) {
	t.Helper()
	ctx := context.Background()
	inv, err := rotation.Survey(ctx, keysFake{w}, sets)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := inv.Plan([]string{"cs-00"})
	if err != nil {
		t.Fatal(err)
	}
	return rotation.Execute(ctx, keysFake{w}, sets, plan, opt)
}

// The first set is written alone (if it fails, no set holds the new key and it is
// deleted); the rest go Parallel at a time, and are reported in plan order.
func TestExecuteWritesTheFirstSetAloneThenInParallel(t *testing.T) {
	w := newWorld(active, setsOnK0(12)...)
	sets := &slowSets{setsFake: setsFake{w}}
	var told []string
	res, err := runWith(t, w, sets, rotation.Options{Parallel: 4, Stored: func(id string) { told = append(told, id) }})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(told, res.UpdatedIDs()) {
		t.Errorf("Stored was told %v, want the plan order %v", told, res.UpdatedIDs())
	}
	if sets.firstOverlaps || sets.most > 4 || sets.most < 2 {
		t.Errorf("first write overlapped: %v; most in flight %d, want 2 to 4", sets.firstOverlaps, sets.most)
	}
	want := make([]string, 12)
	for i := range want {
		want[i] = fmt.Sprintf("cs-%02d", i)
	}
	if got := res.UpdatedIDs(); !slices.Equal(got, want) || !res.Rotated() || w.keyState() != "k0:Inactive new1:Active" {
		t.Errorf("updated %v rotated %v keys %s; want every set in plan order, the old key retired", got, res.Rotated(), w.keyState())
	}
}

// A later write fails while others are in flight: those finish, nothing else starts,
// both keys stay active, and the result says which set holds which key.
func TestExecuteParallelFailureKeepsBothKeys(t *testing.T) {
	w := newWorld(active, setsOnK0(12)...)
	w.faults = map[string]fault{"Store cs-05": answered(errRefused), "Store cs-06": noAnswer}
	sets := &slowSets{setsFake: setsFake{w}, early: "cs-05", after: "cs-06", afterStarted: make(chan struct{})}
	res, err := runWith(t, w, sets, rotation.Options{Parallel: 4})
	checkErr(t, err, []string{"store the new key in credential set cs-05", "Both access keys are active", "in doubt: credential set cs-06"})
	if w.keyState() != "k0:Active new1:Active" || res.NewKeyDeleted {
		t.Errorf("keys %s, new key deleted %v; want both active", w.keyState(), res.NewKeyDeleted)
	}
	if !slices.Equal(res.InDoubt, []string{"cs-06"}) || !slices.Contains(res.NotUpdated, "cs-05") || slices.Contains(res.NotUpdated, "cs-06") {
		t.Errorf("in doubt %v, not updated %v", res.InDoubt, res.NotUpdated)
	}
	for _, id := range res.UpdatedIDs() {
		if w.sets[id].AccessKeyID != "new1" {
			t.Errorf("%s reported updated, holds %s", id, w.sets[id].AccessKeyID)
		}
	}
	for _, id := range res.NotUpdated {
		if w.sets[id].AccessKeyID != "k0" {
			t.Errorf("%s reported not updated, holds %s", id, w.sets[id].AccessKeyID)
		}
	}
	if n := len(res.Updated) + len(res.InDoubt) + len(res.NotUpdated); n != 12 {
		t.Errorf("%d sets accounted for, want 12", n)
	}
	if started := sets.writes; started > 10 {
		t.Errorf("%d writes started; after the failure of cs-05 at most those in flight may follow", started)
	}
}
