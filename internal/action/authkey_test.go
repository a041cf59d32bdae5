package action_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/action"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/ghtest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

const (
	ghToken    = "github_pat_11ABCDEFG0Tq7Rw2Kx9_Lm4Vb8Nz"
	akOldID    = "keyId-authkey-old"
	akOldKey   = "secret-Pf3Jx8Kq2Wm7Rv5Ty9Cb"
	repository = "octo/app"
)

// akWorld is a SORACOM emulator and a fake GitHub secrets API whose secrets hold the
// AuthKey the run authenticates with.
type akWorld struct {
	soracom *soracomtest.Server
	gh      *ghtest.Server
	scope   string // the fake's path of the scope
	inputs  map[string]string
}

func newAKWorld(t *testing.T, scopeInput, scopePath string) *akWorld {
	w := &akWorld{soracom: soracomtest.Start(t), gh: ghtest.Start(t), scope: scopePath}
	w.soracom.AddAuthKey(akOldID, akOldKey)
	w.soracom.OwnAuthKeysOnly()
	w.gh.AddToken(ghToken, ghtest.Access{Read: true, Write: true})
	w.gh.AddRepos("octo", ghtest.Repo{ID: 11, Name: "app"}, ghtest.Repo{ID: 12, Name: "lib"})
	past := time.Now().Add(-48 * time.Hour)
	w.gh.SetSecret(scopePath, "SORACOM_AUTH_KEY", akOldKey, past, "selected", 11, 12)
	w.gh.SetSecret(scopePath, "SORACOM_AUTH_KEY_ID", akOldID, past, "selected", 11, 12)
	w.inputs = map[string]string{
		inputs.CredentialID: "funnel-aws", inputs.AuthKeyID: akOldID, inputs.AuthKey: akOldKey, inputs.Endpoint: w.soracom.URL(),
		inputs.AWSAccessKeyID: "AKIAIOSFODNN7EXAMPLE", inputs.AWSSecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		inputs.VerifyAWSKey: "false", inputs.RotateAuthKey: "true", inputs.GitHubToken: ghToken, inputs.SecretsScope: scopeInput,
	}
	return w
}

func (w *akWorld) run(t *testing.T) outcome {
	t.Helper()
	files := prepareRun(t, w.inputs, map[string]string{"GITHUB_API_URL": w.gh.URL, "GITHUB_REPOSITORY": repository})
	var stdout bytes.Buffer
	code := action.Run(context.Background(), action.Env{Getenv: os.Getenv, Stdout: &stdout, Retry: quickRetry(), Grace: time.Second})
	o := files.result(code, stdout.String())
	w.checkNoLeak(t, o)
	return o
}

// checkNoLeak scans everything the run printed or wrote for the AuthKey secrets, the
// token and every encrypted value sent.
func (w *akWorld) checkNoLeak(t *testing.T, o outcome) {
	t.Helper()
	secrets := []string{akOldKey, ghToken}
	for _, k := range w.soracom.UserAuthKeys(soracomtest.DefaultUserName) {
		secrets = append(secrets, k.Secret)
	}
	for _, r := range w.gh.Requests() {
		if v := jsonField(r.Body, "encrypted_value"); v != "" {
			secrets = append(secrets, v)
		}
	}
	for _, s := range secrets {
		for where, text := range map[string]string{"stdout": o.stdout, "summary": o.summary, "outputs": o.outputs} {
			for _, line := range strings.Split(text, "\n") {
				if strings.Contains(line, s) && !strings.HasPrefix(line, "::add-mask::") {
					t.Errorf("%s shows a secret unmasked: %q", where, line)
				}
			}
		}
	}
}

func jsonField(body []byte, field string) string {
	_, after, ok := strings.Cut(string(body), `"`+field+`":"`)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, `"`)
	return v
}

// secretsHold returns the AuthKey both secrets hold, failing when they do not name one
// AuthKey that exists with that secret.
func (w *akWorld) secretsHold(t *testing.T) string {
	t.Helper()
	key, _ := w.gh.Secret(w.scope, "SORACOM_AUTH_KEY")
	id, _ := w.gh.Secret(w.scope, "SORACOM_AUTH_KEY_ID")
	for _, k := range w.soracom.UserAuthKeys(soracomtest.DefaultUserName) {
		if k.ID == id.Value && k.Secret == key.Value {
			return k.ID
		}
	}
	t.Fatalf("the secrets (%s, key %d chars) do not form a working AuthKey", id.Value, len(key.Value))
	return ""
}

