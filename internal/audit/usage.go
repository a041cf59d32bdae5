package audit

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/audit/refs"
)

// The SORACOM permissions the reference checks need; a denied one is reported once, as
// a references-unknown finding naming it.
const (
	PermListGroups        = "Group:listGroups"
	PermListEventHandlers = "EventHandler:listEventHandlers"
)

// Usage is what the groups and event handlers of one coverage say about its sets.
type Usage struct {
	// References are every reference to a credential set found.
	References []refs.Reference
	// Malformed are groups and handlers that could not be read whole: their JSON, or
	// their entry of SORACOM's listing.
	Malformed []refs.Malformed
	// Incomplete is true when a reference may have been missed (a group cut short, an
	// entry that could not be read): then no set is judged unreferenced.
	Incomplete bool
	// Failed are the listings that could not be read at all.
	Failed []ListingFailure
}

// ListingFailure is a listing of groups or event handlers that could not be read.
type ListingFailure struct {
	// Listing is what was listed: "groups" or "event handlers".
	Listing string
	// Permission is the SAM permission whose denial stopped it; empty when it failed
	// otherwise.
	Permission string
	// Reason is the failure, for the message (it is rendered through the log's
	// untrusted path like every message).
	Reason string
}

// complete reports whether every group and handler was read whole, so that a set no
// reference names is used by none.
func (u *Usage) complete() bool { return u != nil && len(u.Failed) == 0 && !u.Incomplete }

// Add adds what one group or handler holds to u.
func (u *Usage) Add(f refs.Found) {
	u.References = append(u.References, f.References...)
	u.Malformed = append(u.Malformed, f.Malformed...)
	u.Incomplete = u.Incomplete || f.Incomplete
	for _, m := range f.Malformed {
		// A value that is not a set id is a reference not read: the set it meant may
		// be any.
		u.Incomplete = u.Incomplete || m.Reason == refs.ReasonNotSetID
	}
}

// UsedBy names the users of set id in one line, for a rotation's log and summary:
// "none", the users, or "unknown" and why when a listing failed (a denied or failed
// listing leaves the usage unknown, never empty).
func (u *Usage) UsedBy(id string) string {
	if len(u.Failed) > 0 {
		var why []string
		for _, f := range u.Failed {
			if f.Permission != "" {
				why = append(why, "SORACOM denied "+f.Permission)
			} else {
				why = append(why, "the "+f.Listing+" could not be listed: "+f.Reason)
			}
		}
		return "unknown (" + strings.Join(why, "; ") + ")"
	}
	var users []refs.User
	for _, r := range u.References {
		if r.SetID == id && !slices.Contains(users, r.User) {
			users = append(users, r.User)
		}
	}
	text := UsedByText(users)
	if text == "" {
		text = "none"
	}
	if u.Incomplete {
		text += " (some groups or event handlers could not be read whole)"
	}
	return text
}

// MaxUsedBy is how many users a finding's usedBy lists; UsedByMore counts the rest. A
// set named by thousands of groups must not make one finding outgrow the output.
const MaxUsedBy = 20

// usedByNamed is how many users a message or a table cell names.
const usedByNamed = 3

// setKey is a set on one coverage: the same id on jp and g is two sets.
type setKey struct{ coverage, id string }

// usage is the reference checks' view of every coverage.
type usage struct {
	in     Input
	p      Policy
	users  map[setKey][]refs.User
	exists map[setKey]bool
	// unreadableIDs counts, by coverage, the sets whose id could not be read: a
	// reference to an id not listed may name one of them.
	unreadableIDs map[string]int
}

func newUsage(in Input, p Policy) *usage {
	u := &usage{in: in, p: p, users: map[setKey][]refs.User{}, exists: map[setKey]bool{}, unreadableIDs: map[string]int{}}
	for _, s := range in.All {
		if s.ID == "" {
			u.unreadableIDs[s.Coverage]++
			continue
		}
		u.exists[setKey{s.Coverage, s.ID}] = true
	}
	for coverage, us := range in.Usage {
		if us == nil {
			continue
		}
		for _, r := range us.References {
			k := setKey{coverage, r.SetID}
			if !slices.Contains(u.users[k], r.User) {
				u.users[k] = append(u.users[k], r.User)
			}
		}
	}
	return u
}

// check adds the reference findings to rep: usedBy and static-key or unreferenced on
// the rows of the sets, a row per set that references name but that does not exist
// (dangling-reference), and the findings about the listings themselves.
func (u *usage) check(rep *Report) {
	if u.in.Usage == nil {
		return
	}
	for i := range rep.Rows {
		row := &rep.Rows[i]
		if row.Orphan() || row.Set.ID == "" || len(row.Set.Unreadable) > 0 {
			continue
		}
		us := u.in.Usage[row.Set.Coverage]
		if us == nil || len(us.Failed) > 0 {
			continue // not known: the table says so, nothing is judged
		}
		row.UsageKnown = true
		row.UsedBy = u.users[setKey{row.Set.Coverage, row.Set.ID}]
		idleButNamed(row)
		row.Findings = append(row.Findings, u.setFindings(row.Set, row.UsedBy, us)...)
	}
	rep.Rows = append(rep.Rows, u.dangling()...)
	for _, coverage := range slices.Sorted(maps.Keys(u.in.Usage)) {
		rep.General = append(rep.General, listingFindings(coverage, u.in.Usage[coverage])...)
	}
}

