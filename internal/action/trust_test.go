package action_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/action"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/audit"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awstest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// What the audit and the rotation make of servers that answer strangely or narrowly:
// one test per class of trust (bounded listing, denied is not missing, checked
// identifiers, bounded outputs, certificates, one set one finding, timestamps), each
// through the in-process run fixture with several variants.

// forged is text a hostile server slips into an identifier: a workflow command, shell
// metacharacters, a terminal escape.
const forged = "\n::error::FORGED $(touch /tmp/x) \x1b[31m"

// readmePolicy is the health report's policy as the documentation narrows it (the
// README links to docs/audit.md for the exact policy): read from there, so that the
// test holds the policy a user copies.
var readmePolicy = narrowedPolicy("../../docs/audit.md")

// narrowedPolicy returns the JSON block of the page at path that narrows the IAM
// actions to user/soracom-*.
func narrowedPolicy(path string) string {
	page, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	for _, block := range strings.Split(string(page), "```json\n")[1:] {
		block, _, _ = strings.Cut(block, "```")
		if strings.Contains(block, ":user/soracom-*") {
			return block
		}
	}
	panic(path + " holds no policy narrowed to user/soracom-*")
}

// findingOf returns the finding of check for set id.
func (o auditOutcome) findingOf(id, check string) (auditFinding, bool) {
	for _, f := range o.findings {
		if f.CredentialID == id && f.Check == check {
			return f, true
		}
	}
	return auditFinding{}, false
}

// annotations counts the annotations a run wrote.
func annotations(stdout string) int {
	n := 0
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "::error::") || strings.HasPrefix(l, "::warning::") || strings.HasPrefix(l, "::notice::") {
			n++
		}
	}
	return n
}

// noneOf fails when any of the texts a run wrote holds one of never.
func noneOf(t *testing.T, o outcome, never ...string) {
	t.Helper()
	for name, text := range map[string]string{"log": o.stdout, "summary": o.summary, "outputs": o.outputs} {
		for _, n := range never {
			if strings.Contains(text, n) {
				t.Errorf("the %s holds %q", name, n)
			}
		}
	}
}

// Bounded listing: a ListAccessKeys that always has more pages (a new marker each time,
// or the same one) and a SORACOM list longer than the action reads end the run with an
// error naming the service and the call; the SORACOM token is still revoked.
func TestEveryListingIsBounded(t *testing.T) {
	for name, paging := range map[string]awstest.Paging{
		"a new marker on every page": {PerPage: 1, Endless: true},
		"the same marker every page": {PerPage: 1, Endless: true, SameMarker: true},
		"every page whole, and more": {Endless: true},
	} {
		t.Run("audit: "+name, func(t *testing.T) { checkEndlessAudit(t, paging) })
		t.Run("rotation: "+name, func(t *testing.T) { checkEndlessRotation(t, paging) })
	}
	t.Run("audit: a SORACOM list longer than the action reads", func(t *testing.T) {
		w := newAuditWorld(t)
		entries := strings.Repeat(`{"credentialsId":"x","type":"psk"},`, 10000) + `{"credentialsId":"y","type":"psk"}`
		w.soracom.Inject("GET /v1/credentials", soracomtest.Always, soracomtest.Fault{Status: 200,
			Header: http.Header{"Content-Type": {"application/json"}}, Body: "[" + entries + "]"})
		o := w.run(t)
		msg := errorLine(t, o.outcome)
		if o.code != 1 || !strings.Contains(msg, "SORACOM listCredentials answered more than 10000 entries") || w.soracom.LiveSessions() != 0 {
			t.Errorf("exit %d, error %q, live sessions %d", o.code, msg, w.soracom.LiveSessions())
		}
	})
}

