package credtypes

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/suggest"
)

// ErrUnknownType is wrapped by the error Parse returns for a type SORACOM does not have.
var ErrUnknownType = errors.New("unknown credential set type")

// FieldError is one problem with one field of the `credentials` object. Its message
// names the field and says what to change; it never contains the field's value.
type FieldError struct {
	// Type is the credential set type.
	Type string
	// Field is the field the problem is about.
	Field string
	msg   string
}

// Error returns the message.
func (e *FieldError) Error() string { return e.msg }

// Credentials is a validated credential set, ready to send.
//
// It prints (with any fmt verb) and marshals to JSON as its type and summary only, so a
// stray log line cannot leak a secret: send Fields, not the Credentials value.
type Credentials struct {
	// Type is the credential set type.
	Type string
	// Fields is exactly the `credentials` object to send in SORACOM's request body.
	// Its values are all strings.
	Fields map[string]any
	// CertificateNotAfter is the x509 certificate's expiry; zero for other types.
	CertificateNotAfter time.Time

	summary []SummaryItem
}

// SummaryItem is one line of a human summary of a credential set.
type SummaryItem struct {
	Name  string
	Value string
}

// Summary lists what can be shown of the credential set: non-secret single-line fields
// with their values, secret fields as a redaction (so a reader sees they were sent),
// and facts derived from the values (a certificate's subject and expiry, a service
// account's email).
func (c Credentials) Summary() []SummaryItem { return slices.Clone(c.summary) }

// Format prints the type and summary only, whatever the verb.
func (c Credentials) Format(f fmt.State, _ rune) {
	var b strings.Builder
	fmt.Fprintf(&b, "credentials{type: %s", c.Type)
	for _, it := range c.summary {
		fmt.Fprintf(&b, ", %s: %s", it.Name, it.Value)
	}
	b.WriteString("}")
	_, _ = f.Write([]byte(b.String()))
}

// MarshalJSON writes the type and summary only; request bodies carry Fields.
func (c Credentials) MarshalJSON() ([]byte, error) {
	summary := map[string]string{}
	for _, it := range c.summary {
		summary[it.Name] = it.Value
	}
	return json.Marshal(struct {
		Type    string            `json:"type"`
		Summary map[string]string `json:"summary"`
	}{c.Type, summary})
}

// Parse validates raw, the user's `credentials` object, for typ and returns what to
// send. The error joins every problem found (errors.Join), each one a *FieldError or
// wrapping ErrUnknownType. now is the time certificates must be valid at; zero means
// the current time.
func Parse(typ string, raw map[string]any, now time.Time) (Credentials, error) {
	s, ok := Lookup(typ)
	if !ok {
		return Credentials{}, unknownType(typ)
	}
	if now.IsZero() {
		now = time.Now()
	}
	p := &parser{schema: s, now: now, raw: raw, values: map[string]string{}, out: map[string]any{}}
	if s.OpenFields {
		p.parseOpen(raw)
	} else {
		p.parseFields(raw)
		if validate := validator(typ); validate != nil {
			validate(p)
		}
	}
	if len(p.errs) > 0 {
		return Credentials{}, errors.Join(p.errs...)
	}
	return Credentials{Type: typ, Fields: p.out, CertificateNotAfter: p.notAfter, summary: p.summary()}, nil
}

// validator returns the validation beyond "present and a string" for the types that
// have it.
func validator(typ string) func(*parser) {
	switch typ {
	case AWSCredentials:
		return checkAWSKey
	case "aws-iam-role-credentials":
		return checkRoleARN
	case "google-service-account-json":
		return checkServiceAccount
	case "x509":
		return checkX509
	}
	return nil
}

// parser collects the problems with one credentials object and what to send.
type parser struct {
	schema Schema
	now    time.Time
	raw    map[string]any
	// values holds the present string fields, as given.
	values map[string]string
	// out is the object to send; checks replace values they normalize.
	out  map[string]any
	errs []error

	notAfter time.Time
	derived  []SummaryItem
}

func (p *parser) fail(field, format string, args ...any) {
	p.errs = append(p.errs, &FieldError{Type: p.schema.Type, Field: field, msg: fmt.Sprintf(format, args...)})
}

