package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/audit"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awskeys"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracom"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/untrusted"
)

// AuditReport is what a health report found, for the annotations, outputs and summary.
type AuditReport struct {
	*audit.Report
	// Sets is how many sets were audited.
	Sets int
	// IAMFailure is set when AWS credentials were configured but could not be used: an
	// error, where a job without AWS credentials only gets a notice.
	IAMFailure bool
	// Fails is true when the findings reach fail-on.
	Fails bool
	// LeftOut is how many findings (the mildest) the findings output leaves out to
	// stay within maxFindingsOutput.
	LeftOut int
}

// audit lists the sets, groups and event handlers of every coverage and checks each
// set; it changes nothing in SORACOM or AWS. On several coverages, one that cannot be
// reached, refuses the AuthKey or whose sets cannot be listed does not hide the
// others: they are audited in full, the report has a coverage-unaudited finding for
// it, and the run fails, naming it (the report is incomplete).
func (r *run) audit(ctx context.Context) (*Report, error) {
	keys, noKeys, iamFailure := r.auditKeys(ctx)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	places, failed, logout, err := r.auditPlaces(ctx)
	if err != nil {
		return nil, err
	}
	defer logout()
	rep := &Report{OperatorID: places[0].sess.OperatorID}
	listed, failed, err := r.auditedCoverages(ctx, listEverywhere(ctx, places), failed)
	if err != nil {
		return rep, err
	}
	in := audit.Input{NoKeys: noKeys, Usage: map[string]*audit.Usage{}, Named: r.cfg.CredentialIDs, Scope: r.cfg.CoverageType}
	if len(failed) > 0 {
		in.Scope = listed[0].coverage // the one coverage audited
	}
	var problems []error
	for _, l := range listed {
		sets, absent := r.auditedSets(l.coverage, l.sets)
		in.Sets = append(in.Sets, sets...)
		in.All = append(in.All, toAuditSets(l.coverage, l.sets)...)
		in.Usage[l.coverage] = l.usage
		if len(absent) > 0 {
			problems = append(problems, r.onCoverage(l.coverage, missingSets(absent, l.sets)))
		}
	}
	for _, f := range failed {
		in.Unaudited = append(in.Unaudited, audit.Unaudited{Coverage: f.coverage, Reason: untrusted.Clip(untrusted.OneLine(describe(f.err)), 400)})
		problems = append(problems, r.coverageFailed(f, "it was not audited, and the report covers "+coverageNames(listed)+" only"))
	}
	if keys != nil {
		in.Keys = keys
	}
	if err := r.checkSets(ctx, rep, in, iamFailure || keys != nil); err != nil {
		return rep, err
	}
	return rep, errors.Join(problems...)
}

// checkSets runs the checks over in and puts the health report in rep.
func (r *run) checkSets(ctx context.Context, rep *Report, in audit.Input, awsConfigured bool) error {
	cfg := r.cfg
	res, err := audit.Run(ctx, in, audit.Policy{Now: r.env.Now(), MaxKeyAge: cfg.MaxKeyAge, UnusedAfter: cfg.UnusedAfter,
		ExpiryWarning: cfg.ExpiryWarning, IAMUser: cfg.IAMUserName, Concurrency: r.env.AuditConcurrency})
	if err != nil {
		return err
	}
	rep.AWSAccountID = res.Account
	rep.Audit = &AuditReport{Report: res, Sets: len(in.Sets), IAMFailure: awsConfigured && res.IAMSkipped != ""}
	rep.Audit.Fails = failsOn(res, cfg.FailOn)
	r.annotate(rep.Audit)
	return nil
}

// auditPlaces authenticates at every coverage of an audit. On several coverages one
// that cannot be reached or refuses the AuthKey is returned among failed, and the
// others are audited; the audit stops only when none answers, when the answers are
// two operators', or when the job is cancelled.
func (r *run) auditPlaces(ctx context.Context) (places []place, failed []unreached, logout func(), err error) {
	if len(r.cfg.Coverages) < 2 {
		places, logout, err = r.sessions(ctx, soracom.MinTokenLifetime)
		return places, nil, logout, err
	}
	places, logout, failed = r.authenticate(ctx, soracom.MinTokenLifetime, true)
	switch {
	case ctx.Err() != nil:
		err = ctx.Err()
	case len(places) == 0:
		errs := make([]error, len(failed))
		for i, f := range failed {
			errs[i] = r.coverageFailed(f, r.nothingDone())
		}
		err = errors.Join(errs...)
	default:
		err = sameOperator(places, r.nothingDone())
	}
	if err != nil {
		logout()
		return nil, nil, func() {}, err
	}
	return places, failed, logout, nil
}

