package e2e

// Rotation: the IAM user's access key is replaced end to end through a role assumed with
// GitHub OIDC (or the job's own credentials), every set that held the old key moves to
// the new one, and each failure point leaves a state the log states truthfully.

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awstest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

func TestRotatesTheKeyBehindEverySetThatHeldIt(t *testing.T) {
	w := newRotationWorld(t)
	r := w.run(t)
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	if len(w.acct.SessionSecrets()) == 0 || len(w.oidc.Issued()) == 0 {
		t.Fatalf("the run did not assume the role with an OIDC token, so the leak scan proved nothing")
	}
	keys := w.acct.Keys(rotUser)
	if len(keys) != 2 || keys[0].ID != w.old.ID || keys[0].Status != awstest.Inactive || keys[1].Status != awstest.Active {
		t.Fatalf("IAM keys after rotation: %+v", keys)
	}
	newKey := keys[1]
	checkSetsMovedTo(t, w, newKey)
	checkOutputs(t, r, map[string]string{"aws-access-key-id": newKey.ID, "previous-aws-access-key-id": w.old.ID, "aws-account-id": awstest.DefaultAccountID, "operation": "updated"})
	if rs := results(t, r); len(rs) != 2 {
		t.Errorf("results = %+v, want both sets", rs)
	}
	if strings.Contains(r.stdout, newKey.ID) && !strings.Contains(r.stdout, "::add-mask::"+newKey.ID) {
		t.Errorf("the new key id was printed without being masked first")
	}
	summaryWant := "`…" + w.old.ID[len(w.old.ID)-4:] + "` → `…" + newKey.ID[len(newKey.ID)-4:] + "`"
	if !strings.Contains(r.summary, summaryWant) || !strings.Contains(r.summary, "deactivated") {
		t.Errorf("summary does not show %s and the old key's fate:\n%s", summaryWant, r.summary)
	}
	if strings.Contains(r.summary, newKey.ID) {
		t.Errorf("summary shows the whole new key id")
	}
	if w.soracom.LiveSessions() != 0 {
		t.Errorf("SORACOM token left alive")
	}
}

// checkSetsMovedTo checks that both sets that held the old key hold newKey, whole,
// with their descriptions kept, and that the set on another key was left alone.
func checkSetsMovedTo(t *testing.T, w *rotationWorld, newKey awstest.Key) {
	t.Helper()
	for _, id := range []string{"funnel-aws", "harvest-aws"} {
		set, _ := w.soracom.CredentialSet(id)
		if set.Credentials["accessKeyId"] != newKey.ID || set.Credentials["secretAccessKey"] != newKey.Secret {
			t.Errorf("set %s does not hold the new key", id)
		}
		if set.Description != id+" consumer" {
			t.Errorf("set %s lost its description: %q", id, set.Description)
		}
	}
	if w.key(t, "other-aws") != "AKIAOTHERKEY00000001" {
		t.Errorf("a set on another key was changed")
	}
}

func TestRotationFailureTable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		setup func(w *rotationWorld)
		want  rotationEnd
	}{
		{"success deactivate", func(w *rotationWorld) {}, rotationEnd{0, awstest.Inactive, 1, awstest.Active, true, true, nil, true}},
		{"success delete", func(w *rotationWorld) { w.inputs["old-key"] = "delete" }, rotationEnd{0, "", 1, awstest.Active, true, true, nil, true}},
		{"success keep", func(w *rotationWorld) { w.inputs["old-key"] = "keep" }, rotationEnd{0, awstest.Active, 1, awstest.Active, true, true, nil, true}},
		{"CreateAccessKey fails", func(w *rotationWorld) {
			w.acct.Fail("CreateAccessKey", awstest.Fault{Status: 403, Code: "AccessDenied", Message: "not allowed to create"})
		}, rotationEnd{1, awstest.Active, 0, "", false, false, []string{"create a new access key", "AccessDenied", "still holds what it held before"}, false}},
		{"first set update fails", func(w *rotationWorld) { w.soracom.Deny(soracomtest.PermUpdateCredential) }, rotationEnd{1, awstest.Active, 0, "", false, false,
			[]string{"funnel-aws", "403", "Credential:updateCredential", "was deleted"}, false}},
		{"later set update fails", func(w *rotationWorld) {
			w.soracom.Inject("PUT /v1/credentials/harvest-aws", soracomtest.Always, soracomtest.StatusFault(403))
		}, rotationEnd{1, awstest.Active, 1, awstest.Active, true, false,
			[]string{"harvest-aws", "Both access keys are active", "funnel-aws", "still on the old key"}, true}},
		{"deactivate fails", func(w *rotationWorld) {
			w.acct.Fail("UpdateAccessKey", awstest.Fault{Status: 403, Code: "AccessDenied", Message: "no"})
		}, rotationEnd{1, awstest.Active, 1, awstest.Active, true, true, []string{"deactivate the old access key", "still active", "by hand"}, true}},
		{"delete fails", func(w *rotationWorld) {
			w.inputs["old-key"] = "delete"
			w.acct.Fail("DeleteAccessKey", awstest.Fault{Status: 403, Code: "AccessDenied", Message: "no"})
		}, rotationEnd{1, awstest.Active, 1, awstest.Active, true, true, []string{"delete the old access key", "still active"}, true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newRotationWorld(t)
			tc.setup(w)
			r := w.run(t)
			if r.code != tc.want.code {
				t.Fatalf("exit %d\n%s", r.code, r.stdout)
			}
			newID := checkRotationKeys(t, w, tc.want)
			checkRotationSets(t, w, tc.want, newID)
			checkRotationOutputs(t, w, r, tc.want, newID)
			if w.soracom.LiveSessions() != 0 {
				t.Errorf("token alive")
			}
		})
	}
}

