package untrusted

import (
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awsid"
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
			if got := r.Redact(before + form + after); outsideMarkers(got, form) {
				t.Fatalf("Redact left the form %q in %q", form, got)
			}
		}
	})
}

// outsideMarkers reports whether got holds form between its redaction markers: a secret
// that starts or ends with "*" is spelled again across its own "***" by the text next to
// it ("0000" + "***" for the secret "000*"), which reveals nothing the text did not hold.
func outsideMarkers(got, form string) bool {
	for _, piece := range strings.Split(got, secret.Redacted) {
		if strings.Contains(piece, form) {
			return true
		}
	}
	return false
}

// echoes are the ways a server may write a secret into its answer.
var echoes = []func(string) string{
	func(s string) string { return s },
	html.EscapeString,
	func(s string) string { return namedQuotes.Replace(html.EscapeString(s)) },
	func(s string) string { return references(s, "&#%d;") },
	func(s string) string { return references(s, "&#x%x;") },
	url.QueryEscape,
	url.PathEscape,
	func(s string) string { return lowerHex.ReplaceAllStringFunc(url.QueryEscape(s), strings.ToLower) },
	func(s string) string { b, _ := json.Marshal(s); return string(b) },
	func(s string) string { return strings.ReplaceAll(strconv.Quote(s), "/", `\/`) },
	Markdown,
	func(s string) string { return html.EscapeString(html.EscapeString(s)) },
	func(s string) string { return url.QueryEscape(html.EscapeString(s)) },
}

// references writes every character of s as a numeric character reference.
func references(s, format string) string {
	var b strings.Builder
	for _, r := range s {
		fmt.Fprintf(&b, format, r)
	}
	return b.String()
}

// printing are the transformations text goes through between a server and what the
// action prints: the SORACOM client's reading of an HTML page, JSON decoding, one line,
// whitespace collapsed, a cut, Markdown escaping, the runner's line handling.
var printing = []func(s string, cut int) string{
	func(s string, _ int) string { return s },
	func(s string, _ int) string { return html.UnescapeString(StripTags(s)) },
	func(s string, _ int) string { return html.UnescapeString(s) },
	func(s string, _ int) string { return StripTags(s) },
	func(s string, _ int) string {
		var out string
		if json.Unmarshal([]byte(`"`+s+`"`), &out) != nil {
			return s
		}
		return out
	},
	func(s string, _ int) string { return OneLine(s) },
	func(s string, _ int) string { return strings.Join(strings.Fields(s), " ") },
	func(s string, cut int) string { return Clip(s, cut) },
	func(s string, _ int) string { return Markdown(s) },
	func(s string, _ int) string { return strings.Join(Lines(s), " ") },
	func(s string, _ int) string { return Markdown(OneLine(html.UnescapeString(StripTags(s)))) },
}

// FuzzRedactPartsLeavesNoPartOfASecret: a secret of 8 bytes or more, written by a server
// in any encoding into any text, and that text put through any transformation of the
// printing path (those that come before the Log redacts), leaves after RedactParts no 8
// consecutive bytes of the secret or of its decoded, collapsed or stripped forms,
// neither as they are nor HTML-decoded as a reader of the summary sees them, nor 8
// consecutive bytes of the secret in an encoding (HTML, URL, JSON). AWS access key ids
// are left out: they are not secret (see Redactor.build); so are runs of whitespace
// alone (see runs).
func FuzzRedactPartsLeavesNoPartOfASecret(f *testing.F) {
	f.Add("bad password ", "</p>", "Tr0ub4dor&amp;3&lt;horse", uint8(0), uint8(1), uint16(30))
	f.Add("<p>", "", `Xk9#<mq&2zP!vL7@wR4$tY8"`, uint8(3), uint8(9), uint16(5))
	f.Add("echo ", " &amp", "s<b>ecr</b>et&quot;Zq8vW3xK9pL2", uint8(0), uint8(11), uint16(0))
	f.Add("{\"m\":\"", "\"}", "pa ss  \"w<o>rd\"&more\n", uint8(8), uint8(4), uint16(12))
	f.Add("wrong: ", "", "correct<horse&battery<staple", uint8(1), uint8(2), uint16(17))
	f.Add("", " id 20240101", "pin 20240101 ok", uint8(5), uint8(6), uint16(9))
	f.Add("x", "y", "correcthorsebatterystaple", uint8(7), uint8(7), uint16(14))
	f.Fuzz(func(t *testing.T, before, after, value string, echo, transform uint8, cut uint16) {
		// A secret that is not valid UTF-8 is checked too, though inputs refuse one and
		// JSON answers decode to valid text: the Redactor knows what reading it rune by
		// rune makes of it (see decodedForms).
		if len(value) < minPrefix || strings.Contains(value, secret.Redacted) || awsid.AccessKeyID(value) {
			return
		}
		var r Redactor
		r.Add(value)
		text := printing[int(transform)%len(printing)](before+echoes[int(echo)%len(echoes)](value)+after, int(cut%400)+1)
		got := r.RedactParts(text)
		if part := leakedPart(value, got); part != "" {
			t.Fatalf("RedactParts(%q) = %q: %q of the secret is left", text, got, part)
		}
	})
}

// leakedPart returns a run of 8 bytes of value (in one of its forms) that text holds.
// Each piece of text between two redaction markers is searched on its own: a marker is
// made of "*", so next to text that holds a "*" of the secret it may spell a run of it
// without revealing one.
func leakedPart(value, text string) string {
	for _, piece := range strings.Split(text, secret.Redacted) {
		if part := leakedPartIn(value, piece); part != "" {
			return part
		}
	}
	return ""
}

func leakedPartIn(value, text string) string {
	var forms []string
	for _, base := range []string{value, html.UnescapeString(value), StripTags(value), html.UnescapeString(StripTags(value))} {
		forms = append(forms, base, OneLine(base), strings.Join(strings.Fields(base), " "))
	}
	for _, form := range forms {
		if part := partIn(form, text, html.UnescapeString(text)); part != "" {
			return part
		}
	}
	jsonEscape := func(s string) string { b, _ := json.Marshal(s); return string(b[1 : len(b)-1]) }
	for _, encode := range []func(string) string{html.EscapeString, url.QueryEscape, url.PathEscape, jsonEscape} {
		for _, part := range runs(value) {
			if strings.Contains(text, encode(part)) {
				return encode(part)
			}
		}
	}
	return ""
}

// partIn returns a run of 8 bytes of form that one of texts holds.
func partIn(form string, texts ...string) string {
	for _, part := range runs(form) {
		for _, s := range texts {
			if strings.Contains(s, part) {
				return part
			}
		}
	}
	return ""
}

// runs returns every run of 8 bytes of s but those of whitespace alone, which reveal
// nothing (the Redactor's exception, see addParts).
func runs(s string) []string {
	var out []string
	for i := 0; i+minPrefix <= len(s); i++ {
		if run := s[i : i+minPrefix]; strings.TrimSpace(run) != "" {
			out = append(out, run)
		}
	}
	return out
}
