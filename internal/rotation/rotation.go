// Package rotation replaces the AWS access key behind SORACOM credential sets without
// leaving any consumer on a key that does not work.
//
// The algorithm (create the second key, wait until it works, move every set to it,
// then retire the old key) and what each failure leaves behind are those of the
// project's rotation notes. Every error is an *Error that states the end state and the
// step a person should take; every failure leaves either the starting state or a state
// in which every set holds an active key.
//
// The package knows neither the SORACOM client nor the AWS SDK: it works over the small
// Keys and Sets interfaces below, which awskeys.UserKeys and the action's credential-set
// adapter satisfy.
package rotation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awskeys"
)

// Keys is one IAM user's access keys.
type Keys interface {
	// List returns the user's keys.
	List(ctx context.Context) ([]awskeys.KeyMetadata, error)
	// Create creates a key; its id and secret are masked already.
	Create(ctx context.Context) (awskeys.AccessKey, error)
	// WaitUntilWorks returns once AWS accepts the key, or fails after a bounded wait.
	WaitUntilWorks(ctx context.Context, key awskeys.AccessKey) (awskeys.Identity, error)
	Deactivate(ctx context.Context, id string) error
	Delete(ctx context.Context, id string) error
}

// AWSCredentials is the type of the credential sets that hold an AWS access key.
const AWSCredentials = "aws-credentials"

// Set is a SORACOM credential set as the rotation sees it.
type Set struct {
	ID          string
	Type        string // e.g. aws-credentials
	AccessKeyID string // for aws-credentials sets: the key it holds
}

// Sets is the SORACOM operator's credential sets.
type Sets interface {
	// List returns every credential set.
	List(ctx context.Context) ([]Set, error)
	// Store puts key into the aws-credentials set id, creating the set if it does not
	// exist, and returns the set's new update time.
	Store(ctx context.Context, id string, key awskeys.AccessKey) (updatedAt time.Time, err error)
}

// OldKeyPolicy says what happens to the replaced key once every set holds the new one.
type OldKeyPolicy string

// The old-key policies. The zero value means Deactivate.
const (
	// Deactivate the old key: it stops working but can be reactivated if a consumer
	// was missed; the next rotation deletes it.
	Deactivate OldKeyPolicy = "deactivate"
	// Delete the old key at once.
	Delete OldKeyPolicy = "delete"
	// Keep the old key active, for consumers outside SORACOM that still use it.
	Keep OldKeyPolicy = "keep"
)

// ParseOldKeyPolicy reads the old-key input: deactivate (also the empty string),
// delete or keep.
func ParseOldKeyPolicy(s string) (OldKeyPolicy, error) {
	switch p := OldKeyPolicy(strings.ToLower(strings.TrimSpace(s))); p {
	case "":
		return Deactivate, nil
	case Deactivate, Delete, Keep:
		return p, nil
	}
	return "", fmt.Errorf("old-key %q is not valid: use deactivate, delete or keep", s)
}

