package rotation_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awskeys"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awstest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/rotation"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
)

// memSets is an in-memory SORACOM operator's credential sets.
type memSets struct {
	mu     sync.Mutex
	sets   map[string]rotation.Set
	secret map[string]string // set id → secret key stored
	fail   map[string]error  // set id → error Store answers
	stores []string
}

func newMemSets(sets ...rotation.Set) *memSets {
	m := &memSets{sets: map[string]rotation.Set{}, secret: map[string]string{}, fail: map[string]error{}}
	for _, s := range sets {
		m.sets[s.ID] = s
	}
	return m
}

func (m *memSets) List(context.Context) ([]rotation.Set, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Collect(maps.Values(m.sets))
	slices.SortFunc(out, func(a, b rotation.Set) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func (m *memSets) Store(_ context.Context, id string, key awskeys.AccessKey) (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stores = append(m.stores, id)
	if err := m.fail[id]; err != nil {
		return time.Time{}, err
	}
	m.sets[id] = rotation.Set{ID: id, Type: rotation.AWSCredentials, AccessKeyID: key.ID}
	m.secret[id] = key.Secret.Reveal()
	return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), nil
}

// fixture is a fake AWS account whose user "funnel" has keys k0, k1 (oldest first), and
// credential sets that refer to those keys by label.
type fixture struct {
	acct   *awstest.Account
	keys   awskeys.UserKeys
	sets   *memSets
	labels map[string]string // key id → label
}

type setup struct {
	keys   []string       // statuses of k0, k1
	sets   []rotation.Set // AccessKeyID is a label: k0, k1
	budget time.Duration  // VerifyKey budget; 2 s when zero
}

func newFixture(t *testing.T, s setup) *fixture {
	t.Helper()
	acct := awstest.NewAccount(t)
	awstest.Setenv(t, acct.Env(), awstest.KeyEnv(acct.AddKey("admin", awstest.Active)))
	acct.AddUser("funnel")
	f := &fixture{acct: acct, labels: map[string]string{}}
	ids := map[string]string{}
	for i, status := range s.keys {
		k := acct.AddKey("funnel", status)
		label := fmt.Sprintf("k%d", i)
		ids[label], f.labels[k.ID] = k.ID, label
	}
	var sets []rotation.Set
	for _, set := range s.sets {
		if set.AccessKeyID != "" {
			set.AccessKeyID = ids[set.AccessKeyID]
		}
		sets = append(sets, set)
	}
	f.sets = newMemSets(sets...)
	cfg, err := awskeys.Load(context.Background(), awskeys.Settings{}, secret.MaskFunc(func(string) {}))
	if err != nil {
		t.Fatal(err)
	}
	budget := s.budget
	if budget == 0 {
		budget = 2 * time.Second
	}
	f.keys = awskeys.UserKeys{IAM: awskeys.NewIAM(cfg, secret.MaskFunc(func(string) {})), User: "funnel", Config: cfg, Budget: budget}
	return f
}

func (f *fixture) label(id string) string {
	if l, ok := f.labels[id]; ok {
		return l
	}
	if id == "" {
		return ""
	}
	return "new"
}

// iamState is the user's keys as "label:Status", oldest first.
func (f *fixture) iamState() []string {
	var out []string
	for _, k := range f.acct.Keys("funnel") {
		out = append(out, f.label(k.ID)+":"+k.Status)
	}
	return out
}

// setState is each aws-credentials set's key label.
func (f *fixture) setState() map[string]string {
	out := map[string]string{}
	sets, _ := f.sets.List(context.Background())
	for _, s := range sets {
		out[s.ID] = f.label(s.AccessKeyID)
	}
	return out
}

func awsSet(id, key string) rotation.Set {
	return rotation.Set{ID: id, Type: rotation.AWSCredentials, AccessKeyID: key}
}

var errSORACOM = errors.New("SORACOM answered 500")

func TestRotation(t *testing.T) {
	tests := []struct {
		name   string
		setup  setup
		named  []string
		policy rotation.OldKeyPolicy
		inject func(*fixture)

		wantErr        []string // substrings of the error; none means success
		wantKeys       []string
		wantSets       map[string]string
		wantUpdated    []string
		wantOldKey     string
		wantNoCreate   bool
		wantPrevious   string
		wantNotUpdated []string
	}{
		{
			name:        "replaces the key in the named set and every set on the old key, then deactivates the old key",
			setup:       setup{keys: []string{"Active"}, sets: []rotation.Set{awsSet("cs-b", "k0"), awsSet("cs-a", "k0"), awsSet("other", "")}},
			named:       []string{"cs-b"},
			wantKeys:    []string{"k0:Inactive", "new:Active"},
			wantSets:    map[string]string{"cs-a": "new", "cs-b": "new", "other": ""},
			wantUpdated: []string{"cs-b", "cs-a"},
			wantOldKey:  rotation.OldKeyDeactivated, wantPrevious: "k0",
		},
		{
			name:        "old-key delete deletes the old key",
			setup:       setup{keys: []string{"Active"}, sets: []rotation.Set{awsSet("cs", "k0")}},
			named:       []string{"cs"},
			policy:      rotation.Delete,
			wantKeys:    []string{"new:Active"},
			wantSets:    map[string]string{"cs": "new"},
			wantUpdated: []string{"cs"}, wantOldKey: rotation.OldKeyDeleted, wantPrevious: "k0",
		},
		{
			name:        "old-key keep leaves the old key active",
			setup:       setup{keys: []string{"Active"}, sets: []rotation.Set{awsSet("cs", "k0")}},
			named:       []string{"cs"},
			policy:      rotation.Keep,
			wantKeys:    []string{"k0:Active", "new:Active"},
			wantSets:    map[string]string{"cs": "new"},
			wantUpdated: []string{"cs"}, wantOldKey: rotation.OldKeyKept, wantPrevious: "k0",
		},
		{
			name:        "an inactive key left by an earlier rotation is deleted to make room",
			setup:       setup{keys: []string{"Inactive", "Active"}, sets: []rotation.Set{awsSet("cs", "k1")}},
			named:       []string{"cs"},
			wantKeys:    []string{"k1:Inactive", "new:Active"},
			wantSets:    map[string]string{"cs": "new"},
			wantUpdated: []string{"cs"}, wantOldKey: rotation.OldKeyDeactivated, wantPrevious: "k1",
		},
		{
			name:        "a user with no key gets one, stored in the named set, which is created",
			setup:       setup{},
			named:       []string{"new-set"},
			wantKeys:    []string{"new:Active"},
			wantSets:    map[string]string{"new-set": "new"},
			wantUpdated: []string{"new-set"}, wantOldKey: rotation.OldKeyNone,
		},
		{
			name:        "a user with one inactive key only keeps it, gets a new key, and sets on the dead key move too",
			setup:       setup{keys: []string{"Inactive"}, sets: []rotation.Set{awsSet("stale", "k0")}},
			named:       []string{"cs"},
			wantKeys:    []string{"k0:Inactive", "new:Active"},
			wantSets:    map[string]string{"cs": "new", "stale": "new"},
			wantUpdated: []string{"cs", "stale"}, wantOldKey: rotation.OldKeyNone,
		},
		{
			name:  "two active keys at start stop the rotation with both ids and the sets on each, changing nothing",
			setup: setup{keys: []string{"Active", "Active"}, sets: []rotation.Set{awsSet("cs-0", "k0"), awsSet("cs-1", "k1"), awsSet("cs-2", "k1")}},
			named: []string{"cs-0"},
			wantErr: []string{"two active access keys", "{k0}", "held by credential sets cs-0)", "{k1}",
				"held by credential sets cs-1, cs-2)", "Nothing was changed.", "A person must decide which key stays"},
			wantKeys:     []string{"k0:Active", "k1:Active"},
			wantSets:     map[string]string{"cs-0": "k0", "cs-1": "k1", "cs-2": "k1"},
			wantNoCreate: true,
		},
		{
			name:  "CreateAccessKey failing changes nothing",
			setup: setup{keys: []string{"Active"}, sets: []rotation.Set{awsSet("cs", "k0")}},
			named: []string{"cs"},
			inject: func(f *fixture) {
				f.acct.Fail("CreateAccessKey", awstest.Fault{Status: 403, Code: "AccessDenied", Message: "no"})
			},
			wantErr: []string{"could not create a new access key", "AccessDenied",
				"Every credential set still holds what it held before (cs on key {k0}).", "run the workflow again"},
			wantKeys: []string{"k0:Active"}, wantSets: map[string]string{"cs": "k0"},
			wantOldKey: rotation.OldKeyStillActive, wantPrevious: "k0", wantNotUpdated: []string{"cs"},
		},
		{
			name:  "a new key that does not start working in time is deleted, and nothing else changes",
			setup: setup{keys: []string{"Active"}, sets: []rotation.Set{awsSet("cs", "k0")}, budget: 300 * time.Millisecond},
			named: []string{"cs"},
			inject: func(f *fixture) {
				f.acct.SetPropagationDelay(time.Minute)
			},
			wantErr: []string{"could not wait until the new access key …", "did not start working within 300ms",
				"was deleted; every credential set still holds what it held before", "Run the workflow again"},
			wantKeys: []string{"k0:Active"}, wantSets: map[string]string{"cs": "k0"},
			wantOldKey: rotation.OldKeyStillActive, wantPrevious: "k0", wantNotUpdated: []string{"cs"},
		},
		{
			name:   "the first set update failing deletes the new key: the state is as before",
			setup:  setup{keys: []string{"Active"}, sets: []rotation.Set{awsSet("cs-a", "k0"), awsSet("cs-b", "k0")}},
			named:  []string{"cs-a"},
			inject: func(f *fixture) { f.sets.fail["cs-a"] = errSORACOM },
			wantErr: []string{"could not store the new key in credential set cs-a: SORACOM answered 500",
				"was deleted; every credential set still holds what it held before (cs-a, cs-b on key {k0})"},
			wantKeys: []string{"k0:Active"}, wantSets: map[string]string{"cs-a": "k0", "cs-b": "k0"},
			wantOldKey: rotation.OldKeyStillActive, wantPrevious: "k0", wantNotUpdated: []string{"cs-a", "cs-b"},
		},
		{
			name:  "a rollback that fails too says to delete the new key by hand",
			setup: setup{keys: []string{"Active"}, sets: []rotation.Set{awsSet("cs", "k0")}},
			named: []string{"cs"},
			inject: func(f *fixture) {
				f.sets.fail["cs"] = errSORACOM
				f.acct.Fail("DeleteAccessKey", awstest.Unavailable(10))
			},
			wantErr:  []string{"was not used, but deleting it failed", "delete it by hand", "Otherwise every credential set still holds"},
			wantKeys: []string{"k0:Active", "new:Active"}, wantSets: map[string]string{"cs": "k0"},
			wantOldKey: rotation.OldKeyStillActive, wantPrevious: "k0", wantNotUpdated: []string{"cs"},
		},
		{
			name:        "a later set update failing keeps both keys active and lists the sets on each",
			setup:       setup{keys: []string{"Active"}, sets: []rotation.Set{awsSet("cs-a", "k0"), awsSet("cs-b", "k0"), awsSet("cs-c", "k0")}},
			named:       []string{"cs-a"},
			inject:      func(f *fixture) { f.sets.fail["cs-b"] = errSORACOM },
			wantErr:     []string{"could not store the new key in credential set cs-b", "Both access keys are active, so every set works: on the new key …", ": cs-a; still on the old key {k0}: cs-b, cs-c.", "A person must finish"},
			wantKeys:    []string{"k0:Active", "new:Active"},
			wantSets:    map[string]string{"cs-a": "new", "cs-b": "k0", "cs-c": "k0"},
			wantUpdated: []string{"cs-a"}, wantOldKey: rotation.OldKeyStillActive, wantPrevious: "k0",
			wantNotUpdated: []string{"cs-b", "cs-c"},
		},
		{
			name:  "deactivating the old key failing is reported after the sets were updated",
			setup: setup{keys: []string{"Active"}, sets: []rotation.Set{awsSet("cs", "k0")}},
			named: []string{"cs"},
			inject: func(f *fixture) {
				f.acct.Fail("UpdateAccessKey", awstest.Fault{Status: 403, Code: "AccessDenied", Message: "no"})
			},
			wantErr: []string{"could not deactivate the old access key {k0}", "AccessDenied",
				"Every planned set (cs) holds the new key …", "the old key {k0} is still active", "Deactivate the old key {k0} by hand"},
			wantKeys:    []string{"k0:Active", "new:Active"},
			wantSets:    map[string]string{"cs": "new"},
			wantUpdated: []string{"cs"}, wantOldKey: rotation.OldKeyStillActive, wantPrevious: "k0",
		},
		{
			name:   "deleting the old key failing is reported after the sets were updated",
			setup:  setup{keys: []string{"Active"}, sets: []rotation.Set{awsSet("cs", "k0")}},
			named:  []string{"cs"},
			policy: rotation.Delete,
			inject: func(f *fixture) {
				f.acct.Fail("DeleteAccessKey", awstest.Fault{Status: 403, Code: "AccessDenied", Message: "no"})
			},
			wantErr: []string{"could not delete the old access key {k0}", "the old key {k0} is still active",
				"Delete the old key {k0} by hand"},
			wantKeys:    []string{"k0:Active", "new:Active"},
			wantSets:    map[string]string{"cs": "new"},
			wantUpdated: []string{"cs"}, wantOldKey: rotation.OldKeyStillActive, wantPrevious: "k0",
		},
		{
			name:  "deleting the inactive key failing changes nothing",
			setup: setup{keys: []string{"Inactive", "Active"}, sets: []rotation.Set{awsSet("cs", "k1")}},
			named: []string{"cs"},
			inject: func(f *fixture) {
				f.acct.Fail("DeleteAccessKey", awstest.Fault{Status: 403, Code: "AccessDenied", Message: "no"})
			},
			wantErr:  []string{"could not delete the inactive access key {k0}", "Nothing was changed."},
			wantKeys: []string{"k0:Inactive", "k1:Active"}, wantSets: map[string]string{"cs": "k1"},
			wantOldKey: rotation.OldKeyStillActive, wantPrevious: "k1", wantNotUpdated: []string{"cs"}, wantNoCreate: true,
		},
		{
			name:         "a named set of another type is refused before anything changes",
			setup:        setup{keys: []string{"Active"}, sets: []rotation.Set{{ID: "cs", Type: "api-token-credentials"}}},
			named:        []string{"cs"},
			wantErr:      []string{"credential set cs is of type api-token-credentials, not aws-credentials", "Nothing was changed."},
			wantKeys:     []string{"k0:Active"},
			wantSets:     map[string]string{"cs": ""},
			wantNoCreate: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.setup)
			if tt.inject != nil {
				tt.inject(f)
			}
			ctx := context.Background()
			res, err := func() (rotation.Result, error) {
				plan, err := rotation.Prepare(ctx, f.keys, f.sets, tt.named)
				if err != nil {
					return rotation.Result{}, err
				}
				return rotation.Execute(ctx, plan, tt.policy)
			}()

			if err != nil {
				t.Logf("error: %v", err)
			}
			if len(tt.wantErr) == 0 && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if len(tt.wantErr) > 0 {
				var rerr *rotation.Error
				if !errors.As(err, &rerr) {
					t.Fatalf("err = %v, want a *rotation.Error", err)
				}
				msg := err.Error()
				for _, want := range tt.wantErr {
					want = f.expand(want)
					if !strings.Contains(msg, want) {
						t.Errorf("error lacks %q:\n%s", want, msg)
					}
				}
				for _, k := range f.acct.Keys("funnel") {
					if strings.Contains(msg, k.Secret) {
						t.Errorf("error reveals a secret key:\n%s", msg)
					}
				}
			}
			if got := f.iamState(); !slices.Equal(got, tt.wantKeys) {
				t.Errorf("IAM keys = %v, want %v", got, tt.wantKeys)
			}
			if got := f.setState(); !maps.Equal(got, tt.wantSets) {
				t.Errorf("sets = %v, want %v", got, tt.wantSets)
			}
			if got := res.UpdatedIDs(); !slices.Equal(got, tt.wantUpdated) && !(len(got) == 0 && len(tt.wantUpdated) == 0) {
				t.Errorf("updated = %v, want %v", got, tt.wantUpdated)
			}
			if !slices.Equal(res.NotUpdated, tt.wantNotUpdated) {
				t.Errorf("not updated = %v, want %v", res.NotUpdated, tt.wantNotUpdated)
			}
			if res.OldKeyAction != tt.wantOldKey {
				t.Errorf("old key action = %q, want %q", res.OldKeyAction, tt.wantOldKey)
			}
			if got := f.label(res.PreviousKeyID); got != tt.wantPrevious {
				t.Errorf("previous key = %q, want %q", got, tt.wantPrevious)
			}
			if created := slices.Contains(f.acct.Actions(), "CreateAccessKey"); created == tt.wantNoCreate {
				t.Errorf("CreateAccessKey called: %v", created)
			}
			if err == nil {
				if res.Account != awstest.DefaultAccountID {
					t.Errorf("account = %q", res.Account)
				}
				for _, u := range res.Updated {
					if f.sets.secret[u.ID] == "" || u.UpdatedAt.IsZero() {
						t.Errorf("set %s: no secret stored or no update time", u.ID)
					}
				}
			}
		})
	}
}