// checkEndlessAudit audits a set whose key's user IAM pages as paging says: the key is
// unknown, naming the call, and the run ends with the token revoked.
func checkEndlessAudit(t *testing.T, paging awstest.Paging) {
	t.Helper()
	w := newAuditWorld(t)
	k := w.acct.AddKey("soracom-funnel", awstest.Active)
	w.put("a", k.ID)
	w.inputs[inputs.IAMUserName] = "soracom-funnel"
	w.acct.SetPaging(paging)
	o := w.run(t)
	f, ok := o.findingOf("a", audit.KeyUnknown)
	if !ok || !strings.Contains(f.Message, "IAM ListAccessKeys kept answering more pages") || o.code != 0 {
		t.Errorf("exit %d, findings %q, want a key-unknown naming IAM ListAccessKeys\n%s", o.code, o.checks(), o.stdout)
	}
	if n := pages(w.acct); n > 20 {
		t.Errorf("%d ListAccessKeys pages asked for", n)
	}
	if w.soracom.LiveSessions() != 0 {
		t.Error("the SORACOM token was not revoked")
	}
}

// checkEndlessRotation rotates a user whose keys IAM pages as paging says: nothing
// changes, the error names the call, the token is revoked.
func checkEndlessRotation(t *testing.T, paging awstest.Paging) {
	t.Helper()
	w := newWorld(t)
	w.acct.SetPaging(paging)
	o := w.run(t, 5*time.Second)
	msg := errorLine(t, o)
	if o.code != 1 || !strings.Contains(msg, "IAM ListAccessKeys kept answering more pages") || !strings.Contains(msg, "Nothing was changed") {
		t.Errorf("exit %d, error %q", o.code, msg)
	}
	if len(w.acct.Keys(user)) != 1 || w.soracom.LiveSessions() != 0 {
		t.Errorf("keys %+v, live sessions %d: want nothing changed and the token revoked", w.acct.Keys(user), w.soracom.LiveSessions())
	}
}

// pages counts the ListAccessKeys requests IAM received.
func pages(acct *awstest.Account) int {
	n := 0
	for _, a := range acct.Actions() {
		if a == "ListAccessKeys" {
			n++
		}
	}
	return n
}

// Denied is not missing: with the README's own narrowed policy, a key of a user the
// policy does not cover, or a deleted key IAM will not say is gone, is key-unknown
// naming the permission and the policy statement, never key-missing; fail-on broken
// does not fail on it. Only a positive answer (NoSuchEntity) makes key-missing.
func TestDeniedIsNotMissing(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		setup  func(w *auditWorld) (set string)
		want   string // the set's check
		says   []string
	}{
		{"the README's policy: a key of a user outside soracom-*", readmePolicy,
			func(w *auditWorld) string { w.put("ops", w.acct.AddKey("ops-deploy", awstest.Active).ID); return "ops" },
			audit.KeyUnknown, []string{"iam:GetAccessKeyLastUsed", `"Resource": "arn:aws:iam::123456789012:user/*"`}},
		{"the README's policy: a deleted key", readmePolicy,
			func(w *auditWorld) string {
				k := w.acct.AddKey("soracom-harvest", awstest.Active)
				w.acct.DeleteKey(k.ID)
				w.put("gone", k.ID)
				return "gone"
			},
			audit.KeyUnknown, []string{"iam:GetAccessKeyLastUsed", "the key was deleted"}},
		{"lookups allowed everywhere, listing only on soracom-*", `{"Statement": [
			{"Effect": "Allow", "Action": ["iam:GetAccessKeyLastUsed", "sts:GetAccessKeyInfo"], "Resource": "*"},
			{"Effect": "Allow", "Action": "iam:ListAccessKeys", "Resource": "arn:aws:iam::123456789012:user/soracom-*"}]}`,
			func(w *auditWorld) string { w.put("ops", w.acct.AddKey("ops-deploy", awstest.Active).ID); return "ops" },
			audit.KeyUnknown, []string{"iam:ListAccessKeys", `"Resource": "arn:aws:iam::123456789012:user/ops-deploy"`}},
		{"an explicit deny on one user", `{"Statement": [
			{"Effect": "Allow", "Action": "*", "Resource": "*"},
			{"Effect": "Deny", "Action": "iam:Get*", "Resource": "arn:aws:iam::123456789012:user/ops-*"}]}`,
			func(w *auditWorld) string { w.put("ops", w.acct.AddKey("ops-deploy", awstest.Active).ID); return "ops" },
			audit.KeyUnknown, []string{"iam:GetAccessKeyLastUsed"}},
		{"a full policy: a deleted key IAM says is gone is missing", `{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}`,
			func(w *auditWorld) string {
				k := w.acct.AddKey("soracom-harvest", awstest.Active)
				w.acct.DeleteKey(k.ID)
				w.put("gone", k.ID)
				return "gone"
			},
			audit.KeyMissing, []string{"does not know (deleted)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newAuditWorld(t)
			good := w.acct.AddKey("soracom-funnel", awstest.Active)
			w.put("funnel", good.ID)
			set := tt.setup(w)
			if err := w.acct.SetPolicy(tt.policy); err != nil {
				t.Fatal(err)
			}
			checkDenied(t, w, set, tt.want, tt.says)
		})
	}
}

