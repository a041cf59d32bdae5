package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/action"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awstest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// The health report scenario, as the issue sets it: 500 sets holding 100 distinct keys
// of 20 IAM users, 50 ms latency on every SORACOM and AWS call.
const (
	auditScenario = "audit"
	auditSets     = 500
	auditKeys     = 100
	auditUsers    = 20
	auditLatency  = 50 * time.Millisecond
	// auditTarget is the wall time the action must stay under.
	auditTarget = 2 * time.Second
)

// auditCallBudget is the most AWS calls the audit may make: one GetCallerIdentity, one
// GetAccessKeyLastUsed per distinct key, one ListAccessKeys per distinct user (every
// key is known to IAM, so no GetAccessKeyInfo).
const auditCallBudget = 1 + auditKeys + auditUsers

// auditRun is one audit: its wall time and the calls it made.
type auditRun struct {
	wall         time.Duration
	exit         int
	aws, soracom int
	awsByAction  map[string]int
	output       string
}

// auditResult is the action's runs (the built binary, default concurrency) and the
// sequential baseline (the same code in-process, one AWS call at a time).
type auditResult struct {
	action, sequential []auditRun
}

// auditWorld is the fake AWS account and SORACOM operator of the scenario.
type auditWorld struct {
	acct  *awstest.Account
	admin awstest.Key
	srv   *soracomtest.Server
	ca    string
}

func (b *bench) newAuditWorld(h *harness) (*auditWorld, error) {
	srv, err := soracomtest.StartTLSServer(soracomtest.WithLatency(auditLatency))
	if err != nil {
		return nil, err
	}
	srv.AddAuthKey(authKeyID, authKey)
	ca := filepath.Join(b.work, "audit-ca.pem")
	if err := os.WriteFile(ca, srv.CACertPEM(), 0o644); err != nil {
		_ = srv.Close()
		return nil, err
	}
	acct := awstest.NewAccount(h)
	w := &auditWorld{acct: acct, admin: acct.AddKey("bench-auditor", awstest.Active), srv: srv, ca: ca}
	// The fake does not hold IAM's two-keys limit for seeded keys: five per user.
	keys := make([]string, auditKeys)
	for i := range keys {
		keys[i] = acct.AddKey(fmt.Sprintf("bench-user-%02d", i%auditUsers), awstest.Active).ID
	}
	recent := time.Now().Add(-time.Hour)
	for i := range auditSets {
		srv.PutCredentialSet(soracomtest.CredentialSet{ID: fmt.Sprintf("bench-set-%03d", i), Type: "aws-credentials",
			Credentials: map[string]any{"accessKeyId": keys[i%auditKeys], "secretAccessKey": "unused"}, LastUsed: recent})
	}
	acct.SetLatency(auditLatency)
	return w, nil
}

func (w *auditWorld) inputs() map[string]string {
	return map[string]string{
		"INPUT_AUDIT":               "true",
		"INPUT_SORACOM-AUTH-KEY-ID": authKeyID,
		"INPUT_SORACOM-AUTH-KEY":    authKey,
		"INPUT_SORACOM-ENDPOINT":    w.srv.URL(),
		"INPUT_FAIL-ON":             "never",
	}
}

// measureAudit runs the action -runs times and the sequential baseline as often, after
// one warm-up of each.
func (b *bench) measureAudit(ctx context.Context) (*auditResult, error) {
	h := &harness{dir: b.work}
	defer h.close()
	w, err := b.newAuditWorld(h)
	if err != nil {
		return nil, err
	}
	defer w.srv.Close()
	res := &auditResult{}
	err = interleaved(b.opts.runs,
		func() (auditRun, error) { return b.auditOnce(ctx, w) },
		func() (auditRun, error) { return w.sequentialOnce(ctx) },
		func(i int, a, s auditRun) {
			res.action, res.sequential = append(res.action, a), append(res.sequential, s)
			fmt.Fprintf(b.log, "bench: run %d/%d audit action exit=%d wall=%s aws=%d; sequential wall=%s aws=%d\n",
				i, b.opts.runs, a.exit, a.wall.Round(time.Millisecond), a.aws, s.wall.Round(time.Millisecond), s.aws)
		})
	return res, err
}

