package inputs

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awsid"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/credtypes"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
)

// sources holds the secret inputs and the three places credentials can come from, each
// read and masked before anything is validated.
type sources struct {
	authKey   secret.Secret
	keyID     string
	awsSecret secret.Secret
	creds     object // the credentials input
	file      object // the credentials-file input, read from disk
	// fileName is the credentials-file input as given.
	fileName string
}

// object is a JSON object given as text.
type object struct {
	text string
	obj  map[string]any
	err  error
	// reported means err is already reported under the input's name: the fields of the
	// object are not checked again.
	reported bool
}

// readSources reads and masks every secret input, so that no later message can print
// one: the AuthKey secret, the AWS secret key, and every secret field of credentials and
// credentials-file (all of their text when it is not a JSON object).
func readSources(e reader, m secret.Masker, typ string, p *problems) *sources {
	s := &sources{
		authKey:   secret.Mask(m, strings.TrimSpace(e.raw(AuthKey))),
		awsSecret: secret.Mask(m, strings.TrimSpace(e.raw(AWSSecretAccessKey))),
		keyID:     e.value(AWSAccessKeyID),
		fileName:  e.value(CredentialsFile),
	}
	s.creds.text = strings.TrimSpace(e.raw(Credentials))
	s.creds.obj, s.creds.err = parseObject(s.creds.text)
	maskObject(m, typ, s.creds.text, s.creds.obj, s.creds.err)
	if s.fileName != "" {
		s.file = readCredentialsFile(e.getenv, s.fileName, m, typ, p)
	}
	switch n := len(s.authKey.Reveal()); {
	case n == 0:
		p.addf("%s is required: the AuthKey secret of a SAM user (secret-…); pass it from a GitHub secret", AuthKey)
	case n < minAuthKeyLength:
		p.addf("%s is only %s long; an AuthKey secret (secret-…) is much longer (check that the whole secret was passed)", AuthKey, characters(n))
	}
	for _, spec := range specs {
		if spec.Secret && !checkUTF8(spec.Name, strings.TrimSpace(e.raw(spec.Name)), p) && spec.Name == Credentials {
			s.creds.reported = true // its JSON problems would only repeat this one
		}
	}
	return s
}

// minAuthKeyLength is the shortest value accepted as an AuthKey secret (SORACOM's
// are "secret-" and dozens of characters). A shorter value is not one, and as a mask
// it would blank out parts of ordinary words in the log.
const minAuthKeyLength = 8