func (p OldKeyPolicy) orDefault() OldKeyPolicy {
	if p == "" {
		return Deactivate
	}
	return p
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

// Plan is what a rotation will do, decided from the current keys and sets before
// anything changes. A dry run prints it and stops.
type Plan struct {
	// DeleteInactive is the id of an inactive key (retired by an earlier rotation) that
	// is deleted first to make room for the new key; empty if none.
	DeleteInactive string
	// Replace is the id of the active key being replaced; empty when the user has none.
	Replace string
	// Targets are the sets to update, in order: the named ones, then the others.
	Targets []Target

	keys Keys
	sets Sets
	// keyIDs are the user's keys when the plan was made, to tell a key this run created.
	keyIDs []string
}

// Prepare lists the user's keys and the credential sets and decides what a rotation
// does (steps 2 and 3 of the algorithm). It changes nothing: in particular an inactive key
// is only planned for deletion. named are the ids from credential-id.
//
// The sets to update are the named ones, then every aws-credentials set that holds the
// key being replaced, then every one that holds an inactive key of the user: such a set
// does not work today, and moving it to the new key is the only change that helps it.
func Prepare(ctx context.Context, keys Keys, sets Sets, named []string) (Plan, error) {
	existing, err := keys.List(ctx)
	if err != nil {
		return Plan{}, &Error{Step: "list the IAM user's access keys", Err: err, State: nothingChanged, Next: runAgain}
	}
	all, err := sets.List(ctx)
	if err != nil {
		return Plan{}, &Error{Step: "list the SORACOM credential sets", Err: err, State: nothingChanged, Next: runAgain}
	}
	holders := func(keyID string) []string {
		var ids []string
		for _, s := range all {
			if s.Type == AWSCredentials && s.AccessKeyID == keyID {
				ids = append(ids, s.ID)
			}
		}
		return ids
	}

	p := Plan{keys: keys, sets: sets}
	for _, k := range existing {
		p.keyIDs = append(p.keyIDs, k.ID)
	}
	var active, inactive []awskeys.KeyMetadata
	for _, k := range existing {
		if k.Status == awskeys.Active {
			active = append(active, k)
		} else {
			inactive = append(inactive, k)
		}
	}
	switch {
	case len(existing) > 2:
		return Plan{}, &Error{Step: "plan the rotation", Err: fmt.Errorf("the IAM user has %d access keys, IAM allows two", len(existing)),
			State: nothingChanged, Next: "Delete the keys no consumer uses, then run again."}
	case len(active) == 2:
		var b strings.Builder
		for i, k := range active {
			if i > 0 {
				b.WriteString(" and ")
			}
			fmt.Fprintf(&b, "%s (created %s, held by %s)", k.ID, k.Created.UTC().Format(time.RFC3339), listOrNone(holders(k.ID)))
		}
		return Plan{}, &Error{
			Step:  "plan the rotation",
			Err:   fmt.Errorf("the IAM user has two active access keys, %s", b.String()),
			State: nothingChanged,
			Next: "A person must decide which key stays: move every consumer to one of them, deactivate or delete the other, " +
				"then run again (a rotation needs room for a new key).",
		}
	case len(existing) == 2:
		// An inactive key was retired by an earlier rotation; with two keys it must go to
		// make room for the new one (IAM allows two per user). When both are inactive
		// the older goes.
		p.DeleteInactive = inactive[0].ID
		for _, k := range inactive[1:] {
			if k.Created.Before(inactive[0].Created) {
				p.DeleteInactive = k.ID
			}
		}
	}
	if len(active) == 1 {
		p.Replace = active[0].ID
	}

	byID := map[string]Set{}
	for _, s := range all {
		byID[s.ID] = s
	}
	seen := map[string]bool{}
	for _, id := range named {
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		s, ok := byID[id]
		if ok && s.Type != AWSCredentials {
			return Plan{}, &Error{Step: "plan the rotation", Err: fmt.Errorf("credential set %s is of type %s, not %s", id, s.Type, AWSCredentials),
				State: nothingChanged, Next: "Name an aws-credentials set (or a new id) in credential-id."}
		}
		p.Targets = append(p.Targets, Target{ID: id, Reason: Named, Exists: ok, AccessKeyID: s.AccessKeyID})
	}
	// Every set on the key being replaced moves too, so that retiring the key breaks no
	// consumer; so does every set on an inactive key of the user, which does not work
	// today. Sorted, so the order (and the plan text) is stable.
	var found []Target
	for _, s := range all {
		if seen[s.ID] || s.Type != AWSCredentials || s.AccessKeyID == "" {
			continue
		}
		switch {
		case s.AccessKeyID == p.Replace:
			found = append(found, Target{ID: s.ID, Reason: HoldsOldKey, Exists: true, AccessKeyID: s.AccessKeyID})
		case slices.ContainsFunc(inactive, func(k awskeys.KeyMetadata) bool { return k.ID == s.AccessKeyID }):
			found = append(found, Target{ID: s.ID, Reason: HoldsDead, Exists: true, AccessKeyID: s.AccessKeyID})
		}
	}
	slices.SortFunc(found, func(a, b Target) int { return strings.Compare(a.ID, b.ID) })
	p.Targets = append(p.Targets, found...)
	if len(p.Targets) == 0 {
		return Plan{}, &Error{Step: "plan the rotation", Err: fmt.Errorf("no credential set to update: none is named and none holds the user's keys"),
			State: nothingChanged, Next: "Name the credential set to store the key in with credential-id."}
	}
	return p, nil
}

// TargetIDs returns the ids of the sets to update, in order.
func (p Plan) TargetIDs() []string {
	ids := make([]string, len(p.Targets))
	for i, t := range p.Targets {
		ids[i] = t.ID
	}
	return ids
}

// Describe tells in plain text what executing the plan with the old-key policy old
// does, one numbered step a line.
func (p Plan) Describe(old OldKeyPolicy) string {
	var steps []string
	if p.DeleteInactive != "" {
		steps = append(steps, fmt.Sprintf("delete the inactive access key %s (retired by an earlier rotation) to make room", p.DeleteInactive))
	}
	steps = append(steps, "create a new access key and wait until AWS accepts it")
	for _, t := range p.Targets {
		switch {
		case !t.Exists:
			steps = append(steps, fmt.Sprintf("create credential set %s (%s) with the new key", t.ID, t.Reason))
		case t.AccessKeyID != "":
			steps = append(steps, fmt.Sprintf("store the new key in credential set %s (%s; now %s)", t.ID, t.Reason, t.AccessKeyID))
		default:
			steps = append(steps, fmt.Sprintf("store the new key in credential set %s (%s)", t.ID, t.Reason))
		}
	}
	switch {
	case p.Replace == "":
		steps = append(steps, "no active key to retire")
	case old.orDefault() == Keep:
		steps = append(steps, fmt.Sprintf("keep the old access key %s active (old-key: keep)", p.Replace))
	default:
		steps = append(steps, fmt.Sprintf("%s the old access key %s (old-key: %s)", old.orDefault(), p.Replace, old.orDefault()))
	}
	var b strings.Builder
	for i, s := range steps {
		fmt.Fprintf(&b, "%d. %s\n", i+1, s)
	}
	return b.String()
}

// SetResult is a credential set that now holds the new key.
type SetResult struct {
	ID        string
	UpdatedAt time.Time
}

// What happened to the replaced key.
const (
	OldKeyDeactivated = "deactivated"
	OldKeyDeleted     = "deleted"
	OldKeyKept        = "kept"
	OldKeyNone        = "none"         // the user had no active key
	OldKeyStillActive = "still active" // retiring it failed, or the rotation stopped before
)

// Result is what a rotation did. On error it still tells which key every set holds.
type Result struct {
	NewKeyID      string // masked in the log; show ShortID in summaries
	PreviousKeyID string // the replaced key; empty when there was none
	Account       string // the AWS account the new key belongs to
	// DeletedInactiveKey is the inactive key deleted to make room, if any.
	DeletedInactiveKey string
	// Updated are the sets that hold the new key, in the order they were updated.
	Updated []SetResult
	// NotUpdated are planned sets that still hold what they held before.
	NotUpdated []string
	// OldKeyAction is what happened to PreviousKeyID: one of the OldKey* constants.
	OldKeyAction string
}

// UpdatedIDs returns the ids of the updated sets.
func (r Result) UpdatedIDs() []string {
	ids := make([]string, len(r.Updated))
	for i, s := range r.Updated {
		ids[i] = s.ID
	}
	return ids
}

// rollbackTimeout bounds the clean-up calls, which run even when the rotation's context
// is cancelled: a cancelled run must not leave an unused key behind.
const rollbackTimeout = 30 * time.Second

// Execute carries out p (steps 4 to 7 of the algorithm): delete the planned inactive
// key, create the new key, wait until it works, store it in every planned set, and
// retire the old key as old says. p must come from Prepare. On failure the error is an *Error and the Result
// tells what was done.
func Execute(ctx context.Context, p Plan, old OldKeyPolicy) (Result, error) {
	if p.keys == nil || p.sets == nil {
		return Result{}, errors.New("rotation: Execute needs a Plan made by Prepare")
	}
	old = old.orDefault()
	res := Result{PreviousKeyID: p.Replace, NotUpdated: p.TargetIDs(), OldKeyAction: OldKeyStillActive}
	if p.Replace == "" {
		res.OldKeyAction = OldKeyNone
	}
	before := "every credential set still holds what it held before (" + p.describeTargets() + ")"

	if id := p.DeleteInactive; id != "" {
		if err := p.keys.Delete(ctx, id); err != nil {
			return res, &Error{Step: fmt.Sprintf("delete the inactive access key %s", id), Err: err,
				State: nothingChanged, Next: "Delete that key by hand, or fix the cause, then run again."}
		}
		res.DeletedInactiveKey = id
		before = fmt.Sprintf("the inactive access key %s was deleted; %s", id, before)
	}

	key, err := p.keys.Create(ctx)
	if err != nil {
		return res, &Error{Step: "create a new access key", Err: err, State: p.removeOrphans(ctx, capitalize(before)+"."),
			Next: "Fix the cause, then run the workflow again.", Resumable: true}
	}
	short := awskeys.ShortID(key.ID)
	res.NewKeyID = key.ID

	id, err := p.keys.WaitUntilWorks(ctx, key)
	if err != nil {
		return res, &Error{Step: fmt.Sprintf("wait until the new access key %s works", short), Err: err,
			State: rollback(ctx, p.keys, key, before),
			Next:  "Run the workflow again; if it keeps failing, check that STS is reachable from the runner.", Resumable: true}
	}
	res.Account = id.Account

	for _, t := range p.Targets {
		at, err := p.sets.Store(ctx, t.ID, key)
		if err == nil {
			res.stored(t.ID, at)
			continue
		}
		// A failed write may still have reached SORACOM (a lost answer, a timeout, a
		// cancelled job), so SORACOM is asked which sets hold the new key before
		// anything is decided: rolling back a key that a set holds would break it.
		onNew, known := p.holders(ctx, key.ID)
		if known && onNew[t.ID] {
			res.stored(t.ID, time.Time{})
			if ctx.Err() == nil {
				continue // the write went through; only its answer was lost
			}
		}
		step := fmt.Sprintf("store the new key in credential set %s", t.ID)
		if known && len(res.Updated) == 0 {
			return res, &Error{Step: step, Err: err,
				State: rollback(ctx, p.keys, key, before),
				Next:  "Fix the cause (SORACOM credentials and permissions, the set id), then run the workflow again.", Resumable: true}
		}
		rest := res.NotUpdated
		var unsure string
		if !known {
			rest = without(rest, t.ID)
			unsure = fmt.Sprintf("; credential set %s may hold either key (SORACOM could not be asked which)", t.ID)
		}
		state := fmt.Sprintf("%s: on the new key %s: %s%s%s.", p.keysActive(rest), short, listOrNothing(res.UpdatedIDs()), p.whereTheRestAre(rest), unsure)
		return res, &Error{Step: step, Err: err, State: state,
			Next: fmt.Sprintf("A person must finish: fix the cause, store the new key in the sets not on it (or put the old key back in %s), "+
				"then deactivate the key no set holds. Until then the action stops, as the user has two active keys.",
				listOrNothing(res.UpdatedIDs()))}
	}
	res.NotUpdated = nil

	if p.Replace == "" {
		return res, nil
	}
	var retire func(context.Context, string) error
	switch old {
	case Keep:
		res.OldKeyAction = OldKeyKept
		return res, nil
	case Delete:
		retire, res.OldKeyAction = p.keys.Delete, OldKeyDeleted
	default:
		retire, res.OldKeyAction = p.keys.Deactivate, OldKeyDeactivated
	}
	if err := retire(ctx, p.Replace); err != nil {
		// Not Resumable: a new run stops at the two active keys, so the inner error's
		// "run again" advice would mislead.
		res.OldKeyAction = OldKeyStillActive
		return res, &Error{Step: fmt.Sprintf("%s the old access key %s", old, p.Replace), Err: err,
			State: fmt.Sprintf("Every planned set (%s) holds the new key %s; the old key %s is still active.",
				strings.Join(res.UpdatedIDs(), ", "), short, p.Replace),
			Next: fmt.Sprintf("%s the old key %s by hand (IAM console, or aws iam). Until then the action stops, as the user has two active keys.",
				capitalize(string(old)), p.Replace)}
	}
	return res, nil
}

// keysActive says which keys are active after a failure that kept the new key, and
// whether every set works: it does when every set not moved holds the old, active key.
func (p Plan) keysActive(rest []string) string {
	if p.Replace == "" {
		return "The new access key is active"
	}
	for _, t := range p.Targets {
		if slices.Contains(rest, t.ID) && (!t.Exists || t.AccessKeyID != p.Replace) {
			return "Both access keys are active"
		}
	}
	return "Both access keys are active, so every set works"
}

// whereTheRestAre says what the sets that did not get the new key hold, from what each
// held when the plan was made.
func (p Plan) whereTheRestAre(ids []string) string {
	var onOld, onInactive, missing, other []string
	for _, t := range p.Targets {
		if !slices.Contains(ids, t.ID) {
			continue
		}
		switch {
		case !t.Exists:
			missing = append(missing, t.ID)
		case p.Replace != "" && t.AccessKeyID == p.Replace:
			onOld = append(onOld, t.ID)
		case t.AccessKeyID != "" && t.AccessKeyID == p.DeleteInactive:
			onInactive = append(onInactive, t.ID)
		default:
			other = append(other, t.ID)
		}
	}
	var b strings.Builder
	if len(onOld) > 0 {
		fmt.Fprintf(&b, "; still on the old key %s: %s", p.Replace, strings.Join(onOld, ", "))
	}
	if len(onInactive) > 0 {
		fmt.Fprintf(&b, "; still on the inactive key %s, which this run deleted (they did not work before either): %s", p.DeleteInactive, strings.Join(onInactive, ", "))
	}
	if len(other) > 0 {
		fmt.Fprintf(&b, "; still on the inactive key they held before: %s", strings.Join(other, ", "))
	}
	if len(missing) > 0 {
		fmt.Fprintf(&b, "; not created: %s", strings.Join(missing, ", "))
	}
	return b.String()
}

// removeOrphans deletes a key that a failed CreateAccessKey may have created all the
// same (the SDK retries a request whose answer was lost), and says what state that
// leaves, starting from before.
func (p Plan) removeOrphans(ctx context.Context, before string) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	keys, err := p.keys.List(ctx)
	if err != nil {
		return before + " (The user's keys could not be listed again to check that no key was created: look for an unused newest key.)"
	}
	for _, k := range keys {
		if slices.Contains(p.keyIDs, k.ID) || k.ID == p.DeleteInactive {
			continue
		}
		if err := p.keys.Delete(ctx, k.ID); err != nil {
			return fmt.Sprintf("%s A key created by the failed request (%s) could not be deleted: delete it by hand (%v).", before, awskeys.ShortID(k.ID), err)
		}
		before += fmt.Sprintf(" A key the failed request created all the same (%s) was deleted.", awskeys.ShortID(k.ID))
	}
	return before
}

