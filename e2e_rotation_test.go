package main

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awstest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

const (
	rotUser = "soracom-funnel"
	rotRole = "arn:aws:iam::123456789012:role/soracom-key-rotator"
)

// rotationWorld is a fake AWS account with an IAM user whose key SORACOM sets hold, a
// role the workflow assumes through a fake GitHub OIDC endpoint, and a SORACOM emulator.
type rotationWorld struct {
	acct    *awstest.Account
	oidc    *awstest.OIDC
	soracom *soracomtest.Server
	old     awstest.Key
	before  map[string]bool // key ids that existed before the run
	inputs  map[string]string
	env     map[string]string
}

func newRotationWorld(t *testing.T) *rotationWorld {
	t.Helper()
	w := &rotationWorld{acct: awstest.NewAccount(t), oidc: awstest.NewOIDC(t)}
	w.acct.AddRole(rotRole, awstest.Trust{Issuer: w.oidc, Audience: "sts.amazonaws.com", Subject: "repo:owner/repo:ref:refs/heads/main"})
	w.old = w.acct.AddKey(rotUser, awstest.Active)
	w.soracom, w.inputs = registration(t, map[string]string{
		"credential-id": "funnel-aws", "iam-user-name": rotUser, "role-to-assume": rotRole,
		"aws-access-key-id": "", "aws-secret-access-key": "", "verify-aws-key": "true",
	})
	// funnel-aws is named; harvest-aws holds the old key too and must move with it;
	// other-aws holds another key and must be left alone.
	for id, key := range map[string]string{"funnel-aws": w.old.ID, "harvest-aws": w.old.ID, "other-aws": "AKIAOTHERKEY00000001"} {
		w.soracom.PutCredentialSet(soracomtest.CredentialSet{ID: id, Type: "aws-credentials", Description: id + " consumer", Credentials: map[string]any{"accessKeyId": key, "secretAccessKey": "old-secret-" + id}})
	}
	w.env = maps.Clone(w.acct.Env())
	maps.Copy(w.env, w.oidc.Env())
	return w
}

// secrets are every secret a rotation run handled: the AuthKey, the OIDC request token
// and the tokens issued (when the run had them), and the secret of every key it created.
func (w *rotationWorld) secrets() []string {
	s := []string{e2eKeySecret}
	if w.env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] != "" {
		s = append(s, w.oidc.RequestToken())
	}
	s = append(s, w.oidc.Issued()...)
	s = append(s, w.acct.SessionSecrets()...)
	for _, k := range w.acct.Keys(rotUser) {
		if !w.before[k.ID] {
			s = append(s, k.Secret)
		}
	}
	return s
}

func (w *rotationWorld) run(t *testing.T) runResult {
	t.Helper()
	w.before = map[string]bool{}
	for _, k := range w.acct.Keys(rotUser) {
		w.before[k.ID] = true
	}
	// The secrets are known only after the run; scan afterwards.
	r := runAction(t, runOpts{inputs: w.inputs, env: w.env})
	assertNoLeak(t, r, w.secrets())
	return r
}

func (w *rotationWorld) key(t *testing.T, id string) string {
	t.Helper()
	set, ok := w.soracom.CredentialSet(id)
	if !ok {
		t.Fatalf("set %s missing", id)
	}
	return set.Credentials["accessKeyId"].(string)
}

func TestE2ERotatesTheKeyBehindEverySetThatHeldIt(t *testing.T) {
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
	want := map[string]string{"aws-access-key-id": newKey.ID, "previous-aws-access-key-id": w.old.ID, "aws-account-id": awstest.DefaultAccountID, "operation": "updated"}
	for k, v := range want {
		if r.outputs[k] != v {
			t.Errorf("output %s = %q, want %q", k, r.outputs[k], v)
		}
	}
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

func TestE2ERotationDryRunChangesNothing(t *testing.T) {
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

func TestE2ERotationWaitsForTheNewKeyToPropagate(t *testing.T) {
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

func TestE2ERotationWithoutOIDCPermissionSaysWhatToAdd(t *testing.T) {
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

func TestE2ERotationRejectedByTheTrustPolicyIsExplained(t *testing.T) {
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

func TestE2ERotationWithTwoActiveKeysStopsAndNamesThem(t *testing.T) {
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

func TestE2ERotationWithAmbientCredentials(t *testing.T) {
	w := newRotationWorld(t)
	admin := w.acct.AddKey("ci-admin", awstest.Active)
	w.inputs["role-to-assume"] = ""
	delete(w.env, "ACTIONS_ID_TOKEN_REQUEST_URL")
	delete(w.env, "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	maps.Copy(w.env, awstest.KeyEnv(admin))
	w.before = map[string]bool{w.old.ID: true}
	r := runAction(t, runOpts{inputs: w.inputs, env: w.env})
	assertNoLeak(t, r, append(w.secrets(), admin.Secret))
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	keys := w.acct.Keys(rotUser)
	if len(keys) != 2 || w.key(t, "funnel-aws") != keys[1].ID {
		t.Errorf("not rotated: %+v", keys)
	}
}

func TestE2ERegistrationVerifiesTheGivenKey(t *testing.T) {
	acct := awstest.NewAccount(t)
	good := acct.AddKey("terraform-made", awstest.Active)
	for _, tt := range []struct {
		name     string
		id, sec  string
		wantCode int
	}{
		{"a working key is stored with its account id", good.ID, good.Secret, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, in := registration(t, map[string]string{"verify-aws-key": "true", "aws-access-key-id": tt.id, "aws-secret-access-key": tt.sec})
			r := runAction(t, runOpts{inputs: in, env: acct.Env(), secrets: []string{e2eKeySecret, tt.sec}})
			if r.code != tt.wantCode {
				t.Fatalf("exit %d", r.code)
			}
			_, stored := s.CredentialSet("funnel-aws")
			if stored != (tt.wantCode == 0) {
				t.Errorf("stored = %v", stored)
			}
			if tt.wantCode == 0 && r.outputs["aws-account-id"] != awstest.DefaultAccountID {
				t.Errorf("aws-account-id = %q", r.outputs["aws-account-id"])
			}
			if tt.wantCode != 0 && !strings.Contains(oneError(t, r), "verify-aws-key") {
				t.Errorf("error does not mention verify-aws-key")
			}
		})
	}
}
