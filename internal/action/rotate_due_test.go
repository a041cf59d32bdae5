package action_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awstest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// ageKey replaces the user's key with one created daysOld days ago, held by the same
// sets.
func (w *world) ageKey(t *testing.T, daysOld int) {
	t.Helper()
	w.acct.DeleteKey(w.old.ID)
	w.old = w.acct.AddKeyCreated(user, awstest.Active, time.Now().AddDate(0, 0, -daysOld))
	for _, id := range []string{"funnel-aws", "harvest-aws"} {
		w.putSet(id, w.old.ID)
	}
}

func (w *world) putSet(id, keyID string) {
	w.soracom.PutCredentialSet(soracomtest.CredentialSet{ID: id, Type: "aws-credentials",
		Credentials: map[string]any{"accessKeyId": keyID, "secretAccessKey": "secret-of-" + keyID}})
}

// output returns the value of a step output.
func output(o outcome, name string) string {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `<<(\S+)\n((?s).*?)\n(\S+)$`).FindStringSubmatch(o.outputs)
	if m == nil {
		return ""
	}
	return m[2]
}

func TestRotationNotDueChangesNothingAndMakesOnlyTheReadingCalls(t *testing.T) {
	w := newWorld(t)
	w.ageKey(t, 10)
	retired := w.acct.AddKey(user, awstest.Inactive)
	w.inputs[inputs.RotateAfter] = "30d"
	o := w.run(t, 5*time.Second)
	if o.code != 0 {
		t.Fatalf("exit %d\n%s", o.code, o.stdout)
	}
	var iam []string
	for _, r := range w.acct.Requests() {
		if r.Service == "iam" {
			iam = append(iam, r.Action)
		}
	}
	if strings.Join(iam, " ") != "ListAccessKeys" {
		t.Errorf("IAM calls = %v, want one ListAccessKeys", iam)
	}
	var calls []string
	for _, r := range w.soracom.Requests() {
		calls = append(calls, r.Method+" "+r.Path)
	}
	if got := strings.Join(calls, ", "); got != "POST /v1/auth, GET /v1/credentials, POST /v1/auth/logout" {
		t.Errorf("SORACOM calls = %s", got)
	}
	if keys := w.acct.Keys(user); len(keys) != 2 || keys[1].ID != retired.ID {
		t.Errorf("IAM keys changed: %+v", keys)
	}
	next := w.old.Created.AddDate(0, 0, 30).UTC().Format(time.RFC3339)
	for name, want := range map[string]string{
		"rotated": "false", "key-age-days": "10", "next-rotation": next, "operation": "skipped", "aws-access-key-id": w.old.ID,
	} {
		if got := output(o, name); got != want {
			t.Errorf("output %s = %q, want %q", name, got, want)
		}
	}
	for _, id := range []string{"funnel-aws", "harvest-aws"} {
		if !strings.Contains(output(o, "results"), `{"credentialId":"`+id+`","coverage":"jp","type":"aws-credentials","operation":"skipped"}`) {
			t.Errorf("results do not skip %s: %s", id, output(o, "results"))
		}
	}
	if !strings.Contains(o.summary, "not due until "+next) {
		t.Errorf("summary:\n%s", o.summary)
	}
	if !strings.Contains(o.stdout, "Not due: the key …"+w.old.ID[len(w.old.ID)-4:]+" the sets hold is 10 days old; rotate-after is 30 days") {
		t.Errorf("log does not say why:\n%s", o.stdout)
	}
}

func TestRotationRotatesWhenDueAndSaysWhyInOneLine(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*world)
		why   string
		age   string
	}{
		{
			name:  "the key is older than rotate-after",
			setup: func(w *world) {},
			why:   "the sets hold is 40 days old, rotate-after is 30 days", age: "40",
		},
		{
			name: "a set holds an inactive key of the user",
			setup: func(w *world) {
				w.putSet("harvest-aws", w.acct.AddKey(user, awstest.Inactive).ID)
			},
			why: "the sets hold different keys: funnel-aws on …", age: "40",
		},
		{
			name:  "a named set does not exist yet",
			setup: func(w *world) { w.inputs[inputs.CredentialID] = "funnel-aws\nfresh-aws" },
			why:   "credential set fresh-aws does not exist yet", age: "40",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.ageKey(t, 40)
			w.inputs[inputs.RotateAfter] = "30d"
			tt.setup(w)
			start := time.Now()
			o := w.run(t, 5*time.Second)
			if o.code != 0 {
				t.Fatalf("exit %d\n%s", o.code, o.stdout)
			}
			if line := lineStarting(o.stdout, "Rotating now: "); !strings.Contains(line, tt.why) {
				t.Errorf("the log does not say %q in a 'Rotating now' line:\n%s", tt.why, o.stdout)
			}
			if rotated, age := output(o, "rotated"), output(o, "key-age-days"); rotated != "true" || age != tt.age {
				t.Errorf("rotated = %q, key-age-days = %q; want true, %s", rotated, age, tt.age)
			}
			next, err := time.Parse(time.RFC3339, output(o, "next-rotation"))
			if err != nil || next.Before(start.AddDate(0, 0, 30).Add(-time.Minute)) || next.After(time.Now().AddDate(0, 0, 30).Add(time.Minute)) {
				t.Errorf("next-rotation = %q (%v), want 30 days after the new key's creation", output(o, "next-rotation"), err)
			}
			if w.setKey(t, "funnel-aws") == w.old.ID {
				t.Errorf("funnel-aws still holds the old key")
			}
		})
	}
}

