// Command bench measures the job this action does, create or update one aws-credentials
// set, done three ways: by the action's binary, by a Python script using requests
// (bench/scripts/register.py) and by a curl + jq script (bench/scripts/register.sh), the
// way people do it today. All three talk to the SORACOM emulator over TLS on loopback,
// with latency injected per request and per new connection so that round trips and
// handshakes show, and the CA given to each client the standard way (SSL_CERT_FILE,
// REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE).
//
// Each tool runs every scenario -runs times, interleaved; the medians go to -out as
// Markdown, with the command line and the machine. Run it from the module root:
//
//	go run ./bench/cmd/bench -runs 10 -out BENCHMARKS.md
//
// It takes a few minutes and is not part of CI.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// The AuthKey the emulator accepts; the emulator lives only as long as the benchmark.
const (
	authKeyID = "keyId-bench"
	authKey   = "secret-bench"
)

// options are the command-line flags.
type options struct {
	runs        int
	out         string
	latency     time.Duration
	connLatency time.Duration
	tools       string
	scenarios   string
	rev         string
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "bench:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, progress io.Writer) error {
	o, err := parseOptions(args, progress)
	if err != nil {
		return err
	}
	tools, err := pick(allTools(), o.tools, func(t tool) string { return t.name })
	if err != nil {
		return fmt.Errorf("-tools: %w", err)
	}
	scenarios, extras, err := chooseScenarios(o.scenarios)
	if err != nil {
		return fmt.Errorf("-scenarios: %w", err)
	}

	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "soracom-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	action := filepath.Join(work, "action")
	built, err := buildAction(ctx, root, o.rev, action, progress)
	if err != nil {
		return err
	}

	srv, ca, err := startEmulator(o, work)
	if err != nil {
		return err
	}
	defer srv.Close()

	b := &bench{
		opts:   o,
		srv:    srv,
		ca:     ca,
		work:   work,
		action: action,
		root:   root,
		log:    progress,
	}
	res, err := b.measure(ctx, tools, scenarios)
	if err != nil {
		return err
	}
	rep := report{opts: o, results: res}
	if err := b.measureExtras(ctx, extras, &rep); err != nil {
		return err
	}
	rep.machine = append([]fact{{"action built from", built}}, describeMachine(ctx)...)
	rep.command = strings.Join(append([]string{"go run ./bench/cmd/bench"}, args...), " ")
	return writeReportTo(o.out, rep)
}

// startEmulator starts the SORACOM emulator over TLS with the latencies of o, and
// writes its CA certificate into work for the clients to trust.
func startEmulator(o options, work string) (srv *soracomtest.Server, ca string, err error) {
	srv, err = soracomtest.StartTLSServer(
		soracomtest.WithLatency(o.latency),
		soracomtest.WithConnLatency(o.connLatency),
	)
	if err != nil {
		return nil, "", err
	}
	srv.AddAuthKey(authKeyID, authKey)
	ca = filepath.Join(work, "ca.pem")
	if err := os.WriteFile(ca, srv.CACertPEM(), 0o644); err != nil {
		_ = srv.Close()
		return nil, "", err
	}
	return srv, ca, nil
}

// parseOptions reads the command line.
func parseOptions(args []string, progress io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(progress)
	fs.IntVar(&o.runs, "runs", 10, "measured runs per tool and scenario (at least 1)")
	fs.StringVar(&o.out, "out", "-", "Markdown file to write, - for stdout")
	fs.DurationVar(&o.latency, "latency", 30*time.Millisecond, "latency the emulator adds to every request")
	fs.DurationVar(&o.connLatency, "conn-latency", 30*time.Millisecond, "latency the emulator adds to every new connection")
	fs.StringVar(&o.tools, "tools", "", "comma-separated tools to run (default all: "+strings.Join(toolNames(), ",")+")")
	fs.StringVar(&o.rev, "rev", "", "git revision of the action to build (default: the working tree as it is)")
	fs.StringVar(&o.scenarios, "scenarios", "", "comma-separated scenarios to run (default all: "+strings.Join(scenarioNames(), ",")+")")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if o.runs < 1 {
		return o, errors.New("-runs must be at least 1")
	}
	return o, nil
}

