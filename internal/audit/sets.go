package audit

import (
	"fmt"
	"strings"
	"time"
)

// Policy holds the thresholds of the checks.
type Policy struct {
	// Now is the time the checks compare with.
	Now time.Time
	// MaxKeyAge: a key created longer ago is key-old.
	MaxKeyAge time.Duration
	// UnusedAfter: a set SORACOM last used longer ago is unused.
	UnusedAfter time.Duration
	// ExpiryWarning: a certificate that expires within it is cert-expiring.
	ExpiryWarning time.Duration
	// IAMUser, when set, is the user whose active keys no set holds are orphan-key.
	IAMUser string
	// Concurrency bounds the AWS calls in flight; zero means DefaultConcurrency.
	Concurrency int
}

// Slack is how much longer than max-key-age or unused-after an age must be to count as
// older. The thresholds are given in days or hours and ages are reported in days; the
// minute keeps a key created exactly max-key-age before the run started from turning old
// while the run itself takes a few seconds.
const Slack = time.Minute

// DefaultConcurrency is how many AWS calls the audit has in flight at most. IAM
// throttles per account, and other jobs share that budget.
const DefaultConcurrency = 8

// setFindings runs the checks that need nothing but SORACOM's list: session keys,
// certificates, use by SORACOM, and keys held by several sets (among all of the
// operator's sets, audited or not).
func setFindings(s Set, label string, holders map[string][]string, p Policy) []Finding {
	var out []Finding
	add := func(f Finding) {
		f.CredentialID, f.Type = s.ID, s.Type
		out = append(out, f)
	}
	if s.Type == AWSCredentials && s.AccessKeyID != "" {
		if isTemporary(s.AccessKeyID) {
			add(Finding{Check: SessionKey, Severity: Broken, AccessKeyID: s.AccessKeyID,
				Message: fmt.Sprintf("holds the temporary access key %s (ASIA…), which stops working when its session ends; "+
					"store a long-term IAM user key instead (rotate it with this action's iam-user-name)", Last4(s.AccessKeyID))})
		}
		if held := holders[s.AccessKeyID]; len(held) > 1 {
			add(Finding{Check: SharedKey, Severity: Info, AccessKeyID: s.AccessKeyID,
				Message: fmt.Sprintf("access key %s is held by %d sets (this one and %s); a rotation with this action moves them together",
					Last4(s.AccessKeyID), len(held), othersNamed(label, held))})
		}
	}
	if s.Type == X509 {
		for _, f := range certFindings(s, p) {
			add(f)
		}
	}
	add(usageFinding(s, p))
	return dropEmpty(out)
}

// SharedNamed is how many of the other sets holding its key a shared-key finding names.
// Each set's finding names others, so naming them all would make the report grow with
// the square of the sets sharing a key.
const SharedNamed = 5

// othersNamed names up to SharedNamed of the sets in held other than id, and says how
// many more there are.
func othersNamed(id string, held []string) string {
	named := make([]string, 0, SharedNamed)
	more := 0
	for _, h := range held {
		switch {
		case h == id:
		case len(named) < SharedNamed:
			named = append(named, h)
		default:
			more++
		}
	}
	if more > 0 {
		return fmt.Sprintf("%s and %d more", strings.Join(named, ", "), more)
	}
	return strings.Join(named, ", ")
}

// isTemporary tells an STS session key: it starts with ASIA, a user's key with AKIA.
func isTemporary(id string) bool { return strings.HasPrefix(id, "ASIA") }

func usageFinding(s Set, p Policy) Finding {
	if s.LastUsed.IsZero() {
		return Finding{Check: NeverUsed, Severity: Warning,
			Message: "SORACOM has never used this set; if no SIM group, device or service refers to it, delete the set"}
	}
	idle := p.Now.Sub(s.LastUsed)
	if idle <= p.UnusedAfter+Slack {
		return Finding{}
	}
	return Finding{Check: Unused, Severity: Warning, LastUsed: rfc3339(s.LastUsed),
		Message: fmt.Sprintf("SORACOM last used this set on %s (%d days ago, unused-after is %s); if nothing refers to it any more, delete the set",
			day(s.LastUsed), *ageDays(idle), Days(p.UnusedAfter))}
}

func dropEmpty(fs []Finding) []Finding {
	out := fs[:0]
	for _, f := range fs {
		if f.Check != "" {
			out = append(out, f)
		}
	}
	return out
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }
func day(t time.Time) string     { return t.UTC().Format("2006-01-02") }

// Days prints a threshold the way the inputs take it: whole days as "90d".
func Days(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}