// checkDenied runs the audit and checks that set has the one finding want, saying says,
// and that only key-missing fails the run.
func checkDenied(t *testing.T, w *auditWorld, set, want string, says []string) {
	t.Helper()
	o := w.run(t)
	if got := o.checks(); !slices.Equal(got, []string{set + " " + want}) {
		t.Fatalf("findings = %q, want %s %s\n%s", got, set, want, o.stdout)
	}
	if want == audit.KeyUnknown && o.findings[0].Severity != "unknown" {
		t.Errorf("severity %q, want unknown", o.findings[0].Severity)
	}
	for _, s := range says {
		if !strings.Contains(o.findings[0].Message, s) {
			t.Errorf("the finding does not say %q: %s", s, o.findings[0].Message)
		}
	}
	wantCode, broken := 0, "0"
	if want == audit.KeyMissing {
		wantCode, broken = 1, "1"
	}
	if o.code != wantCode || o.outs["broken-count"] != broken {
		t.Errorf("exit %d, broken-count %q; want %d, %s (fail-on broken)", o.code, o.outs["broken-count"], wantCode, broken)
	}
	assertReadOnly(t, w)
}

// forgingProxy stands in front of the fake IAM or STS and rewrites the answers to
// action with rewrite: a hostile proxy in front of AWS.
func forgingProxy(t *testing.T, target, action string, rewrite func(string) string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := httputil.NewSingleHostReverseProxy(u)
	p.ModifyResponse = func(res *http.Response) error {
		if res.Request.Header.Get("X-Test-Action") != action {
			return nil
		}
		b, err := io.ReadAll(res.Body)
		if err != nil {
			return err
		}
		body := rewrite(string(b))
		res.Body, res.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
		res.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		r.Header.Set("X-Test-Action", form.Get("Action")) // not signed: the fake ignores it
		p.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Checked identifiers: an id in the SORACOM list that is not one never reaches the log,
// the summary or the outputs, nor is it sent to IAM; the set holding it gets one
// malformed-set finding naming the set and the field.
func TestSORACOMIdentifiersAreCheckedBeforeUse(t *testing.T) {
	w := newAuditWorld(t)
	good := w.acct.AddKey("soracom-funnel", awstest.Active)
	w.put("a-good", good.ID)
	for id, keyID := range map[string]any{
		"b-command":   good.ID + forged,
		"c-too-long":  "AKIAIOSFODNN7EXAMPLEXYZW",
		"d-lowercase": "akiaiosfodnn7example",
		"e-number":    1234,
	} {
		w.soracom.PutCredentialSet(soracomtest.CredentialSet{ID: id, Type: "aws-credentials", LastUsed: time.Now(),
			Credentials: map[string]any{"secretAccessKey": "s"}, Listed: map[string]any{"credentials": map[string]any{"accessKeyId": keyID}}})
	}
	w.soracom.PutCredentialSet(soracomtest.CredentialSet{ID: "f", Type: "psk", Listed: map[string]any{"credentialsId": "f" + forged}})
	o := w.run(t)
	want := []string{" malformed-set", "b-command malformed-set", "c-too-long malformed-set", "d-lowercase malformed-set", "e-number malformed-set"}
	if got := o.checks(); !slices.Equal(got, want) {
		t.Fatalf("findings = %q, want %q\n%s", got, want, o.stdout)
	}
	checkMalformed(t, o)
	noneOf(t, o.outcome, "FORGED", "EXAMPLEXYZW", "akiaiosfodnn7example", "touch")
	for _, r := range w.acct.Requests() {
		if id := r.Params.Get("AccessKeyId"); id != "" && id != good.ID {
			t.Errorf("IAM was sent %s for %q", r.Action, id)
		}
	}
}

// checkMalformed checks that each malformed-set finding names its field and carries no
// value, and that the set whose id is forged is named by its place.
func checkMalformed(t *testing.T, o auditOutcome) {
	t.Helper()
	for _, f := range o.findings {
		if f.Severity != "warning" || f.AccessKeyID != "" || !strings.Contains(f.Message, "accessKeyId") && !strings.Contains(f.Message, "credentialsId") {
			t.Errorf("finding %+v does not name the field, or carries a value", f)
		}
	}
	if f, _ := o.findingOf("", audit.MalformedSet); !strings.Contains(f.Message, "Entry 6 of SORACOM's list") {
		t.Errorf("the set whose id is forged is not named by its place: %q", f.Message)
	}
}

// An identifier from IAM or STS that is not one (a user name, a key id, an account) is
// never printed, output or passed on: the key it is about is unknown.
func TestAWSIdentifiersAreCheckedBeforeUse(t *testing.T) {
	stsCases := map[string]struct {
		service, action string
		rewrite         func(string) string
		set             func(w *auditWorld) string
	}{
		"a forged user name from GetAccessKeyLastUsed": {"iam", "GetAccessKeyLastUsed",
			func(b string) string {
				return strings.Replace(b, "<UserName>soracom-funnel", "<UserName>soracom-funnel"+xmlEscape(forged), 1)
			},
			func(w *auditWorld) string { w.put("a", w.acct.AddKey("soracom-funnel", awstest.Active).ID); return "a" }},
		"a forged key id from ListAccessKeys": {"iam", "ListAccessKeys",
			func(b string) string {
				return strings.Replace(b, "<AccessKeyId>AKIA", "<AccessKeyId>AKIA"+xmlEscape(forged), 1)
			},
			func(w *auditWorld) string { w.put("a", w.acct.AddKey("soracom-funnel", awstest.Active).ID); return "a" }},
		"a forged account from GetAccessKeyInfo": {"sts", "GetAccessKeyInfo",
			func(b string) string { return strings.Replace(b, "<Account>", "<Account>"+xmlEscape(forged), 1) },
			func(w *auditWorld) string { w.put("a", w.acct.AddForeignKey("210987654321")); return "a" }},
	}
	for name, tt := range stsCases {
		t.Run(name, func(t *testing.T) {
			w := newAuditWorld(t)
			set := tt.set(w)
			env := w.acct.Env()
			key := "AWS_ENDPOINT_URL_IAM"
			if tt.service == "sts" {
				key = "AWS_ENDPOINT_URL_STS"
			}
			proxy := forgingProxy(t, env[key], tt.action, tt.rewrite)
			w.endpoint = map[string]string{key: proxy}
			o := w.run(t)
			if got := o.checks(); !slices.Equal(got, []string{set + " key-unknown"}) {
				t.Errorf("findings = %q, want the key unknown\n%s", got, o.stdout)
			}
			noneOf(t, o.outcome, "FORGED", "touch")
		})
	}
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\x1b", "&#x1b;").Replace(s)
}

// Bounded outputs: findings stays valid JSON under 1 MiB with the broken findings
// first, findings-truncated says when some were left out, the counts count all, and at
// most 10 annotations are written, the rest listed in the summary.
func TestAuditOutputsAreBounded(t *testing.T) {
	tests := []struct {
		name          string
		warnings      int
		broken        int
		wantTruncated bool
	}{
		{"thousands of warnings and a few broken sets", 5000, 12, true},
		{"a dozen of each: all fit, but not as annotations", 12, 12, false},
		{"a handful", 3, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newAuditWorld(t)
			w.noAWS = true
			long := strings.Repeat("x", 80)
			for i := range tt.warnings {
				w.soracom.PutCredentialSet(soracomtest.CredentialSet{ID: fmt.Sprintf("a-%04d-%s", i, long), Type: "psk"})
			}
			for i := range tt.broken {
				w.put(fmt.Sprintf("z-%02d", i), fmt.Sprintf("ASIATEMPORARYKEY%04d", i))
			}
			o := w.run(t)
			checkBoundedFindings(t, o, tt.broken, tt.warnings, tt.wantTruncated)
			if n := annotations(o.stdout); n > action.MaxAnnotations {
				t.Errorf("%d annotations, more than %d", n, action.MaxAnnotations)
			}
			// +1: the notice that the IAM checks were skipped; one annotation is kept for
			// the error a run ends with.
			overflow := tt.broken+tt.warnings+1 > action.MaxAnnotations-1
			if said := strings.Contains(o.summary, "at most 10 annotations"); said != overflow {
				t.Errorf("summary says the annotations overflowed: %v, want %v\n%s", said, overflow, tail(o.summary))
			}
		})
	}
}

// checkBoundedFindings checks the findings output of an audit of broken and warnings
// sets.
func checkBoundedFindings(t *testing.T, o auditOutcome, broken, warnings int, truncated bool) {
	t.Helper()
	if len(o.outs["findings"]) > 1<<20 || !json.Valid([]byte(o.outs["findings"])) {
		t.Fatalf("findings output: %d bytes, valid JSON %v", len(o.outs["findings"]), json.Valid([]byte(o.outs["findings"])))
	}
	if got := o.outs["findings-truncated"]; got != strconv.FormatBool(truncated) {
		t.Errorf("findings-truncated = %q, want %v", got, truncated)
	}
	if o.outs["broken-count"] != strconv.Itoa(broken) || o.outs["warning-count"] != strconv.Itoa(warnings) {
		t.Errorf("broken-count %s, warning-count %s; want %d and %d", o.outs["broken-count"], o.outs["warning-count"], broken, warnings)
	}
	for i := range broken {
		if o.findings[i].Severity != "broken" {
			t.Fatalf("finding %d is %s: broken findings come first", i, o.findings[i].Severity)
		}
	}
	// Each never-used set no group names is also unreferenced (info).
	all := broken + 2*warnings
	if !truncated && len(o.findings) != all {
		t.Errorf("%d findings, want %d", len(o.findings), all)
	}
	if truncated && (len(o.findings) >= all || !strings.Contains(o.summary, "findings-truncated")) {
		t.Errorf("%d findings of %d, and the summary does not say so", len(o.findings), all)
	}
}

// Certificates that are not valid yet are broken, and PEM that does not parse is a
// warning: neither is ever reported as healthy.
func TestAuditNeverCallsAnOddCertificateHealthy(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name, cert, want string
	}{
		{"valid from tomorrow", "", "cert-not-yet-valid"},
		{"a PEM block whose body is no certificate", "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n", "cert-unreadable"},
		{"text that is no PEM", "MIIB... pasted without its armour", "cert-unreadable"},
		{"a private key where the certificate belongs", "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n", "cert-unreadable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newAuditWorld(t)
			cert := tt.cert
			if cert == "" {
				cert = certificateBetween(t, now.Add(24*time.Hour), now.Add(400*24*time.Hour))
			}
			w.soracom.PutCredentialSet(soracomtest.CredentialSet{ID: "device", Type: "x509", LastUsed: now, Credentials: map[string]any{"cert": cert}})
			o := w.run(t)
			if got := o.checks(); !slices.Equal(got, []string{"device " + tt.want}) {
				t.Errorf("findings = %q, want %s", got, tt.want)
			}
			wantCode := 0
			if tt.want == "cert-not-yet-valid" {
				wantCode = 1 // broken, and fail-on is broken
			}
			if o.code != wantCode {
				t.Errorf("exit %d, want %d", o.code, wantCode)
			}
		})
	}
}