func TestAuthKeyRotationInEachScope(t *testing.T) {
	for _, sc := range []struct{ input, path string }{
		{"repository", ghtest.RepoScope("octo", "app")},
		{"environment:production", ghtest.EnvScope("octo", "app", "production")},
		{"organization", ghtest.OrgScope("octo")},
	} {
		t.Run(sc.input, func(t *testing.T) {
			w := newAKWorld(t, sc.input, sc.path)
			checkRotated(t, w, w.run(t), sc.input == "organization")
		})
	}
}

// checkRotated checks a run that rotated: exit 0, only a new key, the outputs, an
// organization secret's repositories kept, no token left valid.
func checkRotated(t *testing.T, w *akWorld, o outcome, org bool) {
	t.Helper()
	if o.code != 0 {
		t.Fatalf("exit %d\n%s", o.code, o.stdout)
	}
	held := w.secretsHold(t)
	keys := w.soracom.UserAuthKeys(soracomtest.DefaultUserName)
	if held == akOldID || len(keys) != 1 {
		t.Errorf("secrets hold %s, keys %v: want only a new key", held, keys)
	}
	for _, want := range []string{"auth-key-rotated<<", "true", "auth-key-id<<", held} {
		if !strings.Contains(o.outputs, want) {
			t.Errorf("outputs lack %q:\n%s", want, o.outputs)
		}
	}
	if sec, _ := w.gh.Secret(w.scope, "SORACOM_AUTH_KEY"); org && (sec.Visibility != "selected" || len(sec.Selected) != 2) {
		t.Errorf("organization secret now %s %v, want selected [11 12] kept", sec.Visibility, sec.Selected)
	}
	if n := w.soracom.LiveSessions(); n != 0 {
		t.Errorf("%d SORACOM tokens left valid", n)
	}
}

func TestAuthKeyNotDueChangesNothing(t *testing.T) {
	w := newAKWorld(t, "repository", ghtest.RepoScope("octo", "app"))
	w.inputs[inputs.AuthKeyMaxAge] = "90d"
	o := w.run(t)
	if o.code != 0 || w.secretsHold(t) != akOldID || !strings.Contains(o.outputs, "auth-key-next-rotation<<") || !strings.Contains(o.stdout, "not rotated") {
		t.Errorf("exit %d, outputs:\n%s\n%s", o.code, o.outputs, o.stdout)
	}
}

// A token that may not read the secrets (the job's GITHUB_TOKEN) is found before any
// AuthKey is generated, and the error names the permission.
func TestAuthKeyRotationWithTheJobTokenFailsBeforeGenerating(t *testing.T) {
	w := newAKWorld(t, "repository", ghtest.RepoScope("octo", "app"))
	w.gh.AddToken(ghToken, ghtest.Access{})
	o := w.run(t)
	msg := errorLine(t, o)
	for _, want := range []string{"github-token may not read the secrets", `"Secrets: read and write"`, "GITHUB_TOKEN cannot write secrets", "Nothing was changed"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q: %s", want, msg)
		}
	}
	if o.code != 1 || w.soracom.CountRequests("POST", "/v1/operators/") != 0 {
		t.Errorf("exit %d, generate requests %d: want 1 and none", o.code, w.soracom.CountRequests("POST", "/v1/operators/"))
	}
}

