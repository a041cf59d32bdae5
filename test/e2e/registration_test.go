package e2e

// Registration: a set is created, updated, skipped or refused as if-exists says, for one
// id or several, as a dry run or for real, with the outputs, results and summary that
// describe it, in the fewest round trips under every answer SORACOM might give.

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awstest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

func TestCreatesAMissingSet(t *testing.T) {
	s, in := registration(t, nil)
	r := runAction(t, runOpts{inputs: in, secrets: inputSecrets})
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	checkOutputs(t, r, map[string]string{"credential-id": "funnel-aws", "operation": "created", "operator-id": soracomtest.DefaultOperatorID, "aws-access-key-id": awsKeyID})
	rs := results(t, r)
	if len(rs) != 1 || rs[0].CredentialID != "funnel-aws" || rs[0].Type != "aws-credentials" || rs[0].Operation != "created" || rs[0].UpdatedAt == "" {
		t.Errorf("results = %+v", rs)
	}
	set, ok := s.CredentialSet("funnel-aws")
	if !ok || set.Credentials["secretAccessKey"] != awsSecret || set.Credentials["accessKeyId"] != awsKeyID {
		t.Fatalf("the set does not hold the key")
	}
	if got := requestLine(s); got != "POST /v1/auth, PUT /v1/credentials/funnel-aws, POST /v1/credentials/funnel-aws, POST /v1/auth/logout" {
		t.Errorf("round trips: %s", got)
	}
	if !strings.Contains(r.summary, "| `funnel-aws` | jp | aws-credentials | created |") || !strings.Contains(r.summary, "…0001") {
		t.Errorf("summary lacks the set row or the key's last four characters:\n%s", r.summary)
	}
	if strings.Contains(r.summary, awsKeyID) {
		t.Errorf("summary shows the whole key id")
	}
	if s.LiveSessions() != 0 {
		t.Errorf("the API token was not revoked")
	}
}

func TestUpdatesAnExistingSetInThreeRoundTrips(t *testing.T) {
	s, in := registration(t, map[string]string{"description": "rotated by CI"})
	s.PutCredentialSet(soracomtest.CredentialSet{ID: "funnel-aws", Type: "aws-credentials", Credentials: map[string]any{"accessKeyId": "AKIAOLDKEY0000000001", "secretAccessKey": "old"}})
	r := runAction(t, runOpts{inputs: in, secrets: inputSecrets})
	if r.code != 0 || r.outputs["operation"] != "updated" {
		t.Fatalf("exit %d, operation %q", r.code, r.outputs["operation"])
	}
	if got := requestLine(s); got != "POST /v1/auth, PUT /v1/credentials/funnel-aws, POST /v1/auth/logout" {
		t.Errorf("round trips: %s", got)
	}
	set, _ := s.CredentialSet("funnel-aws")
	if set.Credentials["secretAccessKey"] != awsSecret || set.Description != "rotated by CI" {
		t.Errorf("set not updated")
	}
}

func TestIfExists(t *testing.T) {
	tests := []struct {
		ifExists, wantOp string
		wantCode         int
	}{
		{"skip", "skipped", 0},
		{"fail", "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.ifExists, func(t *testing.T) {
			s, in := registration(t, map[string]string{"if-exists": tt.ifExists})
			s.PutCredentialSet(soracomtest.CredentialSet{ID: "funnel-aws", Type: "aws-credentials", Credentials: map[string]any{"accessKeyId": "AKIAOLDKEY0000000001", "secretAccessKey": "old"}})
			r := runAction(t, runOpts{inputs: in, secrets: inputSecrets})
			if r.code != tt.wantCode || r.outputs["operation"] != tt.wantOp {
				t.Fatalf("exit %d, operation %q", r.code, r.outputs["operation"])
			}
			if set, _ := s.CredentialSet("funnel-aws"); set.Credentials["secretAccessKey"] != "old" {
				t.Errorf("the existing set was changed")
			}
			if tt.wantCode != 0 && !strings.Contains(oneError(t, r), "already exists") {
				t.Errorf("error does not say the set exists")
			}
		})
	}
}

