package action_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// usedBy is an element of a finding's usedBy.
type usedBy struct {
	Kind      string `json:"kind"`
	ID        string `json:"id"`
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
}

// usageFinding is a finding with the fields about where its set is used.
type usageFinding struct {
	CredentialID string   `json:"credentialId"`
	Coverage     string   `json:"coverage"`
	Check        string   `json:"check"`
	Severity     string   `json:"severity"`
	Message      string   `json:"message"`
	Permission   string   `json:"permission"`
	UsedBy       []usedBy `json:"usedBy"`
	UsedByMore   int      `json:"usedByMore"`
}

func usageFindings(t *testing.T, o auditOutcome) []usageFinding {
	t.Helper()
	var out []usageFinding
	if err := json.Unmarshal([]byte(o.outs["findings"]), &out); err != nil {
		t.Fatalf("findings: %v", err)
	}
	for _, f := range out {
		if f.UsedBy == nil || f.Coverage == "" {
			t.Errorf("finding without usedBy or coverage: %+v", f)
		}
	}
	checkUsedByKeys(t, o.outs["findings"])
	return out
}

// checkUsedByKeys checks that every element of every usedBy has exactly the keys kind,
// id, name and namespace, empty or not, and a kind of group or event-handler.
func checkUsedByKeys(t *testing.T, findings string) {
	t.Helper()
	var raw []struct {
		UsedBy []map[string]any `json:"usedBy"`
	}
	if err := json.Unmarshal([]byte(findings), &raw); err != nil {
		t.Fatalf("findings: %v", err)
	}
	for _, f := range raw {
		for _, u := range f.UsedBy {
			keys := slices.Sorted(maps.Keys(u))
			if !slices.Equal(keys, []string{"id", "kind", "name", "namespace"}) || (u["kind"] != "group" && u["kind"] != "event-handler") {
				t.Errorf("usedBy element %v: want exactly kind (group or event-handler), id, name, namespace", u)
			}
		}
	}
}

// of returns the findings of check, as "coverage id".
func of(fs []usageFinding, check string) []string {
	var out []string
	for _, f := range fs {
		if f.Check == check {
			out = append(out, f.Coverage+" "+f.CredentialID)
		}
	}
	slices.Sort(out)
	return out
}

func first(fs []usageFinding, check string) usageFinding {
	for _, f := range fs {
		if f.Check == check {
			return f
		}
	}
	return usageFinding{}
}

// Configurations in the shapes of SORACOM's API description.
func funnel(id string) map[string]map[string]any {
	return map[string]map[string]any{"SoracomFunnel": {"enabled": true, "credentials": map[string]any{"$credentialsId": id},
		"destination": map[string]any{"provider": "aws", "service": "kinesis", "resourceUrl": "https://kinesis.ap-northeast-1.amazonaws.com/s"}}}
}

func funk(id string) map[string]map[string]any {
	return map[string]map[string]any{"SoracomFunk": {"enabled": true, "credentials": map[string]any{"$credentialsId": id}}}
}

func beam(id string) map[string]map[string]any {
	return map[string]map[string]any{"SoracomBeam": {"mqtt://beam.soracom.io:1883": map[string]any{"enabled": true,
		"useClientCert": true, "clientCerts": map[string]any{"default": map[string]any{"$credentialsId": id}}}}}
}

func harvestOnly() map[string]map[string]any {
	return map[string]map[string]any{"SoracomHarvest": {"enabled": true}}
}

func lambda(id string) []soracomtest.Action {
	return []soracomtest.Action{{Type: "InvokeAWSLambdaAction", Properties: map[string]any{"credentialsId": id,
		"endpoint": "https://lambda.ap-northeast-1.amazonaws.com", "functionName": "f", "parameter1": "x"}}}
}

