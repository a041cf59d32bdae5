package credtypes

import (
	"encoding/json"
	"strings"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awsid"
)

// SecretValues returns every string in raw, the user's `credentials` object, that must
// be masked before anything else happens to it, so that no later message (a
// validation error, a debug line, a crash) can print it in the clear. The caller
// masks every form of each (secret.Forms).
//
// That is every string found, at any depth, except the values of fields known not to
// be secret for typ (NonSecret) that also look like what the field should hold: a
// secret pasted into the wrong field (a secret key in accessKeyId, a private key in
// cert) stays masked. For unknown types everything is masked. Values that are sent in
// another form are masked in that form too: PEM values normalized, and for
// google-service-account-json the key file's JSON text as it is sent.
func SecretValues(typ string, raw map[string]any) []string {
	var set secretSet
	for _, name := range sortedKeys(raw) {
		v := raw[name]
		if s, ok := v.(string); ok && NonSecret(typ, name) && looksPublic(typ, name, s) {
			continue
		}
		if typ == "google-service-account-json" && name == "credentials" {
			serviceAccountSecrets(v, set.add, set.walk)
			continue
		}
		set.walk(v)
	}
	return set.values
}

// secretSet collects the values to mask, each once, in the order found.
type secretSet struct {
	values []string
	seen   map[string]bool
}

func (s *secretSet) add(v string) {
	if strings.TrimSpace(v) == "" || s.seen[v] {
		return
	}
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	s.seen[v] = true
	s.values = append(s.values, v)
}

// walk adds every string in v, at any depth, and PEM values in their normalized form.
func (s *secretSet) walk(v any) {
	switch v := v.(type) {
	case string:
		s.add(v)
		if strings.Contains(v, "-----BEGIN") {
			s.add(normalizePEM(v))
		}
	case []any:
		for _, e := range v {
			s.walk(e)
		}
	case map[string]any:
		for _, k := range sortedKeys(v) {
			s.walk(v[k])
		}
	}
}

// serviceAccountSecrets masks the key file as it is sent (one line of compact JSON)
// and each of its secret fields on its own: private_key is printed unescaped by
// anything that decodes the file, and its JSON-escaped form (see secret.Forms) covers
// it inside the text the user gave. A string that is not a JSON object cannot be
// looked into, so it is masked whole.
func serviceAccountSecrets(v any, add func(string), walk func(any)) {
	text, ok := serviceAccountText(v)
	key, isObject := v.(map[string]any)
	if !isObject && (!ok || json.Unmarshal([]byte(text), &key) != nil) {
		walk(v)
		return
	}
	add(text)
	for _, k := range sortedKeys(key) {
		if s, isString := key[k].(string); isString && serviceAccountPublicKey(k) && !strings.Contains(s, "PRIVATE KEY") {
			continue
		}
		walk(key[k])
	}
}

// looksPublic reports whether a value of a non-secret field has that field's shape, so
// that leaving it unmasked is safe.
func looksPublic(typ, field, v string) bool {
	if strings.Contains(v, "PRIVATE KEY") {
		return false
	}
	switch typ + "." + field {
	case "aws-credentials.accessKeyId":
		return awsid.AccessKeyID(v)
	case "aws-iam-role-credentials.roleArn":
		return strings.HasPrefix(v, "arn:")
	case "x509.cert", "x509.ca":
		return strings.HasPrefix(strings.TrimSpace(v), "-----BEGIN CERTIFICATE-----")
	}
	return true
}
