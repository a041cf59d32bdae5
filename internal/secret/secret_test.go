package secret

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestSecretNeverFormatsItsValue(t *testing.T) {
	s := New("hunter2-very-secret")
	type wrapper struct{ Key Secret }
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%10s", "%d"} {
		for _, v := range []any{s, &s, wrapper{s}, []Secret{s}} {
			if got := fmt.Sprintf(format, v); strings.Contains(got, "hunter2") || strings.Contains(got, fmt.Sprintf("%x", "hunter2")) {
				t.Errorf("Sprintf(%q, %T) = %q", format, v, got)
			}
		}
	}
	if err := fmt.Errorf("auth with %v failed", s); strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error leaks: %v", err)
	}
	if err := errors.New(s.String()); err.Error() != Redacted {
		t.Errorf("String() = %q", err.Error())
	}
	b, _ := json.Marshal(wrapper{s})
	if strings.Contains(string(b), "hunter2") {
		t.Errorf("JSON leaks: %s", b)
	}
	if s.Reveal() != "hunter2-very-secret" || s.IsZero() || !New("").IsZero() {
		t.Errorf("Reveal/IsZero wrong")
	}
}

func TestFormsCoverEveryLineAndTheJSONEscapedForm(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"a single line is masked as is", "abc-secret", []string{"abc-secret"}},
		{"a PEM block is masked line by line", "-----BEGIN KEY-----\nMIIBOgIBAAJB\n-----END KEY-----\n", []string{"-----BEGIN KEY-----", "MIIBOgIBAAJB", "-----END KEY-----", `-----BEGIN KEY-----\nMIIBOgIBAAJB\n-----END KEY-----\n`}},
		{"CRLF lines lose the CR", "one\r\ntwo", []string{"one", "two", `one\r\ntwo`}},
		{"a quote is masked escaped as well", `pa"ss`, []string{`pa"ss`, `pa\"ss`}},
		{"a backslash is masked escaped as well", `pa\ss`, []string{`pa\ss`, `pa\\ss`}},
		{"HTML characters: both the plain and Go's escaped JSON form", `p&ss"<w>`, []string{`p&ss"<w>`, `p&ss\"<w>`, `p\u0026ss\"\u003cw\u003e`}},
		{"blank lines are never masked", "a1\n\n   \nb2", []string{"a1", "b2", `a1\n\n   \nb2`}},
		{"an empty value masks nothing", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Forms(tt.in)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("Forms(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMaskRegistersEveryForm(t *testing.T) {
	var got []string
	s := Mask(MaskFunc(func(v string) { got = append(got, v) }), "l1\nl2")
	if s.Reveal() != "l1\nl2" || strings.Join(got, "|") != `l1|l2|l1\nl2` {
		t.Errorf("masked %q", got)
	}
}

func TestShortID(t *testing.T) {
	for id, want := range map[string]string{"AKIAIOSFODNN7EXAMPLE": "…MPLE", "abcd": "…abcd", "": "…"} {
		if got := ShortID(id); got != want {
			t.Errorf("ShortID(%q) = %q, want %q", id, got, want)
		}
	}
}

type wholeMasks struct{ whole, parts []string }

func (w *wholeMasks) AddMask(v string)      { w.parts = append(w.parts, v) }
func (w *wholeMasks) AddMaskWhole(v string) { w.whole = append(w.whole, v) }

func TestMaskWholeRegistersEveryFormWholeWhereTheMaskerCan(t *testing.T) {
	var w wholeMasks
	MaskWhole(&w, "{\"a\":\"b\"}\nx")
	if strings.Join(w.whole, "|") != `{"a":"b"}|x|{\"a\":\"b\"}\nx` || len(w.parts) != 0 {
		t.Errorf("whole %q, parts %q", w.whole, w.parts)
	}
	var got []string
	MaskWhole(MaskFunc(func(v string) { got = append(got, v) }), "l1\nl2")
	if strings.Join(got, "|") != `l1|l2|l1\nl2` {
		t.Errorf("a plain Masker got %q", got)
	}
}
