// Package secret holds values that must never be printed: AuthKey secrets, AWS secret
// keys, API tokens, OIDC tokens. A Secret formats as a redaction with every fmt verb, so
// a stray %v, %+v or %#v in an error message or a panic cannot leak it; Reveal is the one
// door to the value, and it is called only where the value goes on the wire.
package secret

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Redacted is what a Secret prints as.
const Redacted = "***"

// Secret is a string that refuses to be printed.
type Secret struct {
	value string
}

// New wraps s.
func New(s string) Secret { return Secret{value: s} }

// Reveal returns the value for use on the wire. Never pass it to a printer.
func (s Secret) Reveal() string { return s.value }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.value == "" }

// String returns a redaction.
func (s Secret) String() string { return Redacted }

// GoString returns a redaction, for %#v.
func (s Secret) GoString() string { return Redacted }

// Format prints a redaction whatever the verb, so %x or %q cannot leak the value.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

// MarshalJSON writes a redaction: a Secret that ends up in JSON by mistake stays hidden.
// Request bodies reveal values explicitly instead.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(Redacted) }

// Masker registers values with the runner so that it hides them in the log
// (githubactions.Action satisfies it).
type Masker interface {
	AddMask(value string)
}

// MaskFunc adapts a function to Masker.
type MaskFunc func(string)

// AddMask calls f.
func (f MaskFunc) AddMask(v string) { f(v) }

// Forms returns every form of v that must be masked for it to stay hidden in a runner
// log: each line of v (the runner masks single lines only), and each line of its JSON
// string encoding when that differs (a secret with a quote, a backslash or a newline is
// printed escaped when it appears inside JSON). Blank lines are skipped: masking
// whitespace would blank out the whole log.
func Forms(v string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		for _, line := range strings.Split(s, "\n") {
			line = strings.TrimRight(line, "\r")
			if strings.TrimSpace(line) == "" || seen[line] {
				continue
			}
			seen[line] = true
			out = append(out, line)
		}
	}
	add(v)
	for _, escaped := range jsonForms(v) {
		if escaped != v {
			add(escaped)
		}
	}
	return out
}

// jsonForms returns v as it appears inside a JSON string: the plain escaping that jq,
// Python and JavaScript print, and Go's default, which also escapes <, > and &.
func jsonForms(v string) []string {
	var plain strings.Builder
	enc := json.NewEncoder(&plain)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil
	}
	forms := []string{strings.TrimSuffix(plain.String(), "\n")}
	if b, err := json.Marshal(v); err == nil {
		forms = append(forms, string(b))
	}
	for i, f := range forms {
		forms[i] = f[1 : len(f)-1]
	}
	return forms
}

// WholeMasker is a Masker that can also hide a value only whole: one that holds secrets
// masked on their own, the rest of it public (action.Log satisfies it).
type WholeMasker interface {
	AddMaskWhole(value string)
}

// MaskWhole registers every form of v with m to be hidden whole (see WholeMasker), or
// as Mask does when m cannot tell the two apart.
func MaskWhole(m Masker, v string) {
	w, ok := m.(WholeMasker)
	if !ok {
		Mask(m, v)
		return
	}
	for _, f := range Forms(v) {
		w.AddMaskWhole(f)
	}
}

// Mask registers every form of v with m (see Forms) and returns v as a Secret.
func Mask(m Masker, v string) Secret {
	for _, f := range Forms(v) {
		m.AddMask(f)
	}
	return New(v)
}
