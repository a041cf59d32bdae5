package main

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
)

// report is everything BENCHMARKS.md shows.
type report struct {
	command  string
	opts     options
	machine  []fact
	results  []*result
	rotation *rotationResult // nil when not run
	audit    *auditResult    // nil when not run
	many     *manyResult     // nil when not run
	refs     *refsResult     // nil when not run
	authKey  *authKeyResult  // nil when not run
}

type fact struct{ name, value string }

// describeMachine names what the numbers depend on: cores, CPU, toolchains, date.
func describeMachine(ctx context.Context) []fact {
	first := func(name string, args ...string) string {
		out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
		if err != nil {
			return "not available"
		}
		line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		return line
	}
	cpu := "unknown"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
		_ = f.Close()
	}
	kernel := "unknown"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = strings.TrimSpace(string(b))
	}
	load := "unknown"
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return []fact{
		{"date", time.Now().UTC().Format("2006-01-02 15:04 MST")},
		{"load average at the end (1, 5, 15 min)", load},
		{"cores (nproc)", fmt.Sprint(runtime.NumCPU())},
		{"CPU", cpu},
		{"kernel", "Linux " + kernel},
		{"Go", first("go", "version")},
		{"Python", first("python3", "--version") + ", requests " + first("python3", "-c", "import requests; print(requests.__version__)")},
		{"curl", first("curl", "--version")},
		{"jq", first("jq", "--version")},
		{"bash", first("bash", "--version")},
	}
}

// summary is the medians of one result.
type summary struct {
	ok, runs          int
	wall, min, max    time.Duration
	floor             time.Duration
	cpu               time.Duration
	rssKiB            int64
	requests          int
	maxRequests       int
	handshakes        int64
	maxHandshakes     int64
	liveTokens        int
	firstFailure      string
	failedButExitZero int
}

func summarize(r *result) summary {
	s := summary{runs: len(r.samples)}
	var walls, floors, cpus []time.Duration
	var rss []int64
	var reqs []int
	var hs []int64
	var live []int
	for _, x := range r.samples {
		if x.ok() {
			s.ok++
		} else {
			if s.firstFailure == "" {
				s.firstFailure = lastLine(x.output)
			}
			if x.exit == 0 {
				s.failedButExitZero++
			}
		}
		walls, floors, cpus = append(walls, x.wall), append(floors, x.floor), append(cpus, x.cpu)
		rss, reqs, hs, live = append(rss, x.maxRSSKiB), append(reqs, x.requests), append(hs, x.handshakes), append(live, x.liveTokens)
	}
	s.wall, s.floor, s.cpu = median(walls), median(floors), median(cpus)
	s.min, s.max = slices.Min(walls), slices.Max(walls)
	s.rssKiB, s.requests, s.handshakes, s.liveTokens = median(rss), median(reqs), median(hs), median(live)
	s.maxRequests, s.maxHandshakes = slices.Max(reqs), slices.Max(hs)
	return s
}

// median of the values; for an even count, the lower middle one, so that counts stay
// whole numbers.
func median[T cmp.Ordered](v []T) T {
	v = slices.Clone(v)
	slices.Sort(v)
	return v[(len(v)-1)/2]
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	l := strings.TrimSpace(lines[len(lines)-1])
	if len(l) > 160 {
		l = l[:160] + "…"
	}
	return l
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%d ms", d.Round(time.Millisecond).Milliseconds())
}

func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f×", float64(a)/float64(b))
}

