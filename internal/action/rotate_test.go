package action_test

import (
	"bytes"
	"cmp"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/action"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awstest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracom"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

const (
	user      = "soracom-funnel"
	role      = "arn:aws:iam::123456789012:role/rotator"
	authKeyID = "keyId-rotation-test"
	authKey   = "secret-Zq8vW3xK9pL2mN7rT4yB"
	otherKey  = "AKIAOTHERKEY00000001"
)

// world is the fake AWS account, GitHub OIDC endpoint and SORACOM operator of one run.
type world struct {
	acct    *awstest.Account
	oidc    *awstest.OIDC
	soracom *soracomtest.Server
	old     awstest.Key
	inputs  map[string]string
}

// newWorld: the user has one active key, held by funnel-aws (named) and harvest-aws
// (not named); other-aws holds an unrelated key. opts configure the SORACOM emulator.
func newWorld(t *testing.T, opts ...soracomtest.Option) *world {
	w := &world{acct: awstest.NewAccount(t), oidc: awstest.NewOIDC(t), soracom: soracomtest.Start(t, opts...)}
	w.acct.AddRole(role, awstest.Trust{Issuer: w.oidc, Audience: "sts.amazonaws.com", Subject: "repo:owner/repo:*"})
	w.old = w.acct.AddKey(user, awstest.Active)
	w.soracom.AddAuthKey(authKeyID, authKey)
	for id, key := range map[string]string{"funnel-aws": w.old.ID, "harvest-aws": w.old.ID, "other-aws": otherKey} {
		w.soracom.PutCredentialSet(soracomtest.CredentialSet{ID: id, Type: "aws-credentials", Credentials: map[string]any{"accessKeyId": key, "secretAccessKey": "secret-of-" + key}})
	}
	w.inputs = map[string]string{
		inputs.CredentialID: "funnel-aws", inputs.AuthKeyID: authKeyID, inputs.AuthKey: authKey,
		inputs.Endpoint: w.soracom.URL(), inputs.IAMUserName: user, inputs.RoleToAssume: role,
	}
	return w
}

type outcome struct {
	code    int
	stdout  string
	summary string
	outputs string
}

// run runs the action in-process. The AWS SDK reads its endpoints from the process
// environment, so the variables are set for the test (which therefore is not parallel).
func (w *world) run(t *testing.T, keyWait time.Duration) outcome {
	t.Helper()
	files := prepareRun(t, w.inputs, w.acct.Env(), w.oidc.Env())
	var stdout bytes.Buffer
	code := action.Run(context.Background(), action.Env{Getenv: os.Getenv, Stdout: &stdout, Retry: quickRetry(), KeyWait: keyWait})
	return files.result(code, stdout.String())
}

// runFiles are the files an in-process run writes its outputs and summary to.
type runFiles struct{ output, summary string }

// prepareRun sets, for the test, every variable of envs, every input as INPUT_<NAME>,
// and fresh GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files: the variables are set in the
// process because the AWS SDK reads its endpoints from there (so such tests are not
// parallel).
func prepareRun(t *testing.T, in map[string]string, envs ...map[string]string) runFiles {
	t.Helper()
	dir := t.TempDir()
	files := runFiles{output: filepath.Join(dir, "out"), summary: filepath.Join(dir, "summary")}
	vars := map[string]string{"GITHUB_OUTPUT": files.output, "GITHUB_STEP_SUMMARY": files.summary}
	for _, m := range envs {
		for k, v := range m {
			vars[k] = v
		}
	}
	for k, v := range in {
		vars[inputs.EnvName(k)] = v
	}
	for k, v := range vars {
		t.Setenv(k, v)
	}
	return files
}

// result is the outcome of a run that exited with code and printed stdout.
func (f runFiles) result(code int, stdout string) outcome {
	summary, _ := os.ReadFile(f.summary)
	outputs, _ := os.ReadFile(f.output)
	return outcome{code: code, stdout: stdout, summary: string(summary), outputs: string(outputs)}
}

// quickRetry is the default policy with millisecond waits, so fault tests run fast.
func quickRetry() soracom.Retry {
	r := soracom.DefaultRetry()
	r.InitialInterval, r.MaxInterval = time.Millisecond, 5*time.Millisecond
	return r
}

func (w *world) setKey(t *testing.T, id string) string {
	t.Helper()
	s, ok := w.soracom.CredentialSet(id)
	if !ok {
		t.Fatalf("set %s is gone", id)
	}
	return s.Credentials["accessKeyId"].(string)
}

func errorLine(t *testing.T, o outcome) string {
	t.Helper()
	var errs []string
	for _, l := range strings.Split(o.stdout, "\n") {
		if v, ok := strings.CutPrefix(l, "::error::"); ok {
			errs = append(errs, strings.ReplaceAll(v, "%0A", "\n"))
		}
	}
	if len(errs) != 1 {
		t.Fatalf("want one ::error:: line, got %q\n%s", errs, o.stdout)
	}
	return errs[0]
}

// The failure table of the rotation notes, against the fake IAM and the SORACOM
// emulator: the exact end state of both, the exit code and the error text.
func TestRotationFailurePoints(t *testing.T) {
	type state struct {
		keys    string // the user's keys in IAM, oldest first: "old:Active new:Active"
		funnel  string // "old" or "new": which key funnel-aws holds
		harvest string
	}
	tests := []struct {
		name     string
		setup    func(*world)
		keyWait  time.Duration
		wantCode int
		want     state
		errSays  []string
	}{
		{
			name:  "success: every set on the new key, the old key deactivated",
			setup: func(*world) {}, want: state{"old:Inactive new:Active", "new", "new"},
		},
		{
			name:  "old-key delete: the old key is deleted",
			setup: func(w *world) { w.inputs[inputs.OldKey] = "delete" }, want: state{"new:Active", "new", "new"},
		},
		{
			name:  "old-key keep: both keys stay active",
			setup: func(w *world) { w.inputs[inputs.OldKey] = "keep" }, want: state{"old:Active new:Active", "new", "new"},
		},
		{
			name: "CreateAccessKey fails: nothing changed",
			setup: func(w *world) {
				w.acct.Fail("CreateAccessKey", awstest.Fault{Status: 403, Code: "AccessDenied", Message: "not allowed", Times: 10})
			},
			wantCode: 1, want: state{"old:Active", "old", "old"},
			errSays: []string{"create a new access key", "AccessDenied"},
		},
		{
			name:     "the new key never works: it is deleted, nothing else changed",
			setup:    func(w *world) { w.acct.SetPropagationDelay(time.Hour) },
			keyWait:  700 * time.Millisecond,
			wantCode: 1, want: state{"old:Active", "old", "old"},
			errSays: []string{"did not start working", "was deleted"},
		},
		{
			name: "the first set update fails: the new key is deleted (rollback)",
			setup: func(w *world) {
				w.soracom.Inject("PUT /v1/credentials/funnel-aws", soracomtest.Always, soracomtest.StatusFault(http.StatusForbidden))
			},
			wantCode: 1, want: state{"old:Active", "old", "old"},
			errSays: []string{"store the new key in credential set funnel-aws", "was deleted", "Credential:updateCredential"},
		},
		{
			name: "the first set update is written but its answers are lost: the set holds the new key, so no rollback",
			setup: func(w *world) {
				w.soracom.Inject("PUT /v1/credentials/funnel-aws", soracomtest.Always, soracomtest.DropAfterHandling())
			},
			want: state{"old:Inactive new:Active", "new", "new"},
		},
		{
			name: "a gateway timeout on the first write: it may still land, so the new key is kept and the set is in doubt",
			setup: func(w *world) {
				w.soracom.Inject("PUT /v1/credentials/funnel-aws", soracomtest.Always, soracomtest.StatusFault(http.StatusGatewayTimeout))
			},
			wantCode: 1, want: state{"old:Active new:Active", "old", "old"},
			errSays: []string{"in doubt: credential set funnel-aws", "The new key was not deleted", "still on the old key"},
		},
		{
			name: "a gateway error after the first write went through: SORACOM shows the set on the new key, so the rotation goes on",
			setup: func(w *world) {
				f := soracomtest.StatusFault(http.StatusBadGateway)
				f.AfterHandling = true
				w.soracom.Inject("PUT /v1/credentials/funnel-aws", 1, f)
			},
			want: state{"old:Inactive new:Active", "new", "new"},
		},
		{
			name: "a later set update fails: both keys stay active and the error says which set holds which",
			setup: func(w *world) {
				w.soracom.Inject("PUT /v1/credentials/harvest-aws", soracomtest.Always, soracomtest.StatusFault(http.StatusForbidden))
			},
			wantCode: 1, want: state{"old:Active new:Active", "new", "old"},
			errSays: []string{"Both access keys are active", "on the new key", ": funnel-aws", "still on the old key", ": harvest-aws"},
		},
		{
			name:     "deactivating the old key fails: sets on the new key, the error says so",
			setup:    func(w *world) { w.acct.Fail("UpdateAccessKey", awstest.Unavailable(10)) },
			wantCode: 1, want: state{"old:Active new:Active", "new", "new"},
			errSays: []string{"deactivate the old access key", "holds the new key", "still active"},
		},
		{
			name: "deleting the old key fails: sets on the new key, the error says so",
			setup: func(w *world) {
				w.inputs[inputs.OldKey] = "delete"
				w.acct.Fail("DeleteAccessKey", awstest.Unavailable(10))
			},
			wantCode: 1, want: state{"old:Active new:Active", "new", "new"},
			errSays: []string{"delete the old access key", "still active"},
		},
		{
			name:     "two active keys at start: stop, name both and their sets, change nothing",
			setup:    func(w *world) { w.acct.AddKey(user, awstest.Active) },
			wantCode: 1, want: state{"old:Active second:Active", "old", "old"},
			errSays: []string{"funnel-aws"},
		},
		{
			name:  "an inactive key next to the active one: deleted first to make room",
			setup: func(w *world) { w.acct.AddKey(user, awstest.Inactive) },
			want:  state{"old:Inactive new:Active", "new", "new"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			tt.setup(w)
			names := w.keyNames()
			o := w.run(t, cmp.Or(tt.keyWait, 5*time.Second))
			if o.code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s", o.code, tt.wantCode, o.stdout)
			}
			keys, funnel, harvest := w.endState(t, names)
			if got := (state{keys, funnel, harvest}); got != tt.want {
				t.Errorf("end state = %+v, want %+v\n%s", got, tt.want, o.stdout)
			}
			if w.setKey(t, "other-aws") != otherKey {
				t.Errorf("a set on an unrelated key changed")
			}
			if tt.wantCode != 0 {
				says(t, "error", errorLine(t, o), tt.errSays)
			}
			if w.soracom.LiveSessions() != 0 {
				t.Errorf("the SORACOM token was not revoked")
			}
		})
	}
}

