package action

import (
	"fmt"
	"strings"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/audit"
)

// auditSummary renders the health report: what kept checks from running, a table of the
// sets worst first, and the counts by severity. Keys appear by their last four
// characters only.
func (r *run) auditSummary(rep *Report) string {
	var b strings.Builder
	b.WriteString("### SORACOM credential sets: health report\n\n")
	if rep.Failure != "" {
		fmt.Fprintf(&b, "> [!CAUTION]\n%s\n\n", r.log.MarkdownBlock(rep.Failure, "> "))
	}
	a := rep.Audit
	if a == nil {
		return b.String()
	}
	if len(a.Denied) > 0 {
		fmt.Fprintf(&b, "> [!CAUTION]\n%s\n\n", r.log.MarkdownBlock(deniedMessage(a.Denied, a.Account), "> "))
	}
	if a.IAMSkipped != "" {
		fmt.Fprintf(&b, "> [!NOTE]\n%s\n\n", r.log.MarkdownBlock("IAM checks skipped, the SORACOM-side checks ran: "+a.IAMSkipped, "> "))
	}
	for _, note := range a.Notes {
		fmt.Fprintf(&b, "> [!WARNING]\n%s\n\n", r.log.MarkdownBlock(note, "> "))
	}
	r.writeGeneral(&b, a.General)
	if len(a.Rows) == 0 {
		b.WriteString("No credential set to audit: the operator has none")
		if len(r.cfg.CredentialIDs) > 0 {
			b.WriteString(" of those named in credential-id")
		}
		b.WriteString(".\n")
		return b.String()
	}
	r.writeLimits(&b, a)
	b.WriteString("| Set | Coverage | Type | Used by | Key | IAM user | Key status | Key age | Last used in AWS | Last used by SORACOM | Findings |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|\n")
	now := r.env.Now()
	for _, row := range a.Rows {
		fmt.Fprintf(&b, "| %s |\n", strings.Join(r.rowCells(row, now), " | "))
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
		fmt.Fprintf(&b, " · operator %s", r.log.Code(rep.OperatorID))
	}
	if a.Account != "" {
		fmt.Fprintf(&b, " · AWS account %s", r.log.Code(a.Account))
	}
	b.WriteString("\n")
	return b.String()
}

// writeLimits says, before the table (which a long report may cut), what the outputs
// and the annotations leave out.
func (r *run) writeLimits(b *strings.Builder, a *AuditReport) {
	if a.LeftOut > 0 {
		all := len(a.Findings())
		fmt.Fprintf(b, "> [!NOTE]\n> The `findings` output holds the worst %d of the %d findings (it is kept under 1 MiB) and `findings-truncated` is `true`; "+
			"`broken-count` and `warning-count` count them all, and the table below shows every set.\n\n", all-a.LeftOut, all)
	}
	r.writeUnannotated(b)
}

// rowCells renders a row's cells; every value from SORACOM or AWS goes through the Log.
func (r *run) rowCells(row audit.Row, now time.Time) []string {
	set, soracomUse := "—", "—"
	switch {
	case len(row.Set.Unreadable) > 0 && row.Set.ID == "":
		set = fmt.Sprintf("entry %d of the list", row.Set.Entry)
	case len(row.Set.Unreadable) > 0:
		set = r.log.Code(row.Set.ID)
	case !row.Orphan():
		set, soracomUse = r.log.Code(row.Set.ID), "never"
		if !row.Set.LastUsed.IsZero() {
			soracomUse = row.Set.LastUsed.UTC().Format("2006-01-02")
		}
	}
	key, user, status, age, awsUse := "—", "—", "—", "—", "—"
	if k := row.Key; k != nil {
		key, status = r.log.Code(audit.Last4(k.ID)), r.log.Markdown(k.Status)
		if k.User != "" {
			user = r.log.Code(k.User)
		}
		switch {
		case !k.Created.IsZero():
			age = fmt.Sprintf("%d d", int(now.Sub(k.Created)/(24*time.Hour)))
		case k.Status == audit.StatusActive || k.Status == audit.StatusInactive:
			age = "unknown" // IAM listed the key without a usable creation date
		}
		awsUse = r.lastUseCell(k)
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
	typ := r.log.Markdown(row.Set.Type)
	if row.Missing {
		typ, soracomUse = "**does not exist**", "—"
	}
	return []string{set, r.log.Markdown(orDash(row.Set.Coverage)), typ, r.usedByCell(row), key, user, status, age, awsUse, soracomUse, strings.Join(findings, ", ")}
}

// usedByCell names the groups and event handlers that use a set: "unknown" when they
// could not be listed, "none" when none names it.
func (r *run) usedByCell(row audit.Row) string {
	switch {
	case row.Orphan() || len(row.Set.Unreadable) > 0:
		return "—"
	case !row.UsageKnown:
		return "unknown"
	case len(row.UsedBy) == 0:
		return "none"
	}
	return r.log.Markdown(audit.UsedByText(row.UsedBy))
}

// maxGeneralShown is how many findings about no one set the summary shows; the
// findings output holds them all (within its bound).
const maxGeneralShown = 10

// writeGeneral writes the findings about no one set (a listing that could not be read,
// a group that could not be read whole) before the table.
func (r *run) writeGeneral(b *strings.Builder, general []audit.Finding) {
	for i, f := range general {
		if i == maxGeneralShown {
			fmt.Fprintf(b, "> [!NOTE]\n> … and %d more findings about groups and event handlers (see the findings output and the log)\n\n", len(general)-i)
			return
		}
		kind := "WARNING"
		if f.Severity == audit.Unknown {
			kind = "NOTE"
		}
		fmt.Fprintf(b, "> [!%s]\n%s\n\n", kind, r.log.MarkdownBlock(r.generalSubject(f)+" ("+f.Check+"): "+f.Message, "> "))
	}
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func (r *run) lastUseCell(k *audit.KeyFacts) string {
	switch {
	case !k.LastUsedKnown:
		return "—"
	case k.LastUsed.IsZero():
		return "never"
	}
	day := k.LastUsed.UTC().Format("2006-01-02")
	if k.LastUsedService == "" {
		return day // IAM named no service, or one that is not a service name
	}
	return fmt.Sprintf("%s (%s)", day, r.log.Markdown(k.LastUsedService))
}
