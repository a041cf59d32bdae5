package action

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awskeys"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/rotation"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/untrusted"
)

// RotationReport is what a rotation did to the keys, for the summary.
type RotationReport struct {
	OldKeyID, NewKeyID string
	// Stored is how many sets hold the new key.
	Stored int
	// Failed is set when the rotation stopped with an error.
	Failed bool
	// OldKeyAction is what happened to the old key (rotation.OldKey*), or the plan.
	OldKeyAction string
	// DeletedInactiveKey is an inactive key deleted to make room.
	DeletedInactiveKey string
	// InDoubt are sets whose write was sent but whose outcome is unknown.
	InDoubt []string
	// Plan is the plan's text in a dry run.
	Plan string
	// Schedule is when the key is due (rotate-after) and whether it was rotated.
	Schedule schedule
}

func (r *RotationReport) writeSummary(w io.Writer) {
	if r.Schedule.notDue {
		r.Schedule.writeNotDue(w)
		return
	}
	if r.Plan != "" {
		fmt.Fprintf(w, "Rotation plan:\n\n%s\n", markdownList(r.Plan))
		return
	}
	if !r.Failed && r.NewKeyID == "" {
		return // stopped before the rotation began; the failure says why
	}
	oldKey := "none"
	if r.OldKeyID != "" {
		oldKey = untrusted.Code(secret.ShortID(r.OldKeyID))
	}
	switch {
	case r.Failed && len(r.InDoubt) > 0:
		fmt.Fprintf(w, "**Rotation incomplete**: %s → %s in %d set(s); **unknown** which key %s hold(s) (a write was sent but its outcome is unknown); both keys stay active; old key: **%s**",
			oldKey, untrusted.Code(secret.ShortID(r.NewKeyID)), r.Stored, summaryIDs(r.InDoubt), untrusted.Markdown(r.OldKeyAction))
	case r.Failed && r.Stored == 0:
		fmt.Fprintf(w, "**Rotation failed**: no credential set holds a new key; the old key %s is unchanged", oldKey)
	case r.Failed:
		fmt.Fprintf(w, "**Rotation incomplete**: %s → %s in %d set(s) listed below; old key: **%s**", oldKey, untrusted.Code(secret.ShortID(r.NewKeyID)), r.Stored, untrusted.Markdown(r.OldKeyAction))
	default:
		fmt.Fprintf(w, "Access key rotated: %s → %s; old key: **%s**", oldKey, untrusted.Code(secret.ShortID(r.NewKeyID)), untrusted.Markdown(r.OldKeyAction))
	}
	if r.DeletedInactiveKey != "" {
		fmt.Fprintf(w, "; inactive key %s from an earlier rotation deleted", untrusted.Code(secret.ShortID(r.DeletedInactiveKey)))
	}
	fmt.Fprint(w, "\n\n")
}

// rotate replaces the IAM user's access key behind the credential sets
// as docs/rotation.md describes it: create, wait until it works, move every set, retire.
func (r *run) rotate(ctx context.Context) (*Report, error) {
	cfg := r.cfg
	awsCfg, err := r.awsConfig(ctx)
	if err != nil {
		return nil, err
	}
	keys := loggedKeys{log: r.log, Keys: iamKeys{iam: awskeys.NewIAM(awsCfg, r.log), user: cfg.IAMUserName,
		config: awsCfg, budget: r.env.KeyWait, verify: cfg.VerifyAWSKey}}

	// The tokens must outlive the wait for the new key, which comes between the plan
	// and the updates. Every coverage is authenticated before anything changes.
	places, logout, err := r.sessions(ctx, rotationTokenLifetime(r.env.Retry, r.env.KeyWait))
	if err != nil {
		return nil, err
	}
	defer logout()
	// A run that stops before rotating still says rotated: false.
	rep := &Report{DryRun: cfg.DryRun, OperatorID: places[0].sess.OperatorID, Rotation: &RotationReport{}}
	sets := newCredentialSets(r.log, places, cfg.Description)
	named := sets.names.all(cfg.CredentialIDs, cfg.Coverages)

	inv, err := rotation.Survey(ctx, keys, sets)
	if err != nil {
		return rep, err
	}
	due := inv.Due(named, cfg.RotateAfter, r.env.Now())
	sched := newSchedule(due, cfg.RotateAfter, r.env.Now())
	rep.Rotation.Schedule = sched
	if !due.Due {
		return r.notDue(rep, sets.names, inv, due, sched), nil
	}
	if cfg.RotateAfter > 0 {
		r.log.Infof("Rotating now: %s", due.Reason)
	}
	plan, err := inv.Plan(named)
	if err != nil {
		return rep, err
	}
	old := cfg.OldKey
	r.log.Infof("Rotation plan for IAM user %s:\n%s", cfg.IAMUserName, strings.TrimRight(plan.Describe(old), "\n"))
	rep.UsedBy = r.targetUsage(ctx, places, sets.names, plan.TargetIDs())
	rep.PreviousAWSAccessKeyID = plan.Replace
	if cfg.DryRun {
		r.dryRun(rep, sets.names, plan, sched)
		// A dry run fails where the real run is bound to.
		return rep, plan.DryRunError()
	}
	if !cfg.VerifyAWSKey {
		r.log.Warningf("verify-aws-key is false: the new key is stored without waiting until AWS accepts it, so consumers may fail for a few seconds")
	}
	res, err := rotation.Execute(ctx, keys, sets, plan, rotation.Options{OldKey: old, Grace: r.env.Grace,
		Parallel: cfg.MaxParallel, Stored: sets.logStored})
	r.reportRotation(rep, sets, res, err)
	if res.Rotated() {
		sched.rotatedTo(res.NewKeyCreated)
	}
	rep.Rotation.Schedule = sched
	return rep, err
}