func TestRotationWithoutRotateAfterReportsTheKeyAgeAndNoNextRotation(t *testing.T) {
	w := newWorld(t)
	w.ageKey(t, 3)
	o := w.run(t, 5*time.Second)
	if o.code != 0 {
		t.Fatalf("exit %d\n%s", o.code, o.stdout)
	}
	if output(o, "rotated") != "true" || output(o, "key-age-days") != "3" || strings.Contains(o.outputs, "next-rotation") {
		t.Errorf("outputs:\n%s", o.outputs)
	}
	if strings.Contains(o.stdout, "Rotating now") {
		t.Errorf("a reason was logged without rotate-after:\n%s", o.stdout)
	}
}

// lineStarting returns the last line of text that starts with prefix.
func lineStarting(text, prefix string) string {
	var line string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			line = l
		}
	}
	return line
}

func TestRotationStoppedBeforeRotatingSaysRotatedFalse(t *testing.T) {
	w := newWorld(t)
	w.ageKey(t, 12)
	w.acct.AddKey(user, awstest.Active) // two active keys: a person must decide
	w.inputs[inputs.RotateAfter] = "30d"
	o := w.run(t, 5*time.Second)
	if o.code != 1 {
		t.Fatalf("exit %d\n%s", o.code, o.stdout)
	}
	if output(o, "rotated") != "false" || output(o, "key-age-days") != "12" {
		t.Errorf("outputs:\n%s", o.outputs)
	}
	if strings.Contains(o.summary, "Access key rotated") || strings.Contains(o.summary, "Rotation incomplete") {
		t.Errorf("summary claims a rotation:\n%s", o.summary)
	}
}

// A plan that fails (two active keys: a person must decide) still gives the schedule's
// outputs: the key the sets hold is known, so its age is, and with rotate-after set the
// rotation is due now (it is still due on the next run).
// checkNextRotationAfterFailure checks next-rotation after a rotation that was due and
// failed: empty without rotate-after, else the time of the run (it is still due).
func checkNextRotationAfterFailure(t *testing.T, next, rotateAfter string, before time.Time) {
	t.Helper()
	if rotateAfter == "" {
		if next != "" {
			t.Errorf("next-rotation %q without rotate-after", next)
		}
		return
	}
	due, err := time.Parse(time.RFC3339, next)
	if err != nil || due.After(time.Now()) || due.Before(before.Add(-time.Second)) {
		t.Errorf("next-rotation %q (%v), want the time of the run: the rotation is due and did not happen", next, err)
	}
}

func TestRotationPlanFailureStillOutputsTheSchedule(t *testing.T) {
	for _, rotateAfter := range []string{"30d", ""} {
		t.Run("rotate-after="+rotateAfter, func(t *testing.T) {
			w := newWorld(t)
			w.ageKey(t, 12)
			w.acct.AddKey(user, awstest.Active)
			if rotateAfter != "" {
				w.inputs[inputs.RotateAfter] = rotateAfter
			}
			before := time.Now()
			o := w.run(t, 5*time.Second)
			if o.code != 1 || !strings.Contains(o.stdout, "two active access keys") {
				t.Fatalf("exit %d, want 1 for two active keys\n%s", o.code, o.stdout)
			}
			if output(o, "rotated") != "false" || output(o, "key-age-days") != "12" {
				t.Errorf("outputs:\n%s", o.outputs)
			}
			checkNextRotationAfterFailure(t, output(o, "next-rotation"), rotateAfter, before)
		})
	}
}
