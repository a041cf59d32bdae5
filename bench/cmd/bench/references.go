package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// The references scenario, as the issue sets it: an audit of 500 sets, 200 groups (50 a
// page) and 100 event handlers on each of both coverages, 50 ms per request.
const (
	refsScenario = "references"
	refsSets     = 500
	refsGroups   = 200
	refsPage     = 50
	refsHandlers = 100
	refsLatency  = 50 * time.Millisecond
	// refsTarget is the wall time the action must stay under.
	refsTarget = 3 * time.Second
	// refsCalls is what the audit may send per coverage: auth, the sets, one call per
	// page of groups, the event handlers, logout; nothing per set.
	refsCalls = 1 + 1 + refsGroups/refsPage + 1 + 1
)

// refsRun is one listing of both coverages: its wall time and the requests each
// coverage received.
type refsRun struct {
	wall       time.Duration
	exit       int
	requests   int
	groupCalls int // GET /v1/groups, both coverages
	handshakes int64
	dangling   int // dangling-reference findings (the action only)
	output     string
}

// refsResult holds the action's runs and the modelled soracom-cli's.
type refsResult struct {
	action, cli []refsRun
}

// refsWorld is both coverages, seeded alike: every set named by a group or a handler,
// and one group per coverage naming a set that does not exist.
type refsWorld struct {
	cov *soracomtest.Coverages
	ca  string
	// handshakes is the servers' count when the run started.
	handshakes int64
}

func (b *bench) newRefsWorld() (*refsWorld, error) {
	cov, err := soracomtest.StartTLSCoverages(soracomtest.WithLatency(refsLatency), soracomtest.WithGroupPageSize(refsPage))
	if err != nil {
		return nil, err
	}
	cov.AddAuthKey(authKeyID, authKey)
	cov.Each(func(_ string, s *soracomtest.Server) { seedReferences(s) })
	ca := filepath.Join(b.work, "refs-ca.pem")
	pems := append(cov.JP.CACertPEM(), cov.G.CACertPEM()...)
	if err := os.WriteFile(ca, pems, 0o644); err != nil {
		_ = cov.Close()
		return nil, err
	}
	return &refsWorld{cov: cov, ca: ca}, nil
}

func seedReferences(s *soracomtest.Server) {
	recent := time.Now().Add(-time.Hour)
	for i := range refsSets {
		s.PutCredentialSet(soracomtest.CredentialSet{ID: fmt.Sprintf("bench-set-%03d", i), Type: "aws-credentials", LastUsed: recent,
			Credentials: map[string]any{"accessKeyId": fmt.Sprintf("AKIABENCHKEY%08d", i), "secretAccessKey": "unused"}})
	}
	for i := range refsGroups {
		set := fmt.Sprintf("bench-set-%03d", i)
		if i == refsGroups-1 {
			set = "bench-set-deleted"
		}
		s.PutGroup(soracomtest.Group{ID: fmt.Sprintf("group-%03d", i), Tags: map[string]string{"name": fmt.Sprintf("group %d", i)},
			Configuration: map[string]map[string]any{
				"SoracomFunnel": {"enabled": true, "credentials": map[string]any{"$credentialsId": set}},
				"SoracomBeam": {"mqtt://beam.soracom.io:1883": map[string]any{"enabled": true,
					"clientCerts": map[string]any{"default": map[string]any{"$credentialsId": fmt.Sprintf("bench-set-%03d", refsGroups+i)}}}},
			}})
	}
	for i := range refsHandlers {
		s.PutEventHandler(soracomtest.EventHandler{ID: fmt.Sprintf("handler-%03d", i), Name: fmt.Sprintf("handler %d", i),
			Actions: []soracomtest.Action{{Type: "InvokeAWSLambdaAction", Properties: map[string]any{
				"credentialsId": fmt.Sprintf("bench-set-%03d", 2*refsGroups+i), "endpoint": "https://lambda.ap-northeast-1.amazonaws.com", "functionName": "f"}}}})
	}
}

// measureReferences runs the action and the modelled soracom-cli -runs times each,
// interleaved, after one warm-up of each.
func (b *bench) measureReferences(ctx context.Context) (*refsResult, error) {
	w, err := b.newRefsWorld()
	if err != nil {
		return nil, err
	}
	defer w.cov.Close()
	res := &refsResult{}
	act := func() (refsRun, error) { return b.refsActionOnce(ctx, w) }
	cli := func() (refsRun, error) { return w.cliOnce(ctx) }
	keep := func(i int, a, c refsRun) { res.keep(b.log, fmt.Sprintf("%d/%d", i, b.opts.runs), a, c) }
	return res, interleaved(b.opts.runs, act, cli, keep)
}

