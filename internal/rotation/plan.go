package rotation

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Inventory is the user's keys and the operator's credential sets when the run
// started: everything the rotation decides from.
type Inventory struct {
	Keys []Key // oldest first
	Sets []Set
}

// Survey lists the user's keys and the credential sets (steps 2 and 3 of the
// algorithm, the reading half). It changes nothing.
func Survey(ctx context.Context, keys Keys, sets Sets) (Inventory, error) {
	existing, err := keys.List(ctx)
	if err != nil {
		return Inventory{}, whenCancelled(ctx, &Error{Step: "list the IAM user's access keys", Err: err, State: nothingChanged, Next: runAgain, Resumable: true})
	}
	all, err := sets.List(ctx)
	if err != nil {
		return Inventory{}, whenCancelled(ctx, &Error{Step: "list the SORACOM credential sets", Err: err, State: nothingChanged, Next: runAgain, Resumable: true})
	}
	existing = slices.Clone(existing)
	slices.SortStableFunc(existing, func(a, b Key) int { return a.Created.Compare(b.Created) })
	return Inventory{Keys: existing, Sets: all}, nil
}

// Reason says why a set is in the plan.
type Reason string

// Why sets are updated.
const (
	Named       Reason = "named in credential-id"
	HoldsOldKey Reason = "holds the key being replaced"
	HoldsDead   Reason = "holds an inactive key of the user"
)

// Target is a credential set the rotation will store the new key in.
type Target struct {
	ID     string
	Reason Reason
	Exists bool // false: a named set that Store will create
	// AccessKeyID is the key the set holds now (empty for a new set).
	AccessKeyID string
}

// Plan is what a rotation will do, decided from an Inventory before anything changes.
// A dry run prints it and stops.
type Plan struct {
	// DeleteInactive is the id of an inactive key (retired by an earlier rotation) that
	// is deleted first to make room for the new key; empty if none.
	DeleteInactive string
	// Replace is the id of the active key being replaced; empty when the user has none.
	Replace string
	// Targets are the sets to update, in order: the named ones, then the others.
	Targets []Target
	// Unreadable names the sets whose list entry could not be read and that may hold
	// a key ("credential set x (its lastUsedDateTime)"): they are not written, and
	// while one may hold the old key, that key stays active.
	Unreadable []string

	// keyIDs are the user's keys when the plan was made, to tell a key this run created.
	keyIDs []string
	made   bool
}

// Plan decides what a rotation does (step 3 of the algorithm). named are the ids from
// credential-id. An inactive key is only planned for deletion.
//
// The sets to update are the named ones, then every aws-credentials set that holds the
// key being replaced, then every one that holds an inactive key of the user: such a set
// does not work today, and moving it to the new key is the only change that helps it.
func (inv Inventory) Plan(named []string) (Plan, error) {
	p := Plan{made: true}
	for _, k := range inv.Keys {
		p.keyIDs = append(p.keyIDs, k.ID)
	}
	if err := p.chooseKeys(inv); err != nil {
		return Plan{}, err
	}
	targets, err := inv.named(named)
	if err != nil {
		return Plan{}, err
	}
	p.Targets = append(targets, inv.holdersOf(p.Replace, inv.inactive(), seenIDs(targets))...)
	for _, s := range inv.Sets {
		if s.MayHoldKey() {
			p.Unreadable = append(p.Unreadable, s.Name()+" ("+s.Unreadable+")")
		}
	}
	switch {
	case len(p.Targets) == 0 && len(p.Unreadable) > 0:
		return Plan{}, &Error{Step: "plan the rotation", Err: fmt.Errorf("no credential set to update could be read: %s could not be read from SORACOM's list", strings.Join(p.Unreadable, ", ")),
			State: nothingChanged, Next: "Look at those sets in the SORACOM console or API; run again once SORACOM lists them readably.", Resumable: true}
	case len(p.Targets) == 0:
		return Plan{}, &Error{Step: "plan the rotation", Err: fmt.Errorf("no credential set to update: none is named and none holds the user's keys"),
			State: nothingChanged, Next: "Name the credential set to store the key in with credential-id."}
	}
	return p, nil
}