// One set, one finding: a set whose list entry cannot be read gets malformed-set and
// every other set is audited as usual.
func TestAnOddSetDoesNotSinkTheAudit(t *testing.T) {
	for name, listed := range map[string]map[string]any{
		"a float lastUsedDateTime":    {"lastUsedDateTime": json.RawMessage("1.7e12")},
		"a type that is a number":     {"type": 7},
		"credentials that are a list": {"credentials": []any{"AKIA"}},
		"a string createDateTime":     {"createDateTime": "2026-01-01"},
		"an entry that is a string":   {"": "odd"},
	} {
		t.Run(name, func(t *testing.T) {
			w := newAuditWorld(t)
			old := w.acct.AddKeyCreated("soracom-funk", awstest.Active, time.Now().Add(-100*24*time.Hour))
			w.put("a-old", old.ID)
			w.put("z-session", "ASIATEMPORARYKEY0001")
			w.soracom.PutCredentialSet(soracomtest.CredentialSet{ID: "m-odd", Type: "aws-credentials", Listed: listed,
				Credentials: map[string]any{"accessKeyId": old.ID, "secretAccessKey": "s"}})
			o := w.run(t)
			oddID := "m-odd"
			if _, whole := listed[""]; whole {
				oddID = ""
			}
			want := []string{"a-old key-old", oddID + " malformed-set", "z-session session-key"}
			slices.Sort(want)
			if got := o.checks(); !slices.Equal(got, want) {
				t.Errorf("findings = %q, want %q\n%s", got, want, o.stdout)
			}
			if o.code != 1 || o.outs["broken-count"] != "1" || o.outs["warning-count"] != "2" {
				t.Errorf("exit %d, outputs %q", o.code, o.outputs)
			}
		})
	}
}

