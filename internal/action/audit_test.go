package action_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/action"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awstest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// auditWorld is an operator whose sets hold keys of a fake AWS account, audited with the
// ambient credentials of an auditor user (or none).
type auditWorld struct {
	acct    *awstest.Account
	soracom *soracomtest.Server
	auditor awstest.Key
	noAWS   bool
	inputs  map[string]string
	// endpoint overrides the fake's endpoint variables (a proxy in front of it).
	endpoint map[string]string
}

func newAuditWorld(t *testing.T) *auditWorld {
	w := &auditWorld{acct: awstest.NewAccount(t), soracom: soracomtest.Start(t)}
	w.auditor = w.acct.AddKey("auditor", awstest.Active)
	w.soracom.AddAuthKey(authKeyID, authKey)
	w.inputs = map[string]string{inputs.AuditInput: "true", inputs.AuthKeyID: authKeyID, inputs.AuthKey: authKey,
		inputs.Endpoint: w.soracom.URL()}
	return w
}

// put stores an aws-credentials set holding key, last used by SORACOM an hour ago.
func (w *auditWorld) put(id, key string) {
	w.soracom.PutCredentialSet(soracomtest.CredentialSet{ID: id, Type: "aws-credentials", LastUsed: time.Now().Add(-time.Hour),
		Credentials: map[string]any{"accessKeyId": key, "secretAccessKey": "secret-of-" + id}})
}

type auditFinding struct {
	CredentialID string `json:"credentialId"`
	Type         string `json:"type"`
	Check        string `json:"check"`
	Severity     string `json:"severity"`
	Message      string `json:"message"`
	AccessKeyID  string `json:"accessKeyId"`
	UserName     string `json:"userName"`
	AgeDays      *int   `json:"ageDays"`
	LastUsed     string `json:"lastUsed"`
}

type auditOutcome struct {
	outcome
	findings []auditFinding
	outs     map[string]string
}

func (o auditOutcome) checks() []string {
	var out []string
	for _, f := range o.findings {
		out = append(out, f.CredentialID+" "+f.Check)
	}
	slices.Sort(out)
	return out
}

// finding returns the first finding of check.
func (o auditOutcome) finding(check string) auditFinding {
	for _, f := range o.findings {
		if f.Check == check {
			return f
		}
	}
	return auditFinding{}
}

func (o auditOutcome) lines(prefix string) []string {
	var out []string
	for _, l := range strings.Split(o.stdout, "\n") {
		if v, ok := strings.CutPrefix(l, prefix); ok {
			out = append(out, v)
		}
	}
	return out
}

func (w *auditWorld) run(t *testing.T) auditOutcome {
	t.Helper()
	var auditor map[string]string
	if !w.noAWS {
		auditor = awstest.KeyEnv(w.auditor)
	}
	files := prepareRun(t, w.inputs, w.acct.Env(), auditor, w.endpoint)
	var stdout bytes.Buffer
	code := action.Run(context.Background(), action.Env{Getenv: os.Getenv, Stdout: &stdout, Retry: quickRetry()})
	res := files.result(code, stdout.String())
	o := auditOutcome{outcome: res, outs: parseOutputs(res.outputs)}
	if f, ok := o.outs["findings"]; ok {
		if err := json.Unmarshal([]byte(f), &o.findings); err != nil {
			t.Fatalf("findings output is not a JSON array: %v\n%s", err, f)
		}
	}
	return o
}

// parseOutputs reads the name<<delimiter blocks of a GITHUB_OUTPUT file.
func parseOutputs(s string) map[string]string {
	out := map[string]string{}
	lines := strings.Split(s, "\n")
	for i := 0; i < len(lines); i++ {
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			continue
		}
		var val []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			val = append(val, lines[i])
		}
		out[name] = strings.Join(val, "\n")
	}
	return out
}