// keep records one measured pair and says so on the progress log.
func (res *refsResult) keep(log io.Writer, run string, a, c refsRun) {
	res.action, res.cli = append(res.action, a), append(res.cli, c)
	fmt.Fprintf(log, "bench: run %s references action exit=%d wall=%s requests=%d; soracom-cli model wall=%s requests=%d\n",
		run, a.exit, a.wall.Round(time.Millisecond), a.requests, c.wall.Round(time.Millisecond), c.requests)
}

// interleaved runs first and second one after the other, runs times after one warm-up of
// each, and hands each measured pair to keep, numbered from 1.
func interleaved[T any](runs int, first, second func() (T, error), keep func(i int, a, b T)) error {
	for i := range runs + 1 {
		a, err := first()
		if err != nil {
			return err
		}
		b, err := second()
		if err != nil {
			return err
		}
		if i > 0 { // the first pair warms up
			keep(i, a, b)
		}
	}
	return nil
}

// refsActionOnce audits both coverages with the built binary, without AWS credentials:
// the scenario measures the SORACOM side.
func (b *bench) refsActionOnce(ctx context.Context, w *refsWorld) (refsRun, error) {
	home, err := os.MkdirTemp(b.work, "home-")
	if err != nil {
		return refsRun{}, err
	}
	defer os.RemoveAll(home)
	out := filepath.Join(home, "output")
	cmd := exec.Command(b.action)
	cmd.Env = append(baseEnv(job{home: home}),
		"SSL_CERT_FILE="+w.ca, "GITHUB_OUTPUT="+out, "AWS_EC2_METADATA_DISABLED=true",
		"INPUT_AUDIT=true", "INPUT_FAIL-ON=never", "INPUT_SORACOM-COVERAGE-TYPE=both",
		"INPUT_SORACOM-AUTH-KEY-ID="+authKeyID, "INPUT_SORACOM-AUTH-KEY="+authKey,
		"SORACOM_ENDPOINT_JP="+w.cov.JP.URL(), "SORACOM_ENDPOINT_G="+w.cov.G.URL())
	w.reset()
	s, err := runProcess(ctx, cmd)
	if err != nil {
		return refsRun{}, fmt.Errorf("references: %w", err)
	}
	r := w.counted(s.wall)
	r.exit, r.output = s.exit, s.output
	if data, err := os.ReadFile(out); err == nil {
		r.dangling = strings.Count(string(data), `"check":"dangling-reference"`)
	}
	return r, nil
}

// reset forgets the requests so far and notes the handshakes, before a run.
func (w *refsWorld) reset() {
	w.handshakes = 0
	w.cov.Each(func(_ string, s *soracomtest.Server) {
		s.Reset()
		w.handshakes += s.TLSHandshakes()
	})
}

// counted reads what both coverages received.
func (w *refsWorld) counted(wall time.Duration) refsRun {
	r := refsRun{wall: wall, handshakes: -w.handshakes}
	w.cov.Each(func(_ string, s *soracomtest.Server) {
		r.requests += len(s.Requests())
		r.groupCalls += s.CountRequests(http.MethodGet, "/v1/groups")
		r.handshakes += s.TLSHandshakes()
	})
	return r
}

// cliOnce replays, against both coverages, the requests soracom-cli sends for the same
// listing, as its source shows (generators/cmd/predefined/apiclient.go): one process
// per command (credentials list, groups list --fetch-all, event-handlers list) and per
// coverage, each with a new connection and its own POST /v1/auth; pages one after the
// other, following x-soracom-next-key; no logout. It runs in this process, so it has
// no process start and no JSON output: a lower bound for soracom-cli itself, which
// could not be built here (the module proxy refused the module).
func (w *refsWorld) cliOnce(ctx context.Context) (refsRun, error) {
	w.reset()
	start := time.Now()
	for _, s := range []*soracomtest.Server{w.cov.JP, w.cov.G} {
		for _, path := range []string{"/v1/credentials", "/v1/groups", "/v1/event_handlers"} {
			if err := cliCommand(ctx, s, path); err != nil {
				return refsRun{}, fmt.Errorf("soracom-cli model: %s: %w", path, err)
			}
		}
	}
	return w.counted(time.Since(start)), nil
}