// measureExtras measures the rotation, the audit, many sets, where sets are used and
// the AuthKey rotation when the scenarios name them, into rep.
func (b *bench) measureExtras(ctx context.Context, extras map[string]bool, rep *report) error {
	var err error
	if extras[rotationScenario] {
		if rep.rotation, err = b.measureRotation(ctx); err != nil {
			return err
		}
	}
	if extras[auditScenario] {
		if rep.audit, err = b.measureAudit(ctx); err != nil {
			return err
		}
	}
	if extras[manyScenario] {
		if rep.many, err = b.measureMany(ctx); err != nil {
			return err
		}
	}
	if extras[refsScenario] {
		if rep.refs, err = b.measureReferences(ctx); err != nil {
			return err
		}
	}
	if extras[authKeyScenario] {
		if rep.authKey, err = b.measureAuthKey(ctx); err != nil {
			return err
		}
	}
	return nil
}

// writeReportTo writes the report to the file out, or to stdout for "-".
func writeReportTo(out string, r report) error {
	var w io.Writer = os.Stdout
	if out != "-" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	if err := writeReport(w, r); err != nil {
		return err
	}
	if f, ok := w.(*os.File); ok && f != os.Stdout {
		return f.Close()
	}
	return nil
}

// pick returns the items named in the comma-separated list, or all when it is empty.
func pick[T any](all []T, list string, name func(T) string) ([]T, error) {
	if list == "" {
		return all, nil
	}
	var out []T
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		i := slices.IndexFunc(all, func(t T) bool { return name(t) == n })
		if i < 0 {
			return nil, fmt.Errorf("unknown name %q", n)
		}
		out = append(out, all[i])
	}
	return out, nil
}

// extraScenarios are the scenarios that only the action runs, each with its own
// section of the report.
var extraScenarios = []string{rotationScenario, auditScenario, manyScenario, refsScenario, authKeyScenario}

// chooseScenarios returns the registration scenarios a -scenarios list names, and which
// of the extra scenarios it names; an empty list names them all.
func chooseScenarios(list string) (s []scenario, extras map[string]bool, err error) {
	extras = map[string]bool{}
	if list == "" {
		for _, n := range extraScenarios {
			extras[n] = true
		}
		return allScenarios(), extras, nil
	}
	var rest []string
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		if slices.Contains(extraScenarios, n) {
			extras[n] = true
		} else {
			rest = append(rest, n)
		}
	}
	if len(rest) == 0 {
		return nil, extras, nil
	}
	s, err = pick(allScenarios(), strings.Join(rest, ","), func(s scenario) string { return s.name })
	return s, extras, err
}

// buildAction builds the action's binary to out, from the working tree or, with rev,
// from that git revision exported to a scratch directory, and says what it built.
func buildAction(ctx context.Context, root, rev, out string, progress io.Writer) (string, error) {
	git := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = root
		b, err := cmd.Output()
		return strings.TrimSpace(string(b)), err
	}
	src, built := root, "the working tree"
	if rev != "" {
		commit, err := git("rev-parse", "--verify", rev+"^{commit}")
		if err != nil {
			return "", fmt.Errorf("-rev %s: %w", rev, err)
		}
		src = filepath.Join(filepath.Dir(out), "src")
		if err := os.Mkdir(src, 0o755); err != nil {
			return "", err
		}
		archive := exec.CommandContext(ctx, "sh", "-c", `git archive "$1" | tar -x -C "$2"`, "sh", commit, src)
		archive.Dir, archive.Stderr = root, progress
		if err := archive.Run(); err != nil {
			return "", fmt.Errorf("export %s: %w", rev, err)
		}
		built = "commit " + commit[:12]
	} else if commit, err := git("rev-parse", "--short=12", "HEAD"); err == nil {
		built = "the working tree at commit " + commit
		if status, err := git("status", "--porcelain", "--untracked-files=no"); err == nil && status != "" {
			built += ", with uncommitted changes"
		}
	}
	fmt.Fprintf(progress, "bench: building the action from %s\n", built)
	// Built as the Dockerfile builds it, so the numbers are those of the binary that ships:
	// without the local runner's emulators (noemulator), stripped.
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-tags=noemulator", "-ldflags=-s -w", "-o", out, ".")
	build.Dir, build.Stdout, build.Stderr = src, progress, progress
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("go build: %w", err)
	}
	return built, nil
}

// moduleRoot finds the directory of go.mod, so the action and the scripts are found
// wherever the command is started from within the module.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run bench from within the module (go env GOMOD is empty)")
	}
	return filepath.Dir(gomod), nil
}