// auditOnce runs the built binary as the runner would.
func (b *bench) auditOnce(ctx context.Context, w *auditWorld) (auditRun, error) {
	home, err := os.MkdirTemp(b.work, "home-")
	if err != nil {
		return auditRun{}, err
	}
	defer os.RemoveAll(home)
	out := filepath.Join(home, "output")
	cmd := exec.Command(b.action)
	cmd.Env = append(baseEnv(job{home: home}), awstest.EnvList(w.acct.Env(), awstest.KeyEnv(w.admin), w.inputs())...)
	cmd.Env = append(cmd.Env, "SSL_CERT_FILE="+w.ca, "GITHUB_OUTPUT="+out)
	return w.count(func() (int, string, error) {
		s, err := runProcess(ctx, cmd)
		findings, _ := os.ReadFile(out)
		return s.exit, s.output + string(findings), err
	})
}

// sequentialOnce runs the same audit in-process with one AWS call in flight at a time:
// what the audit costs without its concurrency.
func (w *auditWorld) sequentialOnce(ctx context.Context) (auditRun, error) {
	env := awstest.EnvList(w.acct.Env(), awstest.KeyEnv(w.admin), w.inputs())
	lookup := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		lookup[k] = v
		// The AWS SDK reads its endpoints and credentials from the process environment.
		if strings.HasPrefix(k, "AWS_") {
			if err := os.Setenv(k, v); err != nil {
				return auditRun{}, err
			}
		}
	}
	return w.count(func() (int, string, error) {
		var out bytes.Buffer
		code := action.Run(ctx, action.Env{Getenv: func(k string) string { return lookup[k] }, Stdout: &out,
			HTTPClient: w.srv.Client(), AuditConcurrency: 1})
		return code, out.String(), nil
	})
}

// count runs f and counts the calls both fakes received meanwhile.
func (w *auditWorld) count(f func() (int, string, error)) (auditRun, error) {
	w.srv.Reset()
	awsBefore := len(w.acct.Requests())
	start := time.Now()
	code, output, err := f()
	r := auditRun{wall: time.Since(start), exit: code, output: output, awsByAction: map[string]int{}}
	if err != nil {
		return r, fmt.Errorf("audit: %w", err)
	}
	for _, q := range w.acct.Requests()[awsBefore:] {
		r.awsByAction[q.Action]++
		r.aws++
	}
	r.soracom = len(w.srv.Requests())
	return r, nil
}

func (p *printer) audit(r report) {
	a := r.audit
	if len(a.action) == 0 {
		return
	}
	p.f("## Health report (this action only)\n\n")
	p.f("`audit: true` over %d `aws-credentials` sets that hold %d distinct keys of %d IAM users, with %s of latency added to every SORACOM and every AWS call (the fake IAM and STS answer concurrently). "+
		"The action is the built binary with its default concurrency; the sequential baseline is the same audit code run in-process with one AWS call in flight at a time.\n\n",
		auditSets, auditKeys, auditUsers, ms(auditLatency))
	p.measuredWith(r)
	p.f("| run | wall time, median (min–max) | AWS calls | of which GetAccessKeyLastUsed / ListAccessKeys / GetAccessKeyInfo | SORACOM round trips | exit |\n|---|---|---|---|---|---|\n")
	for _, row := range []struct {
		name string
		runs []auditRun
	}{{"action (concurrent)", a.action}, {"sequential baseline", a.sequential}} {
		var walls []time.Duration
		var aws, sor, codes []int
		for _, s := range row.runs {
			walls, aws, sor, codes = append(walls, s.wall), append(aws, s.aws), append(sor, s.soracom), append(codes, s.exit)
		}
		last := row.runs[len(row.runs)-1].awsByAction
		p.f("| %s | %s (%s–%s) | %d | %d / %d / %d | %d | %d |\n", row.name, ms(median(walls)), ms(slices.Min(walls)), ms(slices.Max(walls)),
			median(aws), last["GetAccessKeyLastUsed"], last["ListAccessKeys"], last["GetAccessKeyInfo"], median(sor), slices.Max(codes))
	}
	var walls []time.Duration
	maxCalls := 0
	for _, s := range a.action {
		walls, maxCalls = append(walls, s.wall), max(maxCalls, s.aws)
	}
	p.f("\nTarget, under %s: %s. ", ms(auditTarget), verdict(slices.Max(walls) < auditTarget, "worst "+ms(slices.Max(walls))))
	p.f("Calls, at most 1 GetCallerIdentity + %d keys + %d users = %d AWS calls: %s.\n\n", auditKeys, auditUsers, auditCallBudget,
		verdict(maxCalls <= auditCallBudget, fmt.Sprintf("max %d", maxCalls)))
}
