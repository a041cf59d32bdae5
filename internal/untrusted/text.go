// Package untrusted turns text the action did not write (server answers, certificate
// fields, file contents, inputs echoed back) into text that is safe to print in a
// workflow log, an annotation or a job summary: secrets hidden (Redactor), no line that
// the runner would take for a workflow command (Lines), length capped (Clip), and
// Markdown and HTML rendered inert (Markdown, Code).
//
// The functions are pure; internal/action's Log and summary are the one place that
// applies them to everything printed.
package untrusted

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text is a string from outside the action. The action's Log and summary render an
// argument of this type through the whole choke point: secrets hidden, one line, capped
// at MaxFragment characters, withheld when it still holds the start of a secret.
type Text string

// MaxFragment is how many characters of one piece of text from outside a log line shows.
const MaxFragment = 300

// Withheld replaces text from outside that still holds a secret, or the start of one,
// after redaction: a form of the secret the action does not know is in it.
const Withheld = "[text withheld: it contained a secret]"

// OneLine makes s a single printable line: invalid UTF-8 becomes U+FFFD, line breaks,
// tabs and other control characters become spaces, characters that reorder or hide text
// (bidirectional overrides, zero-width marks) are dropped, and runs of spaces collapse.
func OneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r) || unicode.IsControl(r):
			space = true
			continue
		case hidden(r):
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// hidden reports characters that change how the surrounding text reads without showing
// themselves: format characters (bidi controls, zero-width space and joiners, BOM).
func hidden(r rune) bool { return unicode.Is(unicode.Cf, r) }

// Clip shortens s to at most max characters, ending with "…" when it cut something.
func Clip(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	cut, n := 0, 0
	for i := range s {
		if n == max-1 {
			cut = i
			break
		}
		n++
	}
	return s[:cut] + "…"
}

// ClipMiddle shortens s to at most max (40 or more) characters by cutting its middle, keeping the
// start (what failed) and the end (what to do about it), and saying how much it cut.
func ClipMiddle(s string, max int) string {
	n := utf8.RuneCountInString(s)
	if n <= max {
		return s
	}
	budget := max - 40 // the note about the cut takes up to 40 characters
	head, tail := budget*2/3, budget/3
	runes := []rune(s)
	return fmt.Sprintf("%s … [%d characters cut] … %s", string(runes[:head]), n-head-tail, string(runes[n-tail:]))
}

// Lines splits s into the lines the runner will read (it ends a line at CR, LF or CRLF)
// and makes each unable to start a workflow command: the runner parses a line as one
// when, after leading whitespace, it starts with "::", and the legacy syntax "##[" is
// parsed anywhere in a line. Control characters other than tab are dropped, and invalid
// UTF-8 becomes U+FFFD.
func Lines(s string) []string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = Defang(l)
	}
	return lines
}

// IsCommand reports whether the runner would parse line as a workflow command.
func IsCommand(line string) bool {
	return strings.HasPrefix(strings.TrimLeftFunc(line, unicode.IsSpace), "::") || strings.Contains(line, "##[")
}

// Defang makes one line (no CR or LF in it) unable to start a workflow command.
func Defang(line string) string {
	line = strings.Map(func(r rune) rune {
		if r != '\t' && (unicode.IsControl(r) || hidden(r)) {
			return -1
		}
		return r
	}, line)
	line = strings.ReplaceAll(line, "##[", "## [")
	trimmed := strings.TrimLeftFunc(line, unicode.IsSpace)
	if strings.HasPrefix(trimmed, "::") {
		line = line[:len(line)-len(trimmed)] + ": :" + trimmed[2:]
	}
	return line
}

// ShellWord renders s as one word of a POSIX shell command the action prints for a
// person to run (a SAM user name, an environment name): as it is when it holds only
// letters, digits and "-_.", else single-quoted, so that a name from a server or an
// input cannot add a command ($(…), ;, a backquote) to the one printed.
func ShellWord(s string) string {
	plain := s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.", r))
	}) < 0
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