// chooseKeys picks the key to replace and the inactive key to delete to make room, or
// refuses when a person must decide first.
func (p *Plan) chooseKeys(inv Inventory) error {
	active, inactive := inv.active(), inv.inactive()
	switch {
	case len(inv.Keys) > 2:
		return &Error{Step: "plan the rotation", Err: fmt.Errorf("the IAM user has %d access keys, IAM allows two", len(inv.Keys)),
			State: nothingChanged, Next: "Delete the keys no consumer uses, then run again."}
	case len(active) == 2:
		var b strings.Builder
		for i, k := range active {
			if i > 0 {
				b.WriteString(" and ")
			}
			fmt.Fprintf(&b, "%s (created %s, held by %s)", k.ID, k.Created.UTC().Format(time.RFC3339), listOrNone(inv.holderIDs(k.ID)))
		}
		return &Error{
			Step:  "plan the rotation",
			Err:   fmt.Errorf("the IAM user has two active access keys, %s", b.String()),
			State: nothingChanged,
			Next: "A person must decide which key stays: move every consumer to one of them, deactivate or delete the other, " +
				"then run again (a rotation needs room for a new key).",
		}
	case len(inv.Keys) == 2:
		// An inactive key was retired by an earlier rotation; with two keys it must go
		// to make room for the new one (IAM allows two per user). When both are
		// inactive the older goes (the keys are sorted oldest first).
		p.DeleteInactive = inactive[0].ID
	}
	if len(active) == 1 {
		p.Replace = active[0].ID
	}
	return nil
}

// named returns the named sets as targets, refusing a set of another type.
func (inv Inventory) named(ids []string) ([]Target, error) {
	var out []Target
	for _, id := range ids {
		if id == "" || slices.ContainsFunc(out, func(t Target) bool { return t.ID == id }) {
			continue
		}
		s, ok := inv.set(id)
		if ok && s.Unreadable != "" {
			continue // never written: Plan names it among the unreadable sets
		}
		if ok && s.Type != AWSCredentials {
			return nil, &Error{Step: "plan the rotation", Err: fmt.Errorf("credential set %s is of type %s, not %s", id, s.Type, AWSCredentials),
				State: nothingChanged, Next: "Name an aws-credentials set (or a new id) in credential-id."}
		}
		out = append(out, Target{ID: id, Reason: Named, Exists: ok, AccessKeyID: s.AccessKeyID})
	}
	return out, nil
}

// holdersOf returns, sorted by id so the plan text is stable, the aws-credentials sets
// not in seen that hold the key replace or one of the dead keys.
func (inv Inventory) holdersOf(replace string, dead []Key, seen map[string]bool) []Target {
	var found []Target
	for _, s := range inv.Sets {
		if seen[s.ID] || s.Type != AWSCredentials || s.AccessKeyID == "" {
			continue
		}
		switch {
		case s.AccessKeyID == replace:
			found = append(found, Target{ID: s.ID, Reason: HoldsOldKey, Exists: true, AccessKeyID: s.AccessKeyID})
		case slices.ContainsFunc(dead, func(k Key) bool { return k.ID == s.AccessKeyID }):
			found = append(found, Target{ID: s.ID, Reason: HoldsDead, Exists: true, AccessKeyID: s.AccessKeyID})
		}
	}
	slices.SortFunc(found, func(a, b Target) int { return strings.Compare(a.ID, b.ID) })
	return found
}

func (inv Inventory) active() []Key {
	return slices.DeleteFunc(slices.Clone(inv.Keys), func(k Key) bool { return k.Status != Active })
}

func (inv Inventory) inactive() []Key {
	return slices.DeleteFunc(slices.Clone(inv.Keys), func(k Key) bool { return k.Status == Active })
}

func (inv Inventory) set(id string) (Set, bool) {
	i := slices.IndexFunc(inv.Sets, func(s Set) bool { return s.ID == id })
	if i < 0 {
		return Set{}, false
	}
	return inv.Sets[i], true
}

func (inv Inventory) key(id string) (Key, bool) {
	i := slices.IndexFunc(inv.Keys, func(k Key) bool { return k.ID == id })
	if i < 0 {
		return Key{}, false
	}
	return inv.Keys[i], true
}

// holderIDs are the aws-credentials sets that hold keyID.
func (inv Inventory) holderIDs(keyID string) []string {
	var ids []string
	for _, s := range inv.Sets {
		if s.Type == AWSCredentials && s.AccessKeyID == keyID {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

func seenIDs(targets []Target) map[string]bool {
	seen := map[string]bool{}
	for _, t := range targets {
		seen[t.ID] = true
	}
	return seen
}

// index returns where id is among the targets, -1 when it is not one.
func (p Plan) index(id string) int {
	return slices.IndexFunc(p.Targets, func(t Target) bool { return t.ID == id })
}

// TargetIDs returns the ids of the sets to update, in order.
func (p Plan) TargetIDs() []string {
	ids := make([]string, len(p.Targets))
	for i, t := range p.Targets {
		ids[i] = t.ID
	}
	return ids
}
