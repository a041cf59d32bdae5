package inputs

import (
	"fmt"
	"strings"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/credtypes"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/rotation"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracom"
)

// Mode is what the run does, derived from which inputs are set.
type Mode string

// The modes.
const (
	// Register stores given credentials (AWS key inputs, credentials or credentials-file).
	Register Mode = "register"
	// Rotate creates a new access key for iam-user-name and moves every set to it.
	Rotate Mode = "rotate"
	// Audit changes nothing: it reports the health of the credential sets.
	Audit Mode = "audit"
)

// FailOn says which audit findings make the run fail.
type FailOn string

// The fail-on policies.
const (
	// FailOnBroken fails the run when a set is broken (the default).
	FailOnBroken FailOn = "broken"
	// FailOnWarning fails the run on a warning too.
	FailOnWarning FailOn = "warning"
	// FailOnNever reports and never fails because of a finding.
	FailOnNever FailOn = "never"
)

// Config is the validated run configuration.
type Config struct {
	Mode Mode
	// CredentialIDs are the sets to write or audit; in Audit mode empty means every set.
	CredentialIDs []string
	Type          credtypes.Type
	// Description is nil to keep a set's stored description; otherwise it is written
	// (an empty string clears it; the input value "-" asks for that).
	Description *string
	AuthKeyID   string
	AuthKey     secret.Secret
	// CoverageType is jp, g or both.
	CoverageType string
	// Coverages are the coverages the run works on, jp first, each with its API base URL.
	Coverages []Coverage
	// Credentials is what Register stores (zero in the other modes).
	Credentials credtypes.Credentials
	IfExists    soracom.IfExists
	// MaxParallel bounds the writes in flight on each coverage.
	MaxParallel int
	DryRun      bool
	AWS         AWS
	// IAMUserName is the user whose key Rotate replaces (and whose keys Audit checks).
	IAMUserName string
	// OldKey is what a rotation does with the replaced key.
	OldKey rotation.OldKeyPolicy
	// VerifyAWSKey proves an AWS key works before it is stored.
	VerifyAWSKey bool
	// RotateAfter is the key age from which a rotation is due; 0 rotates on every run.
	RotateAfter time.Duration
	// MaxKeyAge, UnusedAfter and ExpiryWarning are the audit's thresholds.
	MaxKeyAge     time.Duration
	UnusedAfter   time.Duration
	ExpiryWarning time.Duration
	// FailOn says which audit findings fail the run.
	FailOn FailOn
	// AuthKeyRotation is the rotation of the run's own AuthKey (any mode).
	AuthKeyRotation AuthKeyRotation
}

// AWS is how the action reaches AWS.
type AWS struct {
	RoleToAssume    string
	Region          string
	Audience        string
	RoleSessionName string
	RoleDuration    time.Duration
}

// Getenv reads an environment variable.
type Getenv func(string) string

// problems collects every validation error of a run.
type problems []string

func (p *problems) addf(format string, a ...any) { *p = append(*p, fmt.Sprintf(format, a...)) }

// Error lists all problems, one per line.
type Error struct{ Problems []string }

func (e *Error) Error() string {
	if len(e.Problems) == 1 {
		return "invalid input: " + e.Problems[0]
	}
	return fmt.Sprintf("%d invalid inputs:\n  - %s", len(e.Problems), strings.Join(e.Problems, "\n  - "))
}

func result(p problems) error {
	if len(p) == 0 {
		return nil
	}
	return &Error{Problems: p}
}

// reader reads inputs the way the runner passes them.
type reader struct{ getenv Getenv }

// value is the input with surrounding whitespace trimmed, or its default when empty.
func (e reader) value(name string) string {
	if v := strings.TrimSpace(e.getenv(EnvName(name))); v != "" {
		return v
	}
	return defaults[name]
}

// raw is the input as given. Secret values are read raw: whitespace may be part of a
// secret, and the runner's mask must match what ends up in the log.
func (e reader) raw(name string) string { return e.getenv(EnvName(name)) }

// given reports whether an input differs from its default.
func (e reader) given(name string) bool { return e.value(name) != defaults[name] }