// One set, one finding, in a rotation: the new key goes to every set that can be read
// and written, the old key stays active (the unreadable set may hold it), the run
// exits 1 and names the set.
func TestRotationWithAnUnreadableSetKeepsTheOldKey(t *testing.T) {
	tests := []struct {
		name   string
		listed map[string]any
		named  string
		names  string // how the error names the set
		onNew  []string
	}{
		{"a float lastUsedDateTime on a set not named", map[string]any{"lastUsedDateTime": json.RawMessage("1.7e12")}, "funnel-aws",
			"credential set odd-aws (its lastUsedDateTime)", []string{"funnel-aws", "harvest-aws"}},
		{"a forged key id on a set not named", map[string]any{"credentials": map[string]any{"accessKeyId": "AKIA" + forged}}, "funnel-aws",
			"credential set odd-aws (its credentials.accessKeyId)", []string{"funnel-aws", "harvest-aws"}},
		{"an id that cannot be read", map[string]any{"credentialsId": 42}, "funnel-aws",
			"the credential set at entry 3 of SORACOM's list (its credentialsId)", []string{"funnel-aws", "harvest-aws"}},
		{"the named set itself", map[string]any{"updateDateTime": "soon"}, "odd-aws",
			"credential set odd-aws (its updateDateTime)", []string{"funnel-aws", "harvest-aws"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.soracom.PutCredentialSet(soracomtest.CredentialSet{ID: "odd-aws", Type: "aws-credentials", Listed: tt.listed,
				Credentials: map[string]any{"accessKeyId": w.old.ID, "secretAccessKey": "secret-of-odd"}})
			w.inputs[inputs.CredentialID] = tt.named
			o := w.run(t, 5*time.Second)
			msg := errorLine(t, o)
			if o.code != 1 || !strings.Contains(msg, tt.names+" could not be read") || !strings.Contains(msg, "the old key "+w.old.ID+" stays active") {
				t.Errorf("exit %d, error %q; want it to name %s and keep the old key", o.code, msg, tt.names)
			}
			keys := w.acct.Keys(user)
			if len(keys) != 2 || keys[0].Status != awstest.Active || keys[1].Status != awstest.Active {
				t.Fatalf("IAM keys %+v: want the old and the new key, both active", keys)
			}
			for _, id := range tt.onNew {
				if w.setKey(t, id) != keys[1].ID {
					t.Errorf("%s does not hold the new key", id)
				}
			}
			if w.setKey(t, "odd-aws") != w.old.ID {
				t.Error("the unreadable set was written")
			}
			noneOf(t, o, "FORGED")
		})
	}
}