// stored records that set id holds the new key.
func (r *Result) stored(id string, at time.Time) {
	r.Updated = append(r.Updated, SetResult{ID: id, UpdatedAt: at})
	r.NotUpdated = without(r.NotUpdated, id)
}

func without(ids []string, id string) []string {
	return slices.DeleteFunc(slices.Clone(ids), func(s string) bool { return s == id })
}

func listOrNothing(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}

// holders asks SORACOM which sets hold keyID. It runs after a failure, even when the
// run's context was cancelled, with its own deadline; known is false when the list failed.
func (p Plan) holders(ctx context.Context, keyID string) (onKey map[string]bool, known bool) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	sets, err := p.sets.List(ctx)
	if err != nil {
		return nil, false
	}
	onKey = map[string]bool{}
	for _, s := range sets {
		if s.AccessKeyID == keyID {
			onKey[s.ID] = true
		}
	}
	return onKey, true
}

// rollback deletes the new key after a failure that left it unused, and says what the
// state is then.
func rollback(ctx context.Context, keys Keys, key awskeys.AccessKey, before string) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	if err := keys.Delete(ctx, key.ID); err != nil {
		return fmt.Sprintf("The new access key %s was not used, but deleting it failed (%v): delete it by hand "+
			"(the newest key of the IAM user). Otherwise %s.", awskeys.ShortID(key.ID), err, before)
	}
	return fmt.Sprintf("The new access key %s was deleted; %s.", awskeys.ShortID(key.ID), before)
}