// keyNames names the user's keys before a run: old, and second for any other.
func (w *world) keyNames() map[string]string {
	names := map[string]string{w.old.ID: "old"}
	for _, k := range w.acct.Keys(user) {
		if k.ID != w.old.ID {
			names[k.ID] = "second"
		}
	}
	return names
}

// endState names the user's keys ("old:Active new:Active", oldest first) and the keys
// funnel-aws and harvest-aws hold, by the names given; a key without one is "new".
func (w *world) endState(t *testing.T, names map[string]string) (keys, funnel, harvest string) {
	t.Helper()
	var ks []string
	for _, k := range w.acct.Keys(user) {
		if _, ok := names[k.ID]; !ok {
			names[k.ID] = "new"
		}
		ks = append(ks, names[k.ID]+":"+k.Status)
	}
	return strings.Join(ks, " "), names[w.setKey(t, "funnel-aws")], names[w.setKey(t, "harvest-aws")]
}

// says checks that text (named what in failures) contains every one of want.
func says(t *testing.T, what, text string, want []string) {
	t.Helper()
	for _, s := range want {
		if !strings.Contains(text, s) {
			t.Errorf("%s does not say %q:\n%s", what, s, text)
		}
	}
}

func TestRotationOutputsSayWhichKeyEverySetHoldsAfterALateFailure(t *testing.T) {
	w := newWorld(t)
	w.acct.Fail("UpdateAccessKey", awstest.Unavailable(10))
	o := w.run(t, 5*time.Second)
	if o.code != 1 {
		t.Fatalf("exit %d", o.code)
	}
	keys := w.acct.Keys(user)
	newID := keys[len(keys)-1].ID
	for _, want := range []string{newID, w.old.ID, "funnel-aws", "harvest-aws"} {
		if !strings.Contains(o.outputs, want) {
			t.Errorf("outputs do not mention %s:\n%s", want, o.outputs)
		}
	}
	if !strings.Contains(o.summary, "still active") {
		t.Errorf("summary does not say the old key is still active:\n%s", o.summary)
	}
}

