package inputs

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awsid"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/parallel"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/rotation"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/shape"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracom"
)

// commonInputs parses the inputs every mode reads, one input per row; the rules that
// tie several inputs together come after, once the mode is known.
var commonInputs = []struct {
	name  string
	parse func(c *Config, v string, p *problems)
}{
	{CredentialID, func(c *Config, v string, p *problems) { c.CredentialIDs = credentialIDs(v, p) }},
	{Description, parseDescription},
	{AuthKeyID, parseAuthKeyID},
	{CoverageType, func(c *Config, v string, p *problems) {
		c.CoverageType = v
		if coverageNames(v) == nil {
			p.addf("%s must be %s, not %q", CoverageType, alternatives(append(soracom.CoverageTypes(), CoverageBoth)), v)
		}
	}},
	{IfExists, func(c *Config, v string, p *problems) {
		c.IfExists = enum(IfExists, v, []soracom.IfExists{soracom.Update, soracom.Skip, soracom.Fail}, p)
	}},
	{MaxParallel, parseMaxParallel},
	{DryRun, func(c *Config, v string, p *problems) { c.DryRun = boolean(DryRun, v, p) }},
	{VerifyAWSKey, func(c *Config, v string, p *problems) { c.VerifyAWSKey = boolean(VerifyAWSKey, v, p) }},
	{IAMUserName, func(c *Config, v string, p *problems) {
		c.IAMUserName = v
		if v != "" && !awsid.UserName(v) {
			p.addf("%s %q is not a valid IAM user name (1-64 of letters, digits and +=,.@_-)", IAMUserName, v)
		}
	}},
	{OldKey, func(c *Config, v string, p *problems) {
		c.OldKey = enum(OldKey, v, []rotation.OldKeyPolicy{rotation.Deactivate, rotation.Delete, rotation.Keep}, p)
	}},
	{RotateAfter, func(c *Config, v string, p *problems) { c.RotateAfter = duration(RotateAfter, v, false, p) }},
	{MaxKeyAge, func(c *Config, v string, p *problems) { c.MaxKeyAge = duration(MaxKeyAge, v, true, p) }},
	{UnusedAfter, func(c *Config, v string, p *problems) { c.UnusedAfter = duration(UnusedAfter, v, true, p) }},
	{ExpiryWarning, func(c *Config, v string, p *problems) { c.ExpiryWarning = duration(ExpiryWarning, v, false, p) }},
	{FailOnInput, func(c *Config, v string, p *problems) {
		c.FailOn = enum(FailOnInput, v, []FailOn{FailOnBroken, FailOnWarning, FailOnNever}, p)
	}},
	{RoleToAssume, func(c *Config, v string, p *problems) {
		c.AWS.RoleToAssume = v
		if v != "" && !awsid.RoleARN(v) {
			p.addf("%s %q is not an IAM role ARN (%s)", RoleToAssume, v, awsid.RoleARNExample)
		}
	}},
	{AWSRegion, func(c *Config, v string, p *problems) {
		c.AWS.Region = v
		if !awsid.Region(v) {
			p.addf("%s %q is not an AWS region (e.g. us-east-1, ap-northeast-1)", AWSRegion, v)
		}
	}},
	{Audience, func(c *Config, v string, p *problems) {
		c.AWS.Audience = v
		if v == "" {
			p.addf("%s must not be empty (default %s)", Audience, defaults[Audience])
		}
	}},
	{RoleSessionName, func(c *Config, v string, p *problems) {
		c.AWS.RoleSessionName = v
		if !awsid.SessionName(v) {
			p.addf("%s %q must be 2-64 characters of letters, digits and +=,.@_- (as STS requires)", RoleSessionName, v)
		}
	}},
	{RoleDurationSeconds, parseRoleDuration},
}

// descriptionLimit is the longest description SORACOM stores.
const descriptionLimit = 1000

// ClearDescription is the description input that clears the stored description (an
// empty input keeps it).
const ClearDescription = "-"

func parseDescription(c *Config, v string, p *problems) {
	switch {
	case v == "":
		return // keep the stored one
	case v == ClearDescription:
		v = ""
	case len([]rune(v)) > descriptionLimit:
		p.addf("%s: %d characters is too long; keep it under %d", Description, len([]rune(v)), descriptionLimit)
	}
	c.Description = &v
}

func parseAuthKeyID(c *Config, v string, p *problems) {
	c.AuthKeyID = v
	switch {
	case v == "":
		p.addf("%s is required: the AuthKey id of a SAM user (keyId-…)", AuthKeyID)
	case !strings.HasPrefix(v, "keyId-"):
		p.addf("%s must start with \"keyId-\" (it is the AuthKey id, not the secret)", AuthKeyID)
	}
}