// The audit lists the groups and event handlers and finds the sets they name that do
// not exist: each a broken dangling-reference naming the group (id and name) or the
// handler, the namespace and the missing id, in the log, the findings output and the
// summary's row for the missing set, whose Used by cell names the user.
func TestAuditFindsDanglingReferences(t *testing.T) {
	tests := []struct {
		name    string
		seed    func(s *soracomtest.Server)
		want    []string // "coverage id" of dangling-reference findings
		usedBy  usedBy
		logSays string
	}{
		{"Funnel", func(s *soracomtest.Server) {
			s.PutGroup(soracomtest.Group{ID: "g-funnel", Tags: map[string]string{"name": "sensors"}, Configuration: funnel("funnel-old")})
		}, []string{"jp funnel-old"}, usedBy{"group", "g-funnel", "sensors", "SoracomFunnel"}, `group "sensors" (g-funnel) names credential set funnel-old in SoracomFunnel`},
		{"Funk", func(s *soracomtest.Server) {
			s.PutGroup(soracomtest.Group{ID: "g-funk", Tags: map[string]string{"name": "lambda"}, Configuration: funk("funk-gone")})
		}, []string{"jp funk-gone"}, usedBy{"group", "g-funk", "lambda", "SoracomFunk"}, "in SoracomFunk"},
		{"Beam", func(s *soracomtest.Server) {
			s.PutGroup(soracomtest.Group{ID: "g-beam", Configuration: beam("beam-cert")})
		}, []string{"jp beam-cert"}, usedBy{"group", "g-beam", "", "SoracomBeam"}, "group g-beam names credential set beam-cert in SoracomBeam"},
		{"an event handler's Lambda action", func(s *soracomtest.Server) {
			s.PutEventHandler(soracomtest.EventHandler{ID: "h-1", Name: "to lambda", Actions: lambda("lambda-gone")})
		}, []string{"jp lambda-gone"}, usedBy{"event-handler", "h-1", "to lambda", "InvokeAWSLambdaAction"}, `event handler "to lambda" (h-1)`},
		{"Harvest names no set", func(s *soracomtest.Server) {
			s.PutGroup(soracomtest.Group{ID: "g-harvest", Configuration: harvestOnly()})
		}, nil, usedBy{}, ""},
		{"a reference to a set that exists", func(s *soracomtest.Server) {
			s.PutGroup(soracomtest.Group{ID: "g-ok", Configuration: funnel("funnel-aws")})
		}, nil, usedBy{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newAuditWorld(t)
			w.noAWS = true
			w.put("funnel-aws", "AKIAIOSFODNN7EXAMPLE")
			tt.seed(w.soracom)
			o := w.run(t)
			fs := usageFindings(t, o)
			if got := of(fs, "dangling-reference"); !slices.Equal(got, tt.want) {
				t.Fatalf("dangling = %q, want %q\n%s", got, tt.want, o.stdout)
			}
			if tt.want == nil {
				if o.code != 0 {
					t.Errorf("exit %d without a dangling reference", o.code)
				}
				return
			}
			f := first(fs, "dangling-reference")
			if f.Severity != "broken" || len(f.UsedBy) != 1 || f.UsedBy[0] != tt.usedBy {
				t.Errorf("finding = %+v, want usedBy %+v", f, tt.usedBy)
			}
			checkDanglingShown(t, o, tt.logSays, tt.want[0])
		})
	}
}

func checkDanglingShown(t *testing.T, o auditOutcome, logSays, want string) {
	t.Helper()
	id := strings.Fields(want)[1]
	if o.code != 1 || !strings.Contains(o.stdout, "::error::Dangling reference: ") || !strings.Contains(o.stdout, logSays) {
		t.Errorf("exit %d; the log does not name the reference (%q):\n%s", o.code, logSays, o.stdout)
	}
	if !strings.Contains(o.summary, "| Used by |") || !strings.Contains(o.summary, "| `"+id+"` | jp | **does not exist** |") {
		t.Errorf("the summary has no row for the missing set:\n%s", o.summary)
	}
}