func TestSeveralIDsMixed(t *testing.T) {
	s, in := registration(t, map[string]string{"credential-id": "a\nb\n"})
	s.PutCredentialSet(soracomtest.CredentialSet{ID: "b", Type: "aws-credentials", Credentials: map[string]any{"accessKeyId": "AKIAOLDKEY0000000001"}})
	r := runAction(t, runOpts{inputs: in, secrets: inputSecrets})
	if r.code != 0 || r.outputs["operation"] != "mixed" || r.outputs["credential-id"] != "a" {
		t.Fatalf("exit %d, outputs %v", r.code, r.outputs)
	}
	rs := results(t, r)
	if len(rs) != 2 || rs[0].Operation != "created" || rs[1].Operation != "updated" {
		t.Errorf("results = %+v", rs)
	}
}

func TestOutputsAndResultsFields(t *testing.T) {
	t.Parallel()
	s, in := registration(t, map[string]string{"credential-id": "a\nb\nc", "if-exists": "skip"})
	putExistingSet(s, "b")
	r := runAction(t, runOpts{inputs: in, secrets: inputSecrets})
	mustSucceed(t, r)
	if r.outputs["operation"] != "mixed" || r.outputs["credential-id"] != "a" || r.outputs["operator-id"] != soracomtest.DefaultOperatorID {
		t.Errorf("outputs %v", r.outputs)
	}
	checkResultFields(t, r, "created", "skipped", "created")
	// summary table: every set, type, operation, time
	checkContains(t, "summary", r.summary, "| `a` | jp | aws-credentials |", "| `b` | jp | aws-credentials |", "| `c` | jp | aws-credentials |")
	if strings.Contains(r.summary, awsSecret) || strings.Contains(r.summary, authKeySecret) {
		t.Errorf("summary has a secret")
	}
}

// checkResultFields checks that every element of the results output has all its
// fields, the aws-credentials type, the operation of wantOps in order, and an
// RFC 3339 time.
func checkResultFields(t *testing.T, r runResult, wantOps ...string) {
	t.Helper()
	var raw []map[string]any
	if err := json.Unmarshal([]byte(r.outputs["results"]), &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw) != len(wantOps) {
		t.Fatalf("results %v", raw)
	}
	for i, x := range raw {
		for _, f := range []string{"credentialId", "coverage", "type", "operation", "updatedAt"} {
			if _, ok := x[f]; !ok {
				t.Errorf("results[%d] lacks %s: %v", i, f, x)
			}
		}
		if x["operation"] != wantOps[i] || x["type"] != "aws-credentials" {
			t.Errorf("results[%d] = %v", i, x)
		}
		if ts, _ := x["updatedAt"].(string); ts != "" {
			if _, err := time.Parse(time.RFC3339, ts); err != nil {
				t.Errorf("updatedAt %q not RFC 3339", ts)
			}
		}
	}
}

func TestAllSameOperationsNotMixed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		existing       []string
		ifExists, want string
	}{
		{[]string{"a", "b"}, "update", "updated"},
		{nil, "update", "created"},
		{[]string{"a", "b"}, "skip", "skipped"},
	} {
		s, in := registration(t, map[string]string{"credential-id": "a\nb", "if-exists": tc.ifExists})
		for _, id := range tc.existing {
			putExistingSet(s, id)
		}
		r := runAction(t, runOpts{inputs: in, secrets: inputSecrets})
		mustSucceed(t, r)
		if r.outputs["operation"] != tc.want {
			t.Errorf("%s/%v: operation %q want %q", tc.ifExists, tc.existing, r.outputs["operation"], tc.want)
		}
	}
}

