package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awstest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// rotationScenario names the rotation scenario, which only the action runs: the
// baselines have no rotation to compare with.
const rotationScenario = "rotation"

// propagationDelay is how long IAM refuses a new key in the rotation scenario.
const propagationDelay = 3 * time.Second

// rotationSample is one rotation run.
type rotationSample struct {
	sample
	// sinceWorks is from the moment the new key started working to the end of the
	// process, and toSet to the moment the set held the new key.
	sinceWorks, toSet time.Duration
	awsRequests       int
	// checks counts sts:GetCallerIdentity calls signed with the new key.
	checks int
}

// rotationResult is every rotation run.
type rotationResult struct {
	samples []rotationSample
}

// harness gives awstest the testing.TB it takes outside a test. awstest calls only
// Helper, Cleanup and TempDir; any other method would hit the nil interface and
// panic, which says loudly that harness needs it.
type harness struct {
	testing.TB
	dir      string
	mu       sync.Mutex
	cleanups []func()
}

func (h *harness) Helper() {}

func (h *harness) Cleanup(f func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cleanups = append(h.cleanups, f)
}

func (h *harness) TempDir() string {
	d, err := os.MkdirTemp(h.dir, "awstest-")
	if err != nil {
		panic(err)
	}
	return d
}

func (h *harness) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

func (h *harness) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, f := range slices.Backward(h.cleanups) {
		f()
	}
}

// measureRotation rotates the key of an IAM user whose key a SORACOM set holds, with
// IAM refusing the new key for propagationDelay, -runs times.
func (b *bench) measureRotation(ctx context.Context) (*rotationResult, error) {
	h := &harness{dir: b.work}
	defer h.close()
	acct := awstest.NewAccount(h)
	acct.SetPropagationDelay(propagationDelay)
	admin := acct.AddKey("bench-admin", awstest.Active)

	res := &rotationResult{}
	for i := range b.opts.runs + 1 {
		s, err := b.rotateOnce(ctx, acct, admin, fmt.Sprintf("bench-consumer-%d", i))
		if err != nil {
			return nil, err
		}
		if i == 0 {
			continue // warm-up
		}
		res.samples = append(res.samples, s)
		fmt.Fprintf(b.log, "bench: run %d/%d rotation action   exit=%d state=%t wall=%s key works→done=%s\n",
			i, b.opts.runs, s.exit, s.stateOK, s.wall.Round(time.Millisecond), s.sinceWorks.Round(time.Millisecond))
	}
	return res, nil
}

// rotateOnce gives user a key that the set holds, then runs the action to rotate it.
// A new user each run keeps every run the same: no inactive key left by the last one.
func (b *bench) rotateOnce(ctx context.Context, acct *awstest.Account, admin awstest.Key, user string) (rotationSample, error) {
	e := b.srv.Emulator
	old := acct.AddKey(user, awstest.Active)
	e.ClearFaults()
	e.PutCredentialSet(soracomtest.CredentialSet{
		ID:          setID,
		Type:        "aws-credentials",
		Credentials: map[string]any{"accessKeyId": old.ID, "secretAccessKey": old.Secret},
	})
	e.Reset()
	conns, handshakes, live := b.srv.Connections(), b.srv.TLSHandshakes(), e.LiveSessions()
	awsBefore := len(acct.Requests())

	home, err := os.MkdirTemp(b.work, "home-")
	if err != nil {
		return rotationSample{}, err
	}
	defer os.RemoveAll(home)
	cmd := b.rotationCmd(acct, admin, user, home)

	// The fake sets a new key's propagation clock when it creates it; watching the
	// user's keys closely gives that moment to within a millisecond.
	created := make(chan time.Time, 1)
	watchCtx, stopWatch := context.WithCancel(ctx)
	go watchNewKey(watchCtx, acct, user, old.ID, created)
	s, err := runProcess(ctx, cmd)
	stopWatch()
	if err != nil {
		return rotationSample{}, fmt.Errorf("rotation: %w", err)
	}
	r := rotationSample{sample: s}
	r.requests = len(e.Requests())
	r.conns = b.srv.Connections() - conns
	r.handshakes = b.srv.TLSHandshakes() - handshakes
	r.liveTokens = e.LiveSessions() - live
	awsReqs := acct.Requests()[awsBefore:]
	r.awsRequests = len(awsReqs)

	newKey, oldRetired := keysAfter(acct, user, old.ID)
	for _, q := range awsReqs {
		if q.Action == "GetCallerIdentity" && q.Caller == newKey.ID && newKey.ID != "" {
			r.checks++
		}
	}
	set, found := e.CredentialSet(setID)
	r.stateOK = oldRetired && newKey.ID != "" && newKey.Status == awstest.Active && found && set.Credentials["accessKeyId"] == newKey.ID && set.Credentials["secretAccessKey"] == newKey.Secret
	select {
	case at := <-created:
		works := at.Add(propagationDelay)
		r.sinceWorks = s.ended.Sub(works)
		for _, q := range e.Requests() {
			if q.Method == "PUT" && q.Path == "/v1/credentials/"+setID && q.Status/100 == 2 {
				r.toSet = q.Time.Sub(works)
			}
		}
	default:
		r.stateOK = false
	}
	r.floor = propagationDelay + time.Duration(r.conns)*b.opts.connLatency + time.Duration(r.requests)*b.opts.latency
	return r, nil
}

