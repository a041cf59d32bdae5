package localrun

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/suggest"
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
	// Unknown are the flags (and --input names) that name nothing, each a message with
	// the closest name when one is close.
	Unknown []string
}

// flagSpec is one flag: an input of action.yml, or one of the runner's own.
type flagSpec struct {
	name    string
	boolean bool // may be given bare (true) or followed by true or false
	set     func(string) error
}

// ParseArgs reads the command line. Every input of action.yml is a flag of the same
// name; every flag takes its value as --name value or --name=value (one dash or two).
// A boolean (an input whose default is true or false, or --emulator) may also stand
// alone, meaning true; the word after it is its value only when it is a boolean (true,
// false, and their YAML 1.2 forms), so --dry-run --audit is two flags. A flag that names
// nothing is listed in Options.Unknown with the closest name, not an error here. It
// returns flag.ErrHelp for -h and --help.
func ParseArgs(args []string, inputs []Input) (Options, error) {
	opts := Options{Inputs: map[string]string{}, View: ViewAuto}
	specs := flagSpecs(&opts, inputs)
	for i := 0; i < len(args); i++ {
		arg := args[i]
		name, value, hasValue, isFlag := splitFlag(arg)
		switch {
		case !isFlag:
			return opts, fmt.Errorf("unexpected argument %q: every value is given with a flag, such as --credential-id funnel-aws", arg)
		case name == "h" || name == "help":
			return opts, flag.ErrHelp
		}
		spec, known := specs[name]
		if !known {
			opts.Unknown = append(opts.Unknown, unknownFlag(name, specs))
			if !hasValue && i+1 < len(args) && !looksLikeFlag(args[i+1]) {
				i++ // its value goes with it
			}
			continue
		}
		switch {
		case hasValue:
		case spec.boolean && i+1 < len(args) && isBool(args[i+1]):
			i++
			value = args[i]
		case spec.boolean:
			value = "true"
		case i+1 < len(args) && !strings.HasPrefix(args[i+1], "--"):
			i++
			value = args[i]
		default:
			return opts, fmt.Errorf("flag --%s needs a value: --%s VALUE or --%s=VALUE", name, name, name)
		}
		if err := spec.set(value); err != nil {
			if name == "input" { // its value may be a secret: not echoed
				return opts, fmt.Errorf("invalid value for flag --input: %w", err)
			}
			return opts, fmt.Errorf("invalid value %q for flag --%s: %w", value, name, err)
		}
	}
	return opts, nil
}

// flagSpecs are every flag: one per input, then --input, --emulator and --view.
func flagSpecs(opts *Options, inputs []Input) map[string]flagSpec {
	specs := map[string]flagSpec{}
	known := map[string]bool{}
	for _, in := range inputs {
		known[in.Name] = true
		specs[in.Name] = flagSpec{name: in.Name, boolean: in.Boolean(), set: func(v string) error {
			opts.Inputs[in.Name] = v
			return nil
		}}
	}
	specs["input"] = flagSpec{name: "input", set: func(s string) error {
		name, value, ok := strings.Cut(s, "=")
		switch {
		case !ok:
			// Not shown: NAME=VALUE without its "=" may be a secret value alone.
			return errors.New(`want NAME=VALUE, such as --input credential-id=funnel-aws; the value given has no "="`)
		case !known[name]:
			opts.Unknown = append(opts.Unknown, unknownInput(name, known))
			return nil
		}
		opts.Inputs[name] = value
		return nil
	}}
	specs["emulator"] = flagSpec{name: "emulator", boolean: true, set: func(s string) error {
		v, ok := parseBool(s)
		if !ok {
			return errors.New("want true or false")
		}
		opts.Emulator = v
		return nil
	}}
	specs["view"] = flagSpec{name: "view", set: viewValue{&opts.View}.Set}
	return specs
}

type viewValue struct{ v *View }

func (f viewValue) Set(s string) error {
	switch View(s) {
	case ViewAuto, ViewGitHub, ViewRaw:
		*f.v = View(s)
		return nil
	}
	return fmt.Errorf("want auto, github or raw, got %q", s)
}

// splitFlag reads one argument as a flag: -name, --name, or either with =value.
func splitFlag(arg string) (name, value string, hasValue, isFlag bool) {
	if arg == "-" || arg == "--" || !strings.HasPrefix(arg, "-") {
		return "", "", false, false
	}
	body := strings.TrimPrefix(strings.TrimPrefix(arg, "-"), "-")
	name, value, hasValue = strings.Cut(body, "=")
	return name, value, hasValue, name != ""
}

// looksLikeFlag says whether the argument after an unknown flag is another flag rather
// than the unknown flag's value.
func looksLikeFlag(arg string) bool {
	_, _, _, isFlag := splitFlag(arg)
	return isFlag
}

// isBool says whether s is a boolean as the inputs read it (YAML 1.2's forms).
func isBool(s string) bool {
	_, ok := parseBool(s)
	return ok
}

func parseBool(s string) (v, ok bool) {
	switch s {
	case "true", "True", "TRUE":
		return true, true
	case "false", "False", "FALSE":
		return false, true
	}
	return false, false
}

// unknownFlag says that --name names nothing, with the closest flag when one is close.
func unknownFlag(name string, specs map[string]flagSpec) string {
	names := make([]string, 0, len(specs))
	for n := range specs {
		names = append(names, n)
	}
	sort.Strings(names)
	msg := "unknown flag --" + name
	if best, ok := suggest.Closest(name, names); ok {
		return msg + "; did you mean --" + best + "?"
	}
	return msg + "; --help lists the flags"
}

// unknownInput says that --input NAME= names no input, with the closest one.
func unknownInput(name string, known map[string]bool) string {
	names := make([]string, 0, len(known))
	for n := range known {
		names = append(names, n)
	}
	sort.Strings(names)
	msg := fmt.Sprintf("--input %s=…: action.yml declares no input %q", name, name)
	if best, ok := suggest.Closest(name, names); ok {
		return msg + "; did you mean " + best + "?"
	}
	return msg
}

// Usage prints the help: every input of action.yml, then the other flags.
func Usage(w io.Writer, inputs []Input) {
	fmt.Fprint(w, `Usage: soracom-credentials-action [flags]     (from a clone: go run . [flags])

Runs the action outside GitHub. Each input of action.yml is a flag that sets
INPUT_<NAME> (--credential-id funnel-aws, --credential-id=funnel-aws, or
--input credential-id=funnel-aws); inputs not given come from INPUT_* variables,
else from their default. With no flags it reads INPUT_* only, as GitHub's runner
sets them. A flag or INPUT_* variable that names no input is an error here (a
warning on GitHub), with the closest name.

Inputs (from action.yml):
`)
	for _, in := range inputs {
		arg := " VALUE"
		if in.Boolean() {
			arg = " [true|false]"
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
        run at them: no account needed. A dry run unless --dry-run false is given.
        Not with --soracom-endpoint: the emulator is the endpoint.
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