// A token GitHub does not know (401), one that may not read the secrets (403), and a
// scope it cannot see (404) are all found on the public key, and a refused read of an
// organization secret's repositories on that read, before any AuthKey is generated,
// with an error naming the permission.
func TestARefusedTokenIsFoundBeforeGenerating(t *testing.T) {
	tests := []struct {
		name, scope, path string
		access            *ghtest.Access // nil: the token is unknown
		says              []string
		inject            func(gh *ghtest.Server)
	}{
		{"401: unknown token", "repository", ghtest.RepoScope("octo", "app"), nil, []string{"401 Unauthorized", `"Secrets: read and write"`}, nil},
		{"403: the token may not read secrets", "organization", ghtest.OrgScope("octo"), &ghtest.Access{}, []string{"403 Forbidden", `organization permission "Secrets: read and write"`}, nil},
		{"404: no such environment", "environment:missing", ghtest.EnvScope("octo", "app", "production"), &ghtest.Access{Read: true, Write: true},
			[]string{"404 Not Found", `"Environments: read and write"`, `no environment "missing"`}, nil},
		{"403 on the selected repositories of an organization secret", "organization", ghtest.OrgScope("octo"), &ghtest.Access{Read: true, Write: true},
			[]string{"403 Forbidden", `organization permission "Secrets: read and write"`}, func(gh *ghtest.Server) {
				gh.Inject(http.MethodGet, ghtest.OrgScope("octo")+"/SORACOM_AUTH_KEY/repositories", 1, ghtest.Fault{Status: http.StatusForbidden, Message: "Resource not accessible by personal access token"})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newAKWorld(t, tt.scope, tt.path)
			if tt.inject != nil {
				tt.inject(w.gh)
			}
			if tt.access == nil {
				w.inputs[inputs.GitHubToken] = "github_pat_11UNKNOWN0123456789"
			} else {
				w.gh.AddToken(ghToken, *tt.access)
			}
			o := w.run(t)
			msg := errorLine(t, o)
			for _, want := range append(tt.says, "github-token may not read the secrets", "GITHUB_TOKEN cannot write secrets", "Nothing was changed") {
				if !strings.Contains(msg, want) {
					t.Errorf("error lacks %q: %s", want, msg)
				}
			}
			if o.code != 1 || w.soracom.CountRequests("POST", "/v1/operators/") != 0 {
				t.Errorf("exit %d, generate requests %d: want 1 and none", o.code, w.soracom.CountRequests("POST", "/v1/operators/"))
			}
		})
	}
}

func TestAuthKeyRotationFailurePoints(t *testing.T) {
	path := ghtest.RepoScope("octo", "app")
	tests := []struct {
		name   string
		inject func(w *akWorld)
		hold   string // "old", "new" or "" (not one key: the fix command)
		want   string
	}{
		{"generate denied", func(w *akWorld) { w.soracom.Deny(soracomtest.PermGenerateUserAuthKey) }, "old", "User:generateUserAuthKey"},
		{"generate answers success unreadably: the key it made is named", func(w *akWorld) {
			w.soracom.Inject("POST /v1/operators/*/users/*/auth_keys", 1, soracomtest.Fault{AfterHandling: true, Status: http.StatusCreated, Body: "<html>ok</html>"})
		}, "orphan", "may have generated an AuthKey all the same"},
		{"verify fails", func(w *akWorld) {
			w.soracom.Inject("POST /v1/auth", 1, soracomtest.Fault{})
			w.soracom.Inject("POST /v1/auth", 6, soracomtest.StatusFault(500))
		}, "old", "was deleted"},
		{"public key fails", func(w *akWorld) {
			w.gh.Inject("GET", path+"/public-key", 10, ghtest.Fault{Status: http.StatusInternalServerError, Message: "boom"})
		}, "old", "Nothing was changed"},
		{"first write refused", func(w *akWorld) {
			w.gh.Inject("PUT", path+"/SORACOM_AUTH_KEY", 1, ghtest.Fault{Status: http.StatusUnprocessableEntity, Message: "no"})
		}, "old", "Nothing was changed"},
		{"second write fails: written back", func(w *akWorld) {
			w.gh.Inject("PUT", path+"/SORACOM_AUTH_KEY_ID", 1, ghtest.Fault{Status: http.StatusUnprocessableEntity, Message: "no"})
		}, "old", "old values were written back, and their updated_at confirms it"},
		{"write-back fails: both kept, the fix command", func(w *akWorld) {
			w.gh.Inject("PUT", path+"/SORACOM_AUTH_KEY_ID", 1, ghtest.Fault{Status: http.StatusUnprocessableEntity, Message: "no"})
			w.gh.Inject("PUT", path+"/SORACOM_AUTH_KEY", 1, ghtest.Fault{Hook: func() {}})
			w.gh.Inject("PUT", path+"/SORACOM_AUTH_KEY", 1, ghtest.Fault{Status: http.StatusUnprocessableEntity, Message: "no"})
		}, "", "gh secret set SORACOM_AUTH_KEY_ID --body keyId-"},
		{"old key not deleted: a warning", func(w *akWorld) { w.soracom.Deny(soracomtest.PermDeleteUserAuthKey) }, "new", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newAKWorld(t, "repository", path)
			tt.inject(w)
			o := w.run(t)
			checkAKFailure(t, w, o, tt.hold, tt.want)
		})
	}
}