// setFindings are static-key and unreferenced for one set.
func (u *usage) setFindings(s Set, users []refs.User, us *Usage) []Finding {
	var out []Finding
	if by := staticKeyUsers(s, users); len(by) > 0 {
		out = append(out, Finding{CredentialID: s.ID, Type: s.Type, Check: StaticKey, Severity: Info,
			Message: fmt.Sprintf("%s %s this set's static AWS access key; Funnel and Funk can use an aws-iam-role-credentials set instead "+
				"(an IAM role that SORACOM assumes), which needs no key rotation at all", namedUsers(by), uses(len(by)))})
	}
	if len(users) > 0 || !us.complete() {
		return out
	}
	switch idle := u.p.Now.Sub(s.LastUsed); {
	case s.LastUsed.IsZero():
		out = append(out, Finding{CredentialID: s.ID, Type: s.Type, Check: Unreferenced, Severity: Info,
			Message: "no group or event handler names this set and SORACOM has never used it: it may be safe to delete " +
				"(check that nothing outside groups and event handlers, such as a device's own configuration, refers to it)"})
	case idle > u.p.UnusedAfter+Slack:
		out = append(out, Finding{CredentialID: s.ID, Type: s.Type, Check: Unreferenced, Severity: Info, LastUsed: rfc3339(s.LastUsed),
			Message: fmt.Sprintf("no group or event handler names this set and SORACOM last used it on %s (unused-after is %s): it may be safe to delete",
				day(s.LastUsed), Days(u.p.UnusedAfter))})
	}
	return out
}

// idleButNamed rewrites the advice of never-used and unused for a set that groups or
// handlers name: deleting it would break them, so the question is why SORACOM does not
// use it.
func idleButNamed(row *Row) {
	if len(row.UsedBy) == 0 {
		return
	}
	for i := range row.Findings {
		f := &row.Findings[i]
		named := fmt.Sprintf("; %s %s it, so do not delete it: check that the service is enabled there and that devices send data through it",
			namedUsers(row.UsedBy), plural(len(row.UsedBy), "names", "name"))
		if f.Check == NeverUsed || f.Check == Unused {
			// The fact stays ("SORACOM last used this set on …"), the advice changes.
			fact, _, _ := strings.Cut(f.Message, "; if ")
			f.Message = fact + named
		}
	}
}

// staticKeyUsers are the Funnel and Funk users of an aws-credentials set.
func staticKeyUsers(s Set, users []refs.User) []refs.User {
	if s.Type != AWSCredentials {
		return nil
	}
	var out []refs.User
	for _, user := range users {
		if user.Namespace == "SoracomFunnel" || user.Namespace == "SoracomFunk" {
			out = append(out, user)
		}
	}
	return out
}

// dangling returns a row per set that a reference names and that does not exist on
// the reference's coverage: when the audit covers every set, or for the ids named.
func (u *usage) dangling() []Row {
	var keys []setKey
	for k := range u.users {
		if !u.exists[k] && (len(u.in.Named) == 0 || slices.Contains(u.in.Named, k.id)) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b setKey) int { return strings.Compare(a.coverage+"\x00"+a.id, b.coverage+"\x00"+b.id) })
	rows := make([]Row, 0, len(keys))
	for _, k := range keys {
		users := u.users[k]
		row := Row{Set: Set{ID: k.id, Coverage: k.coverage}, Missing: true, UsageKnown: true, UsedBy: users}
		for _, user := range byUser(users) {
			row.Findings = append(row.Findings, u.danglingFinding(k, user))
		}
		rows = append(rows, row)
	}
	return rows
}

// byUser groups a set's users by group or handler: one finding per group or handler,
// naming each namespace it names the set in.
func byUser(users []refs.User) [][]refs.User {
	var out [][]refs.User
	for _, user := range users {
		i := slices.IndexFunc(out, func(g []refs.User) bool { return g[0].Kind == user.Kind && g[0].ID == user.ID })
		if i < 0 {
			out = append(out, []refs.User{user})
			continue
		}
		out[i] = append(out[i], user)
	}
	return out
}