// parseFields checks that raw has only the schema's fields, every required one, each a
// non-blank string. google-service-account-json's field may also be an object; its
// check handles that. A misspelled field is one problem, not two: a missing field that
// an unknown one was suggested for ("did you mean `accessKeyId`?") is not reported
// again as missing.
func (p *parser) parseFields(raw map[string]any) {
	suggested := map[string]bool{}
	for _, name := range sortedKeys(raw) {
		if _, ok := p.schema.Field(name); !ok {
			suggested[p.unknownField(name)] = true
		}
	}
	for _, f := range p.schema.Fields {
		v, present := raw[f.Name]
		if _, ok := v.(map[string]any); ok && p.schema.Type == "google-service-account-json" {
			continue // the key file parsed as an object: checkServiceAccount reads p.raw
		}
		s, isString := v.(string)
		switch {
		case !present && suggested[f.Name]:
		case !present || v == nil || (isString && strings.TrimSpace(s) == ""):
			if f.Required {
				p.fail(f.Name, "missing field `%s` for type %s: it needs %s%s", f.Name, p.schema.Type,
					quoteList(p.schema.FieldNames(true)), optionalNote(p.schema))
			}
		case !isString && p.schema.Type == "google-service-account-json":
			p.fail(f.Name, "field `%s` for type %s must be the service-account key file's JSON, as an object or as a string, not %s", f.Name, p.schema.Type, JSONKind(v))
		case !isString:
			p.fail(f.Name, "field `%s` for type %s must be a JSON string, not %s", f.Name, p.schema.Type, JSONKind(v))
		default:
			p.values[f.Name] = s
			p.out[f.Name] = s
		}
	}
}

// unknownField reports a field the type does not have, and returns the field it
// suggested instead ("" for none).
func (p *parser) unknownField(name string) string {
	known := p.schema.FieldNames(false)
	if best, ok := suggest.Closest(name, known); ok {
		p.fail(name, "unknown field `%s` for type %s; did you mean `%s`?", name, p.schema.Type, best)
		return best
	}
	p.fail(name, "unknown field `%s` for type %s; its fields are %s", name, p.schema.Type, quoteList(known))
	return ""
}

// summary lists the fields present in schema order, then what the checks derived.
func (p *parser) summary() []SummaryItem {
	var items []SummaryItem
	for _, f := range p.schema.Fields {
		v, ok := p.out[f.Name].(string)
		switch {
		case !ok:
		case f.Secret:
			items = append(items, SummaryItem{f.Name, secret.Redacted})
		case !strings.Contains(strings.TrimSpace(v), "\n"):
			items = append(items, SummaryItem{f.Name, v})
		}
	}
	if p.schema.OpenFields {
		for _, name := range sortedKeys(p.out) {
			items = append(items, SummaryItem{name, secret.Redacted})
		}
	}
	return append(items, p.derived...)
}

// CheckType returns nil for a type SORACOM has, and otherwise an error wrapping
// ErrUnknownType that suggests the closest known type.
func CheckType(typ string) error {
	if _, ok := Lookup(typ); ok {
		return nil
	}
	return unknownType(typ)
}

func unknownType(typ string) error {
	types := Types()
	if best, ok := suggest.Closest(typ, types); ok {
		return fmt.Errorf("%w `%s`; did you mean `%s`? (supported: %s)", ErrUnknownType, typ, best, strings.Join(types, ", "))
	}
	return fmt.Errorf("%w `%s`; supported types: %s", ErrUnknownType, typ, strings.Join(types, ", "))
}

func optionalNote(s Schema) string {
	var opt []string
	for _, f := range s.Fields {
		if !f.Required {
			opt = append(opt, f.Name)
		}
	}
	if len(opt) == 0 {
		return ""
	}
	return " (optional: " + quoteList(opt) + ")"
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "`" + n + "`"
	}
	return strings.Join(q, ", ")
}

// JSONKind names the JSON kind of a value decoded by encoding/json, with its article
// ("an array", "a string"), for messages that must not show the value itself.
func JSONKind(v any) string {
	switch v.(type) {
	case bool:
		return "a boolean"
	case float64, json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	case nil:
		return "null"
	default:
		return fmt.Sprintf("a %T", v)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
