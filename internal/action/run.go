package action

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awskeys"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracom"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/untrusted"
)

// Env is what a run reads and writes besides the network.
type Env struct {
	Getenv func(string) string
	// Environ lists the process environment, to find INPUT_ variables that name no
	// input (see inputs.Strays); nil lists nothing.
	Environ func() []string
	Stdout  io.Writer
	// HTTPClient is used for every HTTP call (SORACOM, OIDC, AWS); nil means a default.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Retry bounds each SORACOM call; the zero value means soracom.DefaultRetry.
	Retry soracom.Retry
	// KeyWait bounds the wait for an AWS key to start working; zero means a minute.
	KeyWait time.Duration
	// AuditConcurrency bounds the AWS calls a health report has in flight; zero means
	// audit.DefaultConcurrency (the benchmark's sequential baseline sets 1).
	AuditConcurrency int
	// Grace bounds a rotation's clean-up once the run is cancelled; zero means
	// rotation.DefaultGrace.
	Grace time.Duration
}

// logoutTimeout bounds the logout at the end (see soracom.LogoutTimeout).
const logoutTimeout = soracom.LogoutTimeout

// Run runs the action and returns the process exit code. ctx is cancelled when the job is.
func Run(ctx context.Context, env Env) int {
	if env.Now == nil {
		env.Now = time.Now
	}
	if env.Retry == (soracom.Retry{}) {
		env.Retry = soracom.DefaultRetry()
	}
	if env.KeyWait == 0 {
		env.KeyWait = time.Minute
	}
	log := NewLog(env.Stdout, env.Getenv)
	files := &fileCommands{log: log, stdout: env.Stdout, output: env.Getenv("GITHUB_OUTPUT"), summary: env.Getenv("GITHUB_STEP_SUMMARY")}

	cfg, err := inputs.Read(env.Getenv, log, env.Now())
	err = strayInputs(env, log, err)
	if err != nil {
		log.Failf("%v", err)
		return 1
	}
	r := &run{cfg: cfg, env: env, log: log, files: files}
	report, err := r.do(ctx)
	msg := failure(ctx, err)
	if r.logoutErr != nil {
		msg = strings.TrimPrefix(msg+"; "+describe(r.logoutErr), "; ")
		err = errors.Join(err, r.logoutErr)
	}
	if err != nil && report == nil {
		// Failed before anything was done (authentication, AWS credentials): the
		// summary still says why.
		report = &Report{}
	}
	if report != nil {
		report.Failure = msg
	}
	werr := r.publish(report)
	if werr == nil {
		werr = r.publishAuthKey(report)
	}
	if werr != nil {
		msg = strings.TrimPrefix(strings.TrimSpace(msg+"; writing outputs: "+werr.Error()), "; ")
	}
	if msg != "" {
		log.Failf("%s", msg)
		return 1
	}
	if report.failsRun() {
		// Each finding already has its annotation; fail-on only sets the exit code.
		return 1
	}
	return 0
}

// failsRun reports whether what the report says ends the run with exit code 1 though
// the mode returned no error: an audit whose findings reach fail-on, whose AWS reads
// were all denied, or whose AWS credentials could not be used.
func (rep *Report) failsRun() bool {
	return rep != nil && rep.Audit != nil && (rep.Audit.Fails || len(rep.Audit.Denied) > 0 || rep.Audit.IAMFailure)
}

// strayInputs adds the INPUT_ variables that name no input to the input errors outside
// GitHub, where a misspelled name is a person's typo; on GitHub, where the runner passes
// whatever a workflow's with: holds and warns about it itself, each is a warning.
func strayInputs(env Env, log *Log, err error) error {
	if env.Environ == nil {
		return err
	}
	strays := inputs.Strays(env.Environ())
	if !log.OnGitHub() {
		return inputs.WithProblems(err, strays)
	}
	for _, s := range strays {
		log.Warningf("%s", s)
	}
	return err
}

// failure is the one line an error of the run ends with, "" for none.
func failure(ctx context.Context, err error) string {
	switch {
	case err != nil && ctx.Err() != nil:
		// The cause is the cancellation, not the network: no hint to follow.
		return "cancelled: the job was cancelled while the action ran (" + err.Error() + ")"
	case err != nil:
		return describe(err)
	}
	return ""
}

// run is one execution of the action.
type run struct {
	cfg   *inputs.Config
	env   Env
	log   *Log
	files *fileCommands
	// logoutErr is a failed logout that fails the run (a redirect), set by the logout
	// deferred in each mode.
	logoutErr error
	// held is the session kept open past the mode for the AuthKey rotation.
	held *heldSession
}

func (r *run) do(ctx context.Context) (*Report, error) {
	var rep *Report
	var err error
	switch r.cfg.Mode {
	case inputs.Rotate:
		rep, err = r.rotate(ctx)
	case inputs.Audit:
		rep, err = r.audit(ctx)
	default:
		rep, err = r.register(ctx)
	}
	return r.afterMode(ctx, rep, err)
}

