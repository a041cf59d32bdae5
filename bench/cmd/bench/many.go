package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// The many-sets scenario, as the issue sets it: 300 existing sets updated on one
// coverage, 50 ms per request, a server that allows 300 requests per API per minute.
const (
	manyScenario  = "many"
	manySets      = 300
	manyLatency   = 50 * time.Millisecond
	manyRateLimit = 300
	// manyTarget is the wall time the action must stay under (with max-parallel 4).
	manyTarget = 5 * time.Second
)

// manyRun is one run of the action over the sets.
type manyRun struct {
	wall         time.Duration
	exit         int
	requests     int
	writes       int
	limited      int // 429s the emulator's rate limit answered
	mostInFlight int
	paced        bool // the log says a call waited for the refresh
	stateOK      bool // every set holds the new key
	output       string
}

// manyResult holds the runs per max-parallel value.
type manyResult struct {
	parallel []int
	runs     map[int][]manyRun
}

// measureMany runs the action with max-parallel 4 (the default) and 1 (one write at
// a time, as the action wrote before), -runs times each, after one warm-up, each run
// on a fresh emulator: a run spends the minute's budget.
func (b *bench) measureMany(ctx context.Context) (*manyResult, error) {
	res := &manyResult{parallel: []int{4, 1}, runs: map[int][]manyRun{}}
	for i := range b.opts.runs + 1 {
		for _, p := range res.parallel {
			r, err := b.manyOnce(ctx, p)
			if err != nil {
				return nil, err
			}
			if i == 0 {
				continue // warm-up
			}
			res.runs[p] = append(res.runs[p], r)
			fmt.Fprintf(b.log, "bench: run %d/%d many max-parallel=%d exit=%d wall=%s requests=%d 429s=%d in flight=%d\n",
				i, b.opts.runs, p, r.exit, r.wall.Round(time.Millisecond), r.requests, r.limited, r.mostInFlight)
		}
	}
	return res, nil
}

// manyOnce updates every set once, with the built binary.
func (b *bench) manyOnce(ctx context.Context, parallel int) (manyRun, error) {
	srv, err := soracomtest.StartTLSServer(soracomtest.WithLatency(manyLatency), soracomtest.WithRateLimit(manyRateLimit))
	if err != nil {
		return manyRun{}, err
	}
	defer srv.Close()
	srv.AddAuthKey(authKeyID, authKey)
	ids := make([]string, manySets)
	for i := range ids {
		ids[i] = fmt.Sprintf("bench-set-%03d", i)
		srv.PutCredentialSet(soracomtest.CredentialSet{ID: ids[i], Type: "aws-credentials",
			Credentials: map[string]any{"accessKeyId": "AKIAOLDOLDOLDOLDOLD1", "secretAccessKey": "old"}})
	}
	home, err := os.MkdirTemp(b.work, "home-")
	if err != nil {
		return manyRun{}, err
	}
	defer os.RemoveAll(home)
	ca := filepath.Join(home, "ca.pem")
	if err := os.WriteFile(ca, srv.CACertPEM(), 0o644); err != nil {
		return manyRun{}, err
	}
	key := newAccessKey()
	cmd := exec.Command(b.action)
	cmd.Env = append(baseEnv(job{home: home}),
		"SSL_CERT_FILE="+ca,
		"INPUT_CREDENTIAL-ID="+strings.Join(ids, "\n"),
		"INPUT_SORACOM-AUTH-KEY-ID="+authKeyID,
		"INPUT_SORACOM-AUTH-KEY="+authKey,
		"INPUT_SORACOM-ENDPOINT="+srv.URL(),
		"INPUT_AWS-ACCESS-KEY-ID="+key.id,
		"INPUT_AWS-SECRET-ACCESS-KEY="+key.secret,
		"INPUT_VERIFY-AWS-KEY=false",
		// A description given: one PUT per existing set, no list.
		"INPUT_DESCRIPTION=-",
		"INPUT_MAX-PARALLEL="+strconv.Itoa(parallel),
	)
	s, err := runProcess(ctx, cmd)
	if err != nil {
		return manyRun{}, fmt.Errorf("many: %w", err)
	}
	r := manyRun{wall: s.wall, exit: s.exit, requests: len(srv.Requests()), writes: srv.CountRequests("PUT", "/v1/credentials/"),
		limited: srv.RateLimited(), mostInFlight: srv.MostInFlight(), output: s.output,
		paced: strings.Contains(s.output, "SORACOM rate limit"), stateOK: true}
	for _, id := range ids {
		if set, _ := srv.CredentialSet(id); set.Credentials["secretAccessKey"] != key.secret {
			r.stateOK = false
		}
	}
	return r, nil
}

func (p *printer) many(r report) {
	m := r.many
	if len(m.runs) == 0 {
		return
	}
	p.f("## Many sets (this action only)\n\n")
	p.f("One registration updates %d existing `aws-credentials` sets on one coverage, over TLS, with %s added to every request; "+
		"the emulator allows %d requests per API per minute and answers with SORACOM's `X-Soracom-Ratelimit-*` headers. "+
		"Each run gets a fresh emulator (a run spends the minute's budget). `max-parallel: 4` is the default; `max-parallel: 1` writes one set at a time, as the action did before.\n\n",
		manySets, ms(manyLatency), manyRateLimit)
	p.measuredWith(r)
	p.f("| max-parallel | result | wall time, median (min–max) | API round trips | of which updates | 429s | most requests in flight | waited for a refresh |\n|---|---|---|---|---|---|---|---|\n")
	for _, par := range m.parallel {
		runs := m.runs[par]
		var walls []time.Duration
		var reqs, writes, limited, inFlight []int
		ok, paced := 0, 0
		for _, s := range runs {
			walls, reqs, writes = append(walls, s.wall), append(reqs, s.requests), append(writes, s.writes)
			limited, inFlight = append(limited, s.limited), append(inFlight, s.mostInFlight)
			if s.exit == 0 && s.stateOK {
				ok++
			}
			if s.paced {
				paced++
			}
		}
		p.f("| %d | ok %d/%d | %s (%s–%s) | %d | %d | %d | %d | %d/%d runs |\n", par, ok, len(runs), ms(median(walls)), ms(slices.Min(walls)), ms(slices.Max(walls)),
			median(reqs), median(writes), slices.Max(limited), slices.Max(inFlight), paced, len(runs))
	}
	def := m.runs[4]
	var walls []time.Duration
	limited := 0
	for _, s := range def {
		walls, limited = append(walls, s.wall), max(limited, s.limited)
	}
	p.f("\nTarget, %d sets within %s with max-parallel 4: %s. Zero 429s at %d requests per minute: %s.\n\n",
		manySets, ms(manyTarget), verdict(slices.Max(walls) <= manyTarget, "worst "+ms(slices.Max(walls))),
		manyRateLimit, verdict(limited == 0, fmt.Sprintf("max %d", limited)))
}
