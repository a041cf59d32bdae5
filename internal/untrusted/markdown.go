package untrusted

import (
	"fmt"
	"regexp"
	"strings"
)

// Markdown renders s as literal text in GitHub Flavored Markdown, on one line, safe in a
// paragraph, a block quote or a table cell: no heading, list, emphasis, code span,
// link, image, autolink, mention, math, HTML or entity, and no cell break. Line breaks
// become spaces (see OneLine).
//
// Only what has a meaning is replaced, by its character reference (&#35; for "#", &lt;
// for "<"), so ids, times and prose stay readable in the raw file and no markup from
// outside appears in it even as text ("<img", "](", "# "): the inline markers
// everywhere, "://" and "www." (GFM's bare-URL autolinks), and a line start that would
// open a list or a setext heading. GFM splits table cells before it reads references,
// so "&#124;" stays inside its cell.
func Markdown(s string) string {
	s = OneLine(s)
	var b strings.Builder
	b.Grow(len(s) * 2)
	mark := -1 // the byte that would open a block
	if m := blockStart.FindString(s); m != "" {
		mark = len(m) - 1
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '<':
			b.WriteString("&lt;")
		case c == '>':
			b.WriteString("&gt;")
		case c == '&':
			b.WriteString("&amp;")
		case i == mark || strings.IndexByte(inlineMarkers, c) >= 0 ||
			c == ':' && strings.HasPrefix(s[i+1:], "//") ||
			c == '.' && i >= 3 && strings.EqualFold(s[i-3:i], "www"):
			fmt.Fprintf(&b, "&#%d;", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// inlineMarkers are the characters, besides "<", ">" and "&", that start Markdown syntax
// anywhere in a line: escapes, emphasis, strikethrough, code, links and images, table
// cells, mentions and issue references, math.
const inlineMarkers = "\\*_~`[]!|@#$"

// blockStart matches a line start that opens a block: a list item ("-", "+", "1." or
// "1)") or a setext underline ("="); its last byte is the one to replace. Quotes and
// headings start with ">" and "#", replaced anyway.
var blockStart = regexp.MustCompile(`^(?:[-+=]|[0-9]{1,9}[.)])`)

// plainID is text that a code span shows as it is, in a table cell too.
var plainID = regexp.MustCompile(`^(?:…)?[A-Za-z0-9][A-Za-z0-9._:/+=,-]*$`)

// Code renders s as an inline code span when it is an id-like word (letters, digits and
// a few separators), and as escaped text (see Markdown) otherwise: a code span cannot
// hold a backtick or a pipe safely in every context, and one that could be broken out
// of would render what follows it.
func Code(s string) string {
	if plainID.MatchString(s) {
		return "`" + s + "`"
	}
	return Markdown(s)
}

// Block renders s as literal text over several lines, each prefixed with prefix (for
// example "> " inside a block quote); each line is escaped as Markdown does, so no line
// starts a heading, list, fence or HTML block, and the lines end with a hard break so
// the reader sees them as they were.
func Block(s, prefix string) string {
	lines := strings.Split(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n"), "\n")
	var b strings.Builder
	for i, l := range lines {
		if i > 0 {
			b.WriteString("<br>\n")
		}
		b.WriteString(prefix)
		b.WriteString(Markdown(l))
	}
	return b.String()
}
