package main

// Acceptance scenarios for issue 3 (rotation), from the issue and rotation.md.

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awstest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

func accKeyState(t *testing.T, w *rotationWorld) (old awstest.Key, newKeys []awstest.Key) {
	t.Helper()
	for _, k := range w.acct.Keys(rotUser) {
		if k.ID == w.old.ID {
			old = k
		} else if !w.before[k.ID] {
			newKeys = append(newKeys, k)
		}
	}
	return
}

func TestAcceptanceRotationFailureTable(t *testing.T) {
	t.Parallel()
	type want struct {
		code         int
		oldStatus    string // "" = deleted
		newKeys      int    // keys created by the run that still exist
		newStatus    string
		funnelOnNew  bool
		harvestOnNew bool
		errSays      []string
		outNewKey    bool // aws-access-key-id output is the new key
	}
	cases := []struct {
		name  string
		setup func(w *rotationWorld)
		want  want
	}{
		{"success deactivate", func(w *rotationWorld) {}, want{0, awstest.Inactive, 1, awstest.Active, true, true, nil, true}},
		{"success delete", func(w *rotationWorld) { w.inputs["old-key"] = "delete" }, want{0, "", 1, awstest.Active, true, true, nil, true}},
		{"success keep", func(w *rotationWorld) { w.inputs["old-key"] = "keep" }, want{0, awstest.Active, 1, awstest.Active, true, true, nil, true}},
		{"CreateAccessKey fails", func(w *rotationWorld) {
			w.acct.Fail("CreateAccessKey", awstest.Fault{Status: 403, Code: "AccessDenied", Message: "not allowed to create"})
		}, want{1, awstest.Active, 0, "", false, false, []string{"create a new access key", "AccessDenied", "still holds what it held before"}, false}},
		{"first set update fails", func(w *rotationWorld) { w.soracom.Deny(soracomtest.PermUpdateCredential) }, want{1, awstest.Active, 0, "", false, false,
			[]string{"funnel-aws", "403", "Credential:updateCredential", "was deleted"}, false}},
		{"later set update fails", func(w *rotationWorld) {
			w.soracom.Inject("PUT /v1/credentials/harvest-aws", soracomtest.Always, soracomtest.StatusFault(403))
		}, want{1, awstest.Active, 1, awstest.Active, true, false,
			[]string{"harvest-aws", "Both access keys are active", "funnel-aws", "still on the old key"}, true}},
		{"deactivate fails", func(w *rotationWorld) {
			w.acct.Fail("UpdateAccessKey", awstest.Fault{Status: 403, Code: "AccessDenied", Message: "no"})
		}, want{1, awstest.Active, 1, awstest.Active, true, true, []string{"deactivate the old access key", "still active", "by hand"}, true}},
		{"delete fails", func(w *rotationWorld) {
			w.inputs["old-key"] = "delete"
			w.acct.Fail("DeleteAccessKey", awstest.Fault{Status: 403, Code: "AccessDenied", Message: "no"})
		}, want{1, awstest.Active, 1, awstest.Active, true, true, []string{"delete the old access key", "still active"}, true}},
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
			old, nk := accKeyState(t, w)
			if old.Status != tc.want.oldStatus {
				t.Errorf("old key status %q want %q", old.Status, tc.want.oldStatus)
			}
			if len(nk) != tc.want.newKeys {
				t.Fatalf("new keys left: %+v", nk)
			}
			newID := ""
			if len(nk) == 1 {
				newID = nk[0].ID
				if nk[0].Status != tc.want.newStatus {
					t.Errorf("new key status %s", nk[0].Status)
				}
			}
			for id, onNew := range map[string]bool{"funnel-aws": tc.want.funnelOnNew, "harvest-aws": tc.want.harvestOnNew} {
				got := w.key(t, id)
				if onNew && got != newID || !onNew && got != w.old.ID {
					t.Errorf("set %s holds %s (old %s, new %s)", id, got, w.old.ID, newID)
				}
			}
			if w.key(t, "other-aws") != "AKIAOTHERKEY00000001" {
				t.Errorf("other-aws changed")
			}
			if tc.want.code != 0 {
				msg := oneError(t, r)
				for _, s := range tc.want.errSays {
					if !strings.Contains(msg, s) {
						t.Errorf("error lacks %q:\n%s", s, msg)
					}
				}
			}
			if tc.want.outNewKey && r.outputs["aws-access-key-id"] != newID {
				t.Errorf("aws-access-key-id output %q, new key %s", r.outputs["aws-access-key-id"], newID)
			}
			if !tc.want.outNewKey && r.outputs["aws-access-key-id"] != "" {
				t.Errorf("aws-access-key-id output %q after a rollback", r.outputs["aws-access-key-id"])
			}
			if r.outputs["previous-aws-access-key-id"] != w.old.ID {
				t.Errorf("previous-aws-access-key-id %q", r.outputs["previous-aws-access-key-id"])
			}
			if w.soracom.LiveSessions() != 0 {
				t.Errorf("token alive")
			}
			if tc.want.code == 0 {
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
		})
	}
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// The propagation timeout is tested in-process with a short wait
// (internal/action TestRotationFailurePoints): the binary waits its full minute.