// Every row and finding says where its set is used: the Used by column names the
// groups and handlers; static-key points Funnel's and Funk's aws-credentials sets at
// aws-iam-role-credentials; a set nothing names that SORACOM has not used is
// unreferenced, which "may" be safe to delete.
func TestAuditShowsWhereEverySetIsUsed(t *testing.T) {
	w := newAuditWorld(t)
	w.noAWS = true
	w.put("funnel-aws", "AKIAIOSFODNN7EXAMPLE")
	w.put("lambda-aws", "AKIAIOSFODNN7EXAMPL2")
	w.soracom.PutCredentialSet(soracomtest.CredentialSet{ID: "idle-psk", Type: "psk", Credentials: map[string]any{"key": "psk-secret-1"}})
	w.soracom.PutGroup(soracomtest.Group{ID: "g-1", Tags: map[string]string{"name": "sensors"}, Configuration: funnel("funnel-aws")})
	w.soracom.PutGroup(soracomtest.Group{ID: "g-2", Tags: map[string]string{"name": "cameras"}, Configuration: funnel("funnel-aws")})
	w.soracom.PutEventHandler(soracomtest.EventHandler{ID: "h-1", Name: "alert", Actions: lambda("lambda-aws")})
	o := w.run(t)
	fs := usageFindings(t, o)
	if got, want := of(fs, "static-key"), []string{"jp funnel-aws"}; !slices.Equal(got, want) {
		t.Errorf("static-key = %q, want %q", got, want)
	}
	if f := first(fs, "static-key"); len(f.UsedBy) != 2 || !strings.Contains(f.Message, "aws-iam-role-credentials") {
		t.Errorf("static-key = %+v", f)
	}
	if got, want := of(fs, "unreferenced"), []string{"jp idle-psk"}; !slices.Equal(got, want) {
		t.Errorf("unreferenced = %q, want %q", got, want)
	}
	if f := first(fs, "unreferenced"); !strings.Contains(f.Message, "may be safe to delete") {
		t.Errorf("unreferenced says %q", f.Message)
	}
	for _, row := range []string{
		"| `funnel-aws` | jp | aws-credentials | group \"sensors\" (g-1) in SoracomFunnel, group \"cameras\" (g-2) in SoracomFunnel |",
		"| `lambda-aws` | jp | aws-credentials | event handler \"alert\" (h-1) in InvokeAWSLambdaAction |",
		"| `idle-psk` | jp | psk | none |",
	} {
		if !strings.Contains(o.summary, row) {
			t.Errorf("summary lacks %s\n%s", row, o.summary)
		}
	}
}

// Without permission to list groups or event handlers, one references-unknown finding
// names each missing permission; every other check runs; nothing is judged
// unreferenced and the Used by cells say unknown.
func TestAuditWithoutPermissionToListGroupsOrHandlers(t *testing.T) {
	tests := []struct {
		name   string
		denied []string
	}{
		{"groups", []string{soracomtest.PermListGroups}},
		{"event handlers", []string{soracomtest.PermListEventHandlers}},
		{"both", []string{soracomtest.PermListEventHandlers, soracomtest.PermListGroups}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newAuditWorld(t)
			w.noAWS = true
			w.soracom.PutCredentialSet(soracomtest.CredentialSet{ID: "idle-psk", Type: "psk", Credentials: map[string]any{"key": "psk-secret-1"}})
			for _, p := range tt.denied {
				w.soracom.Deny(p)
			}
			checkUnknownReferences(t, w.run(t), tt.denied)
		})
	}
}

func checkUnknownReferences(t *testing.T, o auditOutcome, denied []string) {
	t.Helper()
	fs := usageFindings(t, o)
	var perms []string
	for _, f := range fs {
		if f.Check == "references-unknown" {
			perms = append(perms, f.Permission)
		}
	}
	slices.Sort(perms)
	if !slices.Equal(perms, denied) {
		t.Errorf("references-unknown name %q, want %q", perms, denied)
	}
	if got := of(fs, "never-used"); len(got) != 1 || len(of(fs, "unreferenced")) != 0 {
		t.Errorf("never-used %q, unreferenced %q", got, of(fs, "unreferenced"))
	}
	if !strings.Contains(o.summary, "| `idle-psk` | jp | psk | unknown |") || !strings.Contains(o.summary, denied[0]) {
		t.Errorf("summary:\n%s", o.summary)
	}
	if o.code != 0 {
		t.Errorf("exit %d: an unknown is no failure under fail-on broken", o.code)
	}
}

