package untrusted

import (
	"strings"
	"testing"
)

func TestMarkdownRendersOutsideTextInert(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"a heading", "# pwned", `\# pwned`},
		{"a heading after a line break", "x\n## pwned", `x \#\# pwned`},
		{"a link", "[click](https://evil.example/x)", `\[click\](https\://evil.example/x)`},
		{"an image", "![i](http://evil.example/i.png)", `\!\[i\](http\://evil.example/i.png)`},
		{"HTML", `<img src=x onerror="alert(1)">`, `\<img src=x onerror="alert(1)"\>`},
		{"an autolink", "<https://evil.example>", `\<https\://evil.example\>`},
		{"a bare www link", "see www.evil.example", `see www\.evil.example`},
		{"an e-mail or mention", "mail a@b.example or @admin", `mail a\@b.example or \@admin`},
		{"a table cell break", "a | b", `a \| b`},
		{"a code span breakout", "`x` y", "\\`x\\` y"},
		{"emphasis", "*bold* _it_ ~~gone~~", `\*bold\* \_it\_ \~\~gone\~\~`},
		{"an entity", "&lt;script&gt;", `\&lt;script\&gt;`},
		{"a list item", "- item", `\- item`},
		{"a numbered list item", "12. item", `12\. item`},
		{"a setext underline", "===", `\===`},
		{"a backslash", `a\b`, `a\\b`},
		{"math", "$x^2$", `\$x^2\$`},
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
		{"a`b", "a\\`b"},
		{"a|b", `a\|b`},
		{"x\n# y", `x \# y`},
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
	want := "> failed<br>\n> \\# heading<br>\n> \\> more"
	if got != want {
		t.Errorf("Block = %q, want %q", got, want)
	}
	for _, line := range strings.Split(got, "\n") {
		if !strings.HasPrefix(line, "> ") {
			t.Errorf("line outside the quote: %q", line)
		}
	}
}