func mib(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

// The targets for the action.
const (
	maxWallOverFloor = 1.3
	maxRotationLag   = 1500 * time.Millisecond
)

func writeReport(w io.Writer, r report) error {
	p := &printer{w: w}
	p.f("# Benchmarks\n\n")
	p.f("The same job, create or update one `aws-credentials` credential set, done by this action's binary, by a Python script using `requests` ([bench/scripts/register.py](bench/scripts/register.py)) and by a `curl` + `jq` script ([bench/scripts/register.sh](bench/scripts/register.sh)), written the way people write them today: authenticate, PUT, then POST when the PUT is refused with a 4xx, no retries, no logout. The Python script calls requests' module-level functions, as most scripts do, so each call opens its own connection (a `requests.Session` would reuse one); each `curl` is its own process and connection. ")
	p.f("All three talk to the in-repo SORACOM emulator over TLS on loopback, trusting its CA the standard way (`SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`, `CURL_CA_BUNDLE`). ")
	p.f("The emulator adds %s to every request and %s to every new connection, so that round trips and handshakes cost what they cost over a network. ", ms(r.opts.latency), ms(r.opts.connLatency))
	p.f("Each tool runs each scenario %d times, interleaved, after one unmeasured warm-up run; the tables show medians. The action runs with `verify-aws-key: false`, since the scripts do not check the key either.\n\n", r.opts.runs)
	p.f("Produced by:\n\n```\n%s\n```\n\n", r.command)
	p.f("| machine | |\n|---|---|\n")
	for _, f := range r.machine {
		p.f("| %s | %s |\n", f.name, strings.ReplaceAll(f.value, "|", "\\|"))
	}
	p.f("\n")

	action := map[string]summary{}
	for _, res := range r.results {
		if res.tool.name == actionTool {
			action[res.scenario.name] = summarize(res)
		}
	}
	if len(r.results) > 0 {
		p.f("## Registration\n\n")
		p.f("| scenario | tool | result | wall time, median (min–max) | vs this action | API round trips | TLS handshakes | floor | wall / floor | CPU time | peak RSS | tokens left valid |\n")
		p.f("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		var failures []string
		for _, res := range r.results {
			s := summarize(res)
			vs := "—"
			if a, ok := action[res.scenario.name]; ok {
				vs = ratio(s.wall, a.wall)
			}
			p.f("| %s | %s | %s | %s (%s–%s) | %s | %d | %d | %s | %s | %s | %s | %d |\n",
				res.scenario.label, res.tool.label, outcome(s), ms(s.wall), ms(s.min), ms(s.max), vs,
				s.requests, s.handshakes, ms(s.floor), ratio(s.wall, s.floor), ms(s.cpu), mib(s.rssKiB), s.liveTokens)
			if s.ok < s.runs {
				failures = append(failures, fmt.Sprintf("- %s, %s: `%s`", res.tool.label, res.scenario.label, strings.ReplaceAll(s.firstFailure, "`", "'")))
			}
		}
		p.f("\n")
		p.f("- **result**: runs that exited 0 *and* left the new key in the set (checked in the emulator), out of all runs. For a failed run, wall time is the time it took to fail.\n")
		p.f("- **API round trips** and **TLS handshakes**: as the emulator counted them; auth and logout included.\n")
		p.f("- **floor**: the injected latency the run could not avoid given the requests and connections it made (%s per connection, %s per request), plus, for a successful run in the 429 scenario, the 2 s the server asked to wait. **wall / floor** is the rest: process start, interpreter, TLS work, and waits nobody asked for.\n", ms(r.opts.connLatency), ms(r.opts.latency))
		p.f("- **CPU time** (user + system) and **peak RSS** come from `wait4` for the tool's process together with the children it waited for (curl and jq under bash); peak RSS is then the largest single process, not a sum. The emulator runs inside the benchmark process and shares the machine's cores with the tool.\n")
		p.f("- **tokens left valid**: SORACOM API tokens the run left alive (the scripts do not log out; the token stays usable until it expires, 24 h by default).\n\n")
		if len(failures) > 0 {
			p.f("How the failed runs ended (last line printed):\n\n%s\n\n", strings.Join(failures, "\n"))
		}
		p.targets(action)
	}
	p.extras(r)
	return p.err
}

// extras writes the sections of the scenarios only the action runs.
func (p *printer) extras(r report) {
	if r.rotation != nil {
		p.rotation(r)
	}
	if r.audit != nil {
		p.audit(r)
	}
	if r.many != nil {
		p.many(r)
	}
	if r.refs != nil {
		p.references(r)
	}
	if r.authKey != nil {
		p.authKey(r)
	}
}

func outcome(s summary) string {
	if s.ok == s.runs {
		return fmt.Sprintf("ok %d/%d", s.ok, s.runs)
	}
	out := fmt.Sprintf("**failed** %d/%d", s.runs-s.ok, s.runs)
	if s.failedButExitZero > 0 {
		out += fmt.Sprintf(" (%d exited 0)", s.failedButExitZero)
	}
	return out
}

// targets checks the action against the targets, scenario by scenario.
func (p *printer) targets(action map[string]summary) {
	if len(action) == 0 {
		return
	}
	p.f("## Targets for this action\n\n")
	p.f("| scenario | one TLS handshake | round trips | success | wall within %.1f× floor |\n|---|---|---|---|---|\n", maxWallOverFloor)
	for _, sc := range allScenarios() {
		s, ok := action[sc.name]
		if !ok {
			continue
		}
		hs := verdict(s.maxHandshakes == 1, fmt.Sprintf("max %d", s.maxHandshakes))
		rt := fmt.Sprintf("%d (no target)", s.requests)
		if sc.maxRoundTrips > 0 {
			rt = verdict(s.maxRequests <= sc.maxRoundTrips, fmt.Sprintf("max %d, target ≤ %d", s.maxRequests, sc.maxRoundTrips))
		}
		succ := verdict(s.ok == s.runs, fmt.Sprintf("%d/%d", s.ok, s.runs))
		within := float64(s.wall) <= maxWallOverFloor*float64(s.floor)
		detail := fmt.Sprintf("%s over a floor of %s", ratio(s.wall, s.floor), ms(s.floor))
		if !within {
			detail += fmt.Sprintf("; %s beyond it", ms(s.wall-s.floor))
			if sc.gapCause != "" {
				detail += ": " + sc.gapCause
			}
		}
		p.f("| %s | %s | %s | %s | %s |\n", sc.label, hs, rt, succ, verdict(within, detail))
	}
	p.f("\n")
}

func verdict(met bool, detail string) string {
	if met {
		return "met (" + detail + ")"
	}
	return "**missed** (" + detail + ")"
}

// printer writes formatted text and keeps the first error.
type printer struct {
	w   io.Writer
	err error
}

// measuredWith writes the sentence a section of a scenario only the action runs starts
// its table with: the command, then the date, the load and the build of the action.
func (p *printer) measuredWith(r report) {
	p.f("Measured with `%s`", r.command)
	for _, f := range r.machine {
		if f.name == "date" || strings.HasPrefix(f.name, "load average") || f.name == "action built from" {
			p.f("; %s: %s", f.name, f.value)
		}
	}
	p.f(".\n\n")
}

func (p *printer) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}