// place is one coverage of the run, authenticated.
type place struct {
	coverage string
	endpoint string
	sess     *soracom.Session
}

// sessions authenticates at every coverage of the run, before anything is written:
// when one cannot be reached or refuses the AuthKey, the run stops there, says which,
// and has changed nothing on any coverage. It returns a function that logs out of
// each; the logouts run on their own short deadline, detached from ctx, so a cancelled
// job still revokes its tokens.
func (r *run) sessions(ctx context.Context, lifetime time.Duration) ([]place, func(), error) {
	places, logout, failed := r.authenticate(ctx, lifetime, false)
	if len(failed) > 0 {
		logout()
		return nil, func() {}, r.coverageFailed(failed[0], r.nothingDone())
	}
	if err := sameOperator(places, r.nothingDone()); err != nil {
		logout()
		return nil, func() {}, err
	}
	return places, logout, nil
}

// unreached is a coverage the run could not authenticate at, or list, and why.
type unreached struct {
	coverage, endpoint string
	err                error
}

// coverageFailed is the error of a coverage that failed, saying what the run left:
// on a run on several coverages it names the coverage.
func (r *run) coverageFailed(u unreached, state string) error {
	if len(r.cfg.Coverages) < 2 {
		return u.err
	}
	return &coverageError{coverage: u.coverage, endpoint: u.endpoint, err: u.err, state: state}
}

// authenticate authenticates at each coverage in turn. It stops at the first that
// fails unless past is set, and returns the places that answered, a function that logs
// out of each, and the coverages that failed.
func (r *run) authenticate(ctx context.Context, lifetime time.Duration, past bool) ([]place, func(), []unreached) {
	var places []place
	var logouts []func()
	var failed []unreached
	for _, c := range r.cfg.Coverages {
		sess, logout, err := r.session(ctx, c, lifetime)
		if err != nil {
			failed = append(failed, unreached{coverage: c.Name, endpoint: c.Endpoint, err: err})
			if !past || ctx.Err() != nil {
				break
			}
			continue
		}
		places = append(places, place{coverage: c.Name, endpoint: c.Endpoint, sess: sess})
		logouts = append(logouts, logout)
	}
	return places, func() {
		for _, l := range logouts {
			l()
		}
	}, failed
}

// nothingDone says what a run that stopped before its first change left, by mode.
func (r *run) nothingDone() string {
	switch r.cfg.Mode {
	case inputs.Rotate:
		return "nothing was changed on any coverage and no access key was created: the old key stays active"
	case inputs.Audit:
		return "no coverage was audited"
	}
	return "nothing was written on any coverage"
}

// sameOperator refuses coverages whose AuthKey belongs to different operators: one
// operator works on both coverages, so two operators mean an endpoint is not the
// coverage it is said to be.
func sameOperator(places []place, nothing string) error {
	for _, p := range places[1:] {
		if p.sess.OperatorID != places[0].sess.OperatorID {
			return fmt.Errorf("the AuthKey belongs to operator %s on coverage %s and to operator %s on coverage %s, "+
				"so the endpoints are not one operator's two coverages; %s (check %s and %s)",
				places[0].sess.OperatorID, places[0].coverage, p.sess.OperatorID, p.coverage, nothing,
				inputs.EndpointEnv(places[0].coverage), inputs.EndpointEnv(p.coverage))
		}
	}
	return nil
}

// coverageError is a failure on one coverage of several: it names the coverage and
// says what the run left on the others.
type coverageError struct {
	coverage, endpoint string
	err                error
	state              string
}

func (e *coverageError) Error() string {
	return fmt.Sprintf("coverage %s (%s): %s; %s", e.coverage, e.endpoint, strings.TrimRight(e.err.Error(), ". "), e.state)
}

func (e *coverageError) Unwrap() error { return e.err }

// on says where a set is in log lines: nothing for a run on one coverage.
func (r *run) on(coverage string) string {
	if len(r.cfg.Coverages) < 2 {
		return ""
	}
	return " on " + coverage
}

