package untrusted

import (
	"strings"
	"testing"
)

func TestMarkdownRendersOutsideTextInert(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"a heading", "# pwned", "&#35; pwned"},
		{"a heading after a line break", "x\n## pwned", "x &#35;&#35; pwned"},
		{"a link", "[click](https://evil.example/x)", "&#91;click&#93;(https&#58;//evil.example/x)"},
		{"an image", "![i](http://evil.example/i.png)", "&#33;&#91;i&#93;(http&#58;//evil.example/i.png)"},
		{"HTML", `<img src=x onerror="alert(1)">`, `&lt;img src=x onerror="alert(1)"&gt;`},
		{"an autolink", "<https://evil.example>", "&lt;https&#58;//evil.example&gt;"},
		{"a bare www link", "see www.evil.example", "see www&#46;evil.example"},
		{"an e-mail or mention", "mail a@b.example or @admin", "mail a&#64;b.example or &#64;admin"},
		{"a table cell break", "a | b", "a &#124; b"},
		{"a code span breakout", "`x` y", "&#96;x&#96; y"},
		{"emphasis", "*bold* _it_ ~~gone~~", "&#42;bold&#42; &#95;it&#95; &#126;&#126;gone&#126;&#126;"},
		{"an entity", "&lt;script&gt;", "&amp;lt;script&amp;gt;"},
		{"a list item", "- item", "&#45; item"},
		{"a numbered list item", "12. item", "12&#46; item"},
		{"a setext underline", "===", "&#61;=="},
		{"a backslash", `a\b`, "a&#92;b"},
		{"math", "$x^2$", "&#36;x^2&#36;"},
		{"ids, times and prose stay readable", "aws-credentials 2026-11-30T19:42:52Z OP0012345678 (planned)", "aws-credentials 2026-11-30T19:42:52Z OP0012345678 (planned)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Markdown(tt.in); got != tt.want {
				t.Errorf("Markdown(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCodeUsesACodeSpanOnlyForPlainIDs(t *testing.T) {
	tests := []struct{ in, want string }{
		{"funnel-aws", "`funnel-aws`"},
		{"…DVXI", "`…DVXI`"},
		{"a`b", "a&#96;b"},
		{"a|b", "a&#124;b"},
		{"x\n# y", "x &#35; y"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Code(tt.in); got != tt.want {
			t.Errorf("Code(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestBlockKeepsLinesInsideTheQuote(t *testing.T) {
	got := Block("failed\n# heading\n> more", "> ")
	want := "> failed<br>\n> &#35; heading<br>\n> &gt; more"
	if got != want {
		t.Errorf("Block = %q, want %q", got, want)
	}
	for _, line := range strings.Split(got, "\n") {
		if !strings.HasPrefix(line, "> ") {
			t.Errorf("line outside the quote: %q", line)
		}
	}
}
