package e2e

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awstest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// auditWorld is an operator whose sets hold keys of a fake AWS account, audited through
// the role the workflow assumes with its OIDC token (or with no AWS credentials).
type auditWorld struct {
	*rotationWorld
	gone, inactive awstest.Key
}

func newAuditWorld(t *testing.T) *auditWorld {
	t.Helper()
	w := &auditWorld{rotationWorld: newRotationWorld(t)}
	w.gone = w.acct.AddKey("soracom-funk", awstest.Active)
	w.acct.DeleteKey(w.gone.ID)
	w.inactive = w.acct.AddKey("soracom-harvest", awstest.Inactive)
	for id, key := range map[string]string{"funk-aws": w.gone.ID, "harvest-old": w.inactive.ID, "temp-aws": "ASIAE2ETEMPKEY000001"} {
		w.soracom.PutCredentialSet(soracomtest.CredentialSet{ID: id, Type: "aws-credentials", LastUsed: time.Now().Add(-time.Hour),
			Credentials: map[string]any{"accessKeyId": key, "secretAccessKey": "old-secret-" + id}})
	}
	w.inputs = map[string]string{"audit": "true", "role-to-assume": rotRole,
		"soracom-auth-key-id": authKeyID, "soracom-auth-key": authKeySecret, "soracom-endpoint": w.soracom.URL()}
	return w
}

func findingsOf(t *testing.T, r runResult) []map[string]any {
	t.Helper()
	var fs []map[string]any
	if err := json.Unmarshal([]byte(r.outputs["findings"]), &fs); err != nil {
		t.Fatalf("findings output: %v\n%s", err, r.outputs["findings"])
	}
	return fs
}

func checksOf(fs []map[string]any) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f["credentialId"].(string)+" "+f["check"].(string)+" "+f["severity"].(string))
	}
	slices.Sort(out)
	return out
}

func TestAuditReportsTheHealthOfEverySetAndChangesNothing(t *testing.T) {
	w := newAuditWorld(t)
	before := w.soracom.CredentialSets()
	keysBefore := w.acct.Keys(rotUser)
	r := w.run(t)

	want := []string{
		"funk-aws key-missing broken", "funnel-aws shared-key info", "harvest-aws shared-key info",
		"harvest-old key-inactive broken", "other-aws key-missing broken", "temp-aws session-key broken",
	}
	// funnel-aws, harvest-aws and other-aws were never used by SORACOM, and no group or
	// event handler names them.
	want = append(want, "funnel-aws never-used warning", "harvest-aws never-used warning", "other-aws never-used warning",
		"funnel-aws unreferenced info", "harvest-aws unreferenced info", "other-aws unreferenced info")
	slices.Sort(want)
	if got := checksOf(findingsOf(t, r)); !slices.Equal(got, want) {
		t.Errorf("findings:\n got %q\nwant %q", got, want)
	}
	if r.code != 1 {
		t.Errorf("exit code %d, want 1 (broken sets, fail-on broken)", r.code)
	}
	if r.outputs["broken-count"] != "4" || r.outputs["warning-count"] != "3" {
		t.Errorf("broken-count %q warning-count %q, want 4 and 3", r.outputs["broken-count"], r.outputs["warning-count"])
	}
	if n := len(annotations(r, "error")); n != 4 {
		t.Errorf("%d ::error:: annotations, want one per broken set", n)
	}
	if n := len(annotations(r, "warning")); n != 3 {
		t.Errorf("%d ::warning:: annotations, want one per warning", n)
	}
	if !strings.Contains(r.summary, "| Set | Coverage | Type | Used by | Key | IAM user | Key status | Key age | Last used in AWS | Last used by SORACOM | Findings |") {
		t.Errorf("summary lacks the health table:\n%s", r.summary)
	}
	if !slices.EqualFunc(before, w.soracom.CredentialSets(), func(a, b soracomtest.CredentialSet) bool {
		return a.ID == b.ID && a.Updated.Equal(b.Updated) && maps.Equal(a.Credentials, b.Credentials)
	}) {
		t.Error("the audit changed a credential set")
	}
	if !slices.Equal(keysBefore, w.acct.Keys(rotUser)) {
		t.Error("the audit changed the IAM user's keys")
	}
	for _, a := range w.acct.Actions() {
		if a != "AssumeRoleWithWebIdentity" && a != "GetCallerIdentity" && !strings.HasPrefix(a, "Get") && a != "ListAccessKeys" {
			t.Errorf("the audit called %s", a)
		}
	}
}

func TestAuditWithoutAWSCredentialsSkipsIAMChecksAndSaysWhy(t *testing.T) {
	w := newAuditWorld(t)
	delete(w.inputs, "role-to-assume")
	delete(w.env, "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	delete(w.env, "ACTIONS_ID_TOKEN_REQUEST_URL")
	w.inputs["fail-on"] = "never"
	r := w.run(t)
	if r.code != 0 {
		t.Errorf("exit code %d, want 0 with fail-on never", r.code)
	}
	if !strings.Contains(r.summary, "IAM checks skipped") || !strings.Contains(r.summary, "no AWS credentials") {
		t.Errorf("summary does not say the IAM checks were skipped and why:\n%s", r.summary)
	}
	got := checksOf(findingsOf(t, r))
	if !slices.Contains(got, "temp-aws session-key broken") || slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, "key-missing") }) {
		t.Errorf("findings %q: want the SORACOM-side checks only", got)
	}
	if len(w.acct.Requests()) != 0 {
		t.Errorf("AWS was called without credentials: %q", w.acct.Actions())
	}
}

func TestAuditWithEveryLookupDeniedIsOneError(t *testing.T) {
	w := newAuditWorld(t)
	w.acct.Deny("GetAccessKeyLastUsed")
	w.acct.SetUnknownKeyAnswer("AccessDenied")
	r := w.run(t)
	errs := annotations(r, "error")
	var permission []string
	for _, e := range errs {
		if strings.Contains(e, "iam:GetAccessKeyLastUsed") {
			permission = append(permission, e)
		}
	}
	if len(permission) != 1 {
		t.Errorf("want one ::error:: naming iam:GetAccessKeyLastUsed, got %q", errs)
	}
	for _, f := range findingsOf(t, r) {
		if f["check"] == "key-missing" || f["check"] == "key-inactive" {
			t.Errorf("a denied lookup made a set broken: %v", f)
		}
	}
}