func checkAKFailure(t *testing.T, w *akWorld, o outcome, hold, want string) {
	t.Helper()
	if want == "" {
		if o.code != 0 || !strings.Contains(o.stdout, "::warning::") || w.secretsHold(t) == akOldID {
			t.Errorf("exit %d, want 0 with a warning and the new key held\n%s", o.code, o.stdout)
		}
		return
	}
	msg := errorLine(t, o)
	if o.code != 1 || !strings.Contains(msg, want) {
		t.Errorf("exit %d, error %s; want 1 and %q", o.code, msg, want)
	}
	switch hold {
	case "old":
		if got := w.secretsHold(t); got != akOldID {
			t.Errorf("secrets hold %s, want the old key", got)
		}
		if n := len(w.soracom.UserAuthKeys(soracomtest.DefaultUserName)); n != 1 {
			t.Errorf("%d AuthKeys left, want the old one only", n)
		}
	case "":
		if n := len(w.soracom.UserAuthKeys(soracomtest.DefaultUserName)); n != 2 {
			t.Errorf("%d AuthKeys left, want both kept", n)
		}
	case "orphan":
		// The secrets hold the old key; the one SORACOM made is there, and said to be.
		if got := w.secretsHold(t); got != akOldID || strings.Contains(msg, "Nothing was changed: the secrets still hold the AuthKey "+akOldID+", which still works.\n") {
			t.Errorf("secrets hold %s; error %s", got, msg)
		}
		if n := len(w.soracom.UserAuthKeys(soracomtest.DefaultUserName)); n != 2 {
			t.Errorf("%d AuthKeys, want the old one and the one generated", n)
		}
	}
}

// bothAKWorld is akWorld on both coverages. The AuthKey is the SAM user's, and SAM is
// the operator's: one key authenticates on both coverages (the emulators share their
// AuthKeys as SORACOM does).
func bothAKWorld(t *testing.T) (*akWorld, *soracomtest.Coverages) {
	t.Helper()
	w := newAKWorld(t, "repository", ghtest.RepoScope("octo", "app"))
	c := soracomtest.StartBoth(t)
	c.AddAuthKey(akOldID, akOldKey)
	c.JP.OwnAuthKeysOnly()
	c.G.OwnAuthKeysOnly()
	w.soracom = c.JP
	delete(w.inputs, inputs.Endpoint)
	w.inputs[inputs.CoverageType] = "both"
	t.Setenv("SORACOM_ENDPOINT_JP", c.JP.URL())
	t.Setenv("SORACOM_ENDPOINT_G", c.G.URL())
	return w, c
}

// With both coverages the AuthKey is rotated once (through jp: one generate, one
// delete) and the new key is proved on each coverage before a secret holds it.
func TestAuthKeyRotationOnBothCoveragesRotatesOnceAndProvesTheKeyOnEach(t *testing.T) {
	w, c := bothAKWorld(t)
	o := w.run(t)
	checkRotated(t, w, o, false)
	keysPath := "/v1/operators/" + soracomtest.DefaultOperatorID + "/users/" + soracomtest.DefaultUserName + "/auth_keys"
	if gen, del := c.JP.CountRequests(http.MethodPost, keysPath), c.JP.CountRequests(http.MethodDelete, keysPath); gen != 1 || del != 1 {
		t.Errorf("jp: %d generates and %d deletes, want one of each", gen, del)
	}
	if n := c.G.CountRequests(http.MethodPost, keysPath) + c.G.CountRequests(http.MethodDelete, keysPath); n != 0 {
		t.Errorf("g: %d AuthKey writes, want none: the key is rotated once", n)
	}
	says(t, "log", o.stdout, []string{"works on coverage jp", "works on coverage g"})
	if n := c.LiveSessions(); n != 0 {
		t.Errorf("%d tokens left valid", n)
	}
}

