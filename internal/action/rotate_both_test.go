package action_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// bothRotation is newWorld on both coverages: jp as newWorld seeds it; on g,
// funnel-aws (named) and g-only-aws hold the old key too.
func bothRotation(t *testing.T) (*world, *soracomtest.Server) {
	t.Helper()
	w := newWorld(t)
	g := soracomtest.Start(t)
	g.AddAuthKey(authKeyID, authKey)
	for _, id := range []string{"funnel-aws", "g-only-aws"} {
		g.PutCredentialSet(soracomtest.CredentialSet{ID: id, Type: "aws-credentials", Credentials: map[string]any{"accessKeyId": w.old.ID, "secretAccessKey": "s"}})
	}
	delete(w.inputs, inputs.Endpoint)
	w.inputs[inputs.CoverageType] = "both"
	t.Setenv("SORACOM_ENDPOINT_JP", w.soracom.URL())
	t.Setenv("SORACOM_ENDPOINT_G", g.URL())
	return w, g
}

func keyOf(t *testing.T, s *soracomtest.Server, id string) string {
	t.Helper()
	set, ok := s.CredentialSet(id)
	if !ok {
		t.Fatalf("set %s is gone", id)
	}
	return set.Credentials["accessKeyId"].(string)
}

func statuses(w *world) string {
	var out []string
	for _, k := range w.acct.Keys(user) {
		name := "new"
		if k.ID == w.old.ID {
			name = "old"
		}
		out = append(out, name+":"+k.Status)
	}
	return strings.Join(out, " ")
}

// A rotation on both coverages moves every set that holds the old key on either, the
// named one on each, and retires the old key only once all of them hold the new one;
// results name each set's coverage.
func TestRotationOnBothCoveragesMovesEverySet(t *testing.T) {
	w, g := bothRotation(t)
	o := w.run(t, 5*time.Second)
	if o.code != 0 {
		t.Fatalf("exit %d\n%s", o.code, o.stdout)
	}
	if got := statuses(w); got != "old:Inactive new:Active" {
		t.Errorf("keys %s", got)
	}
	newKey := ""
	for _, k := range w.acct.Keys(user) {
		if k.ID != w.old.ID {
			newKey = k.ID
		}
	}
	for s, ids := range map[*soracomtest.Server][]string{w.soracom: {"funnel-aws", "harvest-aws"}, g: {"funnel-aws", "g-only-aws"}} {
		for _, id := range ids {
			if keyOf(t, s, id) != newKey {
				t.Errorf("%s on %s still holds the old key", id, s.URL())
			}
		}
	}
	var res []struct{ CredentialID, Coverage, Operation string }
	if err := json.Unmarshal([]byte(parseOutputs(o.outputs)["results"]), &res); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res {
		got = append(got, r.Coverage+"/"+r.CredentialID+" "+r.Operation)
	}
	if want := "jp/funnel-aws updated, jp/harvest-aws updated, g/funnel-aws updated, g/g-only-aws updated"; strings.Join(got, ", ") != want {
		t.Errorf("results %s, want %s", strings.Join(got, ", "), want)
	}
	if w.soracom.LiveSessions()+g.LiveSessions() != 0 {
		t.Errorf("a token was left valid")
	}
	says(t, "log", o.stdout, []string{"store the new key in credential set g-only-aws on g (holds the key being replaced", "Credential set funnel-aws on g: updated"})
}

// When a write on one coverage fails, the old key stays active and the error says
// which set on which coverage holds which key.
func TestRotationOnBothCoveragesKeepsTheOldKeyWhenOneFails(t *testing.T) {
	w, g := bothRotation(t)
	g.Inject("PUT /v1/credentials/g-only-aws", soracomtest.Always, soracomtest.StatusFault(http.StatusForbidden))
	o := w.run(t, 5*time.Second)
	if o.code != 1 {
		t.Fatalf("exit %d\n%s", o.code, o.stdout)
	}
	if got := statuses(w); got != "old:Active new:Active" {
		t.Errorf("keys %s: the old key must stay active", got)
	}
	if keyOf(t, g, "g-only-aws") != w.old.ID {
		t.Errorf("the refused set changed")
	}
	says(t, "error", errorLine(t, o), []string{"g-only-aws on g", "still on the old key", "Both access keys are active"})
}