// cliCommand is one soracom-cli invocation: authenticate, then list, page by page.
func cliCommand(ctx context.Context, s *soracomtest.Server, path string) error {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CACertPEM())
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	defer c.CloseIdleConnections()
	body, _ := json.Marshal(map[string]string{"authKeyId": authKeyID, "authKey": authKey})
	var auth struct{ APIKey, Token string }
	if _, err := cliCall(ctx, c, http.MethodPost, s.URL()+"/v1/auth", body, nil, &auth); err != nil {
		return err
	}
	h := http.Header{"X-Soracom-Api-Key": {auth.APIKey}, "X-Soracom-Token": {auth.Token}}
	next := ""
	for {
		u := s.URL() + path
		if next != "" {
			u += "?last_evaluated_key=" + next
		}
		res, err := cliCall(ctx, c, http.MethodGet, u, nil, h, nil)
		if err != nil {
			return err
		}
		if next = res.Get("X-Soracom-Next-Key"); next == "" {
			return nil
		}
	}
}

func cliCall(ctx context.Context, c *http.Client, method, u string, body []byte, h http.Header, into any) (http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	if res.StatusCode >= 300 {
		return nil, fmt.Errorf("%s %s: %d", method, u, res.StatusCode)
	}
	if into != nil {
		return res.Header, json.Unmarshal(data, into)
	}
	return res.Header, nil
}

func (p *printer) references(r report) {
	x := r.refs
	if len(x.action) == 0 {
		return
	}
	p.f("## Where sets are used: both coverages (this action and soracom-cli)\n\n")
	p.f("`audit: true` with `soracom-coverage-type: both` over %d `aws-credentials` sets, %d groups (the emulator answers %d a page) and %d event handlers on **each** coverage, "+
		"with %s added to every request, over TLS; no AWS credentials, so the numbers are the SORACOM side alone. Every set is named by a group or a handler except the last ones, and one group per coverage names a set that does not exist. ",
		refsSets, refsGroups, refsPage, refsHandlers, ms(refsLatency))
	p.f("**soracom-cli could not be built here**: the Go module proxy refuses `github.com/soracom/soracom-cli` (403), so its row is a *model*: the requests its source sends for the same listing " +
		"(`credentials list`, `groups list --fetch-all`, `event-handlers list`, once per coverage: one process, one connection and one `POST /v1/auth` per command, pages one after the other, no logout), " +
		"replayed in the benchmark process. It has no process start and prints no JSON, so it is a lower bound for soracom-cli; matching the references to the sets is then still left to the user (jq).\n\n")
	p.measuredWith(r)
	p.f("| tool | wall time, median (min–max) | API round trips (both coverages) | of which group pages | TLS handshakes | tokens left valid | dangling references found |\n|---|---|---|---|---|---|---|\n")
	for _, row := range []struct {
		name   string
		runs   []refsRun
		tokens string
		found  func(refsRun) string
	}{
		{"this action (one process)", x.action, "0", func(r refsRun) string { return fmt.Sprint(r.dangling) }},
		{"soracom-cli, modelled (6 processes)", x.cli, "6", func(refsRun) string { return "— (not its job)" }},
	} {
		var walls []time.Duration
		var reqs, groups []int
		var hs []int64
		for _, s := range row.runs {
			walls, reqs, groups, hs = append(walls, s.wall), append(reqs, s.requests), append(groups, s.groupCalls), append(hs, s.handshakes)
		}
		p.f("| %s | %s (%s–%s) | %d | %d | %d | %s | %s |\n", row.name, ms(median(walls)), ms(slices.Min(walls)), ms(slices.Max(walls)),
			median(reqs), median(groups), slices.Max(hs), row.tokens, row.found(row.runs[len(row.runs)-1]))
	}
	var walls []time.Duration
	maxReq, okRuns := 0, 0
	for _, s := range x.action {
		walls, maxReq = append(walls, s.wall), max(maxReq, s.requests)
		if s.exit == 0 && s.dangling == 2 {
			okRuns++
		}
	}
	p.f("\nTarget, within %s: %s. Requests, one list call per page and none per set (%d per coverage: auth, sets, %d group pages, event handlers, logout): %s. "+
		"Both dangling references found, exit 0 under `fail-on: never`: %d/%d runs.\n\n",
		ms(refsTarget), verdict(slices.Max(walls) <= refsTarget, "worst "+ms(slices.Max(walls))), refsCalls, refsGroups/refsPage,
		verdict(maxReq <= 2*refsCalls, fmt.Sprintf("max %d", maxReq)), okRuns, len(x.action))
}