// A coverage that refuses the new AuthKey fails the rotation before any secret is
// written: the new key is deleted, the secrets keep the old one, which still works.
func TestAuthKeyRotationOnBothCoveragesKeepsTheOldKeyWhenOneRefusesTheNew(t *testing.T) {
	w, c := bothAKWorld(t)
	c.G.Inject("POST /v1/auth", 1, soracomtest.Fault{}) // the run's own login passes
	c.G.Inject("POST /v1/auth", soracomtest.Always, soracomtest.StatusFault(http.StatusUnauthorized))
	o := w.run(t)
	if o.code != 1 {
		t.Fatalf("exit %d\n%s", o.code, o.stdout)
	}
	if held := w.secretsHold(t); held != akOldID {
		t.Errorf("the secrets hold %s, want the old key", held)
	}
	if keys := c.JP.UserAuthKeys(soracomtest.DefaultUserName); len(keys) != 1 || keys[0].ID != akOldID {
		t.Errorf("keys %v: the new key must be deleted", keys)
	}
	says(t, "error", errorLine(t, o), []string{"coverage g"})
}

// A write-back GitHub answered but whose read-back fails is not confirmed: the run says
// so, and keeps both AuthKeys, since the secrets might still hold the new one.
func TestAnUnconfirmedWriteBackKeepsBothAuthKeys(t *testing.T) {
	path := ghtest.RepoScope("octo", "app")
	w := newAKWorld(t, "repository", path)
	w.gh.Inject("PUT", path+"/SORACOM_AUTH_KEY_ID", 1, ghtest.Fault{Status: http.StatusUnprocessableEntity, Message: "no"})
	w.gh.Inject("PUT", path+"/SORACOM_AUTH_KEY", 1, ghtest.Fault{Hook: func() {}})
	w.gh.Inject("PUT", path+"/SORACOM_AUTH_KEY", 1, ghtest.Fault{Hook: func() {
		w.gh.Inject("GET", path, 100, ghtest.Fault{Status: http.StatusServiceUnavailable, Message: "down"})
	}})
	o := w.run(t)
	msg := errorLine(t, o)
	for _, want := range []string{"written back (GitHub answered success), but the write-back is not confirmed", "both AuthKeys are kept",
		"SORACOM_AUTH_KEY holds the old AuthKey secret", "once a run has authenticated with them, delete the new AuthKey"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q: %s", want, msg)
		}
	}
	if o.code != 1 || w.secretsHold(t) != akOldID || len(w.soracom.UserAuthKeys(soracomtest.DefaultUserName)) != 2 {
		t.Errorf("exit %d, keys %v: want 1, the secrets on the old key, both kept", o.code, w.soracom.UserAuthKeys(soracomtest.DefaultUserName))
	}
	if got := outputValue(o.outputs, "auth-key-id"); got != akOldID {
		t.Errorf("auth-key-id %q, want %s: GitHub answered that both secrets hold it", got, akOldID)
	}
	if !strings.Contains(o.summary, "the secrets should hold `"+akOldID+"` again (GitHub answered the write-back with success; their updated_at did not confirm it)") {
		t.Errorf("the summary claims more than was confirmed:\n%s", o.summary)
	}
}

// GitHub's error text reaches the log through the same choke point as SORACOM's: a
// message that echoes the token shows no start of it, one that carries workflow
// commands starts none, and a huge one does not flood the log.
func TestHostileGitHubErrorText(t *testing.T) {
	path := ghtest.RepoScope("octo", "app")
	for name, msg := range map[string]string{
		"echoing the token":  "Bad credentials: Bearer " + ghToken,
		"workflow commands":  "no\n::set-output name=auth-key-id::keyId-evil\n::error::pwned\n##[error]pwned",
		"a 1 MB message":     strings.Repeat("a", 1<<20),
		"the token cut in 2": "token " + ghToken[:20] + "\n" + ghToken[20:],
	} {
		t.Run(name, func(t *testing.T) {
			w := newAKWorld(t, "repository", path)
			w.gh.Inject("GET", path+"/public-key", 100, ghtest.Fault{Status: http.StatusBadRequest, Message: msg})
			o := w.run(t)
			if o.code != 1 {
				t.Fatalf("exit %d, want 1", o.code)
			}
			checkInert(t, o)
		})
	}
}

