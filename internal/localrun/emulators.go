//go:build !noemulator

package localrun

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awstest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// adminUser is the IAM user whose key stands for the job's ambient AWS credentials.
const adminUser = "local-admin"

// exampleUser is the IAM user of the fake account whose keys --emulator registers and
// audits: the name README and the demo use.
const exampleUser = "soracom-funnel"

// Emulators are the in-repo SORACOM emulator, both coverages of it, and the AWS fakes
// (STS, IAM and GitHub's OIDC token endpoint), serving on loopback for as long as a
// program needs them.
type Emulators struct {
	// SORACOM is the jp coverage, the default; Global is the g coverage.
	SORACOM *soracomtest.Server
	Global  *soracomtest.Server
	AWS     *awstest.Account
	OIDC    *awstest.OIDC
	// Admin is a key of the fake account that may manage IAM: the ambient credentials
	// a job would get from aws-actions/configure-aws-credentials.
	Admin awstest.Key
	scope *scope
}

// StartEmulators starts them, with the demo AuthKey registered on both coverages.
func StartEmulators() (*Emulators, error) {
	cov, err := soracomtest.StartCoverages()
	if err != nil {
		return nil, fmt.Errorf("starting the SORACOM emulator: %w", err)
	}
	cov.AddAuthKey(soracomtest.DemoAuthKeyID, soracomtest.DemoAuthKey)
	sc := &scope{}
	e := &Emulators{SORACOM: cov.JP, Global: cov.G, AWS: awstest.NewAccount(sc), OIDC: awstest.NewOIDC(sc), scope: sc}
	e.Admin = e.AWS.AddKey(adminUser, awstest.Active)
	return e, nil
}

// Close stops every server.
func (e *Emulators) Close() {
	_ = e.coverages().Close()
	e.scope.close()
}

func (e *Emulators) coverages() *soracomtest.Coverages {
	return &soracomtest.Coverages{JP: e.SORACOM, G: e.Global}
}

// places are the emulators of the coverages a soracom-coverage-type names: where the
// run's sets are seeded.
func (e *Emulators) places(coverageType string) []*soracomtest.Server {
	switch coverageType {
	case soracomtest.CoverageG:
		return []*soracomtest.Server{e.Global}
	case inputs.CoverageBoth:
		return []*soracomtest.Server{e.SORACOM, e.Global}
	}
	return []*soracomtest.Server{e.SORACOM}
}

// AWSEnv are the variables that point the AWS SDK at the fakes, with the admin key as
// the ambient credentials. The SDK reads them from the process environment only.
func (e *Emulators) AWSEnv() map[string]string {
	env := e.AWS.Env()
	for k, v := range awstest.KeyEnv(e.Admin) {
		env[k] = v
	}
	return env
}

// scope gives the AWS fakes what a test would: somewhere to register their shutdown and
// a directory to name absent files in.
type scope struct {
	cleanups []func()
	dirs     []string
}

func (s *scope) Helper()          {}
func (s *scope) Cleanup(f func()) { s.cleanups = append(s.cleanups, f) }

func (s *scope) TempDir() string {
	dir, err := os.MkdirTemp("", "soracom-credentials-action-emulator")
	if err != nil {
		// Only used to name files that must not exist; a missing directory does that too.
		return filepath.Join(os.TempDir(), "soracom-credentials-action-absent")
	}
	s.dirs = append(s.dirs, dir)
	return dir
}

func (s *scope) close() {
	for i := len(s.cleanups) - 1; i >= 0; i-- {
		s.cleanups[i]()
	}
	for _, d := range s.dirs {
		_ = os.RemoveAll(d)
	}
}

// withEmulators starts the emulators and points the run at them: the SORACOM endpoint,
// an AuthKey the emulator accepts, AWS keys or an IAM user to rotate that the fakes
// know, and a dry run unless the command line asked otherwise. It says what it did on
// the returned lines.
func withEmulators(r *runSetup) (stop func(), notes []string, err error) {
	e, err := StartEmulators()
	if err != nil {
		return nil, nil, err
	}
	for k, v := range e.AWSEnv() {
		if err := r.env.Setenv(k, v); err != nil {
			e.Close()
			return nil, nil, fmt.Errorf("pointing the AWS SDK at the fakes: %w", err)
		}
	}
	// Each coverage by its own variable, so jp, g and both all work; an endpoint given on
	// the command line would still win (and be refused with both).
	r.vars[inputs.EndpointEnv(soracomtest.CoverageJP)] = e.SORACOM.URL()
	r.vars[inputs.EndpointEnv(soracomtest.CoverageG)] = e.Global.URL()
	notes = append(notes, "SORACOM emulator at "+e.SORACOM.URL()+" (jp) and "+e.Global.URL()+
		" (g); AWS STS and IAM fakes on loopback: nothing leaves this machine")
	notes = append(notes, authKey(e, r))
	stop = e.Close
	if r.value(inputs.RotateAuthKey) == "true" {
		stopGitHub, ghNotes, err := gitHubSide(r)
		if err != nil {
			e.Close()
			return nil, nil, err
		}
		stop = func() { stopGitHub(); e.Close() }
		notes = append(notes, ghNotes...)
	}
	if r.value(inputs.AuditInput) == "true" {
		return stop, append(notes, auditWorld(e, r.value(inputs.CoverageType))), nil
	}
	if _, ok := r.given(inputs.DryRun); !ok {
		r.vars[inputs.EnvName(inputs.DryRun)] = "true"
		notes = append(notes, "dry run: nothing is changed, not even in the emulator (add --dry-run false to let it change the emulator)")
	}
	notes = append(notes, awsSide(e, r)...)
	return stop, notes, nil
}