// auditedCoverages keeps the coverages whose sets were listed: the audit needs them.
// On several coverages one whose list failed joins failed (it is reported, not
// audited); the audit stops when no coverage is left. (Groups and event handlers that
// cannot be listed are findings instead.)
func (r *run) auditedCoverages(ctx context.Context, listed []listedCoverage, failed []unreached) ([]listedCoverage, []unreached, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var kept []listedCoverage
	for _, l := range listed {
		if l.setsErr == nil {
			kept = append(kept, l)
			continue
		}
		failed = append(failed, unreached{coverage: l.coverage, endpoint: l.endpoint,
			err: fmt.Errorf("listing the credential sets to audit: %w", l.setsErr)})
	}
	if len(kept) > 0 {
		return kept, failed, nil
	}
	errs := make([]error, len(failed))
	for i, f := range failed {
		errs[i] = r.coverageFailed(f, r.nothingDone())
	}
	return nil, nil, errors.Join(errs...)
}

// coverageNames names the coverages listed, for messages ("jp", "jp and g").
func coverageNames(listed []listedCoverage) string {
	names := make([]string, len(listed))
	for i, l := range listed {
		names[i] = l.coverage
	}
	return "coverage " + strings.Join(names, " and ")
}

// onCoverage names the coverage in an error of a run on several.
func (r *run) onCoverage(coverage string, err error) error {
	if len(r.cfg.Coverages) < 2 {
		return err
	}
	return fmt.Errorf("coverage %s: %w", coverage, err)
}

// missingSets is the error for named sets the list does not hold. A set whose id could
// not be read may be one of them, so then they are not said not to exist.
func missingSets(missing []string, all []soracom.CredentialSet) error {
	named := strings.Join(quoteAll(missing), ", ")
	for _, s := range all {
		if s.ID == "" && len(s.Unreadable) > 0 {
			return fmt.Errorf("credential set %s is not among the sets SORACOM's list could be read for (entry %d of the %d could not be read, and may be it); check credential-id",
				named, s.Index+1, len(all))
		}
	}
	return fmt.Errorf("credential set %s does not exist (the operator has %d sets); check credential-id", named, len(all))
}

// auditKeys gets the AWS reads. Without any AWS credentials the IAM checks are skipped
// (reason says why); credentials that are configured but fail are a failure too.
func (r *run) auditKeys(ctx context.Context) (keys audit.Keys, reason string, failed bool) {
	cfg, err := r.awsConfig(ctx)
	switch {
	case err == nil:
		// The SORACOM retry's cap also caps the waits of the AWS reads: tests that
		// shorten one shorten both.
		return auditKeys{awskeys.NewKeyReader(cfg, min(r.env.Retry.MaxInterval, awskeys.DefaultAuditMaxBackoff))}, "", false
	case r.cfg.AWS.RoleToAssume == "":
		how := "give this machine's AWS credentials"
		if r.log.OnGitHub() {
			how = "set role-to-assume, or run aws-actions/configure-aws-credentials before this step,"
		}
		return nil, "no AWS credentials: " + how + " to check the keys in IAM too", false
	}
	return nil, "the AWS credentials could not be used: " + describe(err), true
}

// auditedSets picks the sets of one coverage that credential-id names (every set when
// it is empty), and the ids that name no set there.
func (r *run) auditedSets(coverage string, all []soracom.CredentialSet) (sets []audit.Set, missing []string) {
	ids := r.cfg.CredentialIDs
	for _, s := range all {
		// A set whose id could not be read may be any of the named ones: its
		// malformed-set finding is always reported.
		if len(ids) == 0 || slices.Contains(ids, s.ID) || s.ID == "" {
			sets = append(sets, toAuditSet(coverage, s))
		}
	}
	for _, id := range ids {
		if _, ok := soracom.Find(all, id); !ok {
			missing = append(missing, id)
		}
	}
	return sets, missing
}

func toAuditSets(coverage string, all []soracom.CredentialSet) []audit.Set {
	out := make([]audit.Set, len(all))
	for i, s := range all {
		out[i] = toAuditSet(coverage, s)
	}
	return out
}

