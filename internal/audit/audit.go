// Package audit checks the health of SORACOM credential sets without changing anything:
// whether the AWS access key a set holds still exists in IAM, is active and young enough,
// whether a set's certificate is about to expire, whether SORACOM uses the set at all,
// and which keys of an IAM user no set holds.
//
// The package sees the credential sets as plain values and AWS through the small
// read-only interface Keys, so every check is tested in memory; the SDK lives in an
// adapter (internal/awskeys).
package audit

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/audit/refs"
)

// Severity says how bad a finding is.
type Severity string

// The severities, from worst to mildest.
const (
	// Broken: consumers of the set fail now, or will at any moment.
	Broken Severity = "broken"
	// Warning: works today, needs attention (old key, expiring certificate, unused set).
	Warning Severity = "warning"
	// Unknown: the audit could not tell (IAM kept throttling, a permission is missing).
	Unknown Severity = "unknown"
	// Info: worth knowing, nothing to fix.
	Info Severity = "info"
)

// Severities lists every severity, worst first.
var Severities = []Severity{Broken, Warning, Unknown, Info}

// Rank orders severities: the higher, the worse; 0 for no finding.
func (s Severity) Rank() int {
	switch s {
	case Broken:
		return 4
	case Warning:
		return 3
	case Unknown:
		return 2
	case Info:
		return 1
	}
	return 0
}

// The checks, as the findings output names them.
const (
	KeyMissing      = "key-missing"
	KeyInactive     = "key-inactive"
	KeyOld          = "key-old"
	KeyAgeUnknown   = "key-age-unknown"
	KeyUnknown      = "key-unknown"
	CertExpired     = "cert-expired"
	CertNotYetValid = "cert-not-yet-valid"
	CertExpiring    = "cert-expiring"
	CertUnreadable  = "cert-unreadable"
	MalformedSet    = "malformed-set"
	NeverUsed       = "never-used"
	Unused          = "unused"
	SessionKey      = "session-key"
	ForeignAccount  = "foreign-account"
	SharedKey       = "shared-key"
	OrphanKey       = "orphan-key"
	// Where sets are used (groups and event handlers).
	DanglingReference  = "dangling-reference"
	Unreferenced       = "unreferenced"
	StaticKey          = "static-key"
	ReferencesUnknown  = "references-unknown"
	MalformedReference = "malformed-reference"
	// A coverage of the run that could not be audited at all.
	CoverageUnaudited = "coverage-unaudited"
)

// The credential set types the checks look into.
const (
	AWSCredentials = "aws-credentials"
	X509           = "x509"
)

// The AWS permissions the IAM checks need; a missing one is reported once by name.
const (
	PermGetAccessKeyLastUsed = "iam:GetAccessKeyLastUsed"
	PermListAccessKeys       = "iam:ListAccessKeys"
	PermGetAccessKeyInfo     = "sts:GetAccessKeyInfo"
)

// Set is a credential set as SORACOM lists it. The list never holds a secret.
type Set struct {
	ID   string
	Type string
	// Coverage is where the set is (jp or g): the same id on both is two sets.
	Coverage string
	// AccessKeyID is the key an aws-credentials set holds.
	AccessKeyID string
	// Certificate is an x509 set's certificate (PEM: the device's, maybe followed by
	// the intermediates of its chain) when the list answer shows it.
	Certificate string
	// CA is an x509 set's CA certificate or certificates (PEM) when the list answer
	// shows them.
	CA string
	// LastUsed is when SORACOM last used the set; zero means never.
	LastUsed time.Time
	// Entry is the set's position in SORACOM's list answer, from 1.
	Entry int
	// Unreadable names the fields of the set's list entry that could not be read or
	// have not their format; the set is then known by its ID and Type at most (either
	// may be empty) and gets one malformed-set finding, no other check.
	Unreadable []string
}

// Name is how messages name the set: by its id, or by its place in the list when the
// id could not be read.
func (s Set) Name() string {
	if s.ID != "" {
		return "credential set " + s.ID
	}
	return fmt.Sprintf("the credential set at entry %d of SORACOM's list", s.Entry)
}

// mayHoldAWSKey reports whether an unreadable set may hold an AWS key: its type is
// aws-credentials, or could not be read.
func (s Set) mayHoldAWSKey() bool {
	return len(s.Unreadable) > 0 && (s.Type == AWSCredentials || s.Type == "")
}

// Finding is one thing a check found about a set (or, for orphan-key, about a key no
// set holds). It is an element of the findings output.
type Finding struct {
	CredentialID string `json:"credentialId"`
	// Coverage is where the set is (jp or g); for a finding about no one coverage (an
	// orphan key) the coverages audited, "both" for two.
	Coverage string   `json:"coverage"`
	Type     string   `json:"type"`
	Check    string   `json:"check"`
	Severity Severity `json:"severity"`
	// Message says what is wrong and what to do about it.
	Message     string `json:"message"`
	AccessKeyID string `json:"accessKeyId,omitempty"`
	UserName    string `json:"userName,omitempty"`
	AgeDays     *int   `json:"ageDays,omitempty"`
	// LastUsed is RFC 3339: the key's last use in AWS for key checks, the set's last use
	// by SORACOM for unused.
	LastUsed  string `json:"lastUsed,omitempty"`
	AccountID string `json:"accountId,omitempty"`
	NotAfter  string `json:"notAfter,omitempty"`
	// NotBefore is RFC 3339, on cert-not-yet-valid: when the first certificate that is
	// not valid yet becomes valid (its notAfter is in NotAfter).
	NotBefore string `json:"notBefore,omitempty"`
	// Permission is the AWS permission whose denial left the key unknown. When every
	// lookup was denied it the report names it once, and such findings need no
	// annotation of their own.
	Permission string `json:"permission,omitempty"`
	// Field names, for malformed-set, the fields of the list entry that could not be
	// read (never their values); Entry is the set's position in the list, from 1.
	Field string `json:"field,omitempty"`
	Entry int    `json:"entry,omitempty"`
	// UsedBy are the groups and event handlers that name the set (at most MaxUsedBy;
	// UsedByMore counts the rest); for a dangling reference, the one naming the
	// missing set. Empty when none does or when that could not be read (the
	// references-unknown finding says so).
	UsedBy     []refs.User `json:"usedBy"`
	UsedByMore int         `json:"usedByMore,omitempty"`
}