// A coverage that refuses the AuthKey or cannot be reached stops the rotation before
// anything changes: no key is created, no set written on either coverage, and the error
// names the coverage.
func TestRotationOnBothCoveragesChangesNothingWhenOneRefuses(t *testing.T) {
	endless := soracomtest.Fault{Status: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}, "X-Soracom-Next-Key": {"k"}}, Body: "[]"}
	tests := []struct {
		name    string
		breakIt func(jp, g *soracomtest.Server)
		says    []string
	}{
		{"g refuses the AuthKey", func(_, g *soracomtest.Server) { g.RemoveAuthKey(authKeyID) },
			[]string{"coverage g (http://127.0.0.1:", "SORACOM refused the AuthKey", "no access key was created: the old key stays active"}},
		{"jp refuses the AuthKey", func(jp, _ *soracomtest.Server) {
			jp.Inject("POST /v1/auth", soracomtest.Always, soracomtest.StatusFault(http.StatusUnauthorized))
		}, []string{"coverage jp (http://127.0.0.1:", "SORACOM refused the AuthKey", "no access key was created: the old key stays active"}},
		{"g cannot be reached", func(_, g *soracomtest.Server) {
			g.Inject("* /v1/auth", soracomtest.Always, soracomtest.DropBeforeHandling())
		}, []string{"coverage g (http://127.0.0.1:", "got no answer", "no access key was created: the old key stays active"}},
		{"g's set list never ends", func(_, g *soracomtest.Server) { g.Inject("GET /v1/credentials", soracomtest.Always, endless) },
			[]string{"coverage g: SORACOM listCredentials (GET /v1/credentials) kept answering more pages", "Nothing was changed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, g := bothRotation(t)
			tt.breakIt(w.soracom, g)
			o := w.run(t, 5*time.Second)
			if o.code != 1 {
				t.Fatalf("exit %d\n%s", o.code, o.stdout)
			}
			if got := statuses(w); got != "old:Active" {
				t.Errorf("keys %s: nothing may change", got)
			}
			if keyOf(t, w.soracom, "funnel-aws") != w.old.ID || keyOf(t, g, "funnel-aws") != w.old.ID {
				t.Errorf("a set changed")
			}
			says(t, "error", errorLine(t, o), tt.says)
			if w.soracom.LiveSessions()+g.LiveSessions() != 0 {
				t.Errorf("a token was left valid")
			}
		})
	}
}

// The plan and the summary show, for each set the rotation updates, the groups and
// event handlers that use it; a listing that fails says unknown and why, and does not
// stop the rotation.
func TestRotationShowsWhereEachSetIsUsed(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(w *world)
		dryRun bool
		rows   []string
	}{
		{"used by a group and a handler", func(w *world) {
			w.soracom.PutGroup(soracomtest.Group{ID: "g-1", Tags: map[string]string{"name": "sensors"}, Configuration: funnel("funnel-aws")})
			w.soracom.PutEventHandler(soracomtest.EventHandler{ID: "h-1", Name: "alert", Actions: lambda("harvest-aws")})
		}, false, []string{
			"| `funnel-aws` | jp | aws-credentials | updated |", `| group "sensors" (g-1) in SoracomFunnel |`,
			`| event handler "alert" (h-1) in InvokeAWSLambdaAction |`,
		}},
		{"a dry run plans the same", func(w *world) {
			w.soracom.PutGroup(soracomtest.Group{ID: "g-1", Tags: map[string]string{"name": "sensors"}, Configuration: funk("harvest-aws")})
		}, true, []string{"| would update | — | group \"sensors\" (g-1) in SoracomFunk |", "| `funnel-aws` | jp | aws-credentials | would update | — | none |"}},
		{"groups denied: unknown, and the rotation goes on", func(w *world) {
			w.soracom.Deny(soracomtest.PermListGroups)
		}, false, []string{"| updated |", "unknown (SORACOM denied Group:listGroups) |"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			tt.setup(w)
			if tt.dryRun {
				w.inputs[inputs.DryRun] = "true"
			}
			o := w.run(t, 5*time.Second)
			if o.code != 0 {
				t.Fatalf("exit %d\n%s", o.code, o.stdout)
			}
			if !strings.Contains(o.summary, "| Used by |") {
				t.Errorf("no Used by column:\n%s", o.summary)
			}
			says(t, "summary", o.summary, tt.rows)
			says(t, "log", o.stdout, []string{"Credential set funnel-aws is used by: ", "Credential set harvest-aws is used by: "})
		})
	}
}
