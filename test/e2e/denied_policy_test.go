package e2e

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awstest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// narrowedPolicy returns the JSON block of docs/audit.md that narrows the IAM actions
// to user/soracom-*: the exact policy the README sends a user to.
func narrowedPolicy(t *testing.T) string {
	t.Helper()
	page, err := os.ReadFile("../../docs/audit.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, block := range strings.Split(string(page), "```json\n")[1:] {
		block, _, _ = strings.Cut(block, "```")
		if strings.Contains(block, ":user/soracom-*") {
			return block
		}
	}
	t.Fatal("docs/audit.md holds no policy narrowed to user/soracom-*")
	return ""
}

// Denied is not missing, through the built action: with the documentation's narrowed
// policy and the default fail-on (broken), a set holding the key of a user inside
// soracom-* is audited as usual, and a set holding a key of a user outside it is
// key-unknown (severity unknown) naming iam:GetAccessKeyLastUsed and the policy line
// that grants it, never key-missing; the run passes.
func TestAuditWithTheNarrowedPolicyCallsADeniedKeyUnknownNotMissing(t *testing.T) {
	w := newRotationWorld(t)
	outside := w.acct.AddKey("ops-deploy", awstest.Active)
	w.soracom.PutCredentialSet(soracomtest.CredentialSet{ID: "ops-aws", Type: "aws-credentials", LastUsed: time.Now().Add(-time.Hour),
		Credentials: map[string]any{"accessKeyId": outside.ID, "secretAccessKey": "old-secret-ops-aws"}})
	if err := w.acct.SetPolicy(narrowedPolicy(t)); err != nil {
		t.Fatal(err)
	}
	w.inputs = map[string]string{"audit": "true", "role-to-assume": rotRole, "credential-id": "funnel-aws\nops-aws",
		"soracom-auth-key-id": authKeyID, "soracom-auth-key": authKeySecret, "soracom-endpoint": w.soracom.URL()}
	r := w.run(t)
	if r.code != 0 {
		t.Errorf("exit code %d, want 0: nothing is broken (fail-on: broken)\n%s", r.code, r.stdout)
	}
	var ops map[string]any
	for _, f := range findingsOf(t, r) {
		switch {
		case f["credentialId"] == "ops-aws":
			ops = f
		case f["severity"] == "broken" || f["severity"] == "unknown":
			t.Errorf("the set inside soracom-* has a finding %v", f)
		}
	}
	if ops == nil || ops["check"] != "key-unknown" || ops["severity"] != "unknown" {
		t.Fatalf("ops-aws finding %v, want key-unknown of severity unknown", ops)
	}
	msg, _ := ops["message"].(string)
	for _, want := range []string{"iam:GetAccessKeyLastUsed", `"Resource": "arn:aws:iam::123456789012:user/*"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("the finding does not say %q: %s", want, msg)
		}
	}
	if r.outputs["broken-count"] != "0" || slices.ContainsFunc(annotations(r, "error"), func(a string) bool { return strings.Contains(a, "ops-aws") }) {
		t.Errorf("broken-count %q, errors %q: the denied key was judged broken", r.outputs["broken-count"], annotations(r, "error"))
	}
}
