package credtypes

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// serviceAccountPublicKey reports whether a field of a Google service-account key
// file is not secret: these identify the account and Google's endpoints. Every other
// field (private_key, private_key_id, and any field Google adds later) is masked.
func serviceAccountPublicKey(name string) bool {
	switch name {
	case "type", "project_id", "client_email", "client_id", "auth_uri", "token_uri",
		"auth_provider_x509_cert_url", "client_x509_cert_url", "universe_domain":
		return true
	}
	return false
}

// serviceAccountText returns the key file's JSON text as it is sent: compact, on one
// line, whether the user gave the text or the object. One line matters because the
// runner masks a secret line by line: a pretty-printed key file would also register
// lines like "{" and "}" as secrets. SecretValues and Parse both use this function, so
// what is masked is exactly what travels.
func serviceAccountText(v any) (string, bool) {
	var b bytes.Buffer
	switch v := v.(type) {
	case string:
		if err := json.Compact(&b, []byte(v)); err != nil {
			return "", false
		}
	case map[string]any:
		enc := json.NewEncoder(&b)
		// Keep "<", ">" and "&" as they are in the key file instead of \u003c etc.
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return "", false
		}
	default:
		return "", false
	}
	return strings.TrimSpace(b.String()), true
}

// KeyFileText returns the key file's text as SecretValues lists it, for a
// google-service-account-json set whose key file is a JSON object. SecretValues then
// lists each of its secret fields on its own too, so the text is to be hidden only
// whole (secret.MaskWhole): the rest of it (the account's address, Google's endpoints,
// the JSON around them) is not secret, and would otherwise be hidden wherever it is.
func KeyFileText(typ string, raw map[string]any) (string, bool) {
	if typ != "google-service-account-json" {
		return "", false
	}
	v := raw["credentials"]
	text, ok := serviceAccountText(v)
	if !ok {
		return "", false
	}
	if _, isObject := v.(map[string]any); isObject {
		return text, true
	}
	var key map[string]any
	return text, json.Unmarshal([]byte(text), &key) == nil && key != nil
}

var plainWord = regexp.MustCompile(`^[a-z_]{1,40}$`)

// checkServiceAccount accepts the key file as a JSON object or as its text, checks it
// is a service-account key rather than another kind of Google credential, and sends it
// as SORACOM expects: the JSON text as the string `credentials.credentials`.
func checkServiceAccount(p *parser) {
	v := p.raw["credentials"]
	var key map[string]any
	switch v := v.(type) {
	case string:
		if strings.TrimSpace(v) == "" {
			return // reported as missing
		}
		if err := json.Unmarshal([]byte(v), &key); err != nil {
			// A syntax error's message quotes a character of the text; give the offset only.
			var syn *json.SyntaxError
			where := ""
			if errors.As(err, &syn) {
				where = fmt.Sprintf(" (syntax error at byte %d)", syn.Offset)
			}
			p.fail("credentials", "field `credentials` for type google-service-account-json is a string but not a JSON object%s; give the service-account key file's JSON, as an object or as its text", where)
			return
		}
	case map[string]any:
		key = v
	default:
		return // reported as missing or of the wrong kind
	}
	ok := true
	problem := func(format string, args ...any) {
		ok = false
		p.fail("credentials", "field `credentials` for type google-service-account-json: "+format, args...)
	}
	switch t, _ := key["type"].(string); {
	case t == "service_account":
	case t == "":
		problem("the key file has no \"type\"; give a service-account key file (\"type\": \"service_account\"), as downloaded from Google Cloud IAM")
	case plainWord.MatchString(t):
		problem("the key file's \"type\" is %q, not \"service_account\"; give a service-account key file, not another kind of Google credential", t)
	default:
		problem("the key file's \"type\" is not \"service_account\"; give a service-account key file")
	}
	if email, _ := key["client_email"].(string); !strings.Contains(email, "@") {
		problem("the key file has no \"client_email\" (the service account's email address)")
	}
	if pk, isString := key["private_key"].(string); !isString || strings.TrimSpace(pk) == "" {
		problem("the key file has no \"private_key\"")
	} else if _, err := parsePrivateKey(pk); err != nil {
		problem("the key file's \"private_key\" is not a PEM private key: %v", err)
	}
	text, encoded := serviceAccountText(v)
	if !ok || !encoded {
		return
	}
	p.out["credentials"] = text
	for _, name := range []string{"client_email", "project_id"} {
		if s, _ := key[name].(string); s != "" {
			p.derived = append(p.derived, SummaryItem{name, s})
		}
	}
}