// bothWorld is an audit of both coverages, each named by its own variable.
func bothWorld(t *testing.T) (*auditWorld, *soracomtest.Server) {
	t.Helper()
	w := newAuditWorld(t)
	w.noAWS = true
	g := soracomtest.Start(t)
	g.AddAuthKey(authKeyID, authKey)
	delete(w.inputs, inputs.Endpoint)
	w.inputs[inputs.CoverageType] = "both"
	w.endpoint = map[string]string{"SORACOM_ENDPOINT_JP": w.soracom.URL(), "SORACOM_ENDPOINT_G": g.URL()}
	return w, g
}

// The audit covers both coverages and matches references per coverage: a group on g
// naming a set that exists only on jp is dangling there. Every finding carries its
// coverage, and the table its Coverage column.
func TestAuditOfBothCoveragesMatchesReferencesPerCoverage(t *testing.T) {
	w, g := bothWorld(t)
	w.put("funnel-aws", "AKIAIOSFODNN7EXAMPLE")
	w.soracom.PutGroup(soracomtest.Group{ID: "g-jp", Tags: map[string]string{"name": "tokyo"}, Configuration: funnel("funnel-aws")})
	g.PutGroup(soracomtest.Group{ID: "g-g", Tags: map[string]string{"name": "berlin"}, Configuration: funnel("funnel-aws")})
	g.PutCredentialSet(soracomtest.CredentialSet{ID: "g-only", Type: "psk", LastUsed: time.Now(), Credentials: map[string]any{"key": "psk-secret-2"}})
	o := w.run(t)
	fs := usageFindings(t, o)
	if got, want := of(fs, "dangling-reference"), []string{"g funnel-aws"}; !slices.Equal(got, want) {
		t.Fatalf("dangling = %q, want %q\n%s", got, want, o.stdout)
	}
	if f := first(fs, "dangling-reference"); f.UsedBy[0].ID != "g-g" || !strings.Contains(f.Message, "coverage g") {
		t.Errorf("dangling = %+v", f)
	}
	if f := first(fs, "static-key"); f.Coverage != "jp" || len(f.UsedBy) != 1 || f.UsedBy[0].ID != "g-jp" {
		t.Errorf("jp's set is used by jp's group only: %+v", f)
	}
	for _, want := range []string{"| `funnel-aws` | jp | aws-credentials | group \"tokyo\" (g-jp) in SoracomFunnel |",
		"| `funnel-aws` | g | **does not exist** | group \"berlin\" (g-g) in SoracomFunnel |", "| `g-only` | g | psk | none |"} {
		if !strings.Contains(o.summary, want) {
			t.Errorf("summary lacks %s\n%s", want, o.summary)
		}
	}
	if !strings.Contains(o.stdout, "Credential set funnel-aws on coverage jp") {
		t.Errorf("the log does not say where:\n%s", o.stdout)
	}
}