// expand replaces {label} with the key id of that label.
func (f *fixture) expand(s string) string {
	for id, label := range f.labels {
		s = strings.ReplaceAll(s, "{"+label+"}", id)
	}
	return s
}

func TestPrepare(t *testing.T) {
	t.Run("a dry run plans the deletion of the inactive key but does not delete it", func(t *testing.T) {
		f := newFixture(t, setup{keys: []string{"Inactive", "Active"}, sets: []rotation.Set{awsSet("cs", "k1"), awsSet("more", "k1")}})
		plan, err := rotation.Prepare(context.Background(), f.keys, f.sets, []string{"cs"})
		if err != nil {
			t.Fatal(err)
		}
		if got := f.iamState(); !slices.Equal(got, []string{"k0:Inactive", "k1:Active"}) {
			t.Errorf("IAM keys = %v, want them untouched", got)
		}
		if slices.ContainsFunc(f.acct.Actions(), func(a string) bool { return a != "ListAccessKeys" && a != "GetCallerIdentity" }) {
			t.Errorf("planning called %v", f.acct.Actions())
		}
		want := f.expand(`1. delete the inactive access key {k0} (retired by an earlier rotation) to make room
2. create a new access key and wait until AWS accepts it
3. store the new key in credential set cs (named in credential-id; now {k1})
4. store the new key in credential set more (holds the key being replaced; now {k1})
5. deactivate the old access key {k1} (old-key: deactivate)
`)
		if got := plan.Describe(""); got != want {
			t.Errorf("plan:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("a named set that does not exist yet is planned for creation", func(t *testing.T) {
		f := newFixture(t, setup{keys: []string{"Active"}})
		plan, err := rotation.Prepare(context.Background(), f.keys, f.sets, []string{"fresh", "fresh"})
		if err != nil {
			t.Fatal(err)
		}
		if got := plan.TargetIDs(); !slices.Equal(got, []string{"fresh"}) {
			t.Errorf("targets = %v", got)
		}
		if d := plan.Describe(rotation.Keep); !strings.Contains(d, "create credential set fresh (named in credential-id)") ||
			!strings.Contains(d, "keep the old access key") {
			t.Errorf("plan:\n%s", d)
		}
	})
	t.Run("no named set and no set on the user's keys is an error", func(t *testing.T) {
		f := newFixture(t, setup{keys: []string{"Active"}})
		_, err := rotation.Prepare(context.Background(), f.keys, f.sets, nil)
		if err == nil || !strings.Contains(err.Error(), "no credential set to update") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestRotationFinishesSoonAfterTheNewKeyStartsWorking(t *testing.T) {
	f := newFixture(t, setup{keys: []string{"Active"}, sets: []rotation.Set{awsSet("cs", "k0")}, budget: 10 * time.Second})
	const delay = 1200 * time.Millisecond
	f.acct.SetPropagationDelay(delay)
	ctx := context.Background()
	plan, err := rotation.Prepare(ctx, f.keys, f.sets, []string{"cs"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := rotation.Execute(ctx, plan, rotation.Deactivate); err != nil {
		t.Fatal(err)
	}
	if late := time.Since(start) - delay; late > 1500*time.Millisecond {
		t.Errorf("rotation finished %s after the new key started working, want at most 1.5s", late)
	}
}

func TestRotationRidesOutIAMThrottling(t *testing.T) {
	f := newFixture(t, setup{keys: []string{"Active"}, sets: []rotation.Set{awsSet("cs", "k0")}})
	f.acct.Fail("CreateAccessKey", awstest.Throttling(1))
	f.acct.Fail("UpdateAccessKey", awstest.Unavailable(1))
	ctx := context.Background()
	plan, err := rotation.Prepare(ctx, f.keys, f.sets, []string{"cs"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rotation.Execute(ctx, plan, ""); err != nil {
		t.Fatal(err)
	}
	if got := f.iamState(); !slices.Equal(got, []string{"k0:Inactive", "new:Active"}) {
		t.Errorf("IAM keys = %v", got)
	}
}

func TestParseOldKeyPolicy(t *testing.T) {
	tests := []struct {
		in      string
		want    rotation.OldKeyPolicy
		wantErr bool
	}{
		{"", rotation.Deactivate, false},
		{"deactivate", rotation.Deactivate, false},
		{"Delete", rotation.Delete, false},
		{" keep ", rotation.Keep, false},
		{"remove", "", true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("old-key %q", tt.in), func(t *testing.T) {
			got, err := rotation.ParseOldKeyPolicy(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("ParseOldKeyPolicy(%q) = %q, %v", tt.in, got, err)
			}
		})
	}
}

func TestExecuteRefusesAPlanNotMadeByPrepare(t *testing.T) {
	if _, err := rotation.Execute(context.Background(), rotation.Plan{}, ""); err == nil {
		t.Fatal("no error")
	}
}