func TestRotationRemovesAKeyThatAFailedCreateMadeAllTheSame(t *testing.T) {
	w := newWorld(t)
	// IAM creates the key, then the answer is an error the SDK does not retry.
	w.acct.Fail("CreateAccessKey", awstest.Fault{Status: 400, Code: "ServiceFailure", Message: "answer lost", AfterHandling: true})
	o := w.run(t, 5*time.Second)
	if o.code != 1 {
		t.Fatalf("exit %d", o.code)
	}
	if keys := w.acct.Keys(user); len(keys) != 1 || keys[0].ID != w.old.ID || keys[0].Status != awstest.Active {
		t.Errorf("IAM keys after the failed create: %+v", keys)
	}
	if msg := errorLine(t, o); !strings.Contains(msg, "created all the same") || !strings.Contains(msg, "was deleted") {
		t.Errorf("error does not say the stray key was deleted: %s", msg)
	}
}

func TestRotationLaterFailureNamesSetsOnADeletedInactiveKey(t *testing.T) {
	w := newWorld(t)
	dead := w.acct.AddKey(user, awstest.Inactive)
	w.soracom.PutCredentialSet(soracomtest.CredentialSet{ID: "zz-dead-aws", Type: "aws-credentials", Credentials: map[string]any{"accessKeyId": dead.ID, "secretAccessKey": "x"}})
	w.soracom.Inject("PUT /v1/credentials/zz-dead-aws", soracomtest.Always, soracomtest.StatusFault(http.StatusInternalServerError))
	o := w.run(t, 5*time.Second)
	if o.code != 1 {
		t.Fatalf("exit %d", o.code)
	}
	msg := errorLine(t, o)
	for _, want := range []string{"still on the inactive key " + dead.ID + ", which this run deleted", "zz-dead-aws"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not say %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "every set works") || strings.Contains(msg, "To fix") {
		t.Errorf("error claims every set works, or adds advice that contradicts its own:\n%s", msg)
	}
}

