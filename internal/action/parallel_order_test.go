package action_test

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// storedLine is a log line saying a set was written, with the set's id.
var storedLine = regexp.MustCompile(`(?m)^Credential set (\S+): (created|updated)`)

// storedInLog returns the ids of the sets the log says were written, in log order.
func storedInLog(stdout string) []string {
	var ids []string
	for _, m := range storedLine.FindAllStringSubmatch(stdout, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// Writes run max-parallel at a time, yet the log and the results read as if the sets
// had been written one after the other: a slow early write holds back the lines of the
// later ones that ended first, and after a failure the writes in flight are still
// reported in input order, the failed set named in the error.
func TestParallelWritesLogAndReportInInputOrder(t *testing.T) {
	ids := make([]string, 10)
	for i := range ids {
		ids[i] = fmt.Sprintf("set-%02d", i)
	}
	for name, failing := range map[string]string{"every write succeeds": "", "the write of set-06 fails": "set-06"} {
		t.Run(name, func(t *testing.T) { checkParallelOrder(t, ids, failing) })
	}
}

// checkParallelOrder registers ids at max-parallel 4, set-01 slow and failing (when
// not "") refused, and checks the order of the log and the results.
func checkParallelOrder(t *testing.T, ids []string, failing string) {
	t.Helper()
	s := soracomtest.Start(t, soracomtest.WithLatency(5*time.Millisecond))
	s.AddAuthKey(authKeyID, authKey)
	for _, id := range ids {
		seedSet(s, id, "aws-credentials")
	}
	s.Inject("PUT /v1/credentials/set-01", 1, soracomtest.SlowFault(150*time.Millisecond))
	if failing != "" {
		s.Inject("PUT /v1/credentials/"+failing, soracomtest.Always, soracomtest.StatusFault(http.StatusForbidden))
	}
	o, results := registerRun(t, s, map[string]string{inputs.CredentialID: strings.Join(ids, "\n"), inputs.MaxParallel: "4"})
	logged := storedInLog(o.stdout)
	var reported []string
	for _, r := range results {
		if r.Operation == "updated" {
			reported = append(reported, r.CredentialID)
		}
	}
	if !slices.IsSorted(logged) || !slices.Equal(logged, reported) || !slices.Contains(logged, "set-01") || !slices.Contains(logged, "set-05") {
		t.Errorf("logged %v, reported %v: want both in input order, the slow set-01 among them", logged, reported)
	}
	if failing == "" {
		if len(logged) != len(ids) {
			t.Errorf("logged %v: want every set", logged)
		}
		return
	}
	if msg := errorLine(t, o); o.code != 1 || !strings.HasPrefix(msg, "credential set "+failing) || slices.Contains(logged, failing) {
		t.Errorf("exit %d, error %q, logged %v: want the failed set named first and not logged as written", o.code, msg, logged)
	}
}

// A rotation writes its sets max-parallel at a time too: the log names them in the
// plan's order (the named set, then the others in the list's order), a slow write
// holding back the lines of later ones.
func TestRotationLogsItsParallelWritesInPlanOrder(t *testing.T) {
	w := newWorld(t, soracomtest.WithLatency(5*time.Millisecond))
	for i := range 8 {
		w.soracom.PutCredentialSet(soracomtest.CredentialSet{ID: fmt.Sprintf("set-%02d", i), Type: "aws-credentials",
			Credentials: map[string]any{"accessKeyId": w.old.ID, "secretAccessKey": "s"}})
	}
	w.soracom.Inject("PUT /v1/credentials/set-01", 1, soracomtest.SlowFault(150*time.Millisecond))
	w.inputs[inputs.MaxParallel] = "4"
	o := w.run(t, 5*time.Second)
	if o.code != 0 {
		t.Fatalf("exit %d\n%s", o.code, o.stdout)
	}
	want := []string{"funnel-aws", "harvest-aws", "set-00", "set-01", "set-02", "set-03", "set-04", "set-05", "set-06", "set-07"}
	if got := storedInLog(o.stdout); !slices.Equal(got, want) {
		t.Errorf("logged %v, want %v", got, want)
	}
	if m := w.soracom.MostInFlight(); m < 2 || m > 4 {
		t.Errorf("%d requests in flight at most, want several and at most 4", m)
	}
}
