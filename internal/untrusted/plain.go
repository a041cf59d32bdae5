package untrusted

import (
	"html"
	"regexp"
	"strings"
	"unicode/utf8"
)

// PlainText renders the Markdown the action writes for the job summary as plain text,
// for where nothing renders Markdown (a terminal, a log file, another CI): what
// github.com would show, without the markup. Headings lose their #, GitHub's alerts
// ("> [!CAUTION]") become a "Caution:" line over the indented text, tables become
// aligned columns, the action's own ** and ` markers go, the hard breaks Block adds go,
// and the character references Markdown and Code write are decoded, so a value from
// outside reads as it was (its secrets were redacted before it was escaped).
//
// It knows the action's Markdown, not Markdown in general: text from outside has no
// raw marker in it (Markdown escapes every one), so every raw marker is the action's.
// The result is text, not yet a log line: print it through Lines, after redacting.
func PlainText(markdown string) string {
	var out, table []string
	flush := func() {
		if table != nil {
			out = append(out, plainTable(table)...)
			table = nil
		}
	}
	for _, line := range strings.Split(markdown, "\n") {
		line = strings.TrimSuffix(line, "<br>")
		if strings.HasPrefix(line, "|") {
			table = append(table, line)
			continue
		}
		flush()
		out = append(out, plainLine(line)...)
	}
	flush()
	return strings.Join(out, "\n")
}

var (
	heading   = regexp.MustCompile(`^#{1,6} (.*)$`)
	alert     = regexp.MustCompile(`^> \[!([A-Z]+)\]$`)
	separator = regexp.MustCompile(`^\|(?:\s*:?-+:?\s*\|)+$`)
)

// plainLine renders one line outside a table.
func plainLine(line string) []string {
	if m := heading.FindStringSubmatch(line); m != nil {
		title := plainInline(m[1])
		return []string{title, strings.Repeat("=", utf8.RuneCountInString(title))}
	}
	if m := alert.FindStringSubmatch(line); m != nil {
		kind := strings.ToLower(m[1])
		return []string{strings.ToUpper(kind[:1]) + kind[1:] + ":"}
	}
	if rest, ok := strings.CutPrefix(line, "> "); ok {
		return []string{"  " + plainInline(rest)}
	}
	return []string{plainInline(line)}
}

// plainInline drops the action's inline markers and decodes character references.
func plainInline(s string) string {
	s = strings.NewReplacer("*", "", "`", "").Replace(s)
	return html.UnescapeString(s)
}

// plainTable renders table rows as columns padded to their widest cell, with a rule
// under the header row.
func plainTable(rows []string) []string {
	var cells [][]string
	var widths []int
	for _, row := range rows {
		if separator.MatchString(row) {
			continue
		}
		inner := strings.TrimSuffix(strings.TrimPrefix(row, "|"), "|")
		var cs []string
		for i, c := range strings.Split(inner, "|") {
			c = plainInline(strings.TrimSpace(c))
			cs = append(cs, c)
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
		cells = append(cells, cs)
	}
	var out []string
	for n, cs := range cells {
		out = append(out, padRow(cs, widths))
		if n == 0 {
			rule := make([]string, len(widths))
			for i, w := range widths {
				rule[i] = strings.Repeat("-", w)
			}
			out = append(out, strings.Join(rule, "  "))
		}
	}
	return out
}

func padRow(cells []string, widths []int) string {
	var b strings.Builder
	for i, c := range cells {
		if i > 0 {
			b.WriteString("  ")
		}
		b.WriteString(c)
		if i < len(cells)-1 {
			b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)))
		}
	}
	return b.String()
}
