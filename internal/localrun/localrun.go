// Package localrun runs the action from a terminal the way a person would guess: every
// input of action.yml is a flag that sets its INPUT_* variable, --emulator points the
// run at the in-repo SORACOM emulator and AWS fakes, and on a terminal the log is shown
// as github.com shows it (see internal/runnerview). With no arguments and not on a
// terminal it runs the action exactly as GitHub's runner does.
package localrun

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/action"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/runner"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/runnerview"
)

// Env is what Main reads and writes.
type Env struct {
	Args      []string // without the program name
	ActionYML []byte
	Getenv    func(string) string
	// Environ lists the process environment, to find INPUT_ variables that name no
	// input; nil lists nothing.
	Environ func() []string
	// Setenv changes the process environment. Only --emulator uses it: the AWS SDK reads
	// its endpoint and credential variables from the process, not from Getenv.
	Setenv         func(key, value string) error
	Stdout, Stderr io.Writer
	// Terminal says stdout is a terminal.
	Terminal bool
}

// exitUsage is the exit code of a command line that cannot run (an unknown flag, a
// flag without its value): bad input like any other, so 1, as everywhere the action
// runs (docs/run-anywhere.md), not the 2 of Go's flag package.
const exitUsage = 1

// Main runs the command line and returns the exit code.
func Main(ctx context.Context, env Env) int {
	if len(env.Args) == 0 && !rendered(ViewAuto, env) {
		// How GitHub's runner starts the container: nothing but INPUT_* variables.
		return action.Run(ctx, action.Env{Getenv: env.Getenv, Environ: env.Environ, Stdout: env.Stdout})
	}
	decl, err := ReadInputs(env.ActionYML)
	if err != nil {
		fmt.Fprintln(env.Stderr, "soracom-credentials-action:", err)
		return exitUsage
	}
	opts, err := ParseArgs(env.Args, decl)
	if errors.Is(err, flag.ErrHelp) {
		Usage(env.Stdout, decl)
		return 0
	}
	if err = checkCommandLine(env, opts, err); err != nil {
		action.NewLog(env.Stderr, env.Getenv).Errorf("%v\nRun with --help to see the flags.", err)
		return exitUsage
	}
	r := &runSetup{env: env, opts: opts, decl: decl, vars: map[string]string{}, defaults: map[string]string{}}
	for _, in := range decl {
		r.defaults[in.Name] = in.Default
	}
	for name, v := range opts.Inputs {
		r.vars[inputs.EnvName(name)] = v
	}
	if opts.Emulator {
		stop, notes, err := withEmulators(r)
		if err != nil {
			fmt.Fprintln(env.Stderr, "soracom-credentials-action: --emulator:", err)
			return 1
		}
		defer stop()
		for _, n := range notes {
			fmt.Fprintln(env.Stderr, "emulator:", n)
		}
	}
	if rendered(opts.View, env) {
		return r.runRendered(ctx)
	}
	return action.Run(ctx, action.Env{Getenv: r.getenv, Environ: env.Environ, Stdout: env.Stdout})
}

// checkCommandLine returns the usage error of the command line, if any: a parse error,
// flags that name nothing (and, for a rendered run, INPUT_ variables that name nothing;
// outside GitHub; on GitHub they are warnings, as the runner warns about an unexpected
// input), or --emulator with an endpoint of its own.
func checkCommandLine(env Env, opts Options, parseErr error) error {
	if parseErr != nil {
		return parseErr
	}
	var strays []string
	if rendered(opts.View, env) && env.Environ != nil {
		// The rendered run tells the action it is on GitHub, where INPUT_ variables that
		// name no input are only warned about: they are checked here, as the flags are.
		strays = inputs.Strays(env.Environ())
	}
	if len(opts.Unknown)+len(strays) > 0 {
		if !runner.OnGitHub(env.Getenv) {
			return errors.New(strings.Join(slices.Concat(opts.Unknown, strays), "\n"))
		}
		log := action.NewLog(env.Stderr, env.Getenv)
		for _, u := range opts.Unknown {
			log.Warningf("%s (ignored)", u)
		}
		for _, s := range strays {
			log.Warningf("%s", s)
		}
	}
	if !opts.Emulator {
		return nil
	}
	if _, ok := opts.Inputs[inputs.Endpoint]; ok {
		return fmt.Errorf("--emulator and --%s both say where SORACOM is: give one (--emulator starts its own)", inputs.Endpoint)
	}
	if env.Getenv(inputs.EnvName(inputs.Endpoint)) != "" {
		return fmt.Errorf("--emulator and %s both say where SORACOM is: unset the variable, or leave out --emulator", inputs.EnvName(inputs.Endpoint))
	}
	return nil
}