func parseMaxParallel(c *Config, v string, p *problems) {
	n, err := strconv.Atoi(v)
	if err != nil || n < parallel.MinLimit || n > parallel.MaxLimit {
		p.addf("%s must be a whole number from %d to %d, not %q", MaxParallel, parallel.MinLimit, parallel.MaxLimit, v)
	}
	c.MaxParallel = n
}

func parseRoleDuration(c *Config, v string, p *problems) {
	secs, err := strconv.Atoi(v)
	d := time.Duration(secs) * time.Second
	if err != nil || !awsid.RoleDuration(d) {
		p.addf("%s must be a whole number of seconds from %d to %d, not %q", RoleDurationSeconds,
			int(awsid.MinRoleDuration/time.Second), int(awsid.MaxRoleDuration/time.Second), v)
	}
	c.AWS.RoleDuration = d
}

// credentialIDs reads one id per line, skipping blanks and repeats.
func credentialIDs(v string, p *problems) []string {
	var ids []string
	seen := map[string]bool{}
	for _, line := range strings.Split(v, "\n") {
		id := strings.TrimSpace(line)
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		switch {
		case shape.CredentialID(id):
			ids = append(ids, id)
		case len(id) > 100:
			p.addf("%s %q is %d characters long; use at most 100", CredentialID, id[:20]+"…", len(id))
		default:
			p.addf("%s %q may contain only letters, digits, '.', '_' and '-' (one id per line)", CredentialID, id)
		}
	}
	return ids
}

// enum returns v as T when it is one of values, and reports the input otherwise.
func enum[T ~string](name, v string, values []T, p *problems) T {
	names := make([]string, len(values))
	for i, a := range values {
		if string(a) == v {
			return a
		}
		names[i] = string(a)
	}
	p.addf("%s must be %s, not %q", name, alternatives(names), v)
	return T(v)
}

// alternatives reads "a, b or c".
func alternatives(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// boolean accepts the YAML 1.2 core schema forms, as @actions/core's getBooleanInput.
func boolean(name, v string, p *problems) bool {
	switch v {
	case "true", "True", "TRUE":
		return true
	case "false", "False", "FALSE":
		return false
	}
	p.addf("%s must be true or false (YAML 1.2: true, True, TRUE, false, False, FALSE), not %q", name, v)
	return false
}

// duration reads a duration input: a Go duration (12h, 1h30m) or whole days and weeks
// (90d, 2w, 1w3d, 3d12h). Zero is accepted unless positive says otherwise; an empty
// input is zero.
func duration(name, v string, positive bool, p *problems) time.Duration {
	if v == "" && !positive {
		return 0
	}
	d, err := ParseDuration(v)
	switch {
	case err != nil:
		p.addf("%s %q is not a duration: %v; use e.g. 90d, 2w, 12h or 1h30m", name, v, err)
	case positive && d == 0:
		p.addf("%s must be longer than 0; use e.g. 90d", name)
	}
	return d
}

// maxDuration bounds duration inputs well below time.Duration's limit (about 292 years).
const maxDuration = 100 * 365 * 24 * time.Hour

// ParseDuration reads a duration the way the duration inputs take it: Go's syntax
// (time.ParseDuration) plus d for days and w for weeks, in whole numbers, before any
// smaller unit (90d, 2w, 1w3d, 3d12h). Negative durations are refused.
func ParseDuration(s string) (time.Duration, error) {
	var total time.Duration
	rest := s
	for _, u := range []struct {
		suffix byte
		unit   time.Duration
	}{{'w', 7 * 24 * time.Hour}, {'d', 24 * time.Hour}} {
		n, after, ok := leadingCount(rest, u.suffix)
		if !ok {
			continue
		}
		if n > int64(maxDuration/u.unit) {
			return 0, fmt.Errorf("longer than %d days", int64(maxDuration/(24*time.Hour)))
		}
		total += time.Duration(n) * u.unit
		rest = after
	}
	if rest == "" && rest != s {
		return bounded(total)
	}
	if strings.HasPrefix(rest, "-") {
		return 0, fmt.Errorf("negative durations are not allowed")
	}
	d, err := time.ParseDuration(rest)
	if err != nil {
		return 0, fmt.Errorf("unknown unit or number")
	}
	if d < 0 {
		return 0, fmt.Errorf("negative durations are not allowed")
	}
	if _, err := bounded(d); err != nil {
		return 0, err // checked before the sum, which could overflow
	}
	return bounded(total + d)
}

func bounded(d time.Duration) (time.Duration, error) {
	if d > maxDuration {
		return 0, fmt.Errorf("longer than %d days", int64(maxDuration/(24*time.Hour)))
	}
	return d, nil
}

// leadingCount reads the digits at the start of s followed by suffix.
func leadingCount(s string, suffix byte) (n int64, rest string, ok bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i >= len(s) || s[i] != suffix || i > 9 {
		return 0, s, false
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, s, false
	}
	return n, s[i+1:], true
}