// checkInert checks that a run printed no start of the token, no line the runner would
// take for a command the action did not mean, and no flood.
func checkInert(t *testing.T, o outcome) {
	t.Helper()
	var shown []string
	for _, l := range strings.Split(o.stdout+"\n"+o.summary+"\n"+o.outputs, "\n") {
		if !strings.HasPrefix(l, "::add-mask::") {
			shown = append(shown, l)
		}
	}
	all := strings.Join(shown, "\n")
	// The choke point hides every start of a secret of 8 or more bytes.
	for n := 8; n <= len(ghToken); n++ {
		if strings.Contains(all, ghToken[:n]) {
			t.Fatalf("%q of the token was printed", ghToken[:n])
		}
	}
	for _, l := range shown {
		l = strings.TrimSpace(l)
		cmd, _, _ := strings.Cut(strings.TrimPrefix(l, "::"), "::")
		if strings.HasPrefix(l, "::") && cmd != "error" && cmd != "warning" || strings.Contains(l, "##[") {
			t.Errorf("a line the runner would take for a command the action did not mean: %q", l)
		}
	}
	if strings.Contains(o.outputs, "keyId-evil") || len(o.stdout) > 64<<10 || len(o.summary) > 64<<10 {
		t.Errorf("outputs %q, log %d bytes, summary %d bytes", o.outputs, len(o.stdout), len(o.summary))
	}
}

// Two runs that started with the same AuthKey overlap, through the real clients: the
// second runs whole while the first's request to GitHub is held, at the start (before
// the first generates), at its first write, and at its read-back. Whatever the point,
// one run rotates, the other stands back with a warning, and the secrets end on one
// AuthKey that exists, the only one left.
func TestTwoOverlappingAuthKeyRotations(t *testing.T) {
	path := ghtest.RepoScope("octo", "app")
	for _, at := range []struct{ name, method, path string }{
		{"before the first generates", http.MethodGet, path + "/public-key"},
		{"at the first's first write", http.MethodPut, path + "/SORACOM_AUTH_KEY"},
		{"at the first's read-back", http.MethodGet, ""},
	} {
		t.Run(at.name, func(t *testing.T) {
			w := newAKWorld(t, "repository", path)
			var second outcome
			hook := func() { second = w.runWithEnv(t) }
			if at.path == "" {
				// The read-back is the third read of the scope, after the public key and
				// the list read at once.
				w.gh.Inject(http.MethodGet, path, 2, ghtest.Fault{Hook: func() {}})
				w.gh.Inject(http.MethodGet, path, 1, ghtest.Fault{Hook: hook})
			} else {
				w.gh.Inject(at.method, at.path, 1, ghtest.Fault{Hook: hook})
			}
			first := w.run(t)
			if w.gh.PendingFaults() != 0 || second.stdout == "" {
				t.Fatal("the second run never started")
			}
			w.checkOneRotated(t, first, second)
		})
	}
}

// checkOneRotated checks two overlapping runs: both exit 0, one rotates, the other
// warns why it did not, and the secrets hold the only AuthKey left, a new one.
func (w *akWorld) checkOneRotated(t *testing.T, runs ...outcome) {
	t.Helper()
	rotated := 0
	for _, o := range runs {
		switch {
		case o.code != 0:
			t.Fatalf("exit %d, want 0\n%s", o.code, o.stdout)
		case outputValue(o.outputs, "auth-key-rotated") == "true":
			rotated++
		case !strings.Contains(o.stdout, "::warning::The AuthKey was not rotated: "):
			t.Errorf("a run that did not rotate does not warn why:\n%s", o.stdout)
		}
	}
	held := w.secretsHold(t)
	if keys := w.soracom.UserAuthKeys(soracomtest.DefaultUserName); rotated != 1 || held == akOldID || len(keys) != 1 {
		t.Errorf("%d runs rotated, the secrets hold %s, AuthKeys %v: want one rotation, to the only AuthKey left", rotated, held, keys)
	}
}

