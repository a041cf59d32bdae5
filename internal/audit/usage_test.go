package audit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/audit"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/audit/refs"
)

// group is a group of the given coverage's usage: its references as the refs package
// finds them in a configuration of the spec's shapes.
type group struct{ id, name, configuration string }

// handler is an event handler and its actionConfigList.
type handler struct{ id, name, actions string }

func usageOf(t *testing.T, groups []group, handlers []handler) *audit.Usage {
	t.Helper()
	u := &audit.Usage{}
	add := func(f refs.Found) {
		u.References = append(u.References, f.References...)
		u.Malformed = append(u.Malformed, f.Malformed...)
		u.Incomplete = u.Incomplete || f.Incomplete
	}
	for _, g := range groups {
		add(refs.InGroup(g.id, g.name, decode[map[string]any](t, g.configuration)))
	}
	for _, h := range handlers {
		add(refs.InEventHandler(h.id, h.name, decode[[]any](t, h.actions)))
	}
	return u
}

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("test JSON %s: %v", s, err)
	}
	return v
}

func on(coverage string, s audit.Set) audit.Set { s.Coverage = coverage; return s }

var usagePolicy = audit.Policy{Now: now, MaxKeyAge: 90 * day, UnusedAfter: 30 * day, ExpiryWarning: 30 * day}

// runUsage audits sets (all of them) without AWS, with the usage given by coverage.
func runUsage(t *testing.T, in audit.Input) *audit.Report {
	t.Helper()
	if in.All == nil {
		in.All = in.Sets
	}
	rep, err := audit.Run(context.Background(), in, usagePolicy)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// findingsOf lists "coverage id check severity" for every finding of the given checks.
func findingsOf(rep *audit.Report, checks ...string) []string {
	var out []string
	for _, f := range rep.Findings() {
		if slices.Contains(checks, f.Check) {
			out = append(out, fmt.Sprintf("%s %s %s %s", f.Coverage, f.CredentialID, f.Check, f.Severity))
		}
	}
	slices.Sort(out)
	return out
}

// setUsed is an aws-credentials set SORACOM last used days ago (never when days < 0).
func setUsed(id string, days int) audit.Set {
	s := awsSet(id, "AKIAGOODGOODGOOD0001")
	s.LastUsed = time.Time{}
	if days >= 0 {
		s.LastUsed = now.Add(-time.Duration(days) * day)
	}
	return s
}

const (
	funnelOn = `{"SoracomFunnel":{"enabled":true,"credentials":{"$credentialsId":"%s"},"destination":{"provider":"aws","service":"kinesis"}}}`
	funkOn   = `{"SoracomFunk":{"enabled":true,"credentials":{"$credentialsId":"%s"}}}`
	beamOn   = `{"SoracomBeam":{"mqtt://beam.soracom.io:1883":{"enabled":true,"clientCerts":{"default":{"$credentialsId":"%s"}}}}}`
	harvest  = `{"SoracomHarvest":{"enabled":true}}`
	lambdaOn = `[{"type":"InvokeAWSLambdaAction","properties":{"credentialsId":"%s","endpoint":"https://lambda.us-west-2.amazonaws.com","functionName":"f"}}]`
)

// A group or event handler that names a set that does not exist on its coverage is a
// broken dangling-reference: the finding names the group (id and name) or the handler,
// the namespace or action, the missing id and the coverage, and usedBy holds the user.
func TestDanglingReferences(t *testing.T) {
	tests := []struct {
		name     string
		groups   []group
		handlers []handler
		want     []string // "coverage id check severity"
		message  []string // in the one finding's message
		usedBy   refs.User
	}{
		{"Funnel names a missing set", []group{{"g-1", "sensors", fmt.Sprintf(funnelOn, "funnel-old")}}, nil,
			[]string{"jp funnel-old dangling-reference broken"},
			[]string{`group "sensors" (g-1)`, "funnel-old", "SoracomFunnel", "coverage jp", "every device in the group"},
			refs.User{Kind: refs.Group, ID: "g-1", Name: "sensors", Namespace: "SoracomFunnel"}},
		{"Funk names a missing set", []group{{"g-2", "", fmt.Sprintf(funkOn, "funk-gone")}}, nil,
			[]string{"jp funk-gone dangling-reference broken"}, []string{"group g-2 names", "SoracomFunk"},
			refs.User{Kind: refs.Group, ID: "g-2", Namespace: "SoracomFunk"}},
		{"Beam names a missing client certificate", []group{{"g-3", "mqtt", fmt.Sprintf(beamOn, "beam-cert")}}, nil,
			[]string{"jp beam-cert dangling-reference broken"}, []string{"SoracomBeam", "beam-cert"},
			refs.User{Kind: refs.Group, ID: "g-3", Name: "mqtt", Namespace: "SoracomBeam"}},
		{"an event handler's Lambda action names a missing set", nil, []handler{{"h-1", "to lambda", fmt.Sprintf(lambdaOn, "lambda-gone")}},
			[]string{"jp lambda-gone dangling-reference broken"},
			[]string{`event handler "to lambda" (h-1)`, "InvokeAWSLambdaAction", "whenever the handler fires"},
			refs.User{Kind: refs.EventHandler, ID: "h-1", Name: "to lambda", Namespace: "InvokeAWSLambdaAction"}},
		{"Harvest names no set: nothing dangles", []group{{"g-4", "h", harvest}}, nil, nil, nil, refs.User{}},
		{"a reference to a set that exists does not dangle", []group{{"g-5", "ok", fmt.Sprintf(funnelOn, "funnel-aws")}}, nil, nil, nil, refs.User{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := runUsage(t, audit.Input{Sets: []audit.Set{on("jp", setUsed("funnel-aws", 1))},
				Usage: map[string]*audit.Usage{"jp": usageOf(t, tt.groups, tt.handlers)}, Scope: "jp"})
			got := findingsOf(rep, audit.DanglingReference)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("dangling findings = %q, want %q", got, tt.want)
			}
			if len(tt.want) > 0 {
				checkDangling(t, rep, tt.message, tt.usedBy)
			}
		})
	}
}