// session authenticates at one coverage and returns a function that logs out.
func (r *run) session(ctx context.Context, c inputs.Coverage, lifetime time.Duration) (*soracom.Session, func(), error) {
	opts := []soracom.Option{soracom.WithRetry(r.env.Retry), soracom.WithClock(r.env.Now),
		soracom.WithParallel(r.cfg.MaxParallel),
		soracom.WithRetryNotify(func(op string, err error, wait time.Duration) {
			r.log.Infof("SORACOM %s%s failed (%s); retrying in %s", op, r.on(c.Name), untrusted.Text(unwrapPermanent(err).Error()), wait.Round(time.Millisecond))
		}),
		soracom.WithPaceNotify(func(op string, remaining, limit int, wait time.Duration) {
			r.log.Infof("SORACOM rate limit%s: %d of %d %s calls left this minute; waiting %s for the refresh rather than meeting a 429",
				r.on(c.Name), remaining, limit, op, wait.Round(100*time.Millisecond))
		})}
	if r.env.HTTPClient != nil {
		opts = append(opts, soracom.WithHTTPClient(r.env.HTTPClient))
	}
	client := soracom.New(c.Endpoint, r.log, opts...)
	if r.cfg.AuthKeyRotation.Enabled {
		lifetime += authKeyTokenLifetime(r.env.Retry)
	}
	r.log.Infof("Authenticating to %s as %s%s", c.Endpoint, r.cfg.AuthKeyID, r.coverageNote(c.Name))
	sess, err := client.Auth(ctx, soracom.AuthKey{ID: r.cfg.AuthKeyID, Secret: r.cfg.AuthKey}, lifetime)
	if err != nil {
		return nil, func() {}, refusedAuthKey(r.cfg.AuthKeyID, err)
	}
	if sess.UserName != "" {
		r.log.Infof("Authenticated to operator %s as SAM user %s", untrusted.Text(sess.OperatorID), untrusted.Text(sess.UserName))
	} else {
		r.log.Infof("Authenticated to operator %s", untrusted.Text(sess.OperatorID))
	}
	logout := func() {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), logoutTimeout)
		defer cancel()
		if err := sess.Logout(lctx); err != nil {
			r.logoutFailed(sess, err)
			return
		}
		r.log.Infof("Revoked the SORACOM API token%s", r.on(c.Name))
	}
	if r.cfg.AuthKeyRotation.Enabled && sess.UserName == "" {
		// Known now, before the mode changes anything: the rotation at the end could
		// only fail, after the mode's writes.
		logout()
		err := fmt.Errorf("%s: %w. Authenticate with a SAM user's AuthKey (and rotate the root AuthKey by hand), or remove %s",
			inputs.RotateAuthKey, soracom.ErrRootAuthKey, inputs.RotateAuthKey)
		if len(r.cfg.Coverages) == 1 {
			// With several, sessions says it for the run.
			err = fmt.Errorf("%w; %s", err, r.nothingDone())
		}
		return nil, func() {}, err
	}
	if r.cfg.AuthKeyRotation.Enabled {
		// Revoked after the AuthKey rotation, which needs the session (see afterMode).
		r.hold(c.Name, sess, client, logout)
		return sess, func() {}, nil
	}
	return sess, logout, nil
}

// coverageNote names the coverage in the authentication line of a run on several.
func (r *run) coverageNote(coverage string) string {
	if len(r.cfg.Coverages) < 2 {
		return ""
	}
	return " (coverage " + coverage + ")"
}

// logoutFailed reports a logout that failed. A redirect is the API answering with a
// 3xx, which is an error like any other redirect (a proxy or a wrong endpoint sent it),
// so it fails the run; any other failure (no answer, a 5xx, an expired token) only
// warns, since what the run did stands.
func (r *run) logoutFailed(sess *soracom.Session, err error) {
	expires, lifetime := sess.TokenExpiry()
	alive := fmt.Sprintf("it may stay valid until it expires at %s (issued for %s)",
		expires.UTC().Format("15:04:05 MST"), lifetime.Round(time.Second))
	var apiErr *soracom.APIError
	if errors.As(err, &apiErr) && apiErr.Redirected() {
		r.logoutErr = errors.Join(r.logoutErr, fmt.Errorf("could not revoke the SORACOM API token, so %s: %w", alive, err))
		return
	}
	r.log.Warningf("could not revoke the SORACOM API token, so %s: %s", alive, describe(err))
}

// unwrapPermanent shows the API error behind a retry wrapper.
func unwrapPermanent(err error) error {
	var apiErr *soracom.APIError
	if errors.As(err, &apiErr) {
		return apiErr
	}
	return err
}

// awsBounds bounds every AWS and OIDC call like a SORACOM call.
func (r *run) awsBounds() awskeys.Bounds {
	return awskeys.Bounds{Attempt: r.env.Retry.AttemptTimeout, Call: r.env.Retry.Deadline}
}

// rotationTokenLifetime is the SORACOM token lifetime a rotation asks for. The token is
// taken before the plan and revoked at the end; in between, every SORACOM call renews a
// token near expiry, but the final logout cannot. So the token covers the worst case of
// the whole rotation as bounded: six AWS or SORACOM calls that each keep failing up to
// their deadline (list keys, list sets, delete an inactive key, create, and retire the
// old key or roll back), the wait for the new key with one attempt in flight, and the
// logout itself.
func rotationTokenLifetime(r soracom.Retry, keyWait time.Duration) time.Duration {
	return 6*r.Deadline + keyWait + r.AttemptTimeout + logoutTimeout
}