func toAuditSet(coverage string, s soracom.CredentialSet) audit.Set {
	if len(s.Unreadable) > 0 {
		return audit.Set{ID: s.ID, Type: s.Type, Coverage: coverage, Entry: s.Index + 1, Unreadable: s.Unreadable}
	}
	set := audit.Set{ID: s.ID, Type: s.Type, Coverage: coverage, LastUsed: s.LastUsedAt(), Entry: s.Index + 1}
	switch s.Type {
	case audit.AWSCredentials:
		set.AccessKeyID = s.Field("accessKeyId")
	case audit.X509:
		set.Certificate, set.CA = s.Field("cert"), s.Field("ca")
	}
	return set
}

func failsOn(rep *audit.Report, policy inputs.FailOn) bool {
	switch policy {
	case inputs.FailOnNever:
		return false
	case inputs.FailOnWarning:
		return rep.Reaches(audit.Warning)
	}
	return rep.Reaches(audit.Broken)
}

// auditKeys adapts awskeys.KeyReader to the audit's view of AWS.
type auditKeys struct{ r *awskeys.KeyReader }

func (k auditKeys) CallerAccount(ctx context.Context) (string, error) { return k.r.CallerAccount(ctx) }

func (k auditKeys) AccessKeyAccount(ctx context.Context, id string) (string, error) {
	return k.r.AccessKeyAccount(ctx, id)
}

func (k auditKeys) AccessKeyLastUsed(ctx context.Context, id string) (audit.LastUse, error) {
	u, err := k.r.AccessKeyLastUsed(ctx, id)
	return audit.LastUse{User: u.User, Date: u.Date, Service: u.Service, Region: u.Region}, err
}

func (k auditKeys) ListAccessKeys(ctx context.Context, user string) ([]audit.Key, error) {
	list, err := k.r.ListAccessKeys(ctx, user)
	out := make([]audit.Key, len(list))
	for i, key := range list {
		out[i] = audit.Key{ID: key.ID, Status: string(key.Status), Created: key.Created}
	}
	return out, err
}

// annotate writes the annotations: one error per broken set, one warning per warning,
// one notice per key left unknown (unless a denied permission, stated once, explains
// it), and the rest as log lines.
func (r *run) annotate(a *AuditReport) {
	if len(a.Denied) > 0 {
		r.log.Errorf("%s", deniedMessage(a.Denied, a.Account))
	}
	if a.IAMSkipped != "" && a.IAMFailure {
		r.log.Errorf("IAM checks skipped: %s", untrusted.OneLine(a.IAMSkipped))
	} else if a.IAMSkipped != "" {
		r.log.Noticef("IAM checks skipped (the SORACOM-side checks ran): %s", untrusted.OneLine(a.IAMSkipped))
	}
	for _, note := range a.Notes {
		r.log.Warningf("%s", untrusted.OneLine(note))
	}
	for _, row := range a.Rows {
		r.annotateRow(row, a.Denied)
	}
	for _, f := range a.General {
		r.annotateFinding(r.generalSubject(f), f, a.Denied)
	}
	r.log.Infof("Health report: %d set(s) audited; %s", a.Sets, counts(a.Report))
	if a.Fails {
		r.log.Infof("The run fails: fail-on is %s", r.cfg.FailOn)
	}
}

// annotateRow writes a row's findings: one error for a broken set, its broken findings
// joined; a line of its own for each other finding, and for each reference to a set
// that does not exist.
func (r *run) annotateRow(row audit.Row, denied []string) {
	var broken []string
	for _, f := range row.Findings {
		switch {
		case row.Missing:
			r.annotateFinding("Dangling reference", f, denied)
		case f.Severity == audit.Broken:
			broken = append(broken, untrusted.OneLine(f.Message))
		default:
			r.annotateFinding(r.subject(f), f, denied)
		}
	}
	if len(broken) > 0 {
		r.log.Errorf("%s is broken: %s", r.subject(row.Findings[0]), strings.Join(broken, "; "))
	}
}

// annotateFinding writes one finding: a warning as a warning, an unknown as a notice
// (unless a denied permission, stated once, explains it), the rest as log lines.
func (r *run) annotateFinding(subject string, f audit.Finding, denied []string) {
	msg := subject + ": " + untrusted.OneLine(f.Message)
	switch {
	case f.Severity == audit.Broken:
		r.log.Errorf("%s", msg)
	case f.Severity == audit.Warning:
		r.log.Warningf("%s", msg)
	case f.Severity == audit.Unknown && !slices.Contains(denied, f.Permission):
		r.log.Noticef("%s", msg)
	default:
		r.log.Infof("%s (%s)", msg, f.Check)
	}
}

