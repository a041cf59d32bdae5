package inputs

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/credtypes"
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
)

// Config is the validated run configuration.
type Config struct {
	Mode          Mode
	CredentialIDs []string
	Type          string
	Description   string
	AuthKeyID     string
	AuthKey       secret.Secret
	CoverageType  string
	// Endpoint is the SORACOM API base URL without /v1.
	Endpoint string
	// Credentials is what Register stores (zero in Rotate mode).
	Credentials credtypes.Credentials
	IfExists    soracom.IfExists
	DryRun      bool
	AWS         AWS
	// IAMUserName is the user whose key Rotate replaces.
	IAMUserName string
	// OldKey is deactivate, delete or keep.
	OldKey string
	// VerifyAWSKey proves an AWS key works before it is stored.
	VerifyAWSKey bool
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

var (
	credentialIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
	accessKeyIDPattern  = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)
	// Lengths are checked apart from the patterns: a counted repetition like {1,512}
	// compiles into hundreds of states, which every run would pay for at start-up.
	roleARNPattern      = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$`)
	sessionNamePattern  = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	regionPattern       = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$`)
	iamUserNamePattern  = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	ifExistsValues      = []string{"update", "skip", "fail"}
	coverageTypes       = []string{"jp", "g"}
	oldKeyValues        = []string{"deactivate", "delete", "keep"}
	yamlTrue, yamlFalse = []string{"true", "True", "TRUE"}, []string{"false", "False", "FALSE"}
	// quotedValue finds "key": "value" pairs in text that is not valid JSON as a whole.
	quotedValue          = regexp.MustCompile(`:\s*"((?:[^"\\\n]|\\.)*)"`)
	maxRoleDurationLimit = 43200
)

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