// rotationEnd is the state a rotation must leave, and what it must say about it.
type rotationEnd struct {
	code         int
	oldStatus    string // "" = deleted
	newKeys      int    // keys created by the run that still exist
	newStatus    string
	funnelOnNew  bool
	harvestOnNew bool
	errSays      []string
	outNewKey    bool // aws-access-key-id output is the new key
}

// checkRotationKeys checks the IAM user's keys against want and returns the id of the
// key the run created ("" when none is left).
func checkRotationKeys(t *testing.T, w *rotationWorld, want rotationEnd) string {
	t.Helper()
	old, nk := keyState(w)
	if old.Status != want.oldStatus {
		t.Errorf("old key status %q want %q", old.Status, want.oldStatus)
	}
	if len(nk) != want.newKeys {
		t.Fatalf("new keys left: %+v", nk)
	}
	if len(nk) != 1 {
		return ""
	}
	if nk[0].Status != want.newStatus {
		t.Errorf("new key status %s", nk[0].Status)
	}
	return nk[0].ID
}

// checkRotationSets checks which key each set holds: the two that held the old key
// as want says, the one on another key untouched.
func checkRotationSets(t *testing.T, w *rotationWorld, want rotationEnd, newID string) {
	t.Helper()
	for id, onNew := range map[string]bool{"funnel-aws": want.funnelOnNew, "harvest-aws": want.harvestOnNew} {
		got := w.key(t, id)
		if onNew && got != newID || !onNew && got != w.old.ID {
			t.Errorf("set %s holds %s (old %s, new %s)", id, got, w.old.ID, newID)
		}
	}
	if w.key(t, "other-aws") != "AKIAOTHERKEY00000001" {
		t.Errorf("other-aws changed")
	}
}

// checkRotationOutputs checks the error, the outputs and, on success, the summary.
func checkRotationOutputs(t *testing.T, w *rotationWorld, r runResult, want rotationEnd, newID string) {
	t.Helper()
	if want.code != 0 {
		msg := oneError(t, r)
		for _, s := range want.errSays {
			if !strings.Contains(msg, s) {
				t.Errorf("error lacks %q:\n%s", s, msg)
			}
		}
	}
	wantKey := ""
	if want.outNewKey {
		wantKey = newID
	}
	if r.outputs["aws-access-key-id"] != wantKey {
		t.Errorf("aws-access-key-id output %q, want %q (new key %s)", r.outputs["aws-access-key-id"], wantKey, newID)
	}
	if r.outputs["previous-aws-access-key-id"] != w.old.ID {
		t.Errorf("previous-aws-access-key-id %q", r.outputs["previous-aws-access-key-id"])
	}
	if want.code != 0 {
		return
	}
	if r.outputs["aws-account-id"] != awstest.DefaultAccountID {
		t.Errorf("aws-account-id %q", r.outputs["aws-account-id"])
	}
	wantAction := map[string]string{"deactivate": "deactivated", "delete": "deleted", "keep": "kept"}[orDefault(w.inputs["old-key"], "deactivate")]
	if !strings.Contains(r.summary, wantAction) {
		t.Errorf("summary lacks %q:\n%s", wantAction, r.summary)
	}
	if len(results(t, r)) != 2 {
		t.Errorf("results %s", r.outputs["results"])
	}
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

func TestRotationDryRunChangesNothing(t *testing.T) {
	w := newRotationWorld(t)
	w.inputs["dry-run"] = "true"
	r := w.run(t)
	if r.code != 0 || r.outputs["operation"] != "planned" {
		t.Fatalf("exit %d, operation %q", r.code, r.outputs["operation"])
	}
	if keys := w.acct.Keys(rotUser); len(keys) != 1 || keys[0].Status != awstest.Active {
		t.Errorf("dry run changed IAM: %+v", keys)
	}
	if w.key(t, "funnel-aws") != w.old.ID || w.key(t, "harvest-aws") != w.old.ID {
		t.Errorf("dry run changed SORACOM")
	}
	for _, want := range []string{"funnel-aws", "harvest-aws", w.old.ID, "deactivate"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the plan does not mention %q", want)
		}
	}
	for _, a := range w.acct.Actions() {
		if a == "CreateAccessKey" || a == "UpdateAccessKey" || a == "DeleteAccessKey" {
			t.Errorf("dry run called %s", a)
		}
	}
}