// With both coverages, one that refuses the AuthKey, cannot be reached or cannot list
// its sets does not hide the other: the healthy coverage is audited in full (its sets,
// their findings, its dangling references), the report holds one coverage-unaudited
// finding (unknown) naming the failed one and why, the summary and the error say the
// report covers the healthy coverage only, the run exits 1, nothing is written and
// every token is revoked.
func TestAuditOfBothCoveragesReportsTheOneThatAnswers(t *testing.T) {
	endless := soracomtest.Fault{Status: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}, "X-Soracom-Next-Key": {"k"}}, Body: "[]"}
	tests := []struct {
		name    string
		failed  string
		breakIt func(jp, g *soracomtest.Server)
		says    string
	}{
		{name: "g refuses the AuthKey", failed: "g", breakIt: func(_, g *soracomtest.Server) { g.RemoveAuthKey(authKeyID) },
			says: "SORACOM refused the AuthKey"},
		{name: "g answers 401 to every authentication", failed: "g",
			breakIt: func(_, g *soracomtest.Server) {
				g.Inject("POST /v1/auth", soracomtest.Always, soracomtest.StatusFault(401))
			},
			says: "SORACOM refused the AuthKey"},
		{name: "jp cannot be reached", failed: "jp", breakIt: func(jp, _ *soracomtest.Server) { _ = jp.Close() }, says: "got no answer"},
		{name: "g denies listing the sets", failed: "g", breakIt: func(_, g *soracomtest.Server) { g.Deny(soracomtest.PermListCredentials) },
			says: "Credential:listCredentials"},
		{name: "g's set list never ends", failed: "g",
			breakIt: func(_, g *soracomtest.Server) { g.Inject("GET /v1/credentials", soracomtest.Always, endless) },
			says:    "SORACOM listCredentials (GET /v1/credentials) kept answering more pages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, g := bothWorld(t)
			for coverage, s := range map[string]*soracomtest.Server{"jp": w.soracom, "g": g} {
				s.PutCredentialSet(soracomtest.CredentialSet{ID: "set-" + coverage, Type: "psk", LastUsed: time.Now(), Credentials: map[string]any{"key": "psk-secret-" + coverage}})
				s.PutGroup(soracomtest.Group{ID: "group-" + coverage, Tags: map[string]string{"name": "sensors"}, Configuration: funnel("gone-" + coverage)})
			}
			tt.breakIt(w.soracom, g)
			checkOneCoverageAudited(t, w.run(t), tt.failed, tt.says)
			for coverage, s := range map[string]*soracomtest.Server{"jp": w.soracom, "g": g} {
				if n := s.LiveSessions(); n != 0 {
					t.Errorf("%d tokens left valid on %s", n, coverage)
				}
				if n := len(s.CredentialSets()); n != 1 {
					t.Errorf("%d sets on %s: the audit wrote", n, coverage)
				}
			}
		})
	}
}

// lastError is the last ::error:: line of a log: the run's error.
func lastError(stdout string) string {
	msg := ""
	for _, l := range strings.Split(stdout, "\n") {
		if v, ok := strings.CutPrefix(l, "::error::"); ok {
			msg = v
		}
	}
	return msg
}

// checkOneCoverageAudited checks an audit of both coverages where failed could not be
// audited, saying says: the other's set and dangling reference are reported, and one
// coverage-unaudited finding names failed.
func checkOneCoverageAudited(t *testing.T, o auditOutcome, failed, says string) {
	t.Helper()
	healthy := map[string]string{"jp": "g", "g": "jp"}[failed]
	msg := lastError(o.stdout)
	if o.code != 1 || !strings.Contains(msg, "coverage "+failed+" (http://127.0.0.1:") || !strings.Contains(msg, says) ||
		!strings.Contains(msg, "it was not audited, and the report covers coverage "+healthy+" only") {
		t.Errorf("exit %d, error %q", o.code, msg)
	}
	fs := usageFindings(t, o)
	if got, want := of(fs, "dangling-reference"), []string{healthy + " gone-" + healthy}; !slices.Equal(got, want) {
		t.Errorf("dangling = %q, want %q: the healthy coverage in full", got, want)
	}
	if got, want := of(fs, "coverage-unaudited"), []string{failed + " "}; !slices.Equal(got, want) {
		t.Fatalf("coverage-unaudited = %q, want %q", got, want)
	}
	if f := first(fs, "coverage-unaudited"); f.Severity != "unknown" || !strings.Contains(f.Message, says) {
		t.Errorf("coverage-unaudited = %+v", f)
	}
	for _, want := range []string{"| `set-" + healthy + "` | " + healthy + " | psk |", "Coverage " + failed + " (coverage-unaudited): the coverage could not be audited",
		"it was not audited, and the report covers coverage " + healthy + " only"} {
		if !strings.Contains(o.summary, want) {
			t.Errorf("summary lacks %q\n%s", want, o.summary)
		}
	}
	if strings.Contains(o.summary, "set-"+failed) {
		t.Errorf("the summary shows a set of the coverage that was not audited:\n%s", o.summary)
	}
}