// Read reads and validates every input. Secrets are masked through m first, so that no
// later message can print them. It reads no network; credentials-file is read from disk,
// relative to GITHUB_WORKSPACE.
func Read(getenv Getenv, m secret.Masker, now time.Time) (*Config, error) {
	in := func(name string) string {
		v := strings.TrimSpace(getenv(EnvName(name)))
		if v == "" {
			return defaults[name]
		}
		return v
	}
	// Secret values are read raw: whitespace may be part of a secret, and the runner's
	// mask must match what ends up in the log.
	raw := func(name string) string { return getenv(EnvName(name)) }

	var p problems
	c := &Config{}

	// 1. Mask everything secret before anything can be printed.
	c.AuthKey = secret.Mask(m, strings.TrimSpace(raw(AuthKey)))
	awsSecret := secret.Mask(m, strings.TrimSpace(raw(AWSSecretAccessKey)))
	c.Type = in(CredentialType)
	credsText := strings.TrimSpace(raw(Credentials))
	credsObj, credsErr := parseObject(credsText)
	maskObject(m, c.Type, credsText, credsObj, credsErr)
	fileName := in(CredentialsFile)
	var fileObj map[string]any
	var fileErr error
	fileFailed := false // its problem is reported; its (absent) fields are not checked
	if fileName != "" {
		path := filepath.Join(workspace(getenv), fileName)
		if filepath.IsAbs(fileName) {
			path = fileName
		}
		data, err := os.ReadFile(path)
		if err != nil {
			fileFailed = true
			p.addf("%s: cannot read %q: %v; give a path relative to the workspace (%s) of a JSON file", CredentialsFile, fileName, errors.Unwrap(err), workspaceLabel(getenv))
		} else {
			fileObj, fileErr = parseObject(strings.TrimSpace(string(data)))
			maskObject(m, c.Type, string(data), fileObj, fileErr)
			if fileErr == nil && fileObj == nil {
				fileErr = errors.New("the file is empty")
			}
			if fileErr != nil {
				fileFailed = true
				p.addf("%s: %q is not a JSON object: %v", CredentialsFile, fileName, fileErr)
			}
		}
	}

	// 2. Validate.
	c.CredentialIDs = credentialIDs(in(CredentialID), &p)
	c.Description = in(Description)
	if len([]rune(c.Description)) > 1000 {
		p.addf("%s: %d characters is too long; keep it under 1000", Description, len([]rune(c.Description)))
	}
	c.AuthKeyID = in(AuthKeyID)
	switch {
	case c.AuthKeyID == "":
		p.addf("%s is required: the AuthKey id of a SAM user (keyId-…)", AuthKeyID)
	case !strings.HasPrefix(c.AuthKeyID, "keyId-"):
		p.addf("%s must start with \"keyId-\" (it is the AuthKey id, not the secret)", AuthKeyID)
	}
	if c.AuthKey.IsZero() {
		p.addf("%s is required: the AuthKey secret of a SAM user (secret-…); pass it from a GitHub secret", AuthKey)
	}
	c.CoverageType = in(CoverageType)
	if !oneOf(c.CoverageType, coverageTypes) {
		p.addf("%s must be jp or g, not %q", CoverageType, c.CoverageType)
	}
	c.Endpoint = endpoint(in(Endpoint), getenv, c.CoverageType, &p)
	c.IfExists = soracom.IfExists(in(IfExists))
	if !oneOf(string(c.IfExists), ifExistsValues) {
		p.addf("%s must be update, skip or fail, not %q", IfExists, c.IfExists)
	}
	c.DryRun = boolean(DryRun, in(DryRun), &p)
	c.VerifyAWSKey = boolean(VerifyAWSKey, in(VerifyAWSKey), &p)
	c.OldKey = in(OldKey)
	if !oneOf(c.OldKey, oldKeyValues) {
		p.addf("%s must be deactivate, delete or keep, not %q", OldKey, c.OldKey)
	}
	c.AWS = awsInputs(in, &p)
	c.IAMUserName = in(IAMUserName)
	if c.IAMUserName != "" && !iamUserNamePattern.MatchString(c.IAMUserName) {
		p.addf("%s %q is not a valid IAM user name (1-64 of letters, digits and +=,.@_-)", IAMUserName, c.IAMUserName)
	}

	// Inputs that only mean something with another one are refused alone: a setting
	// that silently does nothing is a mistake the user cannot see.
	if c.AWS.RoleToAssume == "" {
		for _, name := range []string{Audience, RoleSessionName, RoleDurationSeconds} {
			if in(name) != defaults[name] {
				p.addf("%s applies to the role in %s, which is not set: set %s, or remove %s", name, RoleToAssume, RoleToAssume, name)
			}
		}
	}
	if c.IAMUserName == "" && c.OldKey != defaults[OldKey] {
		p.addf("%s applies to a rotation, which %s starts: set %s, or remove %s", OldKey, IAMUserName, IAMUserName, OldKey)
	}

	keyID := in(AWSAccessKeyID)
	hasKeys := keyID != "" || !awsSecret.IsZero()
	hasCreds := credsText != ""
	hasFile := fileName != ""
	if c.Type == "" {
		c.Type = defaults[CredentialType]
	}

	if c.IAMUserName != "" {
		c.Mode = Rotate
		var conflicts []string
		if hasKeys {
			conflicts = append(conflicts, AWSAccessKeyID+"/"+AWSSecretAccessKey)
		}
		if hasCreds {
			conflicts = append(conflicts, Credentials)
		}
		if hasFile {
			conflicts = append(conflicts, CredentialsFile)
		}
		if len(conflicts) > 0 {
			p.addf("%s rotates the user's access key and stores the new one, so %s must not be set; remove %s, or remove %s to register given credentials", IAMUserName, strings.Join(conflicts, " and "), strings.Join(conflicts, " and "), IAMUserName)
		}
		if c.Type != "aws-credentials" {
			p.addf("%s stores an access key, which needs %s aws-credentials, not %q", IAMUserName, CredentialType, c.Type)
		}
		if c.IfExists != soracom.Update {
			p.addf("%s: %s must be update (every set on the old key has to move to the new one), not %q", IAMUserName, IfExists, c.IfExists)
		}
		return c, result(p)
	}

	c.Mode = Register
	if c.AWS.RoleToAssume != "" {
		p.addf("%s is used to rotate a key: set %s too, or remove %s to register given credentials", RoleToAssume, IAMUserName, RoleToAssume)
	}
	before := len(p)
	typeKnown := true
	if err := credtypes.CheckType(c.Type); err != nil {
		p.addf("%s: %v", CredentialType, err)
		typeKnown = false
	}
	// Each source of credentials is checked on its own, so that every problem is
	// reported, not only the first conflict.
	if hasCreds && hasFile {
		p.addf("give the credentials in %s or in %s, not both", Credentials, CredentialsFile)
	}
	if hasKeys && (hasCreds || hasFile) {
		p.addf("give the AWS key either with %s and %s, or inside %s, not both", AWSAccessKeyID, AWSSecretAccessKey, pick(hasCreds, Credentials, CredentialsFile))
	}
	if hasCreds && credsErr != nil {
		p.addf("%s must be a JSON object with the fields of %s: %v", Credentials, c.Type, credsErr)
	}
	keysOK := hasKeys && checkKeyInputs(keyID, awsSecret, c.Type, typeKnown, &p)
	if !hasKeys && !hasCreds && !hasFile {
		if c.Type == "aws-credentials" {
			p.addf("nothing to store: set %s and %s, or %s, or %s to rotate a key", AWSAccessKeyID, AWSSecretAccessKey, Credentials, IAMUserName)
		} else {
			p.addf("nothing to store: set %s (or %s) to a JSON object with the fields of %s", Credentials, CredentialsFile, c.Type)
		}
	}
	if len(p) > before || fileFailed {
		// The fields are checked only once the source is clear: the checks would
		// otherwise repeat what is reported above, under other names.
		return c, result(p)
	}
	var obj map[string]any
	source := Credentials
	switch {
	case hasFile:
		obj, source = fileObj, CredentialsFile
	case hasCreds:
		obj = credsObj
	case keysOK:
		obj, source = map[string]any{"accessKeyId": keyID, "secretAccessKey": awsSecret.Reveal()}, AWSAccessKeyID+"/"+AWSSecretAccessKey
	}
	creds, err := credtypes.Parse(c.Type, obj, now)
	for _, e := range unjoin(err) {
		if e != nil {
			p.addf("%s: %v", source, e)
		}
	}
	c.Credentials = creds
	return c, result(p)
}