func TestAuditReportsEveryCheckAgainstTheFakes(t *testing.T) {
	w := newAuditWorld(t)
	good := w.acct.AddKey("soracom-funnel", awstest.Active)
	w.acct.SetLastUsed(good.ID, time.Now().Add(-48*time.Hour), "s3", "ap-northeast-1")
	old := w.acct.AddKeyCreated("soracom-funk", awstest.Active, time.Now().Add(-100*24*time.Hour))
	off := w.acct.AddKey("soracom-harvest", awstest.Inactive)
	gone := w.acct.AddKey("soracom-funnel", awstest.Active)
	w.acct.DeleteKey(gone.ID)
	foreign := w.acct.AddForeignKey("210987654321")
	w.put("a-good", good.ID)
	w.put("b-old", old.ID)
	w.put("c-inactive", off.ID)
	w.put("d-gone", gone.ID)
	w.put("e-foreign", foreign)
	w.put("f-session", "ASIATEMPORARYKEY0001")
	w.put("g-shared", good.ID)
	w.soracom.PutCredentialSet(soracomtest.CredentialSet{ID: "h-unused", Type: "psk", Credentials: map[string]any{"key": "psk-secret-value"}})

	o := w.run(t)
	want := []string{"a-good shared-key", "b-old key-old", "c-inactive key-inactive", "d-gone key-missing", "e-foreign foreign-account",
		"f-session session-key", "g-shared shared-key", "h-unused never-used", "h-unused unreferenced"}
	if got := o.checks(); !slices.Equal(got, want) {
		t.Errorf("findings = %q\nwant %q\n%s", got, want, o.stdout)
	}
	if o.code != 1 {
		t.Errorf("exit code %d, want 1 (fail-on broken, three broken sets)", o.code)
	}
	if o.outs["broken-count"] != "3" || o.outs["warning-count"] != "2" {
		t.Errorf("broken-count %q, warning-count %q; want 3 and 2", o.outs["broken-count"], o.outs["warning-count"])
	}
	if errs := o.lines("::error::"); len(errs) != 3 {
		t.Errorf("%d ::error:: lines, want one per broken set: %q", len(errs), errs)
	}
	if warns := o.lines("::warning::"); len(warns) != 2 {
		t.Errorf("%d ::warning:: lines, want one per warning: %q", len(warns), warns)
	}
	if f := o.finding("key-old"); f.UserName != "soracom-funk" || f.AgeDays == nil || *f.AgeDays != 100 || f.AccessKeyID != old.ID {
		t.Errorf("key-old finding lacks what is known: %+v", f)
	}
	// Worst first: the broken sets lead the table.
	rows := tableRows(o.summary)
	if len(rows) != 8 || !strings.Contains(rows[0], "broken") || !strings.Contains(rows[7], "ok") && !strings.Contains(rows[7], "info") {
		t.Errorf("summary table not worst first:\n%s", o.summary)
	}
	if !strings.Contains(o.summary, "…"+good.ID[len(good.ID)-4:]) || strings.Contains(o.summary, good.ID) {
		t.Errorf("the summary must show keys by their last four characters only:\n%s", o.summary)
	}
	if !strings.Contains(o.summary, "(s3)") {
		t.Errorf("the summary lacks the key's last use in AWS:\n%s", o.summary)
	}
	assertReadOnly(t, w)
}

// assertReadOnly fails when the run called anything in IAM or SORACOM that writes.
func assertReadOnly(t *testing.T, w *auditWorld) {
	t.Helper()
	for _, a := range w.acct.Actions() {
		if strings.HasPrefix(a, "Create") || strings.HasPrefix(a, "Update") || strings.HasPrefix(a, "Delete") {
			t.Errorf("the audit called %s", a)
		}
	}
	for _, r := range w.soracom.Requests() {
		if r.Method != "GET" && !strings.HasPrefix(r.Path, "/v1/auth") {
			t.Errorf("the audit wrote to SORACOM: %s %s", r.Method, r.Path)
		}
	}
}

func tableRows(summary string) []string {
	var rows []string
	for _, l := range strings.Split(summary, "\n") {
		if strings.HasPrefix(l, "| ") && !strings.HasPrefix(l, "| Set ") {
			rows = append(rows, l)
		}
	}
	return rows
}