func TestAcceptanceRotationTwoKeysOneInactive(t *testing.T) {
	t.Parallel()
	w := newRotationWorld(t)
	inactive := w.acct.AddKey(rotUser, awstest.Inactive)
	w.inputs["dry-run"] = "true"
	r := w.run(t)
	accOK(t, r)
	if len(w.acct.Keys(rotUser)) != 2 {
		t.Fatalf("dry run deleted the inactive key")
	}
	if !strings.Contains(r.stdout, inactive.ID) || !strings.Contains(r.stdout, "delete") {
		t.Errorf("plan does not mention deleting the inactive key")
	}
	w = newRotationWorld(t)
	inactive = w.acct.AddKey(rotUser, awstest.Inactive)
	r = w.run(t)
	accOK(t, r)
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

func TestAcceptanceRotationOnlyKeyInactive(t *testing.T) {
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
	assertNoLeak(t, r, append([]string{e2eKeySecret, oidc.RequestToken(), newKey.Secret}, append(oidc.Issued(), acct.SessionSecrets()...)...))
}

func TestAcceptanceRotationTokenLifetimeCoversTheWait(t *testing.T) {
	t.Parallel()
	w := newRotationWorld(t)
	r := w.run(t)
	accOK(t, r)
	got := authTimeout(t, w.soracom)
	// Six calls of up to two minutes, the one-minute wait for the key, one attempt and
	// the logout: the token outlives the worst case of the rotation's bounds.
	if len(got) != 1 || got[0] < 815 || got[0] > 900 {
		t.Errorf("tokenTimeoutSeconds %v", got)
	}
	// masks: new key id and secret, STS session key id too
	_, nk := accKeyState(t, w)
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

func TestAcceptanceRotationOIDCRetried(t *testing.T) {
	t.Parallel()
	w := newRotationWorld(t)
	w.oidc.FailNext(503, 500)
	r := w.run(t)
	accOK(t, r)
	if w.oidc.Attempts() < 3 {
		t.Errorf("attempts %d", w.oidc.Attempts())
	}
}

func TestAcceptanceRotationAudienceMismatchExplained(t *testing.T) {
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

func TestAcceptanceRotationContradictionsBeforeNetwork(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		changes map[string]string
		want    []string
	}{
		{"iam-user + keys", map[string]string{"aws-access-key-id": e2eAWSKeyID, "aws-secret-access-key": e2eAWSSecret}, []string{"iam-user-name", "aws-access-key-id"}},
		{"iam-user + credentials", map[string]string{"credentials": `{"accessKeyId":"AKIAE2ETESTKEY000001","secretAccessKey":"abcdefghSecretQA"}`}, []string{"iam-user-name", "credentials"}},
		{"iam-user + other type", map[string]string{"credential-type": "x509"}, []string{"iam-user-name", "aws-credentials"}},
		{"role without iam-user", map[string]string{"iam-user-name": "", "aws-access-key-id": e2eAWSKeyID, "aws-secret-access-key": e2eAWSSecret}, []string{"role-to-assume", "iam-user-name"}},
		{"bad session name", map[string]string{"role-session-name": "a b"}, []string{"role-session-name"}},
		{"session name too long", map[string]string{"role-session-name": strings.Repeat("s", 65)}, []string{"role-session-name"}},
		{"duration too short", map[string]string{"role-duration-seconds": "899"}, []string{"role-duration-seconds"}},
		{"bad old-key", map[string]string{"old-key": "remove"}, []string{"old-key"}},
		{"bad role arn", map[string]string{"role-to-assume": "arn:aws:iam::123:user/x"}, []string{"role-to-assume"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newRotationWorld(t)
			maps.Copy(w.inputs, tc.changes)
			r := runAction(t, runOpts{inputs: w.inputs, env: w.env, secrets: []string{e2eKeySecret}})
			if r.code != 1 {
				t.Fatalf("exit %d", r.code)
			}
			msg := oneError(t, r)
			for _, s := range tc.want {
				if !strings.Contains(msg, s) {
					t.Errorf("error lacks %q: %s", s, msg)
				}
			}
			if len(w.soracom.Requests()) != 0 || len(w.acct.Requests()) != 0 || w.oidc.Attempts() != 0 {
				t.Errorf("network calls before validation failed")
			}
		})
	}
}

func TestAcceptanceRegistrationVerifyRefusesWrongSecret(t *testing.T) {
	t.Parallel()
	acct := awstest.NewAccount(t)
	good := acct.AddKey("terraform-made", awstest.Active)
	wrong := "WrongSecretAccessKey/0123456789abcdefghijk"
	s, in := registration(t, map[string]string{"verify-aws-key": "true", "aws-access-key-id": good.ID, "aws-secret-access-key": wrong})
	start := time.Now()
	r := runAction(t, runOpts{inputs: in, env: acct.Env(), secrets: []string{e2eKeySecret, wrong}})
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	if time.Since(start) > 30*time.Second {
		t.Errorf("wrong secret took %s", time.Since(start))
	}
	if len(s.Requests()) != 0 {
		t.Errorf("SORACOM called: %s", requestLine(s))
	}
	if !strings.Contains(oneError(t, r), "verify-aws-key") {
		t.Errorf("error lacks verify-aws-key")
	}
}

func TestAcceptanceRegistrationVerifyViaGenericEndpointVar(t *testing.T) {
	t.Parallel()
	acct := awstest.NewAccount(t)
	good := acct.AddKey("terraform-made", awstest.Active)
	s, in := registration(t, map[string]string{"verify-aws-key": "True", "aws-access-key-id": good.ID, "aws-secret-access-key": good.Secret})
	env := acct.Env()
	env["AWS_ENDPOINT_URL"] = acct.STSURL()
	env["AWS_ENDPOINT_URL_STS"] = ""
	env["AWS_ENDPOINT_URL_IAM"] = ""
	r := runAction(t, runOpts{inputs: in, env: env, secrets: []string{e2eKeySecret, good.Secret}})
	accOK(t, r)
	if _, ok := s.CredentialSet("funnel-aws"); !ok || r.outputs["aws-account-id"] != awstest.DefaultAccountID {
		t.Errorf("not stored / account id %q", r.outputs["aws-account-id"])
	}
}

func TestAcceptanceRotationAmbientSecretMasked(t *testing.T) {
	t.Parallel()
	w := newRotationWorld(t)
	admin := w.acct.AddKey("ci-admin", awstest.Active)
	w.inputs["role-to-assume"] = ""
	delete(w.env, "ACTIONS_ID_TOKEN_REQUEST_URL")
	delete(w.env, "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	maps.Copy(w.env, awstest.KeyEnv(admin))
	w.env["AWS_SESSION_TOKEN"] = ""
	r := runAction(t, runOpts{inputs: w.inputs, env: w.env})
	accOK(t, r)
	if maskIndex(strings.Split(r.stdout, "\n"), admin.Secret) < 0 {
		t.Errorf("ambient AWS secret not masked")
	}
}

func TestAcceptanceExtraRotationNamedMissingSetCreated(t *testing.T) {
	t.Parallel()
	w := newRotationWorld(t)
	w.inputs["credential-id"] = "funnel-aws\nbrand-new"
	r := w.run(t)
	accOK(t, r)
	rs := results(t, r)
	ops := map[string]string{}
	for _, x := range rs {
		ops[x.CredentialID] = x.Operation
	}
	if ops["brand-new"] != "created" || ops["funnel-aws"] != "updated" || ops["harvest-aws"] != "updated" || r.outputs["operation"] != "mixed" {
		t.Errorf("results %v, operation %q", ops, r.outputs["operation"])
	}
}