// authKey makes the emulator accept the AuthKey given, or gives the demo one.
func authKey(e *Emulators, r *runSetup) string {
	id, idOK := r.given(inputs.AuthKeyID)
	key, keyOK := r.given(inputs.AuthKey)
	if idOK && keyOK {
		e.coverages().AddAuthKey(id, key)
		return "the emulator accepts the AuthKey given"
	}
	r.vars[inputs.EnvName(inputs.AuthKeyID)] = soracomtest.DemoAuthKeyID
	r.vars[inputs.EnvName(inputs.AuthKey)] = soracomtest.DemoAuthKey
	return "AuthKey: the demo one, " + soracomtest.DemoAuthKeyID
}

// awsSide gives the run AWS keys the fakes know: for a rotation, the IAM user with an
// active key that the named sets hold; for a registration of aws-credentials without
// keys, a fresh key of the fake account.
func awsSide(e *Emulators, r *runSetup) []string {
	if user, ok := r.given(inputs.IAMUserName); ok {
		return rotationWorld(e, r, user)
	}
	typ, _ := r.given(inputs.CredentialType)
	_, keyGiven := r.given(inputs.AWSAccessKeyID)
	_, credsGiven := r.given(inputs.Credentials)
	_, fileGiven := r.given(inputs.CredentialsFile)
	switch {
	case typ != "" && typ != "aws-credentials", credsGiven, fileGiven:
		return nil
	case keyGiven:
		if _, ok := r.given(inputs.VerifyAWSKey); !ok {
			r.vars[inputs.EnvName(inputs.VerifyAWSKey)] = "false"
			return []string{"verify-aws-key=false: the AWS fakes know only the keys they issued"}
		}
		return nil
	}
	k := e.AWS.AddKey(exampleUser, awstest.Active)
	r.vars[inputs.EnvName(inputs.AWSAccessKeyID)] = k.ID
	r.vars[inputs.EnvName(inputs.AWSSecretAccessKey)] = k.Secret
	return []string{"AWS key to register: a new key of IAM user " + exampleUser + " in the fake account"}
}

// auditWorld gives the health report something to look at: a set holding an active key
// of the fake account, which a group's Funnel and an event handler's Lambda action
// use, on each coverage of the run.
func auditWorld(e *Emulators, coverageType string) string {
	k := e.AWS.AddKey(exampleUser, awstest.Active)
	for _, s := range e.places(coverageType) {
		s.PutCredentialSet(soracomtest.CredentialSet{ID: "funnel-aws", Type: "aws-credentials",
			Credentials: map[string]any{"accessKeyId": k.ID, "secretAccessKey": k.Secret}})
		s.PutGroup(soracomtest.Group{ID: "sensors-group", Tags: map[string]string{"name": "sensors"},
			Configuration: map[string]map[string]any{"SoracomFunnel": {"enabled": true, "credentials": map[string]any{"$credentialsId": "funnel-aws"},
				"destination": map[string]any{"provider": "aws", "service": "kinesis", "resourceUrl": "https://kinesis.ap-northeast-1.amazonaws.com/sensors"}}}})
		s.PutEventHandler(soracomtest.EventHandler{ID: "low-balance-handler", Name: "low balance", Actions: []soracomtest.Action{{Type: "InvokeAWSLambdaAction",
			Properties: map[string]any{"credentialsId": "funnel-aws", "endpoint": "https://lambda.ap-northeast-1.amazonaws.com", "functionName": "notify"}}}})
	}
	return "set funnel-aws holds an active key of IAM user " + exampleUser + " in the fake account; group sensors sends to Kinesis with it, event handler \"low balance\" calls Lambda with it"
}

func rotationWorld(e *Emulators, r *runSetup, user string) []string {
	old := e.AWS.AddKey(user, awstest.Active)
	ids, _ := r.given(inputs.CredentialID)
	var names []string
	for _, id := range strings.Split(ids, "\n") {
		if id = strings.TrimSpace(id); id == "" {
			continue
		}
		for _, s := range e.places(r.value(inputs.CoverageType)) {
			s.PutCredentialSet(soracomtest.CredentialSet{ID: id, Type: "aws-credentials",
				Credentials: map[string]any{"accessKeyId": old.ID, "secretAccessKey": old.Secret}})
		}
		names = append(names, id)
	}
	notes := []string{fmt.Sprintf("IAM user %s has one active key, held by set %s", user, strings.Join(names, ", "))}
	if role, ok := r.given(inputs.RoleToAssume); ok {
		e.AWS.AddRole(role, awstest.Trust{Issuer: e.OIDC, Audience: r.value(inputs.Audience), Subject: "*"})
		for k, v := range e.OIDC.Env() {
			r.vars[k] = v
		}
		notes = append(notes, "role "+role+" trusts the fake GitHub OIDC endpoint")
	} else {
		notes = append(notes, "ambient AWS credentials: a key of IAM user "+adminUser+" in the fake account")
	}
	return notes
}
