package rotation_test

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/rotation"
)

func TestPlan(t *testing.T) {
	tests := []struct {
		name        string
		keys        []rotation.Key
		sets        []rotation.Set
		named       []string
		old         rotation.OldKeyPolicy
		wantTargets []string
		wantText    []string // substrings of Describe, or of the error
		wantErr     bool
	}{
		{
			name:        "the named sets come first, then the sets on the old key and on inactive keys, sorted",
			keys:        []rotation.Key{key("k0", rotation.Inactive, 200), key("k1", rotation.Active, 100)},
			sets:        []rotation.Set{awsSet("z-old", "k1"), awsSet("a-dead", "k0"), awsSet("cs", "k1"), awsSet("other", "AKIAOTHER")},
			named:       []string{"cs"},
			wantTargets: []string{"cs", "a-dead", "z-old"},
			wantText: []string{`1. delete the inactive access key k0 (retired by an earlier rotation) to make room
2. create a new access key and wait until AWS accepts it
3. store the new key in credential set cs (named in credential-id; now k1)
4. store the new key in credential set a-dead (holds an inactive key of the user; now k0)
5. store the new key in credential set z-old (holds the key being replaced; now k1)
6. deactivate the old access key k1 (old-key: deactivate)
`},
		},
		{
			name:        "a named set that does not exist yet is planned for creation, once",
			keys:        active,
			named:       []string{"fresh", "fresh", ""},
			old:         rotation.Keep,
			wantTargets: []string{"fresh"},
			wantText:    []string{"create credential set fresh (named in credential-id) with the new key", "keep the old access key k0 active (old-key: keep)"},
		},
		{
			name:        "of two inactive keys the older is deleted to make room",
			keys:        []rotation.Key{key("k0", rotation.Inactive, 300), key("k1", rotation.Inactive, 100)},
			named:       []string{"cs"},
			wantTargets: []string{"cs"},
			wantText:    []string{"delete the inactive access key k0", "no active key to retire"},
		},
		{
			name:    "two active keys: a person must decide; both keys and their sets are named",
			keys:    []rotation.Key{key("k0", rotation.Active, 200), key("k1", rotation.Active, 100)},
			sets:    []rotation.Set{awsSet("cs-0", "k0"), awsSet("cs-1", "k1"), awsSet("cs-2", "k1")},
			named:   []string{"cs-0"},
			wantErr: true,
			wantText: []string{"two active access keys", "k0 (created 2025-11-13T00:00:00Z, held by credential sets cs-0)",
				"k1 (created 2026-02-21T00:00:00Z, held by credential sets cs-1, cs-2)", "Nothing was changed.", "A person must decide which key stays"},
		},
		{
			name:     "three keys (IAM allows two) are refused",
			keys:     []rotation.Key{key("k0", rotation.Inactive, 3), key("k1", rotation.Inactive, 2), key("k2", rotation.Active, 1)},
			named:    []string{"cs"},
			wantErr:  true,
			wantText: []string{"the IAM user has 3 access keys"},
		},
		{
			name:     "a named set of another type is refused",
			keys:     active,
			sets:     []rotation.Set{{ID: "cs", Type: "api-token-credentials"}},
			named:    []string{"cs"},
			wantErr:  true,
			wantText: []string{"credential set cs is of type api-token-credentials, not aws-credentials", "Nothing was changed."},
		},
		{
			name:     "no named set and no set on the user's keys is an error",
			keys:     active,
			sets:     []rotation.Set{awsSet("other", "AKIAOTHER")},
			wantErr:  true,
			wantText: []string{"no credential set to update"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(tt.keys, tt.sets...)
			inv, err := rotation.Survey(context.Background(), keysFake{w}, setsFake{w})
			if err != nil {
				t.Fatal(err)
			}
			plan, err := inv.Plan(tt.named)
			text := planText(t, plan, err, tt.old, tt.wantErr)
			sameIDs(t, "targets", plan.TargetIDs(), tt.wantTargets)
			for _, s := range tt.wantText {
				if !strings.Contains(text, s) {
					t.Errorf("lacks %q:\n%s", s, text)
				}
			}
			if slices.ContainsFunc(w.calls, func(c string) bool { return c != "ListKeys" && c != "ListSets" }) {
				t.Errorf("planning called %v", w.calls)
			}
		})
	}
}

// planText is the plan's text, or the error's when one is wanted.
func planText(t *testing.T, plan rotation.Plan, err error, old rotation.OldKeyPolicy, wantErr bool) string {
	t.Helper()
	switch {
	case wantErr && err == nil:
		t.Fatalf("no error; plan:\n%s", plan.Describe(old))
	case wantErr:
		return err.Error()
	case err != nil:
		t.Fatal(err)
	}
	return plan.Describe(old)
}

func TestSurveyFailures(t *testing.T) {
	for _, op := range []string{"ListKeys", "ListSets"} {
		t.Run(op+" failing changes nothing and says to run again", func(t *testing.T) {
			w := newWorld(active, awsSet("cs", "k0"))
			w.faults = map[string]fault{op: answered(fmt.Errorf("%s refused", op))}
			w.listsRun = 1 // the sets' list fails from its first call on
			_, err := rotation.Survey(context.Background(), keysFake{w}, setsFake{w})
			checkErr(t, err, []string{op + " refused", "Nothing was changed.", "run the workflow again"})
		})
	}
}

