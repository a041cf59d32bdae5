package rotation

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
)

// Schedule says whether a rotation is due, and why.
type Schedule struct {
	// Due is true when the run must rotate now.
	Due bool
	// Reason is one line that says why the run rotates now, or why it does not.
	Reason string
	// HeldKey is the key every target set holds; empty when they do not hold one key.
	HeldKey string
	// KeyCreated is when the key the sets hold was created (the oldest of them when
	// they hold several); zero when IAM knows none of them.
	KeyCreated time.Time
	// NextRotation is when the held key becomes due; zero when rotate-after is not
	// set or the rotation is due now.
	NextRotation time.Time
	// OtherActive is another active key of the user that no target set holds, left
	// over by an interrupted rotation or kept by old-key: keep; empty if none.
	OtherActive string
	// AgeUnknown says why the held key's age cannot be read (IAM gave no creation date,
	// or one in the future); empty when it can. KeyCreated is zero then.
	AgeUnknown string
}

// Due decides whether a rotation is due (the input rotate-after). It is not due when
// every target set (the named ones and every aws-credentials set on a key of the user)
// holds the same key, that key is the newest active key of the user, and it was created
// less than after before now. after zero means every run rotates.
//
// A key whose age cannot be read (no CreateDate, or one in the future) is due: it may
// be any age, and a key of unknown age would otherwise never be rotated.
func (inv Inventory) Due(named []string, after time.Duration, now time.Time) Schedule {
	s := inv.heldKeys(named, now)
	if after <= 0 {
		s.Due, s.Reason = true, "rotate-after is not set: every run rotates"
		return s
	}
	if why := inv.unfit(named, s.HeldKey); why != "" {
		s.Due, s.Reason = true, why
		return s
	}
	if s.AgeUnknown != "" {
		s.Due, s.Reason = true, s.AgeUnknown
		return s
	}
	age := now.Sub(s.KeyCreated)
	if age >= after {
		s.Due = true
		s.Reason = fmt.Sprintf("the key %s the sets hold is %s old, rotate-after is %s", secret.ShortID(s.HeldKey), Days(age), Span(after))
		return s
	}
	s.NextRotation = s.KeyCreated.Add(after)
	s.Reason = fmt.Sprintf("the key %s the sets hold is %s old; rotate-after is %s, so the next rotation is due %s",
		secret.ShortID(s.HeldKey), Days(age), Span(after), s.NextRotation.UTC().Format(time.RFC3339))
	for _, k := range inv.active() {
		if k.ID != s.HeldKey {
			s.OtherActive = k.ID
		}
	}
	return s
}

// heldKeys fills HeldKey and KeyCreated (or AgeUnknown) from what the target sets hold.
func (inv Inventory) heldKeys(named []string, now time.Time) Schedule {
	var s Schedule
	held := inv.targetKeys(named)
	if len(held) == 1 {
		s.HeldKey = held[0]
	}
	for _, id := range held {
		k, ok := inv.key(id)
		switch {
		case !ok:
		case k.Created.IsZero():
			s.AgeUnknown = fmt.Sprintf("IAM gives the key %s the sets hold no creation date, so its age is unknown: rotating now", secret.ShortID(id))
		case k.Created.After(now):
			s.AgeUnknown = fmt.Sprintf("IAM gives the key %s the sets hold a creation date in the future (%s), so its age is unknown: rotating now",
				secret.ShortID(id), k.Created.UTC().Format(time.RFC3339))
		case s.KeyCreated.IsZero() || k.Created.Before(s.KeyCreated):
			s.KeyCreated = k.Created
		}
	}
	if s.AgeUnknown != "" {
		s.KeyCreated = time.Time{} // the oldest key's age is unknown too
	}
	return s
}

// targetKeys are the distinct keys the target sets hold, in the order the sets come.
// A set that does not exist or holds no key counts as the empty key.
func (inv Inventory) targetKeys(named []string) []string {
	var keys []string
	for _, id := range inv.DueTargets(named) {
		s, _ := inv.set(id)
		if !slices.Contains(keys, s.AccessKeyID) {
			keys = append(keys, s.AccessKeyID)
		}
	}
	return keys
}

// DueTargets are the sets Due looks at: the named ones, then every aws-credentials set
// on a key of the user.
func (inv Inventory) DueTargets(named []string) []string {
	ids := slices.DeleteFunc(slices.Clone(named), func(id string) bool { return id == "" })
	for _, s := range inv.Sets {
		if _, ours := inv.key(s.AccessKeyID); ours && s.Type == AWSCredentials && !slices.Contains(ids, s.ID) {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// unfit says why the sets' key must be replaced whatever its age; empty if it need
// not be.
func (inv Inventory) unfit(named []string, held string) string {
	targets := inv.DueTargets(named)
	for _, id := range targets {
		s, ok := inv.set(id)
		switch {
		case !ok:
			return fmt.Sprintf("credential set %s does not exist yet", id)
		case s.Unreadable != "":
			return fmt.Sprintf("credential set %s could not be read from SORACOM's list (%s)", id, s.Unreadable)
		case s.Type != AWSCredentials:
			return fmt.Sprintf("credential set %s is of type %s", id, s.Type)
		case s.AccessKeyID == "":
			return fmt.Sprintf("credential set %s holds no access key", id)
		}
	}
	switch {
	case len(targets) == 0:
		return "no credential set is named and none holds a key of the user"
	case held == "":
		return "the sets hold different keys: " + inv.whoHoldsWhat(targets)
	}
	k, ok := inv.key(held)
	newest := inv.newestActive()
	switch {
	case !ok:
		return fmt.Sprintf("the key %s the sets hold is not a key of the IAM user (deleted, or another user's)", secret.ShortID(held))
	case k.Status != Active:
		return fmt.Sprintf("the key %s the sets hold is inactive", secret.ShortID(held))
	case newest.ID != held:
		return fmt.Sprintf("the key %s the sets hold is not the user's newest active key (%s is newer)", secret.ShortID(held), secret.ShortID(newest.ID))
	}
	return ""
}

func (inv Inventory) newestActive() Key {
	var newest Key
	for _, k := range inv.active() {
		if newest.ID == "" || !k.Created.Before(newest.Created) {
			newest = k
		}
	}
	return newest
}

// whoHoldsWhat is "a, b on …ABCD; c on …EFGH".
func (inv Inventory) whoHoldsWhat(ids []string) string {
	var order []string
	by := map[string][]string{}
	for _, id := range ids {
		s, _ := inv.set(id)
		if _, ok := by[s.AccessKeyID]; !ok {
			order = append(order, s.AccessKeyID)
		}
		by[s.AccessKeyID] = append(by[s.AccessKeyID], id)
	}
	parts := make([]string, len(order))
	for i, k := range order {
		parts[i] = strings.Join(by[k], ", ") + " on " + secret.ShortID(k)
	}
	return strings.Join(parts, "; ")
}

// Days shows an age in whole days as people say it ("12 days", "1 day"), in hours
// below a day, and to the second below an hour.
func Days(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	case d >= 24*time.Hour:
		return "1 day"
	case d >= time.Hour:
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.Round(time.Second).String()
}

// Span shows a setting such as rotate-after exactly: in days when it is a whole number
// of days, as a Go duration otherwise.
func Span(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d == day:
		return "1 day"
	case d > day && d%day == 0:
		return fmt.Sprintf("%d days", d/day)
	}
	return d.String()
}

// AgeDays is the whole number of days since created, as the key-age-days output
// shows it.
func AgeDays(created, now time.Time) int {
	if now.Before(created) {
		return 0
	}
	return int(now.Sub(created) / (24 * time.Hour))
}