func (u *usage) danglingFinding(k setKey, user []refs.User) Finding {
	f := Finding{CredentialID: k.id, Check: DanglingReference, Severity: Broken, Coverage: k.coverage, UsedBy: user}
	where := "on this coverage"
	if k.coverage != "" {
		where = "on coverage " + k.coverage
	}
	var spaces []string
	for _, x := range user {
		if x.Namespace != "" {
			spaces = append(spaces, x.Namespace)
		}
	}
	in := ""
	if len(spaces) > 0 {
		in = " in " + strings.Join(spaces, ", ")
	}
	effect, fix := "that service fails for every device in the group", "create the set there, or change the group's configuration to name one that exists"
	if user[0].Kind == refs.EventHandler {
		effect, fix = "that action fails whenever the handler fires", "create the set there, or change the handler's action to name one that exists"
	}
	f.Message = fmt.Sprintf("%s names credential set %s%s, and no such set exists %s: %s; %s", userName(user[0]), k.id, in, where, effect, fix)
	if n := u.unreadableIDs[k.coverage]; n > 0 {
		// The set may be one of those SORACOM's list did not show readably.
		f.Severity = Unknown
		f.Message = fmt.Sprintf("%s names credential set %s%s, which SORACOM's list %s does not show; %d entr%s of that list could not be read and may be it, "+
			"so whether the reference works is unknown: look at the list in the SORACOM console", userName(user[0]), k.id, in, where, n, plural(n, "y", "ies"))
	}
	return f
}

// listingFindings are the findings about one coverage's listings: a listing that could
// not be read (references-unknown, naming the SAM permission when it was denied) and
// each group or handler that could not be read whole (malformed-reference).
func listingFindings(coverage string, us *Usage) []Finding {
	if us == nil {
		return nil
	}
	var out []Finding
	for _, f := range us.Failed {
		msg := fmt.Sprintf("the %s could not be listed (%s), so where sets are used is unknown: no dangling reference can be found, "+
			"no set is judged unreferenced, and every other check ran", f.Listing, f.Reason)
		if f.Permission != "" {
			msg = fmt.Sprintf("SORACOM denied %s, so the %s and the credential sets they name are unknown: grant the SAM user %s "+
				"(see \"SAM permissions\" in docs/audit.md); every other check ran, and no set is judged unreferenced", f.Permission, f.Listing, f.Permission)
		}
		out = append(out, Finding{Check: ReferencesUnknown, Severity: Unknown, Coverage: coverage, Permission: f.Permission, Message: msg})
	}
	for _, m := range us.Malformed {
		out = append(out, Finding{Check: MalformedReference, Severity: Warning, Coverage: coverage, UsedBy: []refs.User{m.User},
			Entry: m.Entry, Message: fmt.Sprintf("%s cannot be read whole: %s; the sets it names may be missing from this report, "+
				"and if it looks right in the SORACOM console, something between the runner and SORACOM changes the answers", malformedName(m), m.Reason)})
	}
	return out
}

// userName names a group or handler in a message: its kind, name and id. The name is
// shape-checked text from SORACOM; messages reach the log through the untrusted path.
func userName(u refs.User) string {
	kind := "group"
	if u.Kind == refs.EventHandler {
		kind = "event handler"
	}
	if u.Name == "" {
		return fmt.Sprintf("%s %s", kind, u.ID)
	}
	return fmt.Sprintf("%s \"%s\" (%s)", kind, u.Name, u.ID)
}

func malformedName(m refs.Malformed) string {
	if m.ID != "" {
		return capitalize(userName(m.User))
	}
	kind := "group"
	if m.Kind == refs.EventHandler {
		kind = "event handler"
	}
	return fmt.Sprintf("The %s at entry %d of SORACOM's list", kind, m.Entry)
}

// namedUsers names up to usedByNamed users, then how many more there are.
func namedUsers(users []refs.User) string {
	var names []string
	for i, u := range users {
		if i == usedByNamed {
			names = append(names, fmt.Sprintf("%d more", len(users)-i))
			break
		}
		n := userName(u)
		if u.Namespace != "" {
			n += " in " + u.Namespace
		}
		names = append(names, n)
	}
	return strings.Join(names, ", ")
}

// UsedByText names a set's users in one line, as the summary's "used by" cell does.
func UsedByText(users []refs.User) string {
	if len(users) == 0 {
		return ""
	}
	return namedUsers(users)
}

func uses(n int) string { return plural(n, "uses", "use") }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// fillUsedBy gives every finding of a row the row's coverage and users (capped at
// MaxUsedBy, the rest counted), and a general finding its scope.
func fillUsedBy(rep *Report, scope string) {
	for i := range rep.Rows {
		row := &rep.Rows[i]
		coverage := row.Set.Coverage
		if row.Orphan() {
			coverage = scope
		}
		for j := range row.Findings {
			f := &row.Findings[j]
			if f.Coverage == "" {
				f.Coverage = coverage
			}
			if f.UsedBy == nil {
				f.UsedBy = row.UsedBy
			}
			f.UsedBy, f.UsedByMore = capUsers(f.UsedBy)
		}
	}
	for j := range rep.General {
		f := &rep.General[j]
		if f.Coverage == "" {
			f.Coverage = scope
		}
		f.UsedBy, f.UsedByMore = capUsers(f.UsedBy)
	}
}

func capUsers(users []refs.User) ([]refs.User, int) {
	if len(users) > MaxUsedBy {
		return users[:MaxUsedBy:MaxUsedBy], len(users) - MaxUsedBy
	}
	if users == nil {
		return []refs.User{}, 0
	}
	return users, 0
}