// dryRun reports the plan as what a real run would do.
func (r *run) dryRun(rep *Report, names setNames, plan rotation.Plan, sched schedule) {
	for _, t := range plan.Targets {
		would := "update"
		if !t.Exists {
			would = "create"
		}
		coverage, id := names.split(t.ID)
		rep.addPlanned(coverage, id, rotation.AWSCredentials, would)
	}
	r.byCoverage(rep)
	rep.Rotation = &RotationReport{OldKeyID: plan.Replace, Plan: shortenKeys(plan.Describe(r.cfg.OldKey), plan), Schedule: sched}
	r.log.Infof("Dry run: nothing was changed in IAM or SORACOM")
}

// reportRotation puts what a rotation did into the report: every planned set with what
// it holds now (unknown where a write is in doubt), and the keys.
func (r *run) reportRotation(rep *Report, sets *credentialSets, res rotation.Result, err error) {
	if !res.NewKeyDeleted && (len(res.Updated) > 0 || len(res.InDoubt) > 0) {
		// Only a key that a set may hold is "the key now stored"; after a rollback
		// the new key no longer exists.
		rep.AWSAccessKeyID = res.NewKeyID
	}
	rep.PreviousAWSAccessKeyID = res.PreviousKeyID
	rep.AWSAccountID = res.Account
	for _, s := range res.Updated {
		op := "updated"
		if !sets.existed[s.ID] {
			op = "created"
		}
		coverage, id := sets.names.split(s.ID)
		rep.add(coverage, id, rotation.AWSCredentials, op, s.UpdatedAt)
	}
	for _, name := range res.InDoubt {
		// The write was sent and may have landed: neither "updated" nor "not changed".
		coverage, id := sets.names.split(name)
		rep.add(coverage, id, rotation.AWSCredentials, "unknown", time.Time{})
	}
	for _, name := range res.NotUpdated {
		coverage, id := sets.names.split(name)
		rep.NotChanged = append(rep.NotChanged, SetRef{Coverage: coverage, ID: id})
	}
	r.byCoverage(rep)
	rep.Rotation = &RotationReport{OldKeyID: res.PreviousKeyID, NewKeyID: res.NewKeyID, OldKeyAction: res.OldKeyAction,
		DeletedInactiveKey: res.DeletedInactiveKey, Stored: len(res.Updated), InDoubt: res.InDoubt, Failed: err != nil}
	if err == nil {
		r.log.Infof("Rotated: %d credential set(s) hold the new key %s; the old key %s was %s", len(res.Updated), secret.ShortID(res.NewKeyID), orNone(res.PreviousKeyID), res.OldKeyAction)
	}
}

// byCoverage orders results and unchanged sets coverage by coverage (jp first), each in
// plan order.
func (r *run) byCoverage(rep *Report) {
	rank := func(coverage string) int {
		return slices.IndexFunc(r.cfg.Coverages, func(c inputs.Coverage) bool { return c.Name == coverage })
	}
	slices.SortStableFunc(rep.Results, func(a, b SetResult) int { return rank(a.Coverage) - rank(b.Coverage) })
	slices.SortStableFunc(rep.NotChanged, func(a, b SetRef) int { return rank(a.Coverage) - rank(b.Coverage) })
}

// shortenKeys shows the plan's key ids by their last four characters, as the summary
// shows every key.
func shortenKeys(text string, plan rotation.Plan) string {
	ids := []string{plan.Replace, plan.DeleteInactive}
	for _, t := range plan.Targets {
		ids = append(ids, t.AccessKeyID)
	}
	for _, id := range ids {
		if len(id) > 4 {
			text = strings.ReplaceAll(text, id, secret.ShortID(id))
		}
	}
	return text
}

func orNone(id string) string {
	if id == "" {
		return "(none)"
	}
	return id
}

// awsConfig gets the credentials that manage the IAM user: the role in role-to-assume
// through the job's OIDC token, or the job's ambient credentials.
func (r *run) awsConfig(ctx context.Context) (aws.Config, error) {
	cfg := r.cfg
	s := awskeys.Settings{Region: cfg.AWS.Region, HTTPClient: r.env.HTTPClient, Bounds: r.awsBounds()}
	if cfg.AWS.RoleToAssume != "" {
		s.Role = awskeys.Role{
			ARN:                 cfg.AWS.RoleToAssume,
			SessionName:         cfg.AWS.RoleSessionName,
			Duration:            cfg.AWS.RoleDuration,
			Audience:            cfg.AWS.Audience,
			IDTokenRequestURL:   r.env.Getenv("ACTIONS_ID_TOKEN_REQUEST_URL"),
			IDTokenRequestToken: secret.Mask(r.log, r.env.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN")),
		}
		r.log.Infof("Assuming %s with the job's GitHub OIDC token", cfg.AWS.RoleToAssume)
	} else {
		// configure-aws-credentials masks these too; an env set by hand may not be.
		for _, name := range []string{"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
			if v := r.env.Getenv(name); v != "" {
				secret.Mask(r.log, v)
			}
		}
		r.log.Infof("Using the job's AWS credentials (no role-to-assume)")
	}
	awsCfg, err := awskeys.Load(ctx, s, r.log)
	return awsCfg, placeAWSSetup(err, r.log.OnGitHub())
}

// summaryIDs shows credential set ids (which come from inputs and from SORACOM) in the
// summary as inert code spans.
func summaryIDs(ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = untrusted.Code(id)
	}
	return strings.Join(out, ", ")
}
