package untrusted

import (
	"regexp"
	"strings"
	"testing"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
)

// reference matches the character references Markdown writes.
var reference = regexp.MustCompile(`&(#[0-9]+|lt|gt|amp);`)

// FuzzMarkdown: whatever text goes in, Markdown gives one line in which every character
// with a Markdown meaning is escaped.
func FuzzMarkdown(f *testing.F) {
	for _, s := range []string{"# h", "[a](b)", "<img src=x>", "a|b", "`c`", "https://x.example", "1. x", "- x", "\\*", "www.x", "a\nb\r# c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Markdown(s)
		if strings.ContainsAny(got, "\r\n") {
			t.Fatalf("Markdown(%q) = %q: more than one line", s, got)
		}
		if blockStart.MatchString(got) {
			t.Fatalf("Markdown(%q) = %q opens a block", s, got)
		}
		bare := reference.ReplaceAllString(got, "\x00")
		if i := strings.IndexAny(bare, inlineMarkers+"<>&"); i >= 0 {
			t.Fatalf("Markdown(%q) = %q: %q is not replaced", s, got, bare[i])
		}
		if lower := strings.ToLower(bare); strings.Contains(lower, "://") || strings.Contains(lower, "www.") {
			t.Fatalf("Markdown(%q) = %q can autolink", s, got)
		}
	})
}

// FuzzLines: whatever text goes in, no line that Lines returns starts a workflow
// command, and none holds a line break.
func FuzzLines(f *testing.F) {
	for _, s := range []string{"\n::stop-commands::x\n", "\r::add-mask::y", " \u2028::error::z", ":\u200b:x", "a ##[set-output name=x]y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, line := range Lines(s) {
			if IsCommand(line) || strings.ContainsAny(line, "\r\n") {
				t.Fatalf("Lines(%q) returned %q", s, line)
			}
		}
	})
}

// FuzzRedact: a secret of four bytes or more put anywhere in any text does not come out
// of Redact, in any of its forms.
func FuzzRedact(f *testing.F) {
	f.Add("before ", " after", "wJalrXUtnFEMI/K7MDENG")
	f.Add("{\"p\":\"", "\"}", `pa"ss\w`)
	f.Add("x", "", "a  b\tc")
	f.Fuzz(func(t *testing.T, before, after, value string) {
		if len(value) < 4 || strings.TrimSpace(value) == "" {
			return
		}
		if strings.Contains(value, secret.Redacted) {
			// A secret that holds the redaction itself ("0***") is spelled again by the
			// text next to its redaction ("0" + "***"): nothing of it is revealed that
			// the text did not already hold.
			return
		}
		var r Redactor
		r.Add(value)
		for _, form := range Forms(value) {
			if len(form) <= maxShort {
				continue
			}
			if got := r.Redact(before + form + after); strings.Contains(got, form) {
				t.Fatalf("Redact left the form %q in %q", form, got)
			}
		}
	})
}
