package action

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/authkeyrotation"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/untrusted"
)

// Report is what a run did, for the outputs and the summary.
type Report struct {
	DryRun     bool
	OperatorID string
	Results    []SetResult
	// AWSAccessKeyID is the key id now stored (aws-credentials).
	AWSAccessKeyID string
	// PreviousAWSAccessKeyID is the key a rotation replaced.
	PreviousAWSAccessKeyID string
	AWSAccountID           string
	// CertificateNotAfter is the stored x509 certificate's expiry.
	CertificateNotAfter time.Time
	// Rotation is set when the run rotated a key.
	Rotation *RotationReport
	// Audit is set when the run was a health report.
	Audit *AuditReport
	// AuthKey is set when the run rotated (or tried to rotate) its own AuthKey.
	AuthKey *authkeyrotation.Result
	// Failure is the error the run ended with, as the ::error:: line says it.
	Failure string
	// NotChanged are the sets a failed registration did not get to (or failed on); the
	// summary lists them, the results output does not.
	NotChanged []SetRef
	// UsedBy says, for a rotation, which groups and event handlers use each set it
	// updates (or plans to), for the summary's Used by column; nil for other modes.
	UsedBy map[SetRef]string
}

// SetRef is a credential set on one coverage: the same id on jp and g is two sets.
type SetRef struct {
	Coverage string
	ID       string
}

// SetResult is one element of the results output.
type SetResult struct {
	CredentialID string `json:"credentialId"`
	// Coverage is where the set is: jp or g.
	Coverage  string `json:"coverage"`
	Type      string `json:"type"`
	Operation string `json:"operation"`
	UpdatedAt string `json:"updatedAt,omitempty"`
	// Planned is, in a dry run, what a real run would do: create, update, skip, fail
	// or none.
	Planned string `json:"planned,omitempty"`
}

func (r *Report) add(coverage, id, typ, op string, at time.Time) {
	res := SetResult{CredentialID: id, Coverage: coverage, Type: typ, Operation: op}
	if !at.IsZero() {
		res.UpdatedAt = at.UTC().Format(time.RFC3339)
	}
	r.Results = append(r.Results, res)
}

func (r *Report) addPlanned(coverage, id, typ, would string) {
	r.Results = append(r.Results, SetResult{CredentialID: id, Coverage: coverage, Type: typ, Operation: "planned", Planned: would})
}

// inOrder sorts the results of one coverage as ids lists them: writes run in
// parallel, and a set in doubt is known only at the end, but results read in input
// order, coverage by coverage.
func (r *Report) inOrder(coverage string, ids []string) {
	first := slices.IndexFunc(r.Results, func(s SetResult) bool { return s.Coverage == coverage })
	if first < 0 {
		return
	}
	slices.SortStableFunc(r.Results[first:], func(a, b SetResult) int {
		return slices.Index(ids, a.CredentialID) - slices.Index(ids, b.CredentialID)
	})
}

// Operation is the operation output: the one operation of every set, or mixed.
func (r *Report) Operation() string {
	op := ""
	for _, res := range r.Results {
		switch {
		case op == "":
			op = res.Operation
		case op != res.Operation:
			return "mixed"
		}
	}
	return op
}

// secretOf returns a credentials field as a Secret.
func secretOf(fields map[string]any, name string) secret.Secret {
	v, _ := fields[name].(string)
	return secret.New(v)
}

// publish writes outputs and the summary. It runs after failures too, with what was done.
// An output whose value does not have the shape it promises is not written, the others
// are, and the summary still is; the refusals come back as one error.
func (r *run) publish(rep *Report) error {
	if r.cfg.Mode == inputs.Audit {
		return r.publishAudit(rep)
	}
	out, err := r.outputs(rep)
	if err != nil {
		return err
	}
	var refused []error
	for _, name := range outputNames {
		v, ok := out[name]
		if !ok || v == "" {
			continue
		}
		if err := r.files.SetOutput(name, v); err != nil {
			var refusal *OutputError
			if !errors.As(err, &refusal) {
				return err
			}
			refused = append(refused, err)
		}
	}
	outErr := errors.Join(refused...)
	noteRefusals(rep, outErr)
	if rep == nil || len(rep.Results) == 0 && len(rep.NotChanged) == 0 && rep.Rotation == nil && rep.Failure == "" {
		return outErr
	}
	if err := r.files.AddSummary(r.summary(rep)); err != nil {
		return err
	}
	return outErr
}

// noteRefusals adds refused outputs to the failure the summary shows, so that a run
// whose outputs were refused never reads as a success there.
func noteRefusals(rep *Report, refused error) {
	if rep == nil || refused == nil {
		return
	}
	note := "writing outputs: " + refused.Error()
	if rep.Failure != "" {
		note = rep.Failure + "; " + note
	}
	rep.Failure = note
}

// outputs returns the value of each output.
func (r *run) outputs(rep *Report) (map[string]string, error) {
	out := map[string]string{}
	if len(r.cfg.CredentialIDs) > 0 {
		out["credential-id"] = r.cfg.CredentialIDs[0]
	}
	if rep == nil {
		return out, nil
	}
	out["operation"] = rep.Operation()
	results := rep.Results
	if results == nil {
		results = []SetResult{}
	}
	b, err := json.Marshal(results)
	if err != nil {
		return nil, err
	}
	out["results"] = string(b)
	out["operator-id"] = rep.OperatorID
	out["aws-access-key-id"] = rep.AWSAccessKeyID
	out["previous-aws-access-key-id"] = rep.PreviousAWSAccessKeyID
	out["aws-account-id"] = rep.AWSAccountID
	if !rep.CertificateNotAfter.IsZero() {
		out["certificate-not-after"] = rep.CertificateNotAfter.UTC().Format(time.RFC3339)
	}
	if rep.Rotation != nil {
		maps.Copy(out, rep.Rotation.Schedule.outputs())
	}
	return out, nil
}