// checkKeyInputs checks aws-access-key-id and aws-secret-access-key under their input
// names, and reports whether they can be stored.
func checkKeyInputs(keyID string, awsSecret secret.Secret, typ string, typeKnown bool, p *problems) bool {
	before := len(*p)
	if typeKnown && typ != "aws-credentials" {
		p.addf("%s and %s fill an aws-credentials set; for %s %q give %s", AWSAccessKeyID, AWSSecretAccessKey, CredentialType, typ, Credentials)
	}
	switch {
	case keyID == "":
		p.addf("%s is required with %s", AWSAccessKeyID, AWSSecretAccessKey)
	case strings.HasPrefix(keyID, "ASIA"):
		p.addf("%s %q is a temporary (STS) key: aws-credentials cannot hold a session token; register a long-term key (AKIA…), or use %s aws-iam-role-credentials", AWSAccessKeyID, keyID, CredentialType)
	case !accessKeyIDPattern.MatchString(keyID):
		// The value is not echoed: a malformed key id is often the secret, pasted into the wrong input.
		p.addf("%s is not an AWS access key id (AKIA followed by 16 upper-case letters and digits; got %d characters)", AWSAccessKeyID, len(keyID))
	}
	if awsSecret.IsZero() {
		p.addf("%s is required with %s; pass it from a GitHub secret or an earlier step's output", AWSSecretAccessKey, AWSAccessKeyID)
	}
	return len(*p) == before
}