func checkDangling(t *testing.T, rep *audit.Report, message []string, usedBy refs.User) {
	t.Helper()
	f := rep.Findings()[0]
	for _, m := range message {
		if !strings.Contains(f.Message, m) {
			t.Errorf("message %q does not say %q", f.Message, m)
		}
	}
	if len(f.UsedBy) != 1 || f.UsedBy[0] != usedBy {
		t.Errorf("usedBy = %+v, want %+v", f.UsedBy, usedBy)
	}
	if rep.Rows[0].Set.ID != f.CredentialID || !rep.Rows[0].Missing {
		t.Errorf("the missing set has no row of its own first: %+v", rep.Rows[0])
	}
}

// References are matched per coverage: a group on g naming a set that exists only on
// jp dangles on g; one finding per group, each namespace it names the set in listed.
func TestDanglingReferencesArePerCoverage(t *testing.T) {
	sets := []audit.Set{on("jp", setUsed("funnel-aws", 1)), on("g", setUsed("other", 1))}
	twice := `{"SoracomFunnel":{"credentialsId":"funnel-aws"},"SoracomFunk":{"credentials":{"$credentialsId":"funnel-aws"}}}`
	rep := runUsage(t, audit.Input{Sets: sets, Scope: "both", Usage: map[string]*audit.Usage{
		"jp": usageOf(t, []group{{"g-jp", "jp group", twice}}, nil),
		"g":  usageOf(t, []group{{"g-g", "g group", twice}}, nil),
	}})
	if got, want := findingsOf(rep, audit.DanglingReference), []string{"g funnel-aws dangling-reference broken"}; !slices.Equal(got, want) {
		t.Fatalf("dangling = %q, want %q", got, want)
	}
	f := rep.Findings()[0]
	if len(f.UsedBy) != 2 || !strings.Contains(f.Message, "SoracomFunk, SoracomFunnel") || !strings.Contains(f.Message, "coverage g") {
		t.Errorf("finding = %+v", f)
	}
	for _, row := range rep.Rows {
		if row.Set.Coverage == "jp" && row.Set.ID == "funnel-aws" && (len(row.UsedBy) != 2 || row.UsedBy[0].ID != "g-jp") {
			t.Errorf("jp's set is not used by jp's group: %+v", row.UsedBy)
		}
	}
}

