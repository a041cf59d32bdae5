package untrusted_test

import (
	"testing"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/untrusted"
)

func TestPlainText(t *testing.T) {
	tests := []struct {
		name, markdown, want string
	}{
		{"a heading loses its # and is underlined",
			"### SORACOM credential sets\n", "SORACOM credential sets\n=======================\n"},
		{"an alert becomes a titled, indented paragraph without its hard breaks",
			"> [!CAUTION]\n> first<br>\n> second\n", "Caution:\n  first\n  second\n"},
		{"a table becomes aligned columns under a rule",
			"| Set | Operation |\n|---|---|\n| `funnel-aws` | **not changed** (failed) |\n| `a` | created |\n",
			"Set         Operation\n----------  --------------------\nfunnel-aws  not changed (failed)\na           created\n"},
		{"text from outside reads as it was: references decoded, its markers kept",
			"Operator: " + untrusted.Markdown("`OP|1` *x* <b>&amp; #1 http://x"),
			"Operator: `OP|1` *x* <b>&amp; #1 http://x"},
		{"a table cell from outside keeps its pipe inside the cell",
			"| a | b |\n|---|---|\n| " + untrusted.Markdown("x|y") + " | z |",
			"a    b\n---  -\nx|y  z"},
		{"the action's own emphasis goes", "*(summary cut: 3 more bytes)*", "(summary cut: 3 more bytes)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := untrusted.PlainText(tt.markdown); got != tt.want {
				t.Errorf("PlainText(%q)\n got %q\nwant %q", tt.markdown, got, tt.want)
			}
		})
	}
}

// FuzzPlainTextUndoesMarkdown: whatever text from outside Markdown escaped, PlainText
// shows as it was (made one line), with no HTML reference left.
func FuzzPlainTextUndoesMarkdown(f *testing.F) {
	for _, s := range []string{"", "plain", "`code` | *b* _i_ <br> &amp; &#96;", "# h", "> q", "1. x", "- y", "| a | b |", "::error::x", "www.x.io https://y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := untrusted.OneLine(s)
		if got := untrusted.PlainText(untrusted.Markdown(s)); got != want {
			t.Errorf("PlainText(Markdown(%q)) = %q, want %q", s, got, want)
		}
	})
}