// Timestamps: a key with no CreateDate, or one in the future, has an unknown age, and
// the audit says so (key-age-unknown, no ageDays) instead of making one up.
func TestKeysOfUnknownAge(t *testing.T) {
	for name, created := range unknownAges() {
		t.Run(name, func(t *testing.T) {
			w := newAuditWorld(t)
			w.put("a", w.acct.AddKeyCreated("soracom-funnel", awstest.Active, created).ID)
			o := w.run(t)
			f, ok := o.findingOf("a", audit.KeyAgeUnknown)
			if !ok || f.AgeDays != nil || f.Severity != "warning" || len(o.findings) != 1 {
				t.Errorf("findings %+v, want one key-age-unknown warning without ageDays\n%s", o.findings, o.stdout)
			}
			if strings.Contains(o.outputs, "106751") || strings.Contains(o.summary, "106751") || !strings.Contains(o.summary, "unknown") {
				t.Errorf("the age is made up:\n%s", o.summary)
			}
		})
	}
}

// unknownAges are creation dates IAM may give that no age can be read from.
func unknownAges() map[string]time.Time {
	return map[string]time.Time{
		"no CreateDate":                     {},
		"a CreateDate next year":            time.Now().AddDate(1, 0, 0),
		"a CreateDate two minutes from now": time.Now().Add(2 * time.Minute),
	}
}

