// Command soracom-emulator serves the in-memory SORACOM API emulator on a socket, for
// the local demo: point the action's endpoint at the URL it prints and register
// credential sets without a SORACOM account.
//
// It serves both coverages, as two emulators that share nothing: Japan (jp) on -addr
// and global (g) on -g-addr. It prints the jp base URL (without /v1) as the first line
// on stdout and the g base URL as the second, then serves until SIGINT or SIGTERM. It
// listens on loopback unless told otherwise, because it accepts the demo auth key from
// anyone who can reach it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		stop()
		os.Exit(0) // the help was asked for and printed
	case err != nil:
		fmt.Fprintln(os.Stderr, "soracom-emulator:", err)
		stop()
		os.Exit(1) // like the action: a failure is 1, whatever its cause
	}
}

// listFlag collects a flag given several times or as a comma-separated list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// settings are the command line's.
type settings struct {
	addr, gAddr, keyID, key string
	caOut                   string
	rateLimit               int
	useTLS, logRequests     bool
	certHosts               listFlag
	latency, connLatency    time.Duration
}

// parseFlags reads the command line. Every flag takes -name value or -name=value, the
// boolean ones too (-tls false); -h and --help print the flags on stdout and return
// flag.ErrHelp.
func parseFlags(args []string, stdout, stderr io.Writer) (settings, error) {
	var s settings
	fs := flag.NewFlagSet("soracom-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	fs.StringVar(&s.addr, "addr", soracomtest.DefaultAddr, "address to listen on for the jp coverage")
	fs.StringVar(&s.gAddr, "g-addr", "", "address to listen on for the g coverage (default: the host of -addr, a free port)")
	fs.IntVar(&s.rateLimit, "rate-limit", soracomtest.DefaultRateLimit, "requests allowed per API per minute on each coverage (0: no limit and no rate-limit headers)")
	fs.StringVar(&s.keyID, "auth-key-id", soracomtest.DemoAuthKeyID, "auth key ID to accept")
	fs.StringVar(&s.key, "auth-key", soracomtest.DemoAuthKey, "auth key to accept")
	fs.BoolVar(&s.useTLS, "tls", false, "serve HTTPS with a certificate from a fresh CA")
	fs.Var(&s.certHosts, "cert-host", "extra host name or IP for the TLS certificate (repeatable, or comma-separated)")
	fs.StringVar(&s.caOut, "ca-out", "", "file to write the CA certificates (PEM, one per coverage) to, with -tls")
	fs.DurationVar(&s.latency, "latency", 0, "delay before answering each request")
	fs.DurationVar(&s.connLatency, "conn-latency", 0, "delay for each new connection")
	fs.BoolVar(&s.logRequests, "log", false, "print each request to stderr, secrets redacted")
	err := fs.Parse(boolValuesJoined(args, fs))
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprintln(stdout, "Usage: soracom-emulator [flags]    (from a clone: go run ./cmd/soracom-emulator [flags])\n\n"+
			"Serves the SORACOM API emulator for both coverages and prints the jp base URL, then the g one; stops on Ctrl-C.\n\nFlags:")
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return s, err
	case err != nil:
		return s, fmt.Errorf("%w (--help lists the flags)", err)
	}
	switch {
	case fs.NArg() > 0:
		return s, fmt.Errorf("unexpected arguments: %q", fs.Args())
	case s.caOut != "" && !s.useTLS:
		return s, errors.New("-ca-out needs -tls")
	case len(s.certHosts) > 0 && !s.useTLS:
		return s, errors.New("-cert-host needs -tls")
	}
	return s, nil
}

// boolValuesJoined turns "-tls false" into "-tls=false": the flag package reads a
// boolean flag's value only after "=", and would take "false" for an argument.
func boolValuesJoined(args []string, fs *flag.FlagSet) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		name := strings.TrimLeft(a, "-")
		f := fs.Lookup(name)
		isBool := false
		if f != nil && strings.HasPrefix(a, "-") {
			b, ok := f.Value.(interface{ IsBoolFlag() bool })
			isBool = ok && b.IsBoolFlag()
		}
		if isBool && !strings.Contains(name, "=") && i+1 < len(args) {
			if _, err := strconv.ParseBool(args[i+1]); err == nil {
				out = append(out, a+"="+args[i+1])
				i++
				continue
			}
		}
		out = append(out, a)
	}
	return out
}