func TestRotationRolledBackReportsNoNewKey(t *testing.T) {
	w := newWorld(t)
	w.soracom.Inject("PUT /v1/credentials/funnel-aws", soracomtest.Always, soracomtest.StatusFault(http.StatusForbidden))
	o := w.run(t, 5*time.Second)
	if o.code != 1 {
		t.Fatalf("exit %d", o.code)
	}
	if strings.HasPrefix(o.outputs, "aws-access-key-id<<") || strings.Contains(o.outputs, "\naws-access-key-id<<") {
		t.Errorf("aws-access-key-id output names a key that was deleted:\n%s", o.outputs)
	}
	if !strings.Contains(o.summary, "Rotation failed") || !strings.Contains(o.summary, "CAUTION") {
		t.Errorf("summary does not say the rotation failed:\n%s", o.summary)
	}
}

func TestRotationDryRunSummaryShowsKeysByTheirLastFourCharacters(t *testing.T) {
	w := newWorld(t)
	w.inputs[inputs.DryRun] = "true"
	o := w.run(t, 5*time.Second)
	if o.code != 0 {
		t.Fatalf("exit %d\n%s", o.code, o.stdout)
	}
	if strings.Contains(o.summary, w.old.ID) || !strings.Contains(o.summary, "…"+w.old.ID[len(w.old.ID)-4:]) {
		t.Errorf("summary:\n%s", o.summary)
	}
	if len(w.acct.Keys(user)) != 1 || w.setKey(t, "funnel-aws") != w.old.ID {
		t.Errorf("dry run changed something")
	}
}