// With credential-id, a dangling reference is reported only when it names one of the
// ids; without, every one is.
func TestDanglingReferencesOfNamedSetsOnly(t *testing.T) {
	usage := func() map[string]*audit.Usage {
		return map[string]*audit.Usage{"jp": usageOf(t, []group{
			{"g-1", "a", fmt.Sprintf(funnelOn, "named-gone")}, {"g-2", "b", fmt.Sprintf(funnelOn, "other-gone")}}, nil)}
	}
	all := runUsage(t, audit.Input{Sets: []audit.Set{on("jp", setUsed("x", 1))}, Usage: usage()})
	if got := findingsOf(all, audit.DanglingReference); len(got) != 2 {
		t.Errorf("every set audited: %q, want both", got)
	}
	named := runUsage(t, audit.Input{Sets: nil, All: []audit.Set{on("jp", setUsed("x", 1))}, Usage: usage(), Named: []string{"named-gone"}})
	if got, want := findingsOf(named, audit.DanglingReference), []string{"jp named-gone dangling-reference broken"}; !slices.Equal(got, want) {
		t.Errorf("named: %q, want %q", got, want)
	}
}

// A set whose id could not be read may be the one a reference names: the reference is
// unknown, not broken.
func TestDanglingReferenceBesideAnUnreadableEntryIsUnknown(t *testing.T) {
	odd := audit.Set{Coverage: "jp", Entry: 2, Unreadable: []string{"credentialsId"}}
	rep := runUsage(t, audit.Input{Sets: []audit.Set{on("jp", setUsed("a", 1)), odd},
		Usage: map[string]*audit.Usage{"jp": usageOf(t, []group{{"g-1", "a", fmt.Sprintf(funnelOn, "maybe")}}, nil)}})
	if got, want := findingsOf(rep, audit.DanglingReference), []string{"jp maybe dangling-reference unknown"}; !slices.Equal(got, want) {
		t.Errorf("%q, want %q", got, want)
	}
}

// unreferenced (info): no group or handler names the set and SORACOM has not used it
// within unused-after; "may" be safe to delete. Judged only when every group and
// handler of the coverage was read.
func TestUnreferenced(t *testing.T) {
	funnel := []group{{"g-1", "s", fmt.Sprintf(funnelOn, "referenced")}}
	tests := []struct {
		name  string
		set   audit.Set
		usage *audit.Usage
		want  bool
	}{
		{"never used, named by nothing", setUsed("idle", -1), usageOf(t, funnel, nil), true},
		{"last used long ago, named by nothing", setUsed("idle", 200), usageOf(t, funnel, nil), true},
		{"used yesterday, named by nothing", setUsed("busy", 1), usageOf(t, funnel, nil), false},
		{"never used, named by a group", setUsed("referenced", -1), usageOf(t, funnel, nil), false},
		{"never used, groups denied", setUsed("idle", -1), &audit.Usage{Failed: []audit.ListingFailure{{Listing: "groups", Permission: audit.PermListGroups}}}, false},
		{"never used, a group cut short", setUsed("idle", -1), &audit.Usage{Incomplete: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := runUsage(t, audit.Input{Sets: []audit.Set{on("jp", tt.set)}, Usage: map[string]*audit.Usage{"jp": tt.usage}})
			got := findingsOf(rep, audit.Unreferenced)
			if (len(got) == 1) != tt.want {
				t.Fatalf("unreferenced = %q, want %v", got, tt.want)
			}
			if tt.want && !strings.Contains(rep.Findings()[len(rep.Findings())-1].Message, "may be safe to delete") {
				t.Errorf("message does not say may: %+v", rep.Findings())
			}
		})
	}
}