func TestAuditFailOn(t *testing.T) {
	tests := []struct {
		name, failOn string
		setup        func(w *auditWorld)
		wantCode     int
	}{
		{"broken fails on a broken set", "broken", func(w *auditWorld) { w.put("a", "ASIATEMPORARYKEY0001") }, 1},
		{"broken passes a warning", "broken", func(w *auditWorld) {
			w.put("a", w.acct.AddKeyCreated("u", awstest.Active, time.Now().Add(-200*24*time.Hour)).ID)
		}, 0},
		{"warning fails on a warning", "warning", func(w *auditWorld) {
			w.put("a", w.acct.AddKeyCreated("u", awstest.Active, time.Now().Add(-200*24*time.Hour)).ID)
		}, 1},
		{"warning fails on a broken set", "warning", func(w *auditWorld) { w.put("a", "ASIATEMPORARYKEY0001") }, 1},
		{"warning passes info", "warning", func(w *auditWorld) { k := w.acct.AddKey("u", awstest.Active); w.put("a", k.ID); w.put("b", k.ID) }, 0},
		{"never passes a broken set", "never", func(w *auditWorld) { w.put("a", "ASIATEMPORARYKEY0001") }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newAuditWorld(t)
			w.inputs[inputs.FailOnInput] = tt.failOn
			tt.setup(w)
			if o := w.run(t); o.code != tt.wantCode {
				t.Errorf("exit code %d, want %d\n%s", o.code, tt.wantCode, o.stdout)
			}
		})
	}
}

func TestAuditWithEveryLookupDeniedSaysSoOnce(t *testing.T) {
	w := newAuditWorld(t)
	w.acct.Deny("GetAccessKeyLastUsed")
	for _, id := range []string{"a", "b", "c", "d"} {
		w.put(id, w.acct.AddKey("soracom-"+id, awstest.Active).ID)
	}
	o := w.run(t)
	errs := o.lines("::error::")
	if len(errs) != 1 || !strings.Contains(errs[0], "iam:GetAccessKeyLastUsed") {
		t.Fatalf("want one ::error:: naming iam:GetAccessKeyLastUsed, got %q", errs)
	}
	if o.outs["broken-count"] != "0" {
		t.Errorf("broken-count = %q, want 0: a missing permission breaks no set", o.outs["broken-count"])
	}
	if len(o.lines("::notice::")) != 0 {
		t.Errorf("each unknown key got its own notice: %q", o.lines("::notice::"))
	}
	if o.code != 1 {
		t.Errorf("exit code %d, want 1", o.code)
	}
}

// IAM does not document its answer for a key it does not know: NoSuchEntity is a
// positive answer (key-missing), AccessDenied is not (it is also what a missing or
// narrowed permission answers), so the key is unknown, never broken.
func TestAuditUnknownKeyAnswers(t *testing.T) {
	for answer, want := range map[string]string{"NoSuchEntity": "gone key-missing", "AccessDenied": "gone key-unknown"} {
		t.Run(answer, func(t *testing.T) {
			w := newAuditWorld(t)
			w.acct.SetUnknownKeyAnswer(answer)
			live := w.acct.AddKey("soracom-funnel", awstest.Active)
			gone := w.acct.AddKey("soracom-funnel", awstest.Active)
			w.acct.DeleteKey(gone.ID)
			w.put("live", live.ID)
			w.put("gone", gone.ID)
			o := w.run(t)
			if got := o.checks(); !slices.Equal(got, []string{want}) {
				t.Errorf("findings = %q, want %s\n%s", got, want, o.stdout)
			}
		})
	}
}