func TestRotationWaitsForTheNewKeyToPropagate(t *testing.T) {
	w := newRotationWorld(t)
	w.acct.SetPropagationDelay(1500 * time.Millisecond)
	start := time.Now()
	r := w.run(t)
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	if time.Since(start) < 1500*time.Millisecond {
		t.Errorf("the run did not wait for the key to propagate")
	}
	keys := w.acct.Keys(rotUser)
	if w.key(t, "funnel-aws") != keys[len(keys)-1].ID {
		t.Errorf("set not on the new key")
	}
}

func TestRotationTwoKeysOneInactive(t *testing.T) {
	t.Parallel()
	w := newRotationWorld(t)
	inactive := w.acct.AddKey(rotUser, awstest.Inactive)
	w.inputs["dry-run"] = "true"
	r := w.run(t)
	mustSucceed(t, r)
	if len(w.acct.Keys(rotUser)) != 2 {
		t.Fatalf("dry run deleted the inactive key")
	}
	if !strings.Contains(r.stdout, inactive.ID) || !strings.Contains(r.stdout, "delete") {
		t.Errorf("plan does not mention deleting the inactive key")
	}
	w = newRotationWorld(t)
	inactive = w.acct.AddKey(rotUser, awstest.Inactive)
	r = w.run(t)
	mustSucceed(t, r)
	keys := w.acct.Keys(rotUser)
	if len(keys) != 2 {
		t.Fatalf("keys %+v", keys)
	}
	for _, k := range keys {
		if k.ID == inactive.ID {
			t.Errorf("inactive key not deleted")
		}
	}
	if !strings.Contains(r.summary, inactive.ID[len(inactive.ID)-4:]) {
		t.Errorf("summary does not mention the deleted inactive key:\n%s", r.summary)
	}
}

func TestRotationOnlyKeyInactive(t *testing.T) {
	t.Parallel()
	acct := awstest.NewAccount(t)
	oidc := awstest.NewOIDC(t)
	acct.AddRole(rotRole, awstest.Trust{Issuer: oidc, Audience: "sts.amazonaws.com", Subject: "repo:owner/repo:*"})
	dead := acct.AddKey(rotUser, awstest.Inactive)
	s, in := registration(t, map[string]string{"credential-id": "funnel-aws", "iam-user-name": rotUser, "role-to-assume": rotRole,
		"aws-access-key-id": "", "aws-secret-access-key": "", "verify-aws-key": "true"})
	s.PutCredentialSet(soracomtest.CredentialSet{ID: "funnel-aws", Type: "aws-credentials", Credentials: map[string]any{"accessKeyId": dead.ID, "secretAccessKey": "x"}})
	env := maps.Clone(acct.Env())
	maps.Copy(env, oidc.Env())
	r := runAction(t, runOpts{inputs: in, env: env})
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
	keys := acct.Keys(rotUser)
	var newKey awstest.Key
	for _, k := range keys {
		if k.ID != dead.ID {
			newKey = k
		}
	}
	set, _ := s.CredentialSet("funnel-aws")
	if set.Credentials["accessKeyId"] != newKey.ID {
		t.Errorf("set not on new key")
	}
	used, unused := acct.SessionSecretsByUse()
	assertNoLeak(t, r, append([]string{authKeySecret, oidc.RequestToken(), newKey.Secret}, append(oidc.Issued(), used...)...))
	assertNotShown(t, r, unused)
}

func TestRotationWithTwoActiveKeysStopsAndNamesThem(t *testing.T) {
	w := newRotationWorld(t)
	second := w.acct.AddKey(rotUser, awstest.Active)
	r := w.run(t)
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	msg := oneError(t, r)
	for _, want := range []string{w.old.ID, second.ID, "funnel-aws"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not name %q: %s", want, msg)
		}
	}
	if len(w.acct.Keys(rotUser)) != 2 || w.key(t, "funnel-aws") != w.old.ID {
		t.Errorf("state changed")
	}
}

