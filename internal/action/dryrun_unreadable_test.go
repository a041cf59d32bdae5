package action_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// A dry run of a rotation that a real run would fail on (a set that may hold the old
// key could not be read, so the old key stays active and the run fails) fails too: exit
// code 1, the same error naming the set, the plan shown, and nothing changed.
func TestDryRunOfARotationWithAnUnreadableSetFailsAsTheRealRunWould(t *testing.T) {
	tests := []struct {
		name   string
		listed map[string]any
		named  string
		names  string
	}{
		{"a float lastUsedDateTime on a set not named", map[string]any{"lastUsedDateTime": json.RawMessage("1.7e12")}, "funnel-aws",
			"credential set odd-aws (its lastUsedDateTime)"},
		{"an id that cannot be read", map[string]any{"credentialsId": 42}, "funnel-aws",
			"the credential set at entry 3 of SORACOM's list (its credentialsId)"},
		{"the named set itself", map[string]any{"updateDateTime": "soon"}, "odd-aws",
			"credential set odd-aws (its updateDateTime)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.soracom.PutCredentialSet(soracomtest.CredentialSet{ID: "odd-aws", Type: "aws-credentials", Listed: tt.listed,
				Credentials: map[string]any{"accessKeyId": w.old.ID, "secretAccessKey": "secret-of-odd"}})
			w.inputs[inputs.CredentialID] = tt.named
			w.inputs[inputs.DryRun] = "true"
			o := w.run(t, 5*time.Second)
			checkDryRunFailed(t, w, o, tt.names)
		})
	}
}

// checkDryRunFailed: exit code 1, the real run's error naming the set, the plan and
// the failure in the summary, and nothing changed in IAM or SORACOM.
func checkDryRunFailed(t *testing.T, w *world, o outcome, names string) {
	t.Helper()
	msg := errorLine(t, o)
	for _, want := range []string{names + " could not be read", "Dry run: nothing was changed",
		"keep the old key " + w.old.ID + " active", "retire the old key by hand"} {
		if o.code != 1 || !strings.Contains(msg, want) {
			t.Errorf("exit %d, error %q; want 1 and %q", o.code, msg, want)
		}
	}
	if !strings.Contains(o.summary, "Rotation plan") || !strings.Contains(o.summary, "could not be read") {
		t.Errorf("the summary does not show the plan and the failure:\n%s", o.summary)
	}
	if keys := w.acct.Keys(user); len(keys) != 1 || keys[0].ID != w.old.ID {
		t.Errorf("IAM keys %+v: a dry run changed them", keys)
	}
	for _, id := range []string{"funnel-aws", "harvest-aws", "odd-aws"} {
		if w.setKey(t, id) != w.old.ID {
			t.Errorf("a dry run changed %s", id)
		}
	}
	noneOf(t, o, "FORGED")
}