// KeyFacts is what IAM said about the key a set holds, for the report's table.
type KeyFacts struct {
	ID      string
	User    string
	Status  string // Active, Inactive, missing, unknown, temporary or foreign
	Created time.Time
	// LastUsed is the key's last use in AWS; zero when never used or unknown.
	LastUsed        time.Time
	LastUsedService string
	LastUsedKnown   bool
	Account         string
}

// Key statuses beyond IAM's Active and Inactive.
const (
	StatusActive    = "Active"
	StatusInactive  = "Inactive"
	StatusMissing   = "missing"
	StatusUnknown   = "unknown"
	StatusTemporary = "temporary"
	StatusForeign   = "foreign"
)

// Row is one line of the report: a set (or an orphan key) and its findings, worst first.
type Row struct {
	Set      Set
	Key      *KeyFacts
	Findings []Finding
	// UsedBy are the groups and event handlers naming the set, when UsageKnown.
	UsedBy     []refs.User
	UsageKnown bool
	// Missing is true for a set that references name but that does not exist.
	Missing bool
}

// Orphan reports whether the row is an orphan key's rather than a set's.
func (r Row) Orphan() bool { return r.Set.ID == "" && r.Set.Entry == 0 }

// Worst is the row's worst severity, "" when it has no finding.
func (r Row) Worst() Severity {
	var w Severity
	for _, f := range r.Findings {
		if f.Severity.Rank() > w.Rank() {
			w = f.Severity
		}
	}
	return w
}

// Report is the audit's outcome.
type Report struct {
	// Rows are worst first.
	Rows []Row
	// Account is the audited AWS account, when the IAM checks ran.
	Account string
	// IAMSkipped says why the IAM checks did not run; empty when they did.
	IAMSkipped string
	// Denied are the permissions AWS denied for every call that needed them: the
	// report states them once instead of failing every set.
	Denied []string
	// Notes are facts the table cannot show (a check that could not run).
	Notes []string
	// General are findings about no one set: a listing of groups or event handlers
	// that could not be read, a group that could not be read whole.
	General []Finding
}

// Findings returns every finding, worst first.
func (r *Report) Findings() []Finding {
	out := []Finding{}
	for _, row := range r.Rows {
		out = append(out, row.Findings...)
	}
	out = append(out, r.General...)
	slices.SortStableFunc(out, func(a, b Finding) int { return b.Severity.Rank() - a.Severity.Rank() })
	return out
}

// Count returns how many findings have severity s.
func (r *Report) Count(s Severity) int {
	n := 0
	for _, f := range r.Findings() {
		if f.Severity == s {
			n++
		}
	}
	return n
}

// Reaches reports whether any finding is at least as bad as s.
func (r *Report) Reaches(s Severity) bool {
	for _, f := range r.Findings() {
		if f.Severity.Rank() >= s.Rank() {
			return true
		}
	}
	return false
}

// sortRows puts the worst rows first, then orders by set id (orphan keys last among
// equals), so the report reads the same on every run.
func sortRows(rows []Row) {
	for i := range rows {
		slices.SortStableFunc(rows[i].Findings, func(a, b Finding) int {
			if d := b.Severity.Rank() - a.Severity.Rank(); d != 0 {
				return d
			}
			return strings.Compare(a.Check, b.Check)
		})
	}
	slices.SortStableFunc(rows, func(a, b Row) int {
		if d := b.Worst().Rank() - a.Worst().Rank(); d != 0 {
			return d
		}
		if a.Orphan() != b.Orphan() {
			if a.Orphan() {
				return 1
			}
			return -1
		}
		if d := strings.Compare(a.Set.ID+"\x00"+a.Set.Coverage+"\x00"+keyID(a), b.Set.ID+"\x00"+b.Set.Coverage+"\x00"+keyID(b)); d != 0 {
			return d
		}
		return a.Set.Entry - b.Set.Entry
	})
}

func keyID(r Row) string {
	if r.Key == nil {
		return ""
	}
	return r.Key.ID
}

// Last4 shows a key id by its last four characters, as every message and the table do.
func Last4(id string) string {
	if len(id) <= 4 {
		return "…" + id
	}
	return "…" + id[len(id)-4:]
}

// ageDays is a duration in whole days, as the findings output gives it.
func ageDays(d time.Duration) *int {
	n := int(d / (24 * time.Hour))
	return &n
}

// errorCode is the AWS error code of err ("" when it has none). The SDK's errors (and
// the in-memory fakes') carry it through an ErrorCode method.
func errorCode(err error) string {
	var coded interface{ ErrorCode() string }
	if errors.As(err, &coded) {
		return coded.ErrorCode()
	}
	return ""
}

func isDenied(err error) bool {
	switch errorCode(err) {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation":
		return true
	}
	return false
}

func isNoSuchEntity(err error) bool {
	switch errorCode(err) {
	case "NoSuchEntity", "NoSuchEntityException":
		return true
	}
	return false
}
