package localrun

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// View says how a run's log is shown.
type View string

// Views.
const (
	// ViewAuto renders on a terminal outside GitHub, and prints the protocol otherwise.
	ViewAuto View = "auto"
	// ViewGitHub renders the log as github.com shows it.
	ViewGitHub View = "github"
	// ViewRaw prints the runner protocol as it is.
	ViewRaw View = "raw"
)

// Options are what the command line asked for.
type Options struct {
	// Inputs set by flags, by input name.
	Inputs   map[string]string
	Emulator bool
	View     View
}

// inputValue is the flag of one input. A boolean input (default true or false) may be
// given bare: --dry-run means --dry-run=true.
type inputValue struct {
	name    string
	boolean bool
	set     map[string]string
}

func (v inputValue) String() string   { return "" }
func (v inputValue) IsBoolFlag() bool { return v.boolean }
func (v inputValue) Set(s string) error {
	v.set[v.name] = s
	return nil
}

// inputPair is --input NAME=VALUE.
type inputPair struct {
	known map[string]bool
	set   map[string]string
}

func (p inputPair) String() string { return "" }
func (p inputPair) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("want NAME=VALUE, got %q", s)
	}
	if !p.known[name] {
		return fmt.Errorf("action.yml declares no input %q", name)
	}
	p.set[name] = value
	return nil
}

type viewValue struct{ v *View }

func (f viewValue) String() string {
	if f.v == nil {
		return ""
	}
	return string(*f.v)
}

func (f viewValue) Set(s string) error {
	switch View(s) {
	case ViewAuto, ViewGitHub, ViewRaw:
		*f.v = View(s)
		return nil
	}
	return fmt.Errorf("want auto, github or raw, got %q", s)
}

// ParseArgs reads the command line. Every input of action.yml is a flag of the same
// name. It returns ErrHelp for -h and --help.
func ParseArgs(args []string, inputs []Input) (Options, error) {
	opts := Options{Inputs: map[string]string{}, View: ViewAuto}
	fs := flag.NewFlagSet("soracom-credentials-action", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	known := map[string]bool{}
	for _, in := range inputs {
		known[in.Name] = true
		fs.Var(inputValue{name: in.Name, boolean: in.Boolean(), set: opts.Inputs}, in.Name, in.Description)
	}
	fs.Var(inputPair{known: known, set: opts.Inputs}, "input", "set any input: --input NAME=VALUE")
	fs.BoolVar(&opts.Emulator, "emulator", false, "")
	fs.Var(viewValue{&opts.View}, "view", "")
	if err := fs.Parse(args); err != nil {
		return opts, err
	}
	if fs.NArg() > 0 {
		return opts, fmt.Errorf("unexpected argument %q: every value is given with a flag, such as --credential-id funnel-aws", fs.Arg(0))
	}
	return opts, nil
}

// Usage prints the help: every input of action.yml, then the other flags.
func Usage(w io.Writer, inputs []Input) {
	fmt.Fprint(w, `Usage: soracom-credentials-action [flags]     (from a clone: go run . [flags])

Runs the action outside GitHub. Each input of action.yml is a flag that sets
INPUT_<NAME> (--credential-id funnel-aws, or --input credential-id=funnel-aws);
inputs not given come from INPUT_* variables, else from their default. With no
flags it reads INPUT_* only, as GitHub's runner sets them.

Inputs (from action.yml):
`)
	for _, in := range inputs {
		arg := " VALUE"
		if in.Boolean() {
			arg = "[=true|false]"
		}
		note := "default " + quoteEmpty(in.Default)
		if in.Required {
			note = "required"
		}
		fmt.Fprintf(w, "  --%s%s  (%s)\n        %s\n", in.Name, arg, note, in.Description)
	}
	fmt.Fprint(w, `
Other flags:
  --input NAME=VALUE
        Set any input by its action.yml name (repeatable).
  --emulator
        Start the in-repo SORACOM emulator and AWS fakes on loopback and point the
        run at them: no account needed. A dry run unless --dry-run=false is given.
        The SORACOM AuthKey defaults to the demo one (keyId-demo / secret-demo).
  --view auto|github|raw
        github: show the log as github.com does (masks applied, annotations,
        groups, then outputs and job summary); raw: print the runner protocol.
        auto (default): github on a terminal when GITHUB_ACTIONS is unset.
  -h, --help
        Show this help.
`)
}

func quoteEmpty(s string) string {
	if s == "" {
		return "empty"
	}
	return s
}