// run serves until ctx ends; main wires it to the signals, tests cancel it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	s, err := parseFlags(args, stdout, stderr)
	if err != nil {
		return err
	}
	for _, addr := range []string{s.addr, s.gAddr} {
		if host, _, err := net.SplitHostPort(addr); err == nil {
			if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
				fmt.Fprintf(stderr, "soracom-emulator: warning: %s is not a loopback address; anyone who can reach it can use the demo auth key\n", addr)
			}
		}
	}
	cov, err := startCoverages(s, stderr)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(stdout, "%s\n%s\n", cov.JP.URL(), cov.G.URL()); err != nil {
		_ = cov.Close()
		return err
	}

	<-ctx.Done()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return errors.Join(cov.JP.Shutdown(shutdownCtx), cov.G.Shutdown(shutdownCtx))
}

// startCoverages starts an emulator per coverage as s says, with the AuthKey on both
// and the CA file in place.
func startCoverages(s settings, stderr io.Writer) (*soracomtest.Coverages, error) {
	jp, err := startEmulator(s, s.addr, soracomtest.CoverageJP, stderr)
	if err != nil {
		return nil, err
	}
	gAddr := s.gAddr
	if host, _, err := net.SplitHostPort(s.addr); gAddr == "" && err == nil {
		gAddr = net.JoinHostPort(host, "0")
	}
	g, err := startEmulator(s, gAddr, soracomtest.CoverageG, stderr)
	if err != nil {
		_ = jp.Close()
		return nil, err
	}
	cov := &soracomtest.Coverages{JP: jp, G: g}
	cov.AddAuthKey(s.keyID, s.key)
	if s.caOut != "" {
		if err := os.WriteFile(s.caOut, append(jp.CACertPEM(), g.CACertPEM()...), 0o644); err != nil {
			_ = cov.Close()
			return nil, fmt.Errorf("write CA certificates: %w", err)
		}
	}
	return cov, nil
}

// startEmulator starts one coverage's emulator on addr.
func startEmulator(s settings, addr, coverage string, stderr io.Writer) (*soracomtest.Server, error) {
	opts := []soracomtest.Option{
		soracomtest.WithAddr(addr),
		soracomtest.WithLatency(s.latency),
		soracomtest.WithConnLatency(s.connLatency),
		soracomtest.WithCertHosts(s.certHosts...),
		soracomtest.WithRateLimit(s.rateLimit),
	}
	if s.logRequests {
		opts = append(opts, soracomtest.WithRequestObserver(func(r soracomtest.Request) {
			fmt.Fprintln(stderr, coverage+" "+describe(r))
		}))
	}
	start := soracomtest.StartServer
	if s.useTLS {
		start = soracomtest.StartTLSServer
	}
	srv, err := start(opts...)
	if err != nil {
		return nil, fmt.Errorf("coverage %s: %w", coverage, err)
	}
	return srv, nil
}

// redacted replaces secret values in printed requests.
const redacted = "***"

// describe prints a request log entry for -log. It never prints a secret: the auth
// headers are left out, authKey is redacted, and so is every credential field the API
// itself would not return.
func describe(r soracomtest.Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s -> ", r.Time.Format(time.RFC3339), r.Method, r.Path)
	switch {
	case r.Dropped:
		b.WriteString("dropped")
	case r.Status == 0:
		b.WriteString("no answer")
	default:
		fmt.Fprintf(&b, "%d", r.Status)
	}
	if r.Fault {
		b.WriteString(" (fault)")
	}
	if r.Note != "" {
		fmt.Fprintf(&b, " (%s)", r.Note)
	}
	if len(r.Body) > 0 {
		b.WriteString(" ")
		b.WriteString(redactBody(r.Body))
	}
	return b.String()
}

// redactBody returns the body with its secrets redacted, or a size when it is not a
// JSON object (it could hold anything).
func redactBody(body []byte) string {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Sprintf("<%d bytes, not a JSON object>", len(body))
	}
	for _, k := range []string{"authKey", "password"} {
		if _, ok := m[k]; ok {
			m[k] = redacted
		}
	}
	switch creds := m["credentials"].(type) {
	case map[string]any:
		typ, _ := m["type"].(string)
		public := soracomtest.NonSecretFields(typ)
		for k := range creds {
			if !slices.Contains(public, k) {
				creds[k] = redacted
			}
		}
	case nil:
	default:
		m["credentials"] = redacted
	}
	out, err := json.Marshal(m)
	if err != nil {
		return fmt.Sprintf("<%d bytes>", len(body))
	}
	return string(out)
}
