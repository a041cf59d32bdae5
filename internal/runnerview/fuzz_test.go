package runnerview

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzLogRendersOnlyInertText feeds arbitrary step output through the log: whatever a
// step prints, the terminal receives valid UTF-8 lines without control characters (no
// escape sequence, no carriage return), and a masked value never shows.
func FuzzLogRendersOnlyInertText(f *testing.F) {
	for _, seed := range []string{
		"::add-mask::s3cret\nthe s3cret\n",
		"::error::a%0Ab%0D%0Ac\n",
		"::group::t\n\x1b[31mred\n::endgroup::\n",
		"##[error]x%5D\n::stop-commands::t\n::add-mask::v\n::t::\n",
		"a\rb\x00c\xff\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, stdout string) {
		var b strings.Builder
		l := NewLog(&b)
		l.AddMask("fuzz-secret-value")
		if _, err := l.Write([]byte(stdout)); err != nil {
			t.Fatal(err)
		}
		if err := l.Finish(Result{Output: stdout, Summary: stdout}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if !utf8.ValidString(out) {
			t.Errorf("rendered invalid UTF-8: %q", out)
		}
		for _, r := range out {
			if r != '\n' && r != '\t' && (r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0)) {
				t.Fatalf("rendered control character %U in %q", r, out)
			}
		}
		if strings.Contains(out, "fuzz-secret-value") {
			t.Errorf("a masked value shows: %q", out)
		}
	})
}
