package action_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/action"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/tripwire"
)

// A rotation on both coverages writing many sets max-parallel at a time, cancelled
// while a write on one coverage is in flight (carried out late, or never): the
// rotation's invariants hold whatever was in flight. The old key stays active (some
// set may still hold it); every set is reported as what it holds (a set on the new key
// is never "not changed", a set on the old key never "updated"; the write in flight is
// unknown); the error names the set in doubt with its coverage; no token is left.
func TestRotationOnBothCoveragesCancelledDuringParallelWrites(t *testing.T) {
	tests := []struct {
		name, coverage, set string
		land                tripwire.Landing
	}{
		{"a write on g lands after the cancel", "g", "p-03", tripwire.Late},
		{"a write on g never lands", "g", "p-05", tripwire.Never},
		{"a write on jp lands after the cancel", "jp", "p-04", tripwire.Late},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { cancelBothDuringWrites(t, tt.coverage, tt.set, tt.land) })
	}
}

// cancelBothDuringWrites rotates ten sets on each coverage, 4 writes at a time, cancels
// the run when the write of set on coverage arrives (landing as land says), and checks
// the invariants.
func cancelBothDuringWrites(t *testing.T, coverage, set string, land tripwire.Landing) {
	t.Helper()
	w, g := bothRotation(t)
	servers := map[string]*soracomtest.Server{"jp": w.soracom, "g": g}
	for _, s := range servers {
		for i := range 8 {
			s.PutCredentialSet(soracomtest.CredentialSet{ID: fmt.Sprintf("p-%02d", i), Type: "aws-credentials",
				Credentials: map[string]any{"accessKeyId": w.old.ID, "secretAccessKey": "s"}})
		}
	}
	w.inputs[inputs.MaxParallel] = "4"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wire := tripwire.New(t, servers[coverage].URL(), land, tripwire.Request(http.MethodPut, "/v1/credentials/"+set), cancel)
	t.Setenv("SORACOM_ENDPOINT_"+strings.ToUpper(coverage), wire.URL)
	o := w.runCancellable(t, ctx, nil, wire)
	if o.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", o.code, o.stdout)
	}
	if got := statuses(w); got != "old:Active new:Active" {
		t.Errorf("keys %s: the old key must stay active", got)
	}
	msg := errorLine(t, o)
	says(t, "error", msg, []string{"cancelled", "; in doubt: credential set", "check which key ", "Both access keys are active"})
	if _, doubt, _ := strings.Cut(msg, "; in doubt: credential set"); !strings.Contains(doubt, set+" on "+coverage) {
		t.Errorf("the error does not say %s on %s is in doubt: %s", set, coverage, msg)
	}
	if strings.Contains(msg, "characters cut") {
		t.Errorf("the error was too long to print whole: %s", msg)
	}
	checkEveryCoverageReportedAsHeld(t, w, servers, resultsOf(t, o.outputs))
	for name, s := range servers {
		if n := s.LiveSessions(); n != 0 {
			t.Errorf("%d tokens left valid on %s", n, name)
		}
	}
}

// checkEveryCoverageReportedAsHeld checks each result of a rotation against the key
// its set holds: updated only on the new key, not changed only on the old one.
func checkEveryCoverageReportedAsHeld(t *testing.T, w *world, servers map[string]*soracomtest.Server, results []action.SetResult) {
	t.Helper()
	if len(results) == 0 {
		t.Fatal("no results")
	}
	for _, r := range results {
		onNew := keyOf(t, servers[r.Coverage], r.CredentialID) != w.old.ID
		switch {
		case r.Operation == "unknown":
		case r.Operation == "updated" && onNew, r.Operation == "not changed" && !onNew:
		default:
			t.Errorf("%s on %s reported %q, on the new key: %v", r.CredentialID, r.Coverage, r.Operation, onNew)
		}
	}
}
