package e2e

import (
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awstest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// The AuthKey and AWS key of a registration; made up, they open only the emulators.
const (
	authKeyID     = "keyId-e2e0123456789"
	authKeySecret = "secret-Vk4Rz8Tq1Mw6Yp3Ln9Dj"
	awsKeyID      = "AKIAE2ETESTKEY000001"
	awsSecret     = "Xp7Kd/Lq2Vw9+Tz4Bn8Hc1Rm6Yf3Gs5Jk0Wa2Eu"
)

// registration returns a SORACOM emulator and the inputs of a registration against it.
func registration(t *testing.T, changes map[string]string, opts ...soracomtest.Option) (*soracomtest.Server, map[string]string) {
	t.Helper()
	s := soracomtest.Start(t, opts...)
	s.AddAuthKey(authKeyID, authKeySecret)
	in := map[string]string{
		"credential-id":         "funnel-aws",
		"soracom-auth-key-id":   authKeyID,
		"soracom-auth-key":      authKeySecret,
		"soracom-endpoint":      s.URL(),
		"aws-access-key-id":     awsKeyID,
		"aws-secret-access-key": awsSecret,
		"verify-aws-key":        "false",
		// A description given takes the PUT-first path (3 round trips when the set
		// exists); the empty default, which keeps the stored one, is tested apart.
		"description": "funnel sensors",
	}
	for k, v := range changes {
		in[k] = v
	}
	return s, in
}

var inputSecrets = []string{authKeySecret, awsSecret}

// putExistingSet stores an aws-credentials set holding an old key, as a previous run
// would have left it.
func putExistingSet(s *soracomtest.Server, id string) {
	s.PutCredentialSet(soracomtest.CredentialSet{ID: id, Type: "aws-credentials", Credentials: map[string]any{"accessKeyId": "AKIAOLDKEY0000000001", "secretAccessKey": "old-secret-value"}})
}

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
		"description": "", // a rotation keeps each set's description
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
	s := []string{authKeySecret}
	if w.env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] != "" {
		s = append(s, w.oidc.RequestToken())
	}
	s = append(s, w.oidc.Issued()...)
	used, _ := w.acct.SessionSecretsByUse()
	s = append(s, used...)
	for _, k := range w.acct.Keys(rotUser) {
		if !w.before[k.ID] {
			s = append(s, k.Secret)
		}
	}
	return s
}

// unseen are the secrets of sessions STS issued that the run never used: an answer
// lost on the way (and asked for again) may hold one the run never received, so it
// needs no mask; it must not appear anywhere all the same.
func (w *rotationWorld) unseen() []string {
	_, unused := w.acct.SessionSecretsByUse()
	return unused
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
	assertNotShown(t, r, w.unseen())
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

// keyState splits the IAM user's keys after a run into the old key and the keys the
// run created that still exist.
func keyState(w *rotationWorld) (old awstest.Key, newKeys []awstest.Key) {
	for _, k := range w.acct.Keys(rotUser) {
		if k.ID == w.old.ID {
			old = k
		} else if !w.before[k.ID] {
			newKeys = append(newKeys, k)
		}
	}
	return old, newKeys
}

// runWithWorkspaceFile runs the action with a file in its workspace.
func runWithWorkspaceFile(t *testing.T, o runOpts, rel string, content []byte) runResult {
	t.Helper()
	ws := t.TempDir()
	writeWorkspaceFile(t, ws, rel, content)
	if o.env == nil {
		o.env = map[string]string{}
	}
	o.env["GITHUB_WORKSPACE"] = ws
	return runAction(t, o)
}

// writeWorkspaceFile writes content at the relative path rel under the workspace ws.
func writeWorkspaceFile(t *testing.T, ws, rel string, content []byte) {
	t.Helper()
	p := filepath.Join(ws, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, content, 0o600); err != nil {
		t.Fatal(err)
	}
}