// describeTargets tells what the planned sets hold now, grouped by key:
// "cs-a, cs-b hold key AKIA…; cs-new does not exist".
func (p Plan) describeTargets() string {
	var order []string
	groups := map[string][]string{}
	for _, t := range p.Targets {
		k := t.AccessKeyID
		switch {
		case !t.Exists:
			k = "\x00absent"
		case k == "":
			k = "\x00nokey"
		}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], t.ID)
	}
	var parts []string
	for _, k := range order {
		ids := strings.Join(groups[k], ", ")
		switch k {
		case "\x00absent":
			parts = append(parts, ids+" not created")
		case "\x00nokey":
			parts = append(parts, ids+" without a key")
		default:
			parts = append(parts, ids+" on key "+k)
		}
	}
	return strings.Join(parts, "; ")
}

func listOrNone(ids []string) string {
	if len(ids) == 0 {
		return "no credential set"
	}
	return "credential sets " + strings.Join(ids, ", ")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

const (
	nothingChanged = "Nothing was changed."
	runAgain       = "Fix the cause, then run the workflow again."
)

// Error is a failed rotation: which step failed, why, the state it left, and what a
// person should do.
type Error struct {
	// Resumable is true when the failure left the starting state, so running the
	// workflow again is the way on; then the cause's own advice applies too.
	Resumable bool
	Step      string // what was being done
	Err       error
	State     string // the end state, exactly
	Next      string // the step a person should take
}

func (e *Error) Error() string {
	// AWS messages end with a period of their own.
	return fmt.Sprintf("rotation failed: could not %s: %s. %s %s", e.Step, strings.TrimSuffix(e.Err.Error(), "."), e.State, e.Next)
}

func (e *Error) Unwrap() error { return e.Err }

// Hint is the cause's advice (say, the SAM permission to grant) when the failure left
// the starting state; otherwise nothing, as Next says what to do.
func (e *Error) Hint() string {
	var h interface{ Hint() string }
	if e.Resumable && errors.As(e.Err, &h) {
		return h.Hint()
	}
	return ""
}