// Without GITHUB_OUTPUT (a runner that lacks the file, or no runner at all) the outputs
// are printed instead; outside GitHub nothing is masked because no runner would read
// the command, so no secret may be printed at all.
func TestOutputsArePrintedWithoutGITHUB_OUTPUT(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		onGitHub bool
	}{
		{"on a runner without the file", true},
		{"outside GitHub", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, in := registration(t, nil)
			o := runOpts{inputs: in, noGitHub: true, secrets: inputSecrets}
			if !tc.onGitHub {
				// The leak scan expects masks; outside GitHub it is done below.
				o.env, o.secrets = map[string]string{"GITHUB_ACTIONS": ""}, nil
			}
			r := runAction(t, o)
			mustSucceed(t, r)
			checkContains(t, "stdout", r.stdout, "output credential-id=funnel-aws", "output operation=created", "output results=[", "output operator-id="+soracomtest.DefaultOperatorID, "output aws-access-key-id="+awsKeyID)
			if tc.onGitHub {
				return
			}
			if strings.Contains(r.stdout, "::add-mask::") {
				t.Errorf("outside GitHub an ::add-mask:: command was printed")
			}
			for _, sec := range inputSecrets {
				if strings.Contains(r.stdout, sec) {
					t.Errorf("secret printed outside GitHub")
				}
			}
		})
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	s, in := registration(t, map[string]string{"dry-run": "true", "credential-id": "a\nb"})
	s.PutCredentialSet(soracomtest.CredentialSet{ID: "b", Type: "aws-credentials", Credentials: map[string]any{"accessKeyId": "AKIAOLDKEY0000000001"}})
	r := runAction(t, runOpts{inputs: in, secrets: inputSecrets})
	if r.code != 0 || r.outputs["operation"] != "planned" {
		t.Fatalf("exit %d, operation %q", r.code, r.outputs["operation"])
	}
	rs := results(t, r)
	if len(rs) != 2 || rs[0].Planned != "create" || rs[1].Planned != "update" {
		t.Errorf("results = %+v", rs)
	}
	if _, ok := s.CredentialSet("a"); ok {
		t.Errorf("dry run created a set")
	}
	if got := requestLine(s); got != "POST /v1/auth, GET /v1/credentials, POST /v1/auth/logout" {
		t.Errorf("round trips: %s", got)
	}
	if !strings.Contains(r.summary, "dry run") {
		t.Errorf("summary does not say it was a dry run")
	}
}

func TestDryRunWithIfExistsFailPlansNothing(t *testing.T) {
	s, in := registration(t, map[string]string{"dry-run": "true", "if-exists": "fail", "credential-id": "a\nb"})
	s.PutCredentialSet(soracomtest.CredentialSet{ID: "a", Type: "aws-credentials", Credentials: map[string]any{"accessKeyId": "AKIAOLDKEY0000000001"}})
	r := runAction(t, runOpts{inputs: in, secrets: inputSecrets})
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	rs := results(t, r)
	if len(rs) != 2 || rs[0].Planned != "fail" || rs[1].Planned != "none" {
		t.Errorf("results = %+v", rs)
	}
	if !strings.Contains(r.summary, "CAUTION") || !strings.Contains(r.summary, "already exists") {
		t.Errorf("the summary does not show the failure:\n%s", r.summary)
	}
}

func TestPartialFailureSaysWhichSetsChanged(t *testing.T) {
	s, in := registration(t, map[string]string{"credential-id": "a\nb\nc"})
	s.Deny("Credential:createCredential")
	s.PutCredentialSet(soracomtest.CredentialSet{ID: "a", Type: "aws-credentials", Credentials: map[string]any{"accessKeyId": "AKIAOLDKEY0000000001"}})
	r := runAction(t, runOpts{inputs: in, secrets: inputSecrets})
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	msg := oneError(t, r)
	for _, want := range []string{"Credential:createCredential", "done before the failure: a (updated)", "not changed: b, c"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not say %q: %s", want, msg)
		}
	}
	if rs := results(t, r); len(rs) != 1 || rs[0].CredentialID != "a" || r.outputs["operation"] != "updated" {
		t.Errorf("results = %+v, operation %q", rs, r.outputs["operation"])
	}
	for _, row := range []string{"| `a` | jp | aws-credentials | updated |", "| `b` | jp | aws-credentials | **not changed** (failed) |", "| `c` |"} {
		if !strings.Contains(r.summary, row) {
			t.Errorf("summary lacks %q:\n%s", row, r.summary)
		}
	}
}

