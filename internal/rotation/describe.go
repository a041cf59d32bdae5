package rotation

import (
	"fmt"
	"slices"
	"strings"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
)

// Describe tells in plain text what executing the plan with the old-key policy old
// does, one numbered step a line.
func (p Plan) Describe(old OldKeyPolicy) string {
	old = old.orDefault()
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
	for _, u := range p.Unreadable {
		steps = append(steps, fmt.Sprintf("leave %s alone: its list entry could not be read", u))
	}
	switch {
	case p.Replace == "":
		steps = append(steps, "no active key to retire")
	case len(p.Unreadable) > 0:
		steps = append(steps, fmt.Sprintf("keep the old access key %s active, as a set that could not be read may hold it, and fail", p.Replace))
	case old == Keep:
		steps = append(steps, fmt.Sprintf("keep the old access key %s active (old-key: keep)", p.Replace))
	default:
		steps = append(steps, fmt.Sprintf("%s the old access key %s (old-key: %s)", old, p.Replace, old))
	}
	var b strings.Builder
	for i, s := range steps {
		fmt.Fprintf(&b, "%d. %s\n", i+1, s)
	}
	return b.String()
}

// splitState describes a failure that kept the new key: which sets hold it, which
// still hold what they held, and which are in doubt.
func (x *execution) splitState(key NewKey) string {
	rest := x.res.NotUpdated
	var b strings.Builder
	fmt.Fprintf(&b, "%s: on the new key %s: %s", x.p.keysActive(append(slices.Clone(rest), x.res.InDoubt...)), secret.ShortID(key.ID), listOrNothing(x.res.UpdatedIDs()))
	b.WriteString(x.p.whereTheRestAre(rest))
	// The sets in doubt last: a line too long for the log loses its middle, never its
	// end, and they are what a person must check.
	switch doubt := x.res.InDoubt; {
	case len(doubt) == 1:
		fmt.Fprintf(&b, "; in doubt: credential set %s (the write of the new key was sent but its outcome is unknown, so it holds either the new key or %s)",
			doubt[0], x.p.heldBefore(doubt[0]))
	case len(doubt) > 1:
		// One clause for all: as many as the writes in flight, a clause each would
		// make the line too long to print whole.
		fmt.Fprintf(&b, "; in doubt: credential sets %s (the writes of the new key were sent but their outcome is unknown, so each holds either the new key or what it held before)",
			names(doubt))
	}
	b.WriteString(". The new key was not deleted, as a set may hold it.")
	return b.String()
}

// finishByHand is the advice after a failure that kept the new key.
func (x *execution) finishByHand() string {
	var b strings.Builder
	b.WriteString("A person must finish: ")
	if len(x.res.InDoubt) > 0 {
		fmt.Fprintf(&b, "check which key %s holds (SORACOM console or API), ", strings.Join(x.res.InDoubt, ", "))
	} else {
		b.WriteString("fix the cause, ")
	}
	b.WriteString("store the new key in the sets not on it")
	if x.p.Replace == "" {
		b.WriteString(". The next run moves every set to a fresh key.")
		return b.String()
	}
	fmt.Fprintf(&b, " (or put the old key back in the sets on the new key), then deactivate the key no set holds. %s", untilTwoKeysAreOne)
	return b.String()
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

// heldBefore says what set id held when the plan was made.
func (p Plan) heldBefore(id string) string {
	i := slices.IndexFunc(p.Targets, func(t Target) bool { return t.ID == id })
	switch {
	case i < 0 || !p.Targets[i].Exists:
		return "nothing (it did not exist before)"
	case p.Targets[i].AccessKeyID == "":
		return "no key, as before"
	case p.Targets[i].AccessKeyID == p.Replace:
		return "the old key " + p.Replace
	}
	return "the inactive key " + p.Targets[i].AccessKeyID + " it held before"
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
		fmt.Fprintf(&b, "; still on the old key %s: %s", p.Replace, names(onOld))
	}
	if len(onInactive) > 0 {
		fmt.Fprintf(&b, "; still on the inactive key %s, which this run deleted (they did not work before either): %s", p.DeleteInactive, names(onInactive))
	}
	if len(other) > 0 {
		fmt.Fprintf(&b, "; still on the inactive key they held before: %s", names(other))
	}
	if len(missing) > 0 {
		fmt.Fprintf(&b, "; not created: %s", names(missing))
	}
	return b.String()
}

// describeTargets tells what the planned sets hold now, grouped by key:
// "cs-a, cs-b on key AKIA…; cs-new not created".
func (p Plan) describeTargets() string {
	const absent, noKey = "\x00absent", "\x00nokey"
	var order []string
	groups := map[string][]string{}
	for _, t := range p.Targets {
		k := t.AccessKeyID
		switch {
		case !t.Exists:
			k = absent
		case k == "":
			k = noKey
		}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], t.ID)
	}
	parts := make([]string, len(order))
	for i, k := range order {
		ids := names(groups[k])
		switch k {
		case absent:
			parts[i] = ids + " not created"
		case noKey:
			parts[i] = ids + " without a key"
		default:
			parts[i] = ids + " on key " + k
		}
	}
	return strings.Join(parts, "; ")
}

func listOrNothing(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return names(ids)
}

func listOrNone(ids []string) string {
	if len(ids) == 0 {
		return "no credential set"
	}
	return "credential sets " + names(ids)
}

// maxNamed is how many sets one list of a message names; the summary and the results
// output list every set. A rotation of hundreds of sets would otherwise write lines
// that the log cuts in the middle, where what matters may be.
const maxNamed = 10

// names joins ids, naming at most maxNamed and counting the rest.
func names(ids []string) string {
	if len(ids) <= maxNamed {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%s and %d more (the summary lists every set)", strings.Join(ids[:maxNamed], ", "), len(ids)-maxNamed)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