// static-key (info): an aws-credentials set that Funnel or Funk uses points at
// aws-iam-role-credentials; Beam's or a handler's use of a set does not.
func TestStaticKey(t *testing.T) {
	tests := []struct {
		name   string
		set    audit.Set
		groups []group
		hs     []handler
		want   bool
	}{
		{"Funnel uses an aws-credentials set", setUsed("k", 1), []group{{"g", "n", fmt.Sprintf(funnelOn, "k")}}, nil, true},
		{"Funk uses an aws-credentials set", setUsed("k", 1), []group{{"g", "n", fmt.Sprintf(funkOn, "k")}}, nil, true},
		{"Beam uses it", setUsed("k", 1), []group{{"g", "n", fmt.Sprintf(beamOn, "k")}}, nil, false},
		{"a Lambda action uses it", setUsed("k", 1), nil, []handler{{"h", "n", fmt.Sprintf(lambdaOn, "k")}}, false},
		{"Funnel uses an aws-iam-role-credentials set", audit.Set{ID: "k", Type: "aws-iam-role-credentials", LastUsed: now}, []group{{"g", "n", fmt.Sprintf(funnelOn, "k")}}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := runUsage(t, audit.Input{Sets: []audit.Set{on("jp", tt.set)}, Usage: map[string]*audit.Usage{"jp": usageOf(t, tt.groups, tt.hs)}})
			got := findingsOf(rep, audit.StaticKey)
			if (len(got) == 1) != tt.want {
				t.Fatalf("static-key = %q, want %v", got, tt.want)
			}
			if tt.want {
				f := rep.Findings()[0]
				if !strings.Contains(f.Message, "aws-iam-role-credentials") || f.Severity != audit.Info || len(f.UsedBy) != 1 {
					t.Errorf("finding = %+v", f)
				}
			}
		})
	}
}

// Every finding of a set names where it is used; an unreadable listing makes one
// references-unknown finding per denied permission (naming it) or failure, every other
// check still runs, and usedBy is then empty.
func TestUsedByAndUnknownReferences(t *testing.T) {
	old := setUsed("old", 200)
	rep := runUsage(t, audit.Input{Sets: []audit.Set{on("jp", old), on("g", old)}, Scope: "both", Usage: map[string]*audit.Usage{
		"jp": usageOf(t, []group{{"g-1", "sensors", fmt.Sprintf(funnelOn, "old")}}, []handler{{"h-1", "lambda", fmt.Sprintf(lambdaOn, "old")}}),
		"g": {Failed: []audit.ListingFailure{{Listing: "groups", Permission: audit.PermListGroups, Reason: "403"},
			{Listing: "event handlers", Permission: audit.PermListEventHandlers, Reason: "403"}}},
	}})
	var unknown []string
	for _, f := range rep.Findings() {
		switch {
		case f.Check == audit.ReferencesUnknown:
			unknown = append(unknown, f.Coverage+" "+f.Permission)
			if f.CredentialID != "" || !strings.Contains(f.Message, f.Permission) {
				t.Errorf("unknown finding = %+v", f)
			}
		case f.Check == audit.Unused && f.Coverage == "jp":
			if len(f.UsedBy) != 2 || f.UsedBy[0].Kind != refs.Group || f.UsedBy[1].Kind != refs.EventHandler {
				t.Errorf("jp's unused finding names usedBy %+v", f.UsedBy)
			}
		case f.Check == audit.Unused && f.Coverage == "g":
			if f.UsedBy == nil || len(f.UsedBy) != 0 {
				t.Errorf("g's usage is unknown, usedBy %+v", f.UsedBy)
			}
		case f.Check == audit.Unreferenced:
			t.Errorf("judged unreferenced: %+v", f)
		}
	}
	if want := []string{"g EventHandler:listEventHandlers", "g Group:listGroups"}; !slices.Equal(sortedCopy(unknown), want) {
		t.Errorf("unknown findings %q, want %q", unknown, want)
	}
	if got := findingsOf(rep, audit.Unused); len(got) != 2 {
		t.Errorf("the other checks did not run on both coverages: %q", got)
	}
}