// checkUTF8 refuses a secret that is not valid UTF-8, and reports whether it is valid.
// Sent as it is, its invalid bytes would be replaced on the way (JSON encoding turns them
// into U+FFFD), so what is stored would silently differ from the secret. The value is
// not shown, only where the first invalid byte is.
func checkUTF8(name, v string, p *problems) bool {
	if utf8.ValidString(v) {
		return true
	}
	at := 0
	for at < len(v) {
		r, size := utf8.DecodeRuneInString(v[at:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		at += size
	}
	p.addf("%s is not valid UTF-8 text (byte %d of %d is not); copy the secret again from its source, as text", name, at+1, len(v))
	return false
}

// given names the sources of credentials that are set.
func (s *sources) given() []string {
	var names []string
	if s.keyID != "" || !s.awsSecret.IsZero() {
		names = append(names, AWSAccessKeyID+"/"+AWSSecretAccessKey)
	}
	if s.creds.text != "" {
		names = append(names, Credentials)
	}
	if s.fileName != "" {
		names = append(names, CredentialsFile)
	}
	return names
}

// readCredentialsFile reads and masks credentials-file.
func readCredentialsFile(getenv Getenv, name string, m secret.Masker, typ string, p *problems) object {
	data, err := readWorkspaceFile(getenv, name)
	if err != nil {
		p.addf("%s: %v", CredentialsFile, err)
		return object{err: err, reported: true}
	}
	o := object{text: strings.TrimSpace(string(data))}
	o.obj, o.err = parseObject(o.text)
	maskObject(m, typ, string(data), o.obj, o.err)
	if !checkUTF8(CredentialsFile+" "+strconv.Quote(name), o.text, p) {
		o.reported = true
		return o
	}
	if o.err == nil && o.obj == nil {
		o.err = errors.New("the file is empty")
	}
	if o.err != nil {
		o.reported = true
		p.addf("%s: %q is not a JSON object: %v", CredentialsFile, name, o.err)
	}
	return o
}

// registration checks that exactly one source of credentials is given and parses it
// against the type's schema. Each source is checked on its own, so that every problem
// is reported, not only the first conflict.
func registration(c *Config, s *sources, now time.Time, p *problems) credtypes.Credentials {
	before := len(*p)
	typeKnown := true
	if err := credtypes.CheckType(string(c.Type)); err != nil {
		p.addf("%s: %v", CredentialType, err)
		typeKnown = false
	}
	hasKeys, hasCreds, hasFile := s.keyID != "" || !s.awsSecret.IsZero(), s.creds.text != "", s.fileName != ""
	if hasCreds && hasFile {
		p.addf("give the credentials in %s or in %s, not both", Credentials, CredentialsFile)
	}
	if hasKeys && (hasCreds || hasFile) {
		p.addf("give the AWS key either with %s and %s, or inside %s, not both", AWSAccessKeyID, AWSSecretAccessKey, pick(hasCreds, Credentials, CredentialsFile))
	}
	if hasCreds && s.creds.err != nil && !s.creds.reported {
		p.addf("%s must be a JSON object with the fields of %s: %v%s", Credentials, c.Type, s.creds.err, jsonHint(s.creds.err))
	}
	keysOK := hasKeys && checkKeyInputs(s.keyID, s.awsSecret, string(c.Type), typeKnown, p)
	if !hasKeys && !hasCreds && !hasFile {
		nothingToStore(string(c.Type), p)
	}
	if len(*p) > before || s.file.reported || s.creds.reported {
		// The fields are checked only once the source is clear: the checks would
		// otherwise repeat what is reported above, under other names.
		return credtypes.Credentials{}
	}
	obj, source := s.creds.obj, Credentials
	switch {
	case hasFile:
		obj, source = s.file.obj, CredentialsFile
	case keysOK:
		obj, source = map[string]any{"accessKeyId": s.keyID, "secretAccessKey": s.awsSecret.Reveal()}, AWSAccessKeyID+"/"+AWSSecretAccessKey
	}
	creds, err := credtypes.Parse(string(c.Type), obj, now)
	for _, e := range unjoin(err) {
		if e != nil {
			p.addf("%s: %v", source, e)
		}
	}
	return creds
}

func nothingToStore(typ string, p *problems) {
	if typ == credtypes.AWSCredentials {
		p.addf("nothing to store: set %s and %s, or %s, or %s to rotate a key", AWSAccessKeyID, AWSSecretAccessKey, Credentials, IAMUserName)
		return
	}
	p.addf("nothing to store: set %s (or %s) to a JSON object with the fields of %s", Credentials, CredentialsFile, typ)
}

// checkKeyInputs checks aws-access-key-id and aws-secret-access-key under their input
// names, and reports whether they can be stored.
func checkKeyInputs(keyID string, awsSecret secret.Secret, typ string, typeKnown bool, p *problems) bool {
	before := len(*p)
	if typeKnown && typ != credtypes.AWSCredentials {
		p.addf("%s and %s fill an aws-credentials set; for %s %q give %s", AWSAccessKeyID, AWSSecretAccessKey, CredentialType, typ, Credentials)
	}
	switch {
	case keyID == "":
		p.addf("%s is required with %s", AWSAccessKeyID, AWSSecretAccessKey)
	case awsid.TemporaryAccessKeyID(keyID):
		p.addf("%s %q is a temporary (STS) key: aws-credentials cannot hold a session token; register a long-term key (AKIA…), or use %s aws-iam-role-credentials", AWSAccessKeyID, keyID, CredentialType)
	case !awsid.AccessKeyID(keyID):
		// The value is not echoed: a malformed key id is often the secret, pasted into the wrong input.
		p.addf("%s is not an AWS access key id (AKIA followed by 16 upper-case letters and digits; got %d characters)", AWSAccessKeyID, len(keyID))
	}
	switch n := len(awsSecret.Reveal()); {
	case n == 0:
		p.addf("%s is required with %s; pass it from a GitHub secret or an earlier step's output", AWSSecretAccessKey, AWSAccessKeyID)
	case n < awsid.MinSecretAccessKeyLength:
		p.addf("%s is only %s long; an AWS secret access key has %d (check that the whole secret was passed)", AWSSecretAccessKey, characters(n), awsid.SecretAccessKeyLength)
	}
	return len(*p) == before
}

func unjoin(err error) []error {
	var j interface{ Unwrap() []error }
	if errors.As(err, &j) {
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

func parseObject(text string) (map[string]any, error) {
	if text == "" {
		return nil, nil
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, describeJSONError(text, err)
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s, not an object", credtypes.JSONKind(v))
	}
	return obj, nil
}

// quotedValue finds "key": "value" pairs in text that is not valid JSON as a whole.
var quotedValue = regexp.MustCompile(`:\s*"((?:[^"\\\n]|\\.)*)"`)

// maskObject masks the secrets of a credentials object. When the text is not a JSON
// object, what is secret in it cannot be known, so every line of it is masked.
func maskObject(m secret.Masker, typ, text string, obj map[string]any, err error) {
	if text == "" {
		return
	}
	if err == nil && obj != nil {
		vals := credtypes.SecretValues(typ, obj)
		slices.Sort(vals)
		for _, v := range vals {
			secret.Mask(m, v)
		}
		return
	}
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
}

// characters reads "1 character", "2 characters".
func characters(n int) string {
	if n == 1 {
		return "1 character"
	}
	return strconv.Itoa(n) + " characters"
}