func TestAuditThrottledKeyIsUnknownNotBroken(t *testing.T) {
	w := newAuditWorld(t)
	k := w.acct.AddKey("soracom-funnel", awstest.Active)
	w.put("a", k.ID)
	w.acct.Fail("GetAccessKeyLastUsed", awstest.Throttling(100))
	o := w.run(t)
	if got := o.checks(); !slices.Equal(got, []string{"a key-unknown"}) {
		t.Errorf("findings = %q\n%s", got, o.stdout)
	}
	if o.code != 0 || o.outs["broken-count"] != "0" {
		t.Errorf("exit %d, broken-count %q; an unknown key is not broken", o.code, o.outs["broken-count"])
	}
	if len(o.lines("::notice::")) != 1 {
		t.Errorf("want one notice for the unknown key:\n%s", o.stdout)
	}
}

func TestAuditWithoutAWSCredentialsRunsTheSORACOMChecks(t *testing.T) {
	w := newAuditWorld(t)
	w.noAWS = true
	w.put("a", "ASIATEMPORARYKEY0001")
	w.put("b", "AKIAANYKEYANYKEY0001")
	o := w.run(t)
	if got := o.checks(); !slices.Equal(got, []string{"a session-key"}) {
		t.Errorf("findings = %q", got)
	}
	if !strings.Contains(o.summary, "IAM checks skipped") || !strings.Contains(o.summary, "no AWS credentials") {
		t.Errorf("the summary does not say the IAM checks were skipped and why:\n%s", o.summary)
	}
	if len(w.acct.Requests()) != 0 {
		t.Errorf("AWS was called: %q", w.acct.Actions())
	}
}

func TestAuditOrphanKeysAndNamedSets(t *testing.T) {
	w := newAuditWorld(t)
	held := w.acct.AddKey("soracom-funnel", awstest.Active)
	spare := w.acct.AddKey("soracom-funnel", awstest.Active)
	w.put("funnel-aws", held.ID)
	w.put("other", w.acct.AddKey("soracom-other", awstest.Active).ID)
	w.inputs[inputs.CredentialID] = "funnel-aws"
	w.inputs[inputs.IAMUserName] = "soracom-funnel"
	o := w.run(t)
	if got := o.checks(); !slices.Equal(got, []string{" orphan-key"}) {
		t.Errorf("findings = %q, want only the orphan (and nothing about the set not named)\n%s", got, o.stdout)
	}
	if len(o.findings) == 1 && o.findings[0].AccessKeyID != spare.ID {
		t.Errorf("orphan = %+v, want %s", o.findings[0], spare.ID)
	}
	if rows := tableRows(o.summary); len(rows) != 2 {
		t.Errorf("want a row for the named set and one for the orphan:\n%s", o.summary)
	}
}

func TestAuditOfASetThatDoesNotExistFails(t *testing.T) {
	w := newAuditWorld(t)
	w.put("a", w.acct.AddKey("u", awstest.Active).ID)
	w.inputs[inputs.CredentialID] = "a\nnope"
	o := w.run(t)
	if o.code != 1 || !strings.Contains(o.stdout, `"nope" does not exist`) {
		t.Errorf("exit %d\n%s", o.code, o.stdout)
	}
}

func TestAuditNeutralizesWhatSORACOMSends(t *testing.T) {
	w := newAuditWorld(t)
	evil := "x\n::error::forged|<img src=x>"
	w.soracom.PutCredentialSet(soracomtest.CredentialSet{ID: evil, Type: "psk", Credentials: map[string]any{"key": "k"}})
	o := w.run(t)
	for _, l := range strings.Split(o.stdout, "\n") {
		if strings.HasPrefix(l, "::error::forged") {
			t.Errorf("a set id started a workflow command: %q", l)
		}
	}
	if strings.Contains(o.summary, "<img") || strings.Contains(o.summary, "forged|") {
		t.Errorf("the summary renders the set id as markup:\n%s", o.summary)
	}
}