// runWithEnv runs the action in-process with its own environment (not the process's),
// so that it can run while another run is under way.
func (w *akWorld) runWithEnv(t *testing.T) outcome {
	t.Helper()
	dir := t.TempDir()
	files := runFiles{output: dir + "/out", summary: dir + "/summary"}
	vars := map[string]string{"GITHUB_API_URL": w.gh.URL, "GITHUB_REPOSITORY": repository,
		"GITHUB_OUTPUT": files.output, "GITHUB_STEP_SUMMARY": files.summary}
	for k, v := range w.inputs {
		vars[inputs.EnvName(k)] = v
	}
	var stdout bytes.Buffer
	code := action.Run(context.Background(), action.Env{Getenv: func(k string) string { return vars[k] }, Stdout: &stdout, Retry: quickRetry(), Grace: time.Second})
	return files.result(code, stdout.String())
}

// A root AuthKey cannot be rotated: with rotate-auth-key the run stops right after it
// authenticated, before the mode writes anything, and its token is revoked.
func TestARootAuthKeyIsRefusedBeforeTheModeChangesAnything(t *testing.T) {
	w := newAKWorld(t, "repository", ghtest.RepoScope("octo", "app"))
	w.soracom.AddUserAuthKey("", "keyId-root", "secret-root-Qm4Zr8Tx")
	w.inputs[inputs.AuthKeyID], w.inputs[inputs.AuthKey] = "keyId-root", "secret-root-Qm4Zr8Tx"
	o := w.run(t)
	msg := errorLine(t, o)
	says(t, "error", msg, []string{"rotate-auth-key: the AuthKey in use is the operator's root AuthKey", "nothing was written on any coverage"})
	if _, ok := w.soracom.CredentialSet("funnel-aws"); o.code != 1 || ok {
		t.Errorf("exit %d, set written %v: want 1 and nothing written", o.code, ok)
	}
	if n := w.soracom.LiveSessions(); n != 0 {
		t.Errorf("%d SORACOM tokens left valid", n)
	}
	if n := len(w.gh.Requests()); n != 0 {
		t.Errorf("%d GitHub requests, want none", n)
	}
}

// An audit that ends with exit code 1 without an error of its own (its AWS credentials
// could not be used) is a run that did not succeed: the AuthKey is not rotated.
func TestAnAuditThatFailsTheRunLeavesTheAuthKey(t *testing.T) {
	w := newAKWorld(t, "repository", ghtest.RepoScope("octo", "app"))
	for _, in := range []string{inputs.CredentialID, inputs.AWSAccessKeyID, inputs.AWSSecretAccessKey, inputs.VerifyAWSKey} {
		delete(w.inputs, in)
	}
	w.inputs[inputs.AuditInput], w.inputs[inputs.RoleToAssume] = "true", "arn:aws:iam::123456789012:role/auditor"
	o := w.run(t)
	if o.code != 1 || w.secretsHold(t) != akOldID || len(w.soracom.UserAuthKeys(soracomtest.DefaultUserName)) != 1 {
		t.Errorf("exit %d, want 1 and the old AuthKey alone, in the secrets\n%s", o.code, o.stdout)
	}
	says(t, "log", o.stdout, []string{"The AuthKey was not rotated: the run did not succeed"})
	if n := w.soracom.LiveSessions(); n != 0 {
		t.Errorf("%d SORACOM tokens left valid", n)
	}
}

// A GitHub API that cannot be reached is found before any AuthKey is generated, and
// the error says where to look.
func TestAnUnreachableGitHubAPIIsFoundBeforeGenerating(t *testing.T) {
	w := newAKWorld(t, "repository", ghtest.RepoScope("octo", "app"))
	files := prepareRun(t, w.inputs, map[string]string{"GITHUB_API_URL": "http://" + closedPort(t), "GITHUB_REPOSITORY": repository})
	var stdout bytes.Buffer
	code := action.Run(context.Background(), action.Env{Getenv: os.Getenv, Stdout: &stdout, Retry: quickRetry(), Grace: time.Second})
	o := files.result(code, stdout.String())
	w.checkNoLeak(t, o)
	says(t, "error", errorLine(t, o), []string{"got no answer", "Nothing was changed", "To fix: check the runner's network access to the GitHub API and, when set, GITHUB_API_URL"})
	if o.code != 1 || w.soracom.CountRequests("POST", "/v1/operators/") != 0 {
		t.Errorf("exit %d, generate requests %d: want 1 and none", o.code, w.soracom.CountRequests("POST", "/v1/operators/"))
	}
}