func TestRotationTokenLifetimeCoversTheWait(t *testing.T) {
	t.Parallel()
	w := newRotationWorld(t)
	r := w.run(t)
	mustSucceed(t, r)
	got := authTimeouts(w.soracom)
	// Six calls of up to two minutes, the one-minute wait for the key, one attempt and
	// the logout: the token outlives the worst case of the rotation's bounds.
	if len(got) != 1 || got[0] < 815 || got[0] > 900 {
		t.Errorf("tokenTimeoutSeconds %v", got)
	}
	// masks: new key id and secret, STS session key id too
	_, nk := keyState(w)
	if len(nk) != 1 {
		t.Fatal("no new key")
	}
	lines := strings.Split(r.stdout, "\n")
	if maskIndex(lines, nk[0].ID) < 0 || maskIndex(lines, nk[0].Secret) < 0 {
		t.Errorf("new key id/secret not masked")
	}
	for _, id := range w.oidc.Issued() {
		if maskIndex(lines, id) < 0 {
			t.Errorf("OIDC token not masked")
		}
	}
}

func TestRotationOIDCRetried(t *testing.T) {
	t.Parallel()
	w := newRotationWorld(t)
	w.oidc.FailNext(503, 500)
	r := w.run(t)
	mustSucceed(t, r)
	if w.oidc.Attempts() < 3 {
		t.Errorf("attempts %d", w.oidc.Attempts())
	}
}

func TestRotationWithoutOIDCPermissionSaysWhatToAdd(t *testing.T) {
	w := newRotationWorld(t)
	delete(w.env, "ACTIONS_ID_TOKEN_REQUEST_URL")
	delete(w.env, "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	r := w.run(t)
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	if msg := oneError(t, r); !strings.Contains(msg, "id-token: write") {
		t.Errorf("error does not say to add the permission: %s", msg)
	}
	if len(w.soracom.Requests()) != 0 || len(w.acct.Keys(rotUser)) != 1 {
		t.Errorf("something changed")
	}
}

func TestRotationRejectedByTheTrustPolicyIsExplained(t *testing.T) {
	w := newRotationWorld(t)
	w.oidc.SetSubject("repo:someone/else:ref:refs/heads/main")
	r := w.run(t)
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	msg := oneError(t, r)
	for _, want := range []string{rotRole, "sub"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not mention %q: %s", want, msg)
		}
	}
}

func TestRotationAudienceMismatchExplained(t *testing.T) {
	t.Parallel()
	w := newRotationWorld(t)
	w.inputs["audience"] = "my-custom-aud"
	r := w.run(t)
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	msg := oneError(t, r)
	for _, s := range []string{"audience", "my-custom-aud", "sub"} {
		if !strings.Contains(msg, s) {
			t.Errorf("error lacks %q: %s", s, msg)
		}
	}
	if len(w.acct.Keys(rotUser)) != 1 {
		t.Errorf("keys changed")
	}
}

// Without role-to-assume the job's own AWS credentials rotate the key; their secret
// is masked like every other.
func TestRotationWithAmbientCredentials(t *testing.T) {
	t.Parallel()
	w := newRotationWorld(t)
	admin := w.acct.AddKey("ci-admin", awstest.Active)
	w.inputs["role-to-assume"] = ""
	delete(w.env, "ACTIONS_ID_TOKEN_REQUEST_URL")
	delete(w.env, "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	maps.Copy(w.env, awstest.KeyEnv(admin))
	w.env["AWS_SESSION_TOKEN"] = ""
	w.before = map[string]bool{w.old.ID: true}
	r := runAction(t, runOpts{inputs: w.inputs, env: w.env})
	assertNoLeak(t, r, append(w.secrets(), admin.Secret))
	mustSucceed(t, r)
	keys := w.acct.Keys(rotUser)
	if len(keys) != 2 || w.key(t, "funnel-aws") != keys[1].ID {
		t.Errorf("not rotated: %+v", keys)
	}
	if maskIndex(strings.Split(r.stdout, "\n"), admin.Secret) < 0 {
		t.Errorf("ambient AWS secret not masked")
	}
}

func TestRotationNamedMissingSetCreated(t *testing.T) {
	t.Parallel()
	w := newRotationWorld(t)
	w.inputs["credential-id"] = "funnel-aws\nbrand-new"
	r := w.run(t)
	mustSucceed(t, r)
	rs := results(t, r)
	ops := map[string]string{}
	for _, x := range rs {
		ops[x.CredentialID] = x.Operation
	}
	if ops["brand-new"] != "created" || ops["funnel-aws"] != "updated" || ops["harvest-aws"] != "updated" || r.outputs["operation"] != "mixed" {
		t.Errorf("results %v, operation %q", ops, r.outputs["operation"])
	}
}