func TestSurveyCancelled(t *testing.T) {
	w := newWorld(active, awsSet("cs", "k0"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w.cancel = cancel
	w.faults = map[string]fault{"ListKeys": {cancel: true}}
	_, err := rotation.Survey(ctx, keysFake{w}, setsFake{w})
	checkErr(t, err, []string{"context canceled", "Nothing was changed.", "The job was cancelled: run the workflow again to rotate."})
	if strings.Contains(err.Error(), "Fix the cause") {
		t.Errorf("a cancelled survey asks to fix a cause: %v", err)
	}
}

func TestDue(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	const month = 30 * 24 * time.Hour
	k := func(id string, status rotation.KeyStatus, daysOld int) rotation.Key { return key(id, status, daysOld) }
	tests := []struct {
		name       string
		keys       []rotation.Key
		sets       []rotation.Set
		named      []string
		after      time.Duration
		wantDue    bool
		wantReason string
		wantAge    int // days; -1 when unknown
		wantNext   string
		wantOther  string
	}{
		{
			name: "not due: every set on the newest active key, younger than rotate-after",
			keys: []rotation.Key{k("k0", rotation.Inactive, 60), k("k1", rotation.Active, 10)},
			sets: []rotation.Set{awsSet("cs-a", "k1"), awsSet("cs-b", "k1")}, named: []string{"cs-a"}, after: month,
			wantReason: "the key …k1 the sets hold is 10 days old; rotate-after is 30 days, so the next rotation is due 2026-06-21T00:00:00Z",
			wantAge:    10, wantNext: "2026-06-21T00:00:00Z",
		},
		{
			name: "due: the key is exactly rotate-after old",
			keys: []rotation.Key{k("k0", rotation.Active, 30)}, sets: []rotation.Set{awsSet("cs", "k0")}, named: []string{"cs"}, after: month,
			wantDue: true, wantReason: "the key …k0 the sets hold is 30 days old, rotate-after is 30 days", wantAge: 30,
		},
		{
			name: "not due: one second younger than rotate-after",
			keys: []rotation.Key{{ID: "k0", Status: rotation.Active, Created: now.Add(-month + time.Second)}}, sets: []rotation.Set{awsSet("cs", "k0")},
			named: []string{"cs"}, after: month, wantAge: 29, wantNext: "2026-06-01T00:00:01Z",
			wantReason: "the key …k0 the sets hold is 29 days old",
		},
		{
			name: "due: rotate-after not set rotates on every run",
			keys: []rotation.Key{k("k0", rotation.Active, 1)}, sets: []rotation.Set{awsSet("cs", "k0")}, named: []string{"cs"},
			wantDue: true, wantReason: "rotate-after is not set", wantAge: 1,
		},
		{
			name: "due: the sets hold different keys",
			keys: []rotation.Key{k("k0", rotation.Active, 50), k("k1", rotation.Active, 1)},
			sets: []rotation.Set{awsSet("cs-a", "k1"), awsSet("cs-b", "k0")}, named: []string{"cs-a"}, after: month,
			wantDue: true, wantReason: "the sets hold different keys: cs-a on …k1; cs-b on …k0", wantAge: 50,
		},
		{
			name: "due: the key the sets hold is inactive",
			keys: []rotation.Key{k("k0", rotation.Inactive, 5)}, sets: []rotation.Set{awsSet("cs", "k0")}, named: []string{"cs"}, after: month,
			wantDue: true, wantReason: "the key …k0 the sets hold is inactive", wantAge: 5,
		},
		{
			name: "due: the key the sets hold is not the user's (deleted)",
			keys: []rotation.Key{k("k1", rotation.Active, 5)}, sets: []rotation.Set{awsSet("cs", "AKIAGONE")}, named: []string{"cs"}, after: month,
			wantDue: true, wantReason: "the key …GONE the sets hold is not a key of the IAM user", wantAge: -1,
		},
		{
			name: "due: the key the sets hold is not the newest active key",
			keys: []rotation.Key{k("k0", rotation.Active, 20), k("k1", rotation.Active, 2)}, sets: []rotation.Set{awsSet("cs", "k0")}, named: []string{"cs"}, after: month,
			wantDue: true, wantReason: "the key …k0 the sets hold is not the user's newest active key (…k1 is newer)", wantAge: 20,
		},
		{
			name: "due: a named set does not exist yet",
			keys: []rotation.Key{k("k0", rotation.Active, 2)}, sets: []rotation.Set{awsSet("cs", "k0")}, named: []string{"cs", "fresh"}, after: month,
			wantDue: true, wantReason: "credential set fresh does not exist yet", wantAge: 2,
		},
		{
			name: "due: a named set holds no key",
			keys: []rotation.Key{k("k0", rotation.Active, 2)}, sets: []rotation.Set{{ID: "cs", Type: rotation.AWSCredentials}}, named: []string{"cs"}, after: month,
			wantDue: true, wantReason: "credential set cs holds no access key", wantAge: -1,
		},
		{
			name: "due: a named set of another type",
			keys: []rotation.Key{k("k0", rotation.Active, 2)}, sets: []rotation.Set{{ID: "cs", Type: "x509"}}, named: []string{"cs"}, after: month,
			wantDue: true, wantReason: "credential set cs is of type x509", wantAge: -1,
		},
		{
			name: "due: nothing named and no set holds a key of the user",
			keys: []rotation.Key{k("k0", rotation.Active, 2)}, after: month,
			wantDue: true, wantReason: "no credential set is named", wantAge: -1,
		},
		{
			name: "due: IAM gives the held key no creation date, so its age is unknown",
			keys: []rotation.Key{{ID: "k0", Status: rotation.Active}}, sets: []rotation.Set{awsSet("cs", "k0")}, named: []string{"cs"}, after: month,
			wantDue: true, wantReason: "IAM gives the key …k0 the sets hold no creation date, so its age is unknown: rotating now", wantAge: -1,
		},
		{
			name: "due: IAM gives the held key a creation date in the future, so its age is unknown",
			keys: []rotation.Key{{ID: "k0", Status: rotation.Active, Created: now.Add(400 * 24 * time.Hour)}}, sets: []rotation.Set{awsSet("cs", "k0")},
			named: []string{"cs"}, after: month,
			wantDue: true, wantReason: "a creation date in the future (2027-07-06T00:00:00Z), so its age is unknown", wantAge: -1,
		},
		{
			name: "due: a named set could not be read from the list",
			keys: []rotation.Key{k("k0", rotation.Active, 2)}, sets: []rotation.Set{awsSet("cs", "k0"), {ID: "odd", Unreadable: "its lastUsedDateTime"}},
			named: []string{"cs", "odd"}, after: month,
			wantDue: true, wantReason: "credential set odd could not be read from SORACOM's list (its lastUsedDateTime)", wantAge: 2,
		},
		{
			name: "not due, and another active key no set holds is reported (an interrupted rotation, or old-key: keep)",
			keys: []rotation.Key{k("k0", rotation.Active, 50), k("k1", rotation.Active, 3)},
			sets: []rotation.Set{awsSet("cs", "k1")}, named: []string{"cs"}, after: month,
			wantReason: "3 days old", wantAge: 3, wantNext: "2026-06-28T00:00:00Z", wantOther: "k0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := rotation.Inventory{Keys: tt.keys, Sets: tt.sets}
			s := inv.Due(tt.named, tt.after, now)
			if s.Due != tt.wantDue || !strings.Contains(s.Reason, tt.wantReason) {
				t.Errorf("due %v (%s), want %v (%s)", s.Due, s.Reason, tt.wantDue, tt.wantReason)
			}
			age := -1
			if !s.KeyCreated.IsZero() {
				age = rotation.AgeDays(s.KeyCreated, now)
			}
			if age != tt.wantAge {
				t.Errorf("age = %d days, want %d", age, tt.wantAge)
			}
			next := ""
			if !s.NextRotation.IsZero() {
				next = s.NextRotation.Format(time.RFC3339)
			}
			if next != tt.wantNext || s.OtherActive != tt.wantOther {
				t.Errorf("next rotation %q, other active %q; want %q, %q", next, s.OtherActive, tt.wantNext, tt.wantOther)
			}
		})
	}
}

func TestSpanAndDays(t *testing.T) {
	for d, want := range map[time.Duration]string{
		90 * 24 * time.Hour: "90 days", 24 * time.Hour: "1 day", 36 * time.Hour: "36h0m0s", 90 * time.Minute: "1h30m0s",
	} {
		if got := rotation.Span(d); got != want {
			t.Errorf("Span(%s) = %q, want %q", d, got, want)
		}
	}
	for d, want := range map[time.Duration]string{
		50*24*time.Hour + time.Hour: "50 days", 30 * time.Hour: "1 day", 5 * time.Hour: "5h", 90 * time.Second: "1m30s",
	} {
		if got := rotation.Days(d); got != want {
			t.Errorf("Days(%s) = %q, want %q", d, got, want)
		}
	}
}

// The rotation core is pure: no AWS SDK (nor any other module) reaches it, so it
// builds and tests in milliseconds and the SDK stays in the adapters.
func TestRotationDependsOnNoAWSSDK(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const module = "github.com/soracom-credentials-action/soracom-credentials-action/"
	for _, pkg := range strings.Fields(string(out)) {
		if strings.Contains(pkg, "aws") || strings.Contains(pkg, "smithy") ||
			strings.Contains(strings.SplitN(pkg, "/", 2)[0], ".") && !strings.HasPrefix(pkg, module) {
			t.Errorf("internal/rotation depends on %s", pkg)
		}
	}
	if !strings.Contains(string(out), module+"internal/rotation") {
		t.Errorf("go list -deps did not list the package itself:\n%s", out)
	}
}