// Read reads and validates every input. Secrets are masked through m first, so that no
// later message can print them. It reads no network; credentials-file is read from disk,
// relative to GITHUB_WORKSPACE.
func Read(getenv Getenv, m secret.Masker, now time.Time) (*Config, error) {
	e := reader{getenv: getenv}
	var p problems
	c := &Config{Type: credtypes.Type(e.value(CredentialType))}
	src := readSources(e, m, string(c.Type), &p)
	c.AuthKey = src.authKey
	for _, in := range commonInputs {
		in.parse(c, e.value(in.name), &p)
	}
	c.Coverages = coverages(e.value(Endpoint), getenv, c.CoverageType, &p)
	c.Mode = decideMode(e, c, &p)
	checkDependents(e, c, &p)
	checkOtherEndpoints(getenv, c, &p)
	readAuthKeyRotation(e, m, c, &p)
	switch c.Mode {
	case Rotate:
		checkRotation(c, src, &p)
	case Audit:
		checkAudit(src, &p)
	default:
		c.Credentials = registration(c, src, now, &p)
	}
	return c, result(p)
}

// decideMode picks the mode: audit when asked, a rotation when iam-user-name names a
// user, otherwise a registration of given credentials.
func decideMode(e reader, c *Config, p *problems) Mode {
	before := len(*p)
	if boolean(AuditInput, e.value(AuditInput), p) || len(*p) > before {
		// An audit value that is not a boolean was still set on purpose: the run is
		// checked as an audit, so the other messages are about what was asked for.
		return Audit
	}
	if e.value(CredentialID) == "" {
		p.addf("%s is required: the id of the credential set to create or update (several: one per line)", CredentialID)
	}
	if c.IAMUserName != "" {
		return Rotate
	}
	return Register
}

// dependents are inputs that only mean something with another one.
var dependents = []struct {
	names []string
	// applies reports whether the names mean something in this run.
	applies func(c *Config) bool
	// why says what they need, with %[1]s for the input's name.
	why string
}{
	{[]string{Audience, RoleSessionName, RoleDurationSeconds}, func(c *Config) bool { return c.AWS.RoleToAssume != "" },
		"%[1]s applies to the role in " + RoleToAssume + ", which is not set: set " + RoleToAssume + ", or remove %[1]s"},
	{[]string{OldKey, RotateAfter}, func(c *Config) bool { return c.Mode == Rotate },
		"%[1]s applies to a rotation, which " + IAMUserName + " starts: set " + IAMUserName + ", or remove %[1]s"},
	{[]string{MaxKeyAge, UnusedAfter, ExpiryWarning, FailOnInput}, func(c *Config) bool { return c.Mode == Audit },
		"%[1]s applies to a health report, which " + AuditInput + ": true starts: set " + AuditInput + ": true, or remove %[1]s"},
	{[]string{Description, IfExists, MaxParallel, DryRun, VerifyAWSKey}, func(c *Config) bool { return c.Mode != Audit },
		"%[1]s applies when sets are written, and " + AuditInput + ": true writes nothing: remove %[1]s, or remove " + AuditInput + " to write the sets"},
	{[]string{RoleToAssume}, func(c *Config) bool { return c.Mode != Register },
		"%[1]s is used to rotate a key or audit the sets: set " + IAMUserName + " (or " + AuditInput + ": true) too, or remove %[1]s to register given credentials"},
}

// checkDependents refuses inputs that only mean something with another one: a setting
// that silently does nothing is a mistake the user cannot see.
func checkDependents(e reader, c *Config, p *problems) {
	for _, d := range dependents {
		if d.applies(c) {
			continue
		}
		for _, name := range d.names {
			if e.given(name) {
				p.addf(d.why, name)
			}
		}
	}
}

// checkRotation checks what a rotation needs: it stores a new aws-credentials key, so no
// given credentials, and every set on the old key has to move.
func checkRotation(c *Config, src *sources, p *problems) {
	if conflicts := src.given(); len(conflicts) > 0 {
		list := strings.Join(conflicts, " and ")
		p.addf("%s rotates the user's access key and stores the new one, so %s must not be set; remove %s, or remove %s to register given credentials", IAMUserName, list, list, IAMUserName)
	}
	if c.Type != credtypes.AWSCredentials {
		p.addf("%s stores an access key, which needs %s aws-credentials, not %q", IAMUserName, CredentialType, c.Type)
	}
	if c.IfExists != soracom.Update {
		p.addf("%s: %s must be update (every set on the old key has to move to the new one), not %q", IAMUserName, IfExists, c.IfExists)
	}
}

// checkAudit checks what an audit needs: it only reads, so nothing to store.
func checkAudit(src *sources, p *problems) {
	if conflicts := src.given(); len(conflicts) > 0 {
		list := strings.Join(conflicts, " and ")
		p.addf("%s: true reports and changes nothing, so %s must not be set; remove %s, or remove %s to write the sets", AuditInput, list, list, AuditInput)
	}
}