// A group that could not be read whole is a malformed-reference finding naming the
// group, never the value; usedBy is capped for a set named by very many groups.
func TestMalformedReferencesAndBoundedUsedBy(t *testing.T) {
	groups := []group{{"g-bad", "bad", `{"SoracomFunnel":{"credentialsId":"evil\n::error::pwned"}}`}}
	for i := range audit.MaxUsedBy + 5 {
		groups = append(groups, group{fmt.Sprintf("g-%03d", i), "", fmt.Sprintf(funnelOn, "popular")})
	}
	u := usageOf(t, groups, nil)
	u.Malformed = append(u.Malformed, refs.Malformed{User: refs.User{Kind: refs.Group}, Reason: "its field groupId is not a group id", Entry: 7})
	rep := runUsage(t, audit.Input{Sets: []audit.Set{on("jp", setUsed("popular", 1))}, Usage: map[string]*audit.Usage{"jp": u}})
	var messages []string
	for _, f := range rep.Findings() {
		switch f.Check {
		case audit.MalformedReference:
			messages = append(messages, f.Message)
		case audit.StaticKey:
			if len(f.UsedBy) != audit.MaxUsedBy || f.UsedByMore != 5 {
				t.Errorf("usedBy %d + %d more, want %d + 5", len(f.UsedBy), f.UsedByMore, audit.MaxUsedBy)
			}
		}
	}
	joined := strings.Join(messages, "\n")
	if len(messages) != 2 || !strings.Contains(joined, `Group "bad" (g-bad)`) || !strings.Contains(joined, "entry 7") || strings.Contains(joined, "pwned") {
		t.Errorf("malformed-reference messages: %q", messages)
	}
	if got := findingsOf(rep, audit.Unreferenced); len(got) != 0 {
		t.Errorf("judged unreferenced while a reference could not be read: %q", got)
	}
}

// Without usage (references not looked at) nothing changes: no reference finding, and
// every finding still carries its coverage and an empty usedBy.
func TestNoUsageNoReferenceChecks(t *testing.T) {
	rep := runUsage(t, audit.Input{Sets: []audit.Set{on("g", setUsed("a", -1))}, Scope: "g"})
	for _, f := range rep.Findings() {
		if f.Coverage != "g" || f.UsedBy == nil || strings.Contains(f.Check, "reference") {
			t.Errorf("finding %+v", f)
		}
	}
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// A set that SORACOM has not used but that a group names is not advised for deletion:
// the advice asks why the group's service does not use it.
func TestIdleButNamedSetsAreNotAdvisedForDeletion(t *testing.T) {
	for _, days := range []int{-1, 200} {
		rep := runUsage(t, audit.Input{Sets: []audit.Set{on("jp", setUsed("named", days))},
			Usage: map[string]*audit.Usage{"jp": usageOf(t, []group{{"g-1", "sensors", fmt.Sprintf(funnelOn, "named")}}, nil)}})
		for _, f := range rep.Findings() {
			if (f.Check == audit.NeverUsed || f.Check == audit.Unused) && (strings.Contains(f.Message, "delete the set") ||
				!strings.Contains(f.Message, `group "sensors" (g-1) in SoracomFunnel names it, so do not delete it`)) {
				t.Errorf("%s: %s", f.Check, f.Message)
			}
		}
	}
}

// A rotation's "used by" text: each user named once, even when SORACOM's list holds a
// group twice; "unknown" with why when a listing failed, never "none"; a note when a
// group could not be read whole.
func TestUsageUsedBy(t *testing.T) {
	g := refs.InGroup("sg-1", "sensors", map[string]any{"SoracomFunnel": map[string]any{"credentialsId": "funnel-aws"}})
	u := &audit.Usage{}
	u.Add(g)
	u.Add(g)
	if got, want := u.UsedBy("funnel-aws"), `group "sensors" (sg-1) in SoracomFunnel`; got != want {
		t.Errorf("UsedBy = %q, want %q", got, want)
	}
	if got := u.UsedBy("other"); got != "none" {
		t.Errorf("UsedBy of a set no one names = %q, want none", got)
	}
	u.Add(refs.InGroup("sg-2", "", map[string]any{"SoracomFunk": map[string]any{"credentialsId": "not a set id"}}))
	if got := u.UsedBy("other"); got != "none (some groups or event handlers could not be read whole)" {
		t.Errorf("UsedBy with a reference not read = %q", got)
	}
	u.Failed = []audit.ListingFailure{{Listing: "groups", Permission: audit.PermListGroups}, {Listing: "event handlers", Reason: "503"}}
	if got, want := u.UsedBy("funnel-aws"), "unknown (SORACOM denied Group:listGroups; the event handlers could not be listed: 503)"; got != want {
		t.Errorf("UsedBy with failed listings = %q, want %q", got, want)
	}
}