// subject names what a finding is about: its set (by its place in the list when its id
// could not be read), or for an orphan key the key; with several coverages, where.
func (r *run) subject(f audit.Finding) string {
	where := ""
	if len(r.cfg.Coverages) > 1 && f.Coverage != "" {
		where = " on coverage " + f.Coverage
	}
	switch {
	case f.Check == audit.OrphanKey:
		return fmt.Sprintf("Access key %s of IAM user %s", audit.Last4(f.AccessKeyID), untrusted.OneLine(f.UserName))
	case f.CredentialID == "":
		return fmt.Sprintf("The credential set at entry %d of SORACOM's list%s", f.Entry, where)
	}
	return "Credential set " + untrusted.OneLine(f.CredentialID) + where
}

// generalSubject names what a finding about no one set is about.
func (r *run) generalSubject(f audit.Finding) string {
	if f.Check == audit.CoverageUnaudited {
		return "Coverage " + f.Coverage
	}
	s := "Groups and event handlers"
	if len(r.cfg.Coverages) > 1 {
		s += " on coverage " + f.Coverage
	}
	return s
}

func deniedMessage(perms []string, account string) string {
	return fmt.Sprintf("The AWS credentials were denied %s on every key in account %s, so the keys could not be checked in IAM: "+
		"grant the read-only policy of docs/audit.md, \"AWS set-up for the health report\" (sts:GetAccessKeyInfo, iam:GetAccessKeyLastUsed, iam:ListAccessKeys)",
		strings.Join(perms, " and "), account)
}

func counts(rep *audit.Report) string {
	parts := make([]string, len(audit.Severities))
	for i, s := range audit.Severities {
		parts[i] = fmt.Sprintf("%s: %d", s, rep.Count(s))
	}
	return strings.Join(parts, ", ")
}

// publishAudit writes the health report's outputs (findings, broken-count and
// warning-count, with operator-id and aws-account-id) and its summary, which also
// says why a run that failed before the checks did.
func (r *run) publishAudit(rep *Report) error {
	if rep == nil {
		return nil
	}
	var refused error
	if rep.Audit != nil {
		refused = r.auditOutputs(rep)
		var refusal *OutputError
		if refused != nil && !errors.As(refused, &refusal) {
			return refused
		}
		noteRefusals(rep, refused)
	}
	if err := r.files.AddSummary(r.auditSummary(rep)); err != nil {
		return err
	}
	return refused
}

func (r *run) auditOutputs(rep *Report) error {
	a := rep.Audit
	findings, leftOut, err := r.findingsJSON(a.Findings())
	if err != nil {
		return err
	}
	a.LeftOut = leftOut
	out := [][2]string{
		{"findings", findings},
		{"findings-truncated", strconv.FormatBool(leftOut > 0)},
		{"broken-count", strconv.Itoa(a.Count(audit.Broken))},
		{"warning-count", strconv.Itoa(a.Count(audit.Warning))},
		{"operator-id", rep.OperatorID},
		{"aws-account-id", rep.AWSAccountID},
	}
	var refused []error
	for _, o := range out {
		if o[1] == "" {
			continue
		}
		if err := r.files.SetOutput(o[0], o[1]); err != nil {
			var refusal *OutputError
			if !errors.As(err, &refusal) {
				return err
			}
			refused = append(refused, err) // the other outputs are still written
		}
	}
	return errors.Join(refused...)
}

// maxFindingsOutput bounds the findings output: a later step reads it whole (into an
// environment variable, a shell argument), and the runner keeps outputs of 1 MiB.
const maxFindingsOutput = 1 << 20

// findingsJSON is the findings output: a JSON array of the findings, worst first (as
// given), each scrubbed, as many as fit in maxFindingsOutput bytes; leftOut counts
// those that did not fit.
func (r *run) findingsJSON(findings []audit.Finding) (out string, leftOut int, err error) {
	var b strings.Builder
	b.WriteByte('[')
	for i, f := range findings {
		f.Message = untrusted.Clip(untrusted.OneLine(f.Message), 1000)
		item, err := json.Marshal(f)
		if err != nil {
			return "", 0, err
		}
		text := r.log.Scrub(string(item))
		if b.Len()+len(text)+2 > maxFindingsOutput { // a comma and the closing bracket
			return b.String() + "]", len(findings) - i, nil
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(text)
	}
	return b.String() + "]", 0, nil
}

func quoteAll(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strconv.Quote(id)
	}
	return out
}
