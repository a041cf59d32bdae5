package action

import (
	"fmt"
	"strings"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/audit"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/untrusted"
)

// auditSummary renders the health report: what kept checks from running, a table of the
// sets worst first, and the counts by severity. Keys appear by their last four
// characters only.
func (r *run) auditSummary(rep *Report) string {
	var b strings.Builder
	b.WriteString("### SORACOM credential sets: health report\n\n")
	if rep.Failure != "" {
		fmt.Fprintf(&b, "> [!CAUTION]\n> %s\n\n", cell(rep.Failure))
	}
	a := rep.Audit
	if a == nil {
		return b.String()
	}
	if len(a.Denied) > 0 {
		fmt.Fprintf(&b, "> [!CAUTION]\n> %s\n\n", cell(deniedMessage(a.Denied, a.Account)))
	}
	if a.IAMSkipped != "" {
		fmt.Fprintf(&b, "> [!NOTE]\n> IAM checks skipped, the SORACOM-side checks ran: %s\n\n", cell(a.IAMSkipped))
	}
	for _, note := range a.Notes {
		fmt.Fprintf(&b, "> [!WARNING]\n> %s\n\n", cell(note))
	}
	b.WriteString("| Set | Type | Key | IAM user | Key status | Key age | Last used in AWS | Last used by SORACOM | Findings |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	now := r.env.Now()
	for _, row := range a.Rows {
		fmt.Fprintf(&b, "| %s |\n", strings.Join(rowCells(row, now), " | "))
	}
	b.WriteString("\n")
	var tally []string
	for _, s := range audit.Severities {
		t := fmt.Sprintf("%s: %d", s, a.Count(s))
		if a.Count(s) > 0 && (s == audit.Broken || s == audit.Warning) {
			t = "**" + t + "**"
		}
		tally = append(tally, t)
	}
	fmt.Fprintf(&b, "%s — %d set(s) audited", strings.Join(tally, " · "), a.Sets)
	if rep.OperatorID != "" {
		fmt.Fprintf(&b, " · operator %s", cell(rep.OperatorID))
	}
	if a.Account != "" {
		fmt.Fprintf(&b, " · AWS account %s", cell(a.Account))
	}
	b.WriteString("\n")
	return b.String()
}

func rowCells(row audit.Row, now time.Time) []string {
	set, soracomUse := "—", "—"
	if row.Set.ID != "" {
		set, soracomUse = cell(row.Set.ID), "never"
		if !row.Set.LastUsed.IsZero() {
			soracomUse = row.Set.LastUsed.UTC().Format("2006-01-02")
		}
	}
	key, user, status, age, awsUse := "—", "—", "—", "—", "—"
	if k := row.Key; k != nil {
		key, status = audit.Last4(k.ID), cell(k.Status)
		if k.User != "" {
			user = cell(k.User)
		}
		if !k.Created.IsZero() {
			age = fmt.Sprintf("%d d", int(now.Sub(k.Created)/(24*time.Hour)))
		}
		awsUse = lastUseCell(k)
	}
	var findings []string
	for _, f := range row.Findings {
		name := f.Check + " (" + string(f.Severity) + ")"
		if f.Severity == audit.Broken {
			name = "**" + name + "**"
		}
		findings = append(findings, name)
	}
	if len(findings) == 0 {
		findings = []string{"ok"}
	}
	return []string{set, cell(row.Set.Type), key, user, status, age, awsUse, soracomUse, strings.Join(findings, ", ")}
}

func lastUseCell(k *audit.KeyFacts) string {
	switch {
	case !k.LastUsedKnown:
		return "—"
	case k.LastUsed.IsZero():
		return "never"
	}
	return fmt.Sprintf("%s (%s)", k.LastUsed.UTC().Format("2006-01-02"), cell(k.LastUsedService))
}

// fromOutside makes text from outside (set ids from SORACOM, user and service names from
// AWS, error answers) safe for one log line or annotation: no control characters (a
// newline could start a workflow command), and a bounded length.
//
// The Log and the summary then hide secrets in it (starts of them included, so the cut
// here cannot leave one) and keep any line from starting a command.
func fromOutside(s string) string {
	return untrusted.Clip(untrusted.OneLine(s), 1000)
}

// cell renders untrusted text inert in Markdown: no HTML, links, emphasis or table
// breaks, on one line.
func cell(s string) string { return untrusted.Markdown(fromOutside(s)) }