func TestRoundTripsUnderEveryUndocumentedAnswer(t *testing.T) {
	t.Parallel()
	answers := []struct {
		name string
		opts []soracomtest.Option
	}{
		{"400/400", nil},
		{"409/404", []soracomtest.Option{
			soracomtest.WithCreateConflictAnswer(soracomtest.ErrorAnswer{Status: 409, Code: "CRD0409", Message: "exists"}),
			soracomtest.WithUpdateMissingAnswer(soracomtest.ErrorAnswer{Status: 404, Code: "CRD0404", Message: "missing"})}},
		{"409/400", []soracomtest.Option{soracomtest.WithCreateConflictAnswer(soracomtest.ErrorAnswer{Status: 409, Code: "X", Message: "x"})}},
		{"400/404", []soracomtest.Option{soracomtest.WithUpdateMissingAnswer(soracomtest.ErrorAnswer{Status: 404, Code: "X", Message: "x"})}},
	}
	for _, a := range answers {
		t.Run(a.name, func(t *testing.T) {
			// update, missing -> 4
			s, in := registration(t, nil, a.opts...)
			r := runAction(t, runOpts{inputs: in, secrets: inputSecrets})
			mustSucceed(t, r)
			if len(s.Requests()) != 4 || r.outputs["operation"] != "created" {
				t.Errorf("missing/update: %s op=%s", requestLine(s), r.outputs["operation"])
			}
			// update, existing -> 3
			s, in = registration(t, nil, a.opts...)
			putExistingSet(s, "funnel-aws")
			r = runAction(t, runOpts{inputs: in, secrets: inputSecrets})
			mustSucceed(t, r)
			if len(s.Requests()) != 3 || r.outputs["operation"] != "updated" {
				t.Errorf("existing/update: %s", requestLine(s))
			}
			// skip, existing -> auth, list, logout
			s, in = registration(t, map[string]string{"if-exists": "skip"}, a.opts...)
			putExistingSet(s, "funnel-aws")
			r = runAction(t, runOpts{inputs: in, secrets: inputSecrets})
			mustSucceed(t, r)
			if got := requestLine(s); got != "POST /v1/auth, GET /v1/credentials, POST /v1/auth/logout" || r.outputs["operation"] != "skipped" {
				t.Errorf("existing/skip: %s", got)
			}
			if set, _ := s.CredentialSet("funnel-aws"); set.Credentials["secretAccessKey"] != "old-secret-value" {
				t.Errorf("skip changed the set")
			}
			// fail, missing -> auth, list, post, logout
			s, in = registration(t, map[string]string{"if-exists": "fail"}, a.opts...)
			r = runAction(t, runOpts{inputs: in, secrets: inputSecrets})
			mustSucceed(t, r)
			if got := requestLine(s); got != "POST /v1/auth, GET /v1/credentials, POST /v1/credentials/funnel-aws, POST /v1/auth/logout" {
				t.Errorf("missing/fail: %s", got)
			}
		})
	}
}

func TestLostResponseCreate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, ifExists string
		fault          soracomtest.Fault
	}{
		{"update mode, dropped after handling", "update", soracomtest.DropAfterHandling()},
		{"update mode, 502 after handling", "update", soracomtest.Fault{AfterHandling: true, Status: 502, Header: http.Header{"Content-Type": {"text/html"}}, Body: "<html>502 Bad Gateway</html>"}},
		{"skip mode, dropped after handling", "skip", soracomtest.DropAfterHandling()},
		{"fail mode, dropped after handling", "fail", soracomtest.DropAfterHandling()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, in := registration(t, map[string]string{"if-exists": tc.ifExists})
			s.Inject("POST /v1/credentials/*", 1, tc.fault)
			r := runAction(t, runOpts{inputs: in, secrets: inputSecrets})
			if r.code != 0 || r.outputs["operation"] != "created" {
				t.Errorf("exit %d operation %q: %s\n%s", r.code, r.outputs["operation"], requestLine(s), r.stdout)
			}
			if set, ok := s.CredentialSet("funnel-aws"); !ok || set.Credentials["secretAccessKey"] != awsSecret {
				t.Errorf("set not stored")
			}
		})
	}
}