// Group and handler names are SORACOM's text: checked, then rendered inert in the log,
// the summary and the outputs; one that is not a name is a malformed-reference that
// names the group, never the value.
func TestAuditRendersGroupNamesInert(t *testing.T) {
	w := newAuditWorld(t)
	w.noAWS = true
	w.soracom.PutGroup(soracomtest.Group{ID: "g-cmd", Tags: map[string]string{"name": "::error::pwned | **bold** <b>x</b>"}, Configuration: funnel("missing-1")})
	w.soracom.PutGroup(soracomtest.Group{ID: "g-nl", Tags: map[string]string{"name": "a\n::error::FORGED"}, Configuration: funnel("missing-2")})
	w.soracom.PutEventHandler(soracomtest.EventHandler{ID: "h-1", Name: "%0A::warning::x", Actions: lambda("missing-3")})
	o := w.run(t)
	fs := usageFindings(t, o)
	if got := of(fs, "dangling-reference"); !slices.Equal(got, []string{"jp missing-1", "jp missing-2", "jp missing-3"}) {
		t.Errorf("dangling = %q", got)
	}
	if got := of(fs, "malformed-reference"); len(got) != 1 {
		t.Errorf("malformed-reference = %q, want one for the name with a line break", got)
	}
	for _, l := range strings.Split(o.stdout, "\n") {
		if strings.HasPrefix(l, "::error::pwned") || strings.HasPrefix(l, "::error::FORGED") || strings.HasPrefix(l, "::warning::x") {
			t.Errorf("a name became a workflow command: %q", l)
		}
	}
	noneOf(t, o.outcome, "FORGED")
	if strings.Contains(o.summary, "| **bold**") || strings.Contains(o.summary, "<b>x</b>") {
		t.Errorf("Markdown of a name rendered in the summary:\n%s", o.summary)
	}
}

// The findings output stays under 1 MiB with usedBy: a set named by many groups lists
// at most 20 and counts the rest.
func TestAuditFindingsStayBoundedWithUsedBy(t *testing.T) {
	w := newAuditWorld(t)
	w.noAWS = true
	long := strings.Repeat("n", 190)
	for i := range 60 {
		w.soracom.PutCredentialSet(soracomtest.CredentialSet{ID: fmt.Sprintf("psk-%02d", i), Type: "psk", Credentials: map[string]any{"key": "psk-secret-3"}})
	}
	for i := range 300 {
		conf := map[string]map[string]any{"SoracomFunnel": {}}
		for j := range 60 {
			conf["SoracomFunnel"][fmt.Sprintf("k%dCredentialsId", j)] = fmt.Sprintf("psk-%02d", j)
		}
		w.soracom.PutGroup(soracomtest.Group{ID: fmt.Sprintf("g-%03d", i), Tags: map[string]string{"name": long}, Configuration: conf})
	}
	o := w.run(t)
	if len(o.outs["findings"]) > 1<<20 || !json.Valid([]byte(o.outs["findings"])) {
		t.Fatalf("findings: %d bytes", len(o.outs["findings"]))
	}
	fs := usageFindings(t, o)
	for _, f := range fs {
		if f.CredentialID == "psk-00" && (len(f.UsedBy) != 20 || f.UsedByMore != 280) {
			t.Errorf("usedBy %d + %d more, want 20 + 280", len(f.UsedBy), f.UsedByMore)
		}
	}
}
