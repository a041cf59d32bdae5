package untrusted

import (
	"html"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// A view is a text as one or two decoding steps read it (HTML character references,
// percent escapes, backslash escapes), with, for each of its bytes, the bytes of the
// original text it was decoded from. Redaction looks for secrets in every view and hides
// the original bytes: a secret echoed in any encoding these steps undo (every character
// a numeric reference, say, which no list of forms can hold) is found as itself, and a
// secret that a step of the printing path decoded before it was redacted is found by the
// decoded forms (see Forms).
type view struct {
	text string
	// lo and hi are nil for the original text; otherwise text[i] came from the original
	// bytes [lo[i], hi[i]).
	lo, hi []int32
}

// span returns the original bytes that text[i:j] (j > i) came from.
func (v view) span(i, j int) (int, int) {
	if v.lo == nil {
		return i, j
	}
	return int(v.lo[i]), int(v.hi[j-1])
}

// decoder undoes one kind of escape: at s[i], it returns the decoded text and how many
// bytes it read, or n == 0 when no escape starts there. trigger is the byte every such
// escape starts with, so text without it is skipped.
type decoder struct {
	trigger byte
	decode  func(s string, i int) (out string, n int)
}

// decoders are the escapes text from outside may hold a secret in: the character
// references of HTML and XML (Markdown escapes are such references too), percent escapes
// with "+" read as a space (a query) and as itself (a path), and the backslash escapes of
// JSON and of Go's %q.
var decoders = []decoder{
	{'&', entityAt},
	{'%', percentAt},
	{'+', func(string, int) (string, int) { return " ", 1 }},
	backslashes,
}

// backslashes undoes the backslash escapes of JSON and of Go's %q.
var backslashes = decoder{'\\', backslashAt}

// views returns s and every reading of it through one decoder or two different ones.
func views(s string) []view {
	base := view{text: s}
	out := []view{base}
	for i, d := range decoders {
		first, ok := base.decode(d)
		if !ok {
			continue
		}
		out = append(out, first)
		for j, d2 := range decoders {
			if j == i {
				continue
			}
			if second, ok := first.decode(d2); ok {
				out = append(out, second)
			}
		}
	}
	return out
}

// decode reads v.text through d; ok is false when d changes nothing.
func (v view) decode(d decoder) (view, bool) {
	s := v.text
	if strings.IndexByte(s, d.trigger) < 0 {
		return view{}, false
	}
	var b strings.Builder
	b.Grow(len(s))
	lo, hi := make([]int32, 0, len(s)), make([]int32, 0, len(s))
	changed := false
	for i := 0; i < len(s); {
		out, n := "", 0
		if s[i] == d.trigger {
			out, n = d.decode(s, i)
		}
		if n == 0 {
			out, n = s[i:i+1], 1
		} else {
			changed = true
		}
		from, to := v.span(i, i+n)
		for range len(out) {
			lo, hi = append(lo, int32(from)), append(hi, int32(to))
		}
		b.WriteString(out)
		i += n
	}
	if !changed {
		return view{}, false
	}
	return view{text: b.String(), lo: lo, hi: hi}, true
}

// maxEntity bounds how far a named character reference is read: the longest name HTML
// knows has 32 characters, and one longer than that decodes as its first few (a legacy
// name without ";") whatever follows.
const maxEntity = 40

// entityAt reads a character reference at s[i] ("&lt;", "&#60;", "&#x3C;", "&amp"
// without its semicolon) exactly as html.UnescapeString reads it in context: the
// reference is cut out as it does and given to it.
func entityAt(s string, i int) (string, int) {
	j := i + 1
	switch {
	case j+1 < len(s) && s[j] == '#' && (s[j+1] == 'x' || s[j+1] == 'X'):
		j = scan(s, j+2, isHex)
	case j < len(s) && s[j] == '#':
		j = scan(s, j+1, isDigit)
	default:
		j = min(scan(s, j, isAlnum), i+maxEntity)
	}
	if j < len(s) && s[j] == ';' {
		j++
	}
	ref := s[i:j]
	if out := html.UnescapeString(ref); out != ref {
		return out, len(ref)
	}
	return "", 0
}

func scan(s string, i int, ok func(byte) bool) int {
	for i < len(s) && ok(s[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isHex(c byte) bool   { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'f' }
func isAlnum(c byte) bool { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'z' }

// percentAt reads "%XX" (either case) at s[i].
func percentAt(s string, i int) (string, int) {
	if i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
		v, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
		return string([]byte{byte(v)}), 3
	}
	return "", 0
}

// simpleEscapes are the one-letter backslash escapes of JSON and Go.
var simpleEscapes = map[byte]string{'"': `"`, '\\': `\`, '/': "/", '\'': "'", 'a': "\a", 'b': "\b", 'f': "\f", 'n': "\n", 'r': "\r", 't': "\t", 'v': "\v"}

// backslashAt reads a backslash escape at s[i]: JSON's (\n, \", \/, \uXXXX with
// surrogate pairs) and Go's %q ones (\xXX, \UXXXXXXXX, \a, \v).
func backslashAt(s string, i int) (string, int) {
	if i+1 >= len(s) {
		return "", 0
	}
	if out, ok := simpleEscapes[s[i+1]]; ok {
		return out, 2
	}
	switch s[i+1] {
	case 'x':
		if r, ok := hexRune(s, i+2, 2); ok {
			return string([]byte{byte(r)}), 4
		}
	case 'U':
		if r, ok := hexRune(s, i+2, 8); ok && utf8.ValidRune(r) {
			return string(r), 10
		}
	case 'u':
		return unicodeEscapeAt(s, i)
	}
	return "", 0
}

// unicodeEscapeAt reads \uXXXX at s[i], joining a surrogate pair as encoding/json does.
func unicodeEscapeAt(s string, i int) (string, int) {
	r, ok := hexRune(s, i+2, 4)
	if !ok {
		return "", 0
	}
	if utf16.IsSurrogate(r) {
		if i+12 <= len(s) && s[i+6] == '\\' && s[i+7] == 'u' {
			if r2, ok := hexRune(s, i+8, 4); ok {
				if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
					return string(pair), 12
				}
			}
		}
		return string(utf8.RuneError), 6
	}
	return string(r), 6
}

func hexRune(s string, i, n int) (rune, bool) {
	if i+n > len(s) {
		return 0, false
	}
	for k := i; k < i+n; k++ {
		if !isHex(s[k]) {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(s[i:i+n], 16, 32)
	return rune(v), err == nil
}
