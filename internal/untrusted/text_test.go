package untrusted

import (
	"strings"
	"testing"
	"unicode"
)

func TestLinesNeverStartAWorkflowCommand(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"an injected LF", "retrying\n::stop-commands::x\n::add-mask::y", []string{"retrying", ": :stop-commands::x", ": :add-mask::y"}},
		{"a lone CR ends a line for the runner", "a\r::error::forged", []string{"a", ": :error::forged"}},
		{"CRLF is one break", "a\r\n::warning::w", []string{"a", ": :warning::w"}},
		{"leading whitespace is trimmed by the runner", "  \t::debug::x", []string{"  \t: :debug::x"}},
		{"Unicode whitespace too", "\u2028\u00a0::group::x", []string{"\u2028\u00a0: :group::x"}},
		{"a zero-width character does not hide the colons", ":\u200b:set-output::x", []string{": :set-output::x"}},
		{"the legacy syntax anywhere in a line", "x ##[add-mask]y", []string{"x ## [add-mask]y"}},
		{"control characters are dropped", "a\x1b[31mred\x00", []string{"a[31mred"}},
		{"colons later in a line are fine", "operator::x", []string{"operator::x"}},
		{"invalid UTF-8 is replaced", "a\xffb", []string{"a\uFFFDb"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Lines(tt.in)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("Lines(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestOneLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"OP0012345678", "OP0012345678"},
		{"OP1\n::stop-commands::x", "OP1 ::stop-commands::x"},
		{"  a \t\r\n b  ", "a b"},
		{"evil\u202etxt.exe", "eviltxt.exe"},
		{"a\xc0b", "a\uFFFDb"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := OneLine(tt.in); got != tt.want {
			t.Errorf("OneLine(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"longer than ten", 10, "longer th…"},
		{"ééééééééééé", 4, "ééé…"},
	}
	for _, tt := range tests {
		if got := Clip(tt.in, tt.max); got != tt.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
	long := "start " + strings.Repeat("x", 3_000_000) + " To fix: do this"
	got := ClipMiddle(long, 300)
	if len(got) > 400 || !strings.HasPrefix(got, "start ") || !strings.HasSuffix(got, "To fix: do this") || !strings.Contains(got, "characters cut") {
		t.Errorf("ClipMiddle kept %d bytes: %q", len(got), got)
	}
	if ClipMiddle("short", 300) != "short" {
		t.Errorf("ClipMiddle changed a short text")
	}
}

func TestOneLineLeavesNoControlCharacter(t *testing.T) {
	got := OneLine("a\x00b\x7fc\u0085d\u2029e")
	if strings.IndexFunc(got, func(r rune) bool { return unicode.IsControl(r) || r == '\u2029' }) >= 0 {
		t.Errorf("OneLine left a control character: %q", got)
	}
}

func TestShellWordIsOneWord(t *testing.T) {
	for in, want := range map[string]string{
		"ci-bot_2.prod":    "ci-bot_2.prod",
		"prod eu":          "'prod eu'",
		"x $(curl e.test)": "'x $(curl e.test)'",
		"it's":             `'it'\''s'`,
		"a;b`c`":           "'a;b`c`'",
		"":                 "''",
	} {
		if got := ShellWord(in); got != want {
			t.Errorf("ShellWord(%q) = %s, want %s", in, got, want)
		}
	}
}