// rotate-after treats a key of unknown age as due, and the log says why.
func TestKeysOfUnknownAgeAreDue(t *testing.T) {
	for name, created := range unknownAges() {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			w.acct.DeleteKey(w.old.ID)
			w.old = w.acct.AddKeyCreated(user, awstest.Active, created)
			for _, id := range []string{"funnel-aws", "harvest-aws"} {
				w.putSet(id, w.old.ID)
			}
			w.inputs[inputs.RotateAfter] = "30d"
			o := w.run(t, 5*time.Second)
			if o.code != 0 || output(o, "rotated") != "true" || output(o, "key-age-days") != "" {
				t.Errorf("exit %d, rotated %q, key-age-days %q\n%s", o.code, output(o, "rotated"), output(o, "key-age-days"), o.stdout)
			}
			if !strings.Contains(o.stdout, "Rotating now: IAM gives the key") || !strings.Contains(o.stdout, "so its age is unknown") {
				t.Errorf("the log does not say why the key is due:\n%s", o.stdout)
			}
		})
	}
}

// An empty or malformed account from GetAccessKeyInfo leaves the key unknown: it is not
// another account's.
func TestAnAccountThatIsNoneIsUnknownNotForeign(t *testing.T) {
	for name, account := range map[string]string{"an empty account": "", "an account of 11 digits": "12345678901"} {
		t.Run(name, func(t *testing.T) {
			w := newAuditWorld(t)
			w.put("a", w.acct.AddForeignKey("210987654321"))
			proxy := forgingProxy(t, w.acct.Env()["AWS_ENDPOINT_URL_STS"], "GetAccessKeyInfo", func(b string) string {
				return strings.Replace(b, "<Account>210987654321</Account>", "<Account>"+account+"</Account>", 1)
			})
			w.endpoint = map[string]string{"AWS_ENDPOINT_URL_STS": proxy}
			o := w.run(t)
			if got := o.checks(); !slices.Equal(got, []string{"a key-unknown"}) {
				t.Errorf("findings = %q, want key-unknown (not foreign-account)\n%s", got, o.stdout)
			}
		})
	}
}