// verify-aws-key checks the given key with STS before SORACOM is called: a working key
// is stored with its account id, a wrong secret stops the run before any SORACOM call,
// and the SDK's generic AWS_ENDPOINT_URL is honoured like the STS-specific one.
func TestRegistrationVerifiesTheGivenKey(t *testing.T) {
	t.Parallel()
	acct := awstest.NewAccount(t)
	good := acct.AddKey("terraform-made", awstest.Active)
	genericEndpoint := maps.Clone(acct.Env())
	genericEndpoint["AWS_ENDPOINT_URL"] = acct.STSURL()
	genericEndpoint["AWS_ENDPOINT_URL_STS"] = ""
	genericEndpoint["AWS_ENDPOINT_URL_IAM"] = ""
	for _, tt := range []struct {
		name     string
		verify   string
		secret   string
		env      map[string]string
		wantCode int
	}{
		{"a working key is stored with its account id", "true", good.Secret, acct.Env(), 0},
		{"a wrong secret is refused before SORACOM is called", "true", "WrongSecretAccessKey/0123456789abcdefghijk", acct.Env(), 1},
		{"the generic AWS_ENDPOINT_URL reaches STS", "True", good.Secret, genericEndpoint, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, in := registration(t, map[string]string{"verify-aws-key": tt.verify, "aws-access-key-id": good.ID, "aws-secret-access-key": tt.secret})
			start := time.Now()
			r := runAction(t, runOpts{inputs: in, env: tt.env, secrets: []string{authKeySecret, tt.secret}})
			if r.code != tt.wantCode {
				t.Fatalf("exit %d", r.code)
			}
			if tt.wantCode == 0 {
				if _, stored := s.CredentialSet("funnel-aws"); !stored {
					t.Errorf("the set was not stored")
				}
				checkOutputs(t, r, map[string]string{"aws-account-id": awstest.DefaultAccountID})
				return
			}
			// Nothing sent to SORACOM, so nothing stored.
			failedBeforeNetwork(t, s, r, []string{"verify-aws-key"})
			if el := time.Since(start); el > 30*time.Second {
				t.Errorf("a wrong secret took %s to refuse", el)
			}
		})
	}
}

// Many sets are written a few at a time (max-parallel), and within SORACOM's rate
// limit: the action reads the X-Soracom-Ratelimit-* headers and waits for the refresh
// before a 429 would come. The emulator's window is a second here, a minute at SORACOM.
func TestManySetsAreWrittenWithinTheRateLimit(t *testing.T) {
	ids := make([]string, 30)
	for i := range ids {
		ids[i] = fmt.Sprintf("set-%02d", i)
	}
	s, in := registration(t, map[string]string{"credential-id": strings.Join(ids, "\n"), "max-parallel": "3"},
		soracomtest.WithRateLimit(10), soracomtest.WithRateLimitWindow(time.Second), soracomtest.WithLatency(5*time.Millisecond))
	r := runAction(t, runOpts{inputs: in, secrets: inputSecrets})
	mustSucceed(t, r)
	if n := s.RateLimited(); n != 0 {
		t.Errorf("%d requests met the rate limit, want none", n)
	}
	if m := s.MostInFlight(); m > 3 {
		t.Errorf("%d requests in flight at once, over max-parallel 3", m)
	}
	var order []string
	for _, res := range results(t, r) {
		order = append(order, res.CredentialID)
	}
	if !slices.Equal(order, ids) || len(s.CredentialSets()) != 30 {
		t.Errorf("results %v, %d sets stored; want all 30 in input order", order, len(s.CredentialSets()))
	}
	checkContains(t, "log", r.stdout, "SORACOM rate limit: ", " of 10 updateCredential calls left this minute; waiting", "rather than meeting a 429")
}
