package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/action"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/ghtest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/localrun"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/runnerview"
)

// uses is how a workflow names the action; the header of each step shows it.
const uses = "soracom-credentials-action/soracom-credentials-action@v1"

// demo is the world the scenes play in: the emulators and a scratch directory for the
// runner's files.
type demo struct {
	w   io.Writer
	emu *localrun.Emulators
	// gh is the fake GitHub secrets API the AuthKey scenes write to.
	gh      *ghtest.Server
	dir     string
	step    int
	secrets []string // seeded secrets the workflow never sees, kept for the leak test
}

func newDemo(w io.Writer, setenv func(k, v string) error) (*demo, error) {
	emu, err := localrun.StartEmulators()
	if err != nil {
		return nil, err
	}
	d := &demo{w: w, emu: emu}
	if d.gh, err = ghtest.New(); err != nil {
		emu.Close()
		return nil, err
	}
	d.gh.AddToken(demoGitHubToken, ghtest.Access{Read: true, Write: true})
	if d.dir, err = os.MkdirTemp("", "soracom-credentials-action-demo"); err != nil {
		d.gh.Close()
		emu.Close()
		return nil, err
	}
	for k, v := range emu.AWSEnv() {
		if err := setenv(k, v); err != nil {
			d.close()
			return nil, err
		}
	}
	return d, nil
}

func (d *demo) close() {
	d.gh.Close()
	d.emu.Close()
	_ = os.RemoveAll(d.dir)
}

// play runs one scene as the runner runs a step, and renders it.
func (d *demo) play(ctx context.Context, s scene) error {
	d.step++
	fmt.Fprintf(d.w, "\n━━━ Step %d: %s\n", d.step, s.title)
	if s.before != nil {
		s.before()
	}
	if s.inputs != nil {
		s.with = s.inputs()
	}
	env, files, err := d.runnerEnv(s.with)
	if err != nil {
		return err
	}
	var stdout bytes.Buffer
	code := action.Run(ctx, action.Env{Getenv: func(k string) string { return env[k] }, Stdout: &stdout})
	step := runnerview.Step{Uses: uses, Stdout: stdout.String(), Result: runnerview.Result{ExitCode: code}}
	for _, in := range s.with {
		step.With = append(step.With, runnerview.Input{Name: in.name, Value: in.value})
		if isSecret(in.name) {
			// A value the workflow takes from ${{ secrets.X }} is hidden from the start.
			step.Secrets = append(step.Secrets, in.value)
		}
	}
	step.Output = readFile(files[0])
	step.Summary = readFile(files[1])
	if err := runnerview.Render(d.w, step); err != nil {
		return err
	}
	if s.after != nil {
		s.after()
	}
	return nil
}

// runnerEnv is what the runner gives the container: every input with action.yml's
// default unless the step sets it, fresh output and summary files, the OIDC token
// endpoint of a job with `id-token: write`.
func (d *demo) runnerEnv(with []input) (map[string]string, [2]string, error) {
	files := [2]string{filepath.Join(d.dir, fmt.Sprintf("set_output_%d", d.step)), filepath.Join(d.dir, fmt.Sprintf("step_summary_%d", d.step))}
	workspace := filepath.Join(d.dir, "workspace")
	if err := os.MkdirAll(workspace, 0o755); err != nil {
		return nil, files, err
	}
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_WORKSPACE": workspace,
		"GITHUB_OUTPUT": files[0], "GITHUB_STEP_SUMMARY": files[1],
		"GITHUB_REPOSITORY": demoRepository, "GITHUB_API_URL": d.gh.URL,
	}
	for k, v := range d.emu.OIDC.Env() {
		env[k] = v
	}
	for _, spec := range inputs.Specs() {
		env[inputs.EnvName(spec.Name)] = spec.Default
	}
	for _, in := range with {
		env[inputs.EnvName(in.name)] = in.value
	}
	return env, files, nil
}

func isSecret(name string) bool {
	for _, spec := range inputs.Specs() {
		if spec.Name == name {
			return spec.Secret
		}
	}
	return false
}

func readFile(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(data)
}

func (d *demo) epilogue() {
	fmt.Fprintf(d.w, "\n━━━ Done: %d requests reached the SORACOM emulator, %d the AWS fakes and %d the fake GitHub API; %d SORACOM API tokens are still alive.\n",
		len(d.emu.SORACOM.Requests()), len(d.emu.AWS.Requests()), len(d.gh.Requests()), d.emu.SORACOM.LiveSessions())
	fmt.Fprintln(d.w, "Run it yourself: go run . --emulator --credential-id funnel-aws (add --iam-user-name soracom-funnel for a rotation, --rotate-auth-key true for the AuthKey).")
}
