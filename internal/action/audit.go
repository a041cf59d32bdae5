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

// audit lists the sets and checks each; it changes nothing in SORACOM or AWS.
func (r *run) audit(ctx context.Context) (*Report, error) {
	keys, noKeys, iamFailure := r.auditKeys(ctx)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	sess, logout, err := r.session(ctx, r.cfg.Coverages[0], soracom.MinTokenLifetime)
	if err != nil {
		return nil, err
	}
	defer logout()
	rep := &Report{OperatorID: sess.OperatorID}
	all, err := sess.ListCredentials(ctx)
	if err != nil {
		return rep, fmt.Errorf("listing the credential sets to audit: %w", err)
	}
	sets, missing := r.auditedSets(all)
	in := audit.Input{Sets: sets, All: toAuditSets(all), NoKeys: noKeys}
	if keys != nil {
		in.Keys = keys
	}
	cfg := r.cfg
	res, err := audit.Run(ctx, in, audit.Policy{Now: r.env.Now(), MaxKeyAge: cfg.MaxKeyAge, UnusedAfter: cfg.UnusedAfter,
		ExpiryWarning: cfg.ExpiryWarning, IAMUser: cfg.IAMUserName, Concurrency: r.env.AuditConcurrency})
	if err != nil {
		return rep, err
	}
	rep.AWSAccountID = res.Account
	rep.Audit = &AuditReport{Report: res, Sets: len(sets), IAMFailure: (iamFailure || keys != nil) && res.IAMSkipped != ""}
	rep.Audit.Fails = failsOn(res, cfg.FailOn)
	r.annotate(rep.Audit)
	if len(missing) > 0 {
		return rep, missingSets(missing, all)
	}
	return rep, nil
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

// auditedSets picks the sets credential-id names (every set when it is empty), and the
// ids that name no set.
func (r *run) auditedSets(all []soracom.CredentialSet) (sets []audit.Set, missing []string) {
	ids := r.cfg.CredentialIDs
	for _, s := range all {
		// A set whose id could not be read may be any of the named ones: its
		// malformed-set finding is always reported.
		if len(ids) == 0 || slices.Contains(ids, s.ID) || s.ID == "" {
			sets = append(sets, toAuditSet(s))
		}
	}
	for _, id := range ids {
		if _, ok := soracom.Find(all, id); !ok {
			missing = append(missing, id)
		}
	}
	return sets, missing
}

func toAuditSets(all []soracom.CredentialSet) []audit.Set {
	out := make([]audit.Set, len(all))
	for i, s := range all {
		out[i] = toAuditSet(s)
	}
	return out
}

func toAuditSet(s soracom.CredentialSet) audit.Set {
	if len(s.Unreadable) > 0 {
		return audit.Set{ID: s.ID, Type: s.Type, Entry: s.Index + 1, Unreadable: s.Unreadable}
	}
	set := audit.Set{ID: s.ID, Type: s.Type, LastUsed: s.LastUsedAt(), Entry: s.Index + 1}
	switch s.Type {
	case audit.AWSCredentials:
		set.AccessKeyID = s.Field("accessKeyId")
	case audit.X509:
		set.Certificate = s.Field("cert")
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
		var broken []string
		for _, f := range row.Findings {
			msg := subject(f) + ": " + untrusted.OneLine(f.Message)
			switch {
			case f.Severity == audit.Broken:
				broken = append(broken, untrusted.OneLine(f.Message))
			case f.Severity == audit.Warning:
				r.log.Warningf("%s", msg)
			case f.Severity == audit.Unknown && !slices.Contains(a.Denied, f.Permission):
				r.log.Noticef("%s", msg)
			default:
				r.log.Infof("%s (%s)", msg, f.Check)
			}
		}
		if len(broken) > 0 {
			r.log.Errorf("%s is broken: %s", subject(row.Findings[0]), strings.Join(broken, "; "))
		}
	}
	r.log.Infof("Health report: %d set(s) audited; %s", a.Sets, counts(a.Report))
	if a.Fails {
		r.log.Infof("The run fails: fail-on is %s", r.cfg.FailOn)
	}
}

// subject names what a finding is about: its set (by its place in the list when its id
// could not be read), or for an orphan key the key.
func subject(f audit.Finding) string {
	switch {
	case f.Check == audit.OrphanKey:
		return fmt.Sprintf("Access key %s of IAM user %s", audit.Last4(f.AccessKeyID), untrusted.OneLine(f.UserName))
	case f.CredentialID == "":
		return fmt.Sprintf("The credential set at entry %d of SORACOM's list", f.Entry)
	}
	return "Credential set " + untrusted.OneLine(f.CredentialID)
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
