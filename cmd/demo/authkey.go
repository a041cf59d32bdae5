package main

import (
	"fmt"
	"net/http"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/ghtest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// The AuthKey scenes' world: the job's repository, whose secrets hold the AuthKey, and a
// token the fake GitHub API lets write them.
const (
	demoRepository  = "octo/iot"
	demoGitHubToken = "github_pat_11DEMO0000000000_fake_api_only"
	keySecretName   = "SORACOM_AUTH_KEY"
	idSecretName    = "SORACOM_AUTH_KEY_ID"
)

var demoSecrets = ghtest.RepoScope("octo", "iot")

// authKeyScenes rotate the AuthKey the workflow authenticates with, and show a rotation
// that fails after the first secret is written. They come last: the AuthKey the earlier
// scenes pass is deleted here.
func (d *demo) authKeyScenes() []scene {
	return []scene{
		{title: "Rotate the AuthKey itself: a new AuthKey for SAM user " + soracomtest.DefaultUserName + ", proven, written to the repository's secrets, the old one deleted",
			before: d.seedAuthKeySecrets, inputs: d.authKeyRotation, after: d.showAuthKeyState},
		{title: "An AuthKey rotation that fails after the first secret is written: GitHub refuses the id; the old values go back, the new AuthKey is deleted",
			before: d.refuseIDWrite, inputs: d.authKeyRotation, after: d.showAuthKeyState},
	}
}

// authKeyRotation is a registration with rotate-auth-key, passing the AuthKey the
// secrets hold now, as ${{ secrets.SORACOM_AUTH_KEY_ID }} and ${{ secrets.SORACOM_AUTH_KEY }} do.
func (d *demo) authKeyRotation() []input {
	id, _ := d.gh.Secret(demoSecrets, idSecretName)
	key, _ := d.gh.Secret(demoSecrets, keySecretName)
	return with(d.registration(),
		input{inputs.AuthKeyID, id.Value}, input{inputs.AuthKey, key.Value},
		input{inputs.RotateAuthKey, "true"}, input{inputs.GitHubToken, demoGitHubToken})
}

// seedAuthKeySecrets stores the demo AuthKey in the repository's two secrets, as a
// person did when setting the workflow up.
func (d *demo) seedAuthKeySecrets() {
	past := time.Now().Add(-90 * 24 * time.Hour)
	d.gh.SetSecret(demoSecrets, keySecretName, soracomtest.DemoAuthKey, past, "")
	d.gh.SetSecret(demoSecrets, idSecretName, soracomtest.DemoAuthKeyID, past, "")
	fmt.Fprintf(d.w, "Repository %s: secrets %s and %s hold the AuthKey %s of SAM user %s, stored 90 days ago.\n",
		demoRepository, keySecretName, idSecretName, soracomtest.DemoAuthKeyID, soracomtest.DefaultUserName)
}

func (d *demo) refuseIDWrite() {
	d.gh.Inject(http.MethodPut, demoSecrets+"/"+idSecretName, 1, ghtest.Fault{Status: http.StatusUnprocessableEntity, Message: "Invalid request."})
}

// showAuthKeyState prints the SAM user's AuthKeys and what the secrets hold: what a
// person would check in the SORACOM console and the repository's settings.
func (d *demo) showAuthKeyState() {
	fmt.Fprintf(d.w, "\nState afterwards:\n  SAM user %s's AuthKeys:", soracomtest.DefaultUserName)
	keys := d.emu.SORACOM.UserAuthKeys(soracomtest.DefaultUserName)
	for _, k := range keys {
		fmt.Fprintf(d.w, " %s;", k.ID)
	}
	id, _ := d.gh.Secret(demoSecrets, idSecretName)
	key, _ := d.gh.Secret(demoSecrets, keySecretName)
	works := "not an AuthKey that exists"
	for _, k := range keys {
		if k.ID == id.Value && k.Secret == key.Value {
			works = "that AuthKey's secret: the next run authenticates"
		}
	}
	fmt.Fprintf(d.w, "\n  secret %s holds %s; %s holds %s\n", idSecretName, id.Value, keySecretName, works)
}