// rendered says whether the log is shown as github.com shows it.
func rendered(v View, env Env) bool {
	switch v {
	case ViewGitHub:
		return true
	case ViewRaw:
		return false
	}
	return env.Terminal && !runner.OnGitHub(env.Getenv)
}

// runSetup is one run: the process environment with the command line's variables on top.
type runSetup struct {
	env      Env
	opts     Options
	vars     map[string]string
	decl     []Input
	defaults map[string]string // action.yml's, by input name
}

func (r *runSetup) getenv(k string) string {
	if v, ok := r.vars[k]; ok {
		return v
	}
	return r.env.Getenv(k)
}

// given returns an input the command line or the environment set to a non-empty value.
func (r *runSetup) given(name string) (string, bool) {
	v := r.getenv(inputs.EnvName(name))
	return v, v != ""
}

// value returns an input as the action will see it: given, else action.yml's default.
func (r *runSetup) value(name string) string {
	if v, ok := r.given(name); ok {
		return v
	}
	return r.defaults[name]
}

// runRendered runs the action as if on GitHub (masks, annotations, output and summary
// files) and renders what it printed and wrote.
func (r *runSetup) runRendered(ctx context.Context) int {
	dir, err := os.MkdirTemp("", "soracom-credentials-action-run")
	if err != nil {
		fmt.Fprintln(r.env.Stderr, "soracom-credentials-action:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	files := map[string]*tail{}
	for _, name := range []string{"GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"} {
		path := r.getenv(name)
		if path == "" {
			path = filepath.Join(dir, name)
		}
		files[name] = startTail(path)
		r.vars[name] = path
	}
	r.vars["GITHUB_ACTIONS"] = "true"
	log := runnerview.NewLog(r.env.Stdout)
	r.header(log)
	code := action.Run(ctx, action.Env{Getenv: r.getenv, Stdout: log})
	res := runnerview.Result{ExitCode: code, Output: files["GITHUB_OUTPUT"].read(), Summary: files["GITHUB_STEP_SUMMARY"].read()}
	if err := log.Finish(res); err != nil {
		fmt.Fprintln(r.env.Stderr, "soracom-credentials-action:", err)
		return 1
	}
	return code
}

// header starts the log as GitHub starts a step: the inputs given, in action.yml's
// order, with the secret ones hidden from the start, as `${{ secrets.X }}` values are.
func (r *runSetup) header(log *runnerview.Log) {
	secret := map[string]bool{}
	for _, spec := range inputs.Specs() {
		secret[spec.Name] = spec.Secret
	}
	var with []runnerview.Input
	for _, in := range r.decl {
		v, ok := r.given(in.Name)
		if !ok {
			continue
		}
		if secret[in.Name] {
			log.AddMask(v)
		}
		with = append(with, runnerview.Input{Name: in.Name, Value: v})
	}
	log.Header("soracom-credentials-action (local run)", with)
}

// tail reads what a run appends to a file that may already hold earlier steps' lines.
type tail struct {
	path   string
	offset int64
}

func startTail(path string) *tail {
	t := &tail{path: path}
	if fi, err := os.Stat(path); err == nil {
		t.offset = fi.Size()
	}
	return t
}

func (t *tail) read() string {
	data, err := os.ReadFile(t.path)
	if err != nil || int64(len(data)) < t.offset {
		return ""
	}
	return string(data[t.offset:])
}