// outputNames is the order outputs are written in; action.yml declares the same names.
var outputNames = []string{
	"credential-id", "operation", "results", "operator-id", "aws-access-key-id",
	"previous-aws-access-key-id", "aws-account-id", "certificate-not-after",
	"rotated", "key-age-days", "next-rotation",
}

// summary renders the job summary: a table of the sets, and what happened to keys.
// It shows no secret: key ids appear by their last four characters only. Every value
// that came from outside (ids, types, times, the failure's message) is rendered inert
// through the Log (see Log.Code, Log.Markdown, Log.MarkdownBlock).
func (r *run) summary(rep *Report) string {
	var b strings.Builder
	title := "SORACOM credential sets"
	if rep.DryRun {
		title += " (dry run: nothing changed)"
	}
	fmt.Fprintf(&b, "### %s\n\n", title)
	if rep.Failure != "" {
		fmt.Fprintf(&b, "> [!CAUTION]\n%s\n\n", r.log.MarkdownBlock(rep.Failure, "> "))
	}
	if rep.Rotation != nil {
		rep.Rotation.writeSummary(&b)
	}
	if len(rep.Results) == 0 && len(rep.NotChanged) == 0 {
		return b.String()
	}
	r.writeResults(&b, rep)
	var facts []string
	if rep.OperatorID != "" {
		facts = append(facts, "Operator: "+r.log.Code(rep.OperatorID))
	}
	if rep.AWSAccessKeyID != "" && rep.Rotation == nil {
		facts = append(facts, "AWS access key: "+r.log.Code(secret.ShortID(rep.AWSAccessKeyID)))
	}
	if !rep.CertificateNotAfter.IsZero() {
		left := time.Until(rep.CertificateNotAfter).Round(24*time.Hour) / (24 * time.Hour)
		facts = append(facts, fmt.Sprintf("Certificate expires %s (in %d days)", rep.CertificateNotAfter.UTC().Format(time.RFC3339), left))
	}
	if len(facts) > 0 {
		b.WriteString(strings.Join(facts, " · ") + "\n\n")
	}
	r.writeUnannotated(&b)
	return b.String()
}

// writeUnannotated lists the messages that became log lines because the run had written
// as many annotations as the runner shows (see Log.Unannotated).
func (r *run) writeUnannotated(b *strings.Builder) {
	msgs, more := r.log.Unannotated()
	if len(msgs) == 0 {
		return
	}
	fmt.Fprintf(b, "> [!NOTE]\n> The runner shows at most %d annotations per step, so %d more messages are log lines instead:\n",
		MaxAnnotations, len(msgs)+more)
	for _, m := range msgs {
		fmt.Fprintf(b, "%s\n", r.log.MarkdownBlock(m, "> - "))
	}
	if more > 0 {
		fmt.Fprintf(b, "> - … and %d more (see the log)\n", more)
	}
	b.WriteString("\n")
}

// writeResults writes the table of sets; a rotation's has a Used by column.
func (r *run) writeResults(b *strings.Builder, rep *Report) {
	usedBy := func(SetRef) string { return "" }
	if rep.UsedBy != nil {
		b.WriteString("| Credential set | Coverage | Type | Operation | Time | Used by |\n|---|---|---|---|---|---|\n")
		usedBy = func(s SetRef) string {
			text, ok := rep.UsedBy[s]
			if !ok {
				text = "—"
			}
			return " " + r.log.Markdown(text) + " |"
		}
	} else {
		b.WriteString("| Credential set | Coverage | Type | Operation | Time |\n|---|---|---|---|---|\n")
	}
	for _, res := range rep.Results {
		op := res.Operation
		if res.Planned != "" {
			op = "would " + res.Planned
		}
		at := "—"
		if res.UpdatedAt != "" {
			at = r.log.Markdown(res.UpdatedAt)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |%s\n", r.log.Code(res.CredentialID), r.log.Markdown(res.Coverage), r.log.Markdown(res.Type), r.log.Markdown(op), at,
			usedBy(SetRef{Coverage: res.Coverage, ID: res.CredentialID}))
	}
	for _, s := range rep.NotChanged {
		fmt.Fprintf(b, "| %s | %s | %s | **not changed** (failed) | — |%s\n", r.log.Code(s.ID), r.log.Markdown(s.Coverage), r.log.Markdown(r.cfg.Type.String()), usedBy(s))
	}
	b.WriteString("\n")
}

// markdownList renders a numbered list of the action's (a rotation plan) whose items hold
// text from outside: the numbers stay a list, the items are escaped.
func markdownList(text string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		num, item, ok := strings.Cut(line, ". ")
		if !ok || strings.Trim(num, "0123456789") != "" || num == "" {
			num, item = "-", line
		} else {
			num += "."
		}
		fmt.Fprintf(&b, "%s %s\n", num, untrusted.Markdown(item))
	}
	return b.String()
}