// rotationCmd is the action's process for a rotation of user's key, run as admin.
func (b *bench) rotationCmd(acct *awstest.Account, admin awstest.Key, user, home string) *exec.Cmd {
	cmd := exec.Command(b.action)
	cmd.Env = append(baseEnv(job{home: home}), awstest.EnvList(acct.Env(), awstest.KeyEnv(admin))...)
	cmd.Env = append(cmd.Env,
		"SSL_CERT_FILE="+b.ca,
		"INPUT_CREDENTIAL-ID="+setID,
		"INPUT_SORACOM-AUTH-KEY-ID="+authKeyID,
		"INPUT_SORACOM-AUTH-KEY="+authKey,
		"INPUT_SORACOM-ENDPOINT="+b.srv.URL(),
		"INPUT_IAM-USER-NAME="+user,
		"INPUT_OLD-KEY=deactivate",
		"INPUT_VERIFY-AWS-KEY=true",
	)
	return cmd
}

// keysAfter returns user's key other than old (zero when there is none) and whether
// old was deactivated.
func keysAfter(acct *awstest.Account, user, old string) (newKey awstest.Key, oldRetired bool) {
	for _, k := range acct.Keys(user) {
		if k.ID == old {
			oldRetired = k.Status == awstest.Inactive
		} else {
			newKey = k
		}
	}
	return newKey, oldRetired
}

// watchNewKey sends the moment a key other than old appears for user.
func watchNewKey(ctx context.Context, acct *awstest.Account, user, old string, created chan<- time.Time) {
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, k := range acct.Keys(user) {
			if k.ID != old {
				created <- time.Now()
				return
			}
		}
	}
}

func (p *printer) rotation(r report) {
	rot := r.rotation
	if len(rot.samples) == 0 {
		return
	}
	p.f("## Rotation (this action only)\n\n")
	p.f("The action rotates an IAM user's access key behind the set (`iam-user-name`, `old-key: deactivate`, `verify-aws-key: true`), authenticated to the fake IAM and STS with an admin key from the environment. IAM refuses the new key for %s after creating it, as real IAM does for a few seconds; the action must wait until STS accepts it, then store it, then deactivate the old key. The fake AWS endpoints are plain HTTP on loopback without injected latency; SORACOM is the same emulator as above. A new IAM user each run keeps the runs alike.\n\n", propagationDelay)
	var walls, lags, toSets, cpus []time.Duration
	var rss []int64
	var reqs, awsReqs, checks, live []int
	var hs []int64
	ok := 0
	var failure string
	for _, s := range rot.samples {
		if s.ok() {
			ok++
		} else if failure == "" {
			failure = lastLine(s.output)
		}
		walls, lags, toSets, cpus = append(walls, s.wall), append(lags, s.sinceWorks), append(toSets, s.toSet), append(cpus, s.cpu)
		rss, reqs, awsReqs, checks, live, hs = append(rss, s.maxRSSKiB), append(reqs, s.requests), append(awsReqs, s.awsRequests), append(checks, s.checks), append(live, s.liveTokens), append(hs, s.handshakes)
	}
	sum := summary{ok: ok, runs: len(rot.samples)}
	p.f("| result | wall time, median (min–max) | new key works → set holds it, median (max) | new key works → run done, median (max) | STS checks of the new key | SORACOM round trips | AWS requests | TLS handshakes | CPU time | peak RSS | tokens left valid |\n")
	p.f("|---|---|---|---|---|---|---|---|---|---|---|\n")
	p.f("| %s | %s (%s–%s) | %s (%s) | %s (%s) | %d | %d | %d | %d | %s | %s | %d |\n\n",
		outcome(sum), ms(median(walls)), ms(slices.Min(walls)), ms(slices.Max(walls)),
		ms(median(toSets)), ms(slices.Max(toSets)), ms(median(lags)), ms(slices.Max(lags)),
		median(checks), median(reqs), median(awsReqs), median(hs), ms(median(cpus)), mib(median(rss)), median(live))
	if failure != "" {
		p.f("The first failed run ended with: `%s`\n\n", strings.ReplaceAll(failure, "`", "'"))
	}
	within := 0
	for _, l := range lags {
		if l <= maxRotationLag {
			within++
		}
	}
	p.f("Target, rotation done within %s of the moment the new key works: %s. ", ms(maxRotationLag),
		verdict(within == len(lags) && ok == len(rot.samples), fmt.Sprintf("%d/%d runs, worst %s", within, len(lags), ms(slices.Max(lags)))))
	p.f("“Run done” is the action's exit, after the old key is deactivated and the SORACOM token revoked; the time after the key starts working is mostly the wait until the next STS check, which the action spaces out to at most about a second.\n\n")
	p.f("One TLS handshake: %s.\n", verdict(slices.Max(hs) == 1, fmt.Sprintf("max %d", slices.Max(hs))))
}