func TestAuditReadsCertificatesFromTheList(t *testing.T) {
	w := newAuditWorld(t)
	for id, notAfter := range map[string]time.Time{
		"expired": time.Now().Add(-time.Hour), "expiring": time.Now().Add(10 * 24 * time.Hour), "fresh": time.Now().Add(300 * 24 * time.Hour),
	} {
		w.soracom.PutCredentialSet(soracomtest.CredentialSet{ID: id, Type: "x509", LastUsed: time.Now().Add(-time.Hour),
			Credentials: map[string]any{"cert": selfSigned(t, notAfter), "key": "private-key-never-returned"}})
	}
	w.inputs[inputs.ExpiryWarning] = "2w"
	o := w.run(t)
	if got := o.checks(); !slices.Equal(got, []string{"expired cert-expired", "expiring cert-expiring"}) {
		t.Errorf("findings = %q\n%s", got, o.stdout)
	}
	for _, f := range o.findings {
		if !strings.Contains(f.Message, "renew") {
			t.Errorf("%s does not say what to do: %q", f.Check, f.Message)
		}
	}
}

func TestAuditThatFailsBeforeTheChecksSaysWhyInTheSummary(t *testing.T) {
	w := newAuditWorld(t)
	w.inputs[inputs.AuthKey] = "secret-wrong-wrong-wrong"
	o := w.run(t)
	if o.code != 1 || !strings.Contains(o.summary, "health report") || !strings.Contains(o.summary, "CAUTION") {
		t.Errorf("exit %d, summary:\n%s", o.code, o.summary)
	}
	if _, ok := o.outs["broken-count"]; ok {
		t.Errorf("broken-count set though nothing was checked: %q", o.outputs)
	}
}

func selfSigned(t *testing.T, notAfter time.Time) string {
	t.Helper()
	return certificateBetween(t, notAfter.Add(-400*24*time.Hour), notAfter)
}

func certificateBetween(t *testing.T, notBefore, notAfter time.Time) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "device-1"},
		NotBefore: notBefore, NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestAuditThresholdsAtTheirBoundaries(t *testing.T) {
	w := newAuditWorld(t)
	now := time.Now()
	w.put("exactly-max-age", w.acct.AddKeyCreated("u1", awstest.Active, now.Add(-90*24*time.Hour)).ID)
	w.put("a-day-older", w.acct.AddKeyCreated("u2", awstest.Active, now.Add(-91*24*time.Hour)).ID)
	w.soracom.PutCredentialSet(soracomtest.CredentialSet{ID: "cert-exactly-warning", Type: "x509", LastUsed: now,
		Credentials: map[string]any{"cert": selfSigned(t, now.Add(30*24*time.Hour))}})
	w.soracom.PutCredentialSet(soracomtest.CredentialSet{ID: "cert-a-day-later", Type: "x509", LastUsed: now,
		Credentials: map[string]any{"cert": selfSigned(t, now.Add(31*24*time.Hour))}})
	o := w.run(t)
	want := []string{"a-day-older key-old", "cert-exactly-warning cert-expiring"}
	if got := o.checks(); !slices.Equal(got, want) {
		t.Errorf("findings = %q, want %q", got, want)
	}
}

func TestAuditWithAWSCredentialsThatDoNotWorkIsAnError(t *testing.T) {
	w := newAuditWorld(t)
	w.put("a", w.acct.AddKey("u", awstest.Active).ID)
	w.acct.DeleteKey(w.auditor.ID)
	w.inputs[inputs.FailOnInput] = "never"
	o := w.run(t)
	errs := o.lines("::error::")
	if o.code != 1 || len(errs) != 1 || !strings.Contains(errs[0], "IAM checks skipped") {
		t.Errorf("exit %d, errors %q\n%s", o.code, errs, o.stdout)
	}
	if got := o.checks(); !slices.Equal(got, nil) {
		t.Errorf("findings = %q, want none: the key could not be checked", got)
	}
}

func TestAuditOfAnOperatorWithoutSets(t *testing.T) {
	w := newAuditWorld(t)
	o := w.run(t)
	if o.code != 0 || o.outs["findings"] != "[]" || o.outs["broken-count"] != "0" || !strings.Contains(o.summary, "No credential set to audit") {
		t.Errorf("exit %d, outputs %q, summary:\n%s", o.code, o.outputs, o.summary)
	}
}
