package action_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/audit"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awstest"
)

// Many sets sharing one key: each set's shared-key finding names a few of the others,
// not all, so the log, the summary and the findings output grow linearly with the sets.
func TestAuditOfManySetsSharingOneKeyStaysLinear(t *testing.T) {
	const sets = 2000
	// Bytes one set may add to each of the log, the summary and the outputs: a few
	// hundred for a finding's message, its JSON fields and a table row. Naming every
	// other set would take more than ten bytes per other set, over 20 KB per set here.
	const perSet = 1024
	w := newAuditWorld(t)
	key := w.acct.AddKey("soracom-funnel", awstest.Active)
	for i := range sets {
		w.put(fmt.Sprintf("funnel-%04d", i), key.ID)
	}
	o := w.run(t)
	if o.code != 0 {
		t.Fatalf("exit code %d, want 0 (only info findings):\n%s", o.code, tail(o.stdout))
	}
	if len(o.findings) != sets {
		t.Fatalf("%d findings, want one shared-key finding per set", len(o.findings))
	}
	for name, text := range map[string]string{"log": o.stdout, "summary": o.summary, "outputs": o.outputs} {
		if len(text) > sets*perSet {
			t.Errorf("the %s is %d bytes for %d sets sharing a key, more than %d bytes per set", name, len(text), sets, perSet)
		}
	}
	f := o.finding(audit.SharedKey)
	if !strings.Contains(f.Message, fmt.Sprintf("held by %d sets", sets)) || !strings.Contains(f.Message, fmt.Sprintf("and %d more", sets-1-audit.SharedNamed)) {
		t.Errorf("the shared-key finding does not count the sets it does not name: %s", f.Message)
	}
}

func tail(s string) string { return s[max(0, len(s)-2000):] }