func result(p problems) error {
	if len(p) == 0 {
		return nil
	}
	return &Error{Problems: p}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func pick(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}

func oneOf(v string, allowed []string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

// boolean accepts the YAML 1.2 core schema forms, as @actions/core's getBooleanInput.
func boolean(name, v string, p *problems) bool {
	switch {
	case oneOf(v, yamlTrue):
		return true
	case oneOf(v, yamlFalse):
		return false
	}
	p.addf("%s must be true or false (YAML 1.2: true, True, TRUE, false, False, FALSE), not %q", name, v)
	return false
}

func credentialIDs(v string, p *problems) []string {
	var ids []string
	seen := map[string]bool{}
	for _, line := range strings.Split(v, "\n") {
		id := strings.TrimSpace(line)
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		if !credentialIDPattern.MatchString(id) {
			if len(id) > 100 {
				p.addf("%s %q is %d characters long; use at most 100", CredentialID, id[:20]+"…", len(id))
			} else {
				p.addf("%s %q may contain only letters, digits, '.', '_' and '-' (one id per line)", CredentialID, id)
			}
			continue
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 && len(*p) == 0 {
		p.addf("%s is required: the id of the credential set to create or update (several: one per line)", CredentialID)
	}
	return ids
}

// endpoint resolves the API base URL: the input, else SORACOM_ENDPOINT (as soracom-cli),
// else the coverage type's production endpoint.
func endpoint(v string, getenv Getenv, coverage string, p *problems) string {
	source := Endpoint
	if v == "" {
		v, source = strings.TrimSpace(getenv("SORACOM_ENDPOINT")), "SORACOM_ENDPOINT"
	}
	if v == "" {
		u, _ := soracom.Endpoint(coverage)
		return u
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		p.addf("%s %q is not an http(s) URL; use e.g. https://api-sandbox.soracom.io", source, v)
		return ""
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		p.addf("%s %q uses plain http to a host that is not loopback; use https (the AuthKey would cross the network in clear text)", source, v)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		p.addf("%s %q must be a plain base URL, without query, fragment or user info", source, v)
	}
	// The base URL is given without /v1; accept it with /v1 too, a common slip.
	u.Path = strings.TrimSuffix(strings.TrimRight(u.Path, "/"), "/v1")
	return strings.TrimRight(u.String(), "/")
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func awsInputs(in func(string) string, p *problems) AWS {
	a := AWS{
		RoleToAssume:    in(RoleToAssume),
		Region:          in(AWSRegion),
		Audience:        in(Audience),
		RoleSessionName: in(RoleSessionName),
	}
	if a.RoleToAssume != "" && (len(a.RoleToAssume) > 2048 || !roleARNPattern.MatchString(a.RoleToAssume)) {
		p.addf("%s %q is not an IAM role ARN (arn:aws:iam::123456789012:role/name)", RoleToAssume, a.RoleToAssume)
	}
	if !regionPattern.MatchString(a.Region) {
		p.addf("%s %q is not an AWS region (e.g. us-east-1, ap-northeast-1)", AWSRegion, a.Region)
	}
	if a.Audience == "" {
		p.addf("%s must not be empty (default sts.amazonaws.com)", Audience)
	}
	if !sessionNamePattern.MatchString(a.RoleSessionName) {
		p.addf("%s %q must be 2-64 characters of letters, digits and +=,.@_- (as STS requires)", RoleSessionName, a.RoleSessionName)
	}
	secs, err := strconv.Atoi(in(RoleDurationSeconds))
	if err != nil || secs < 900 || secs > maxRoleDurationLimit {
		p.addf("%s must be a whole number of seconds from 900 to 43200, not %q", RoleDurationSeconds, in(RoleDurationSeconds))
	}
	a.RoleDuration = time.Duration(secs) * time.Second
	return a
}

func parseObject(text string) (map[string]any, error) {
	if text == "" {
		return nil, nil
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not valid JSON (%s)", jsonProblem(err))
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a JSON %s, not an object", jsonKind(v))
	}
	return obj, nil
}

// jsonProblem describes a syntax error by position only: the text around it may be a
// secret.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("unexpected %s at byte %d", te.Value, te.Offset)
	}
	return "unexpected end of input"
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return "value"
}

// maskObject masks the secrets of a credentials object. When the text is not a JSON
// object, what is secret in it cannot be known, so every line of it is masked.
func maskObject(m secret.Masker, typ, text string, obj map[string]any, err error) {
	if text == "" {
		return
	}
	if err != nil || obj == nil {
		for _, line := range strings.Split(text, "\n") {
			if t := strings.Trim(strings.TrimSpace(line), "{}[],:\""); t != "" {
				secret.Mask(m, strings.TrimSpace(line))
			}
		}
		// And each quoted value on its own, as it would be printed once parsed.
		for _, v := range quotedValue.FindAllStringSubmatch(text, -1) {
			if strings.TrimSpace(v[1]) != "" {
				secret.Mask(m, v[1])
			}
		}
		return
	}
	vals := credtypes.SecretValues(typ, obj)
	sort.Strings(vals)
	for _, v := range vals {
		secret.Mask(m, v)
	}
}

func workspace(getenv Getenv) string {
	if w := getenv("GITHUB_WORKSPACE"); w != "" {
		return w
	}
	return "."
}

func workspaceLabel(getenv Getenv) string {
	if getenv("GITHUB_WORKSPACE") != "" {
		return "GITHUB_WORKSPACE"
	}
	return "the current directory"
}