func TestRegistrationRefusesAKnownKeyWithAWrongSecretWithoutWaitingAMinute(t *testing.T) {
	w := newWorld(t)
	w.inputs = map[string]string{
		inputs.CredentialID: "funnel-aws", inputs.AuthKeyID: authKeyID, inputs.AuthKey: authKey, inputs.Endpoint: w.soracom.URL(),
		inputs.AWSAccessKeyID: w.old.ID, inputs.AWSSecretAccessKey: "not-the-secret-of-this-key-0123456789",
	}
	o := w.run(t, 10*time.Minute)
	if o.code != 1 {
		t.Fatalf("exit %d", o.code)
	}
	if msg := errorLine(t, o); !strings.Contains(msg, "SignatureDoesNotMatch") {
		t.Errorf("error = %s", msg)
	}
	checks := 0
	for _, a := range w.acct.Actions() {
		if a == "GetCallerIdentity" {
			checks++
		}
	}
	// Polling through the whole 10-minute budget would take hundreds of checks.
	if checks > 30 {
		t.Errorf("STS was asked %d times about a secret that cannot work", checks)
	}
}

func TestRegistrationRefusesAKeyAWSRejects(t *testing.T) {
	w := newWorld(t)
	w.inputs = map[string]string{
		inputs.CredentialID: "funnel-aws", inputs.AuthKeyID: authKeyID, inputs.AuthKey: authKey, inputs.Endpoint: w.soracom.URL(),
		inputs.AWSAccessKeyID: "AKIAUNKNOWNKEY000001", inputs.AWSSecretAccessKey: "no-such-secret-0123456789",
	}
	o := w.run(t, 300*time.Millisecond)
	if o.code != 1 {
		t.Fatalf("exit %d", o.code)
	}
	if msg := errorLine(t, o); !strings.Contains(msg, "not stored") || !strings.Contains(msg, "verify-aws-key: false") {
		t.Errorf("error = %s", msg)
	}
	if w.setKey(t, "funnel-aws") != w.old.ID || len(w.soracom.Requests()) != 0 {
		t.Errorf("SORACOM was touched")
	}
}

// The IAM adapter rides out throttling and a 503 (the SDK retries them) in the middle
// of a rotation.
func TestRotationRidesOutIAMThrottling(t *testing.T) {
	w := newWorld(t)
	w.acct.Fail("CreateAccessKey", awstest.Throttling(1))
	w.acct.Fail("UpdateAccessKey", awstest.Unavailable(1))
	o := w.run(t, 5*time.Second)
	if o.code != 0 {
		t.Fatalf("exit %d\n%s", o.code, o.stdout)
	}
	keys := w.acct.Keys(user)
	if len(keys) != 2 || keys[0].Status != awstest.Inactive || keys[1].Status != awstest.Active || w.setKey(t, "funnel-aws") != keys[1].ID {
		t.Errorf("IAM keys %+v, funnel-aws on %s", keys, w.setKey(t, "funnel-aws"))
	}
}
