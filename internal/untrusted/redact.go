package untrusted

import (
	"encoding/binary"
	"html"
	"math"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awsid"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
)

// minPrefix is the shortest run of a secret that counts as a leak: shorter ones occur
// in ordinary words too often to hide them. A start of a form, or any run of a decoded
// form (see decodedForms), this long is hidden.
const minPrefix = 8

// maxShort is the longest secret matched only as a whole token. A secret of one to three
// characters occurs inside ordinary words ("u" in "inputs"); hiding it there garbles
// every message while protecting nothing.
const maxShort = 3

// Redactor hides secrets in text: every form the action knows of each (see Forms),
// wherever they occur, overlapping ones included, in the text as it is and as decoding
// steps read it (see views). The zero value is ready to use and hides nothing. It is
// safe for concurrent use.
//
// Secrets are added as they become known and texts are redacted in between, so the
// automaton is kept in levels whose sizes roughly double (the "logarithmic method"):
// an addition builds a small automaton, merged with the last level only when it grows
// as large, so adding N bytes of secrets costs O(N log N) in all and a redaction scans
// at most log N automata. The runs of 8 bytes of the decoded forms are kept in one set.
type Redactor struct {
	mu      sync.Mutex
	seen    map[string]bool // forms added as secrets
	whole   map[string]bool // forms added by AddWhole only
	pending []string
	levels  []*automaton
	short   map[string]bool // secrets of maxShort bytes or fewer
	// parts holds the runs of minPrefix bytes of the decoded forms (see addParts), as
	// little-endian words.
	parts map[uint64]struct{}
}

// Add registers secrets. Empty and all-blank values are ignored: hiding whitespace would
// blank out every text.
func (r *Redactor) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range secrets {
		r.add(s, false)
	}
}

// AddWhole registers values that are hidden only whole, in every form: no start and no
// run of them. It is for a value that holds secrets but is not one itself, whose
// secret parts are registered on their own with Add: a Google service-account key
// file's text, where the run `"type":"` or the address of Google's token endpoint
// reveals nothing, and would otherwise be hidden in every output that holds it.
func (r *Redactor) AddWhole(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range values {
		r.add(s, true)
	}
}

// add registers s; r.mu is held. A form registered whole that is later added as a
// secret is pended again, so that its starts count from then on.
func (r *Redactor) add(s string, whole bool) {
	if r.seen == nil {
		r.seen, r.whole, r.short, r.parts = map[string]bool{}, map[string]bool{}, map[string]bool{}, map[uint64]struct{}{}
	}
	decoded := decodedForms(s)
	for _, f := range formsOf(s, decoded) {
		if r.seen[f] || whole && r.whole[f] {
			continue
		}
		if whole {
			r.whole[f] = true
		} else {
			r.seen[f] = true
			delete(r.whole, f)
		}
		if len(f) <= maxShort {
			r.short[f] = true
		} else {
			r.pending = append(r.pending, f)
		}
	}
	if whole {
		return
	}
	for _, f := range decoded {
		r.addParts(f)
	}
}

// addParts adds every run of minPrefix bytes of f, a word or a number too: a
// password's "battery" or "20240101" is as much of it as any other part. An id the log
// prints that shares 8 characters with a secret is hidden as well; that costs a readable
// id in a rare case, where the contrary rule would print a part of a secret. Two
// exceptions reveal nothing: an AWS access key id, which is not secret (it is masked
// to keep the log tidy; see build), and a run of whitespace alone, which every padded
// column holds (as Add ignores a secret that is all blank). r.mu is held.
func (r *Redactor) addParts(f string) {
	if len(f) < minPrefix || awsid.AccessKeyID(f) {
		return
	}
	for i := 0; i+minPrefix <= len(f); i++ {
		if run := f[i : i+minPrefix]; strings.TrimSpace(run) != "" {
			r.parts[binary.LittleEndian.Uint64([]byte(run))] = struct{}{}
		}
	}
}

// lowerHex finds the percent escapes that some encoders write in lower case.
var lowerHex = regexp.MustCompile(`%[0-9A-F]{2}`)

// namedQuotes turns html.EscapeString's numeric quote entities into the named ones
// other servers write.
var namedQuotes = strings.NewReplacer("&#34;", "&quot;", "&#39;", "&#x27;")

// Forms returns the forms of a secret that text from outside may carry: the value, each
// of its lines (a server may quote one line of a PEM block), its JSON string escapes
// (with "/" escaped too, as PHP writes it), URL escapes (query with "+" or "%20" for a
// space and upper- or lower-case hex, path), HTML escapes (numeric and named quotes),
// its Markdown escape (the summary escapes text before it is written), and its decoded
// forms (see decodedForms). Blank forms are left out.
func Forms(v string) []string { return formsOf(v, decodedForms(v)) }

// formsOf is Forms, given the decoded forms.
func formsOf(v string, decoded []string) []string {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	query := url.QueryEscape(v)
	forms := []string{v, query, url.PathEscape(v), html.EscapeString(v),
		strings.ReplaceAll(query, "+", "%20"), lowerHex.ReplaceAllStringFunc(query, strings.ToLower),
		namedQuotes.Replace(html.EscapeString(v)), Markdown(v)}
	forms = append(forms, decoded...)
	for _, f := range secret.Forms(v) { // lines, and the JSON escapes line by line
		forms = append(forms, f, strings.ReplaceAll(f, "/", `\/`)) // PHP and others escape "/"
	}
	return nonBlankLines(forms)
}

// decodedForms returns what the steps between a server and the Log make of a secret
// that a server echoed as it is: invalid UTF-8 becomes U+FFFD, the SORACOM client strips the tags of an HTML page and
// decodes its character references (a secret holding "&lt;" or "<b>" changes), JSON
// decoding undoes backslash escapes, the AWS SDK decodes XML references, and the Log
// makes text one line (whitespace runs collapsed, control characters spaced, format
// characters dropped). Every run of 8 bytes of these forms is hidden wherever it
// occurs (see Redactor.RedactParts): what a decoding step did to the text around the
// secret, or a cut, leaves runs of them intact.
func decodedForms(v string) []string {
	starts := []string{v}
	if !utf8.ValidString(v) {
		// Reading text rune by rune (StripTags, JSON, a server's encoder) makes each
		// invalid byte a U+FFFD, where OneLine makes a run of them one.
		starts = append(starts, string([]rune(v)))
	}
	var bases []string
	for _, s := range starts {
		bases = append(bases, s)
		if strings.IndexByte(s, '&') >= 0 {
			bases = append(bases, html.UnescapeString(s))
		}
		if strings.IndexByte(s, '<') >= 0 {
			stripped := StripTags(s)
			bases = append(bases, stripped, html.UnescapeString(stripped))
		}
		if strings.IndexByte(s, '\\') >= 0 {
			bases = append(bases, unescapeBackslashes(s))
		}
	}
	var forms []string
	for _, base := range bases {
		forms = append(forms, base)
		if strings.IndexFunc(base, reshaped) >= 0 {
			forms = append(forms, strings.Join(strings.Fields(base), " "), OneLine(base))
		}
	}
	return nonBlankLines(forms)
}

// reshaped reports a character that OneLine or strings.Fields changes or drops.
func reshaped(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r) || hidden(r) || r == utf8.RuneError
}

// unescapeBackslashes undoes JSON's and Go's backslash escapes in v.
func unescapeBackslashes(v string) string {
	if decoded, ok := (view{text: v}).decode(backslashes); ok {
		return decoded.text
	}
	return v
}

// nonBlankLines returns each form and each of its lines, once, without blank ones.
func nonBlankLines(forms []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range forms {
		for _, line := range append([]string{f}, strings.Split(f, "\n")...) {
			line = strings.TrimRight(line, "\r")
			if strings.TrimSpace(line) == "" || seen[line] {
				continue
			}
			seen[line] = true
			out = append(out, line)
		}
	}
	return out
}

// StripTags drops what looks like HTML tags from v. The SORACOM client uses it to turn
// an HTML error page into text, and the Redactor to know how a secret with "<" and ">"
// in it, echoed raw in such a page, reaches the log: one function, so the two agree. A
// tag becomes nothing rather than a space, so a secret the page wraps in markup stays
// one word and is still found.
func StripTags(v string) string {
	var b strings.Builder
	in := false
	for _, r := range v {
		switch {
		case r == '<':
			in = true
		case r == '>' && in:
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// build turns pending secrets into a level and merges levels of similar size.
// r.mu is held. AWS access key ids (awsid's format) are matched whole only: they are
// masked to keep the log tidy but are not secret, and the keys of one account share
// their first characters, so a prefix of one is not a leak of another (the old key id
// the log names would otherwise be cut short by the new one's mask). So are the values
// added by AddWhole.
func (r *Redactor) build() {
	if len(r.pending) == 0 {
		return
	}
	noPrefix := func(p string) bool { return awsid.AccessKeyID(p) || r.whole[p] }
	a := newAutomaton(r.pending, noPrefix)
	r.pending = nil
	for len(r.levels) > 0 && r.levels[len(r.levels)-1].size <= 2*a.size {
		last := r.levels[len(r.levels)-1]
		r.levels = r.levels[:len(r.levels)-1]
		a = newAutomaton(append(last.patterns, a.patterns...), noPrefix)
	}
	r.levels = append(r.levels, a)
}

// Redact replaces every occurrence of a secret's form in s with secret.Redacted.
func (r *Redactor) Redact(s string) string { return r.redact(s, false) }

// RedactParts does what Redact does and also hides every start of a form of a secret
// of at least 8 bytes (what is left of a secret that something cut short) and every
// run of 8 bytes of a decoded form (see decodedForms), wherever it is.
func (r *Redactor) RedactParts(s string) string { return r.redact(s, true) }

// Leaks reports whether s holds a secret, or a part of one that RedactParts hides.
func (r *Redactor) Leaks(s string) bool { return r.RedactParts(s) != s }

func (r *Redactor) redact(s string, parts bool) string {
	if s == "" {
		return s
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.build()
	if len(r.levels) == 0 && len(r.short) == 0 {
		return s
	}
	// from[i] is the leftmost start of an occurrence ending at byte i.
	from := make([]int32, len(s))
	for i := range from {
		from[i] = math.MaxInt32
	}
	for _, v := range views(s) {
		record := func(end int, length int32) {
			lo, hi := v.span(end+1-int(length), end+1)
			from[hi-1] = min(from[hi-1], int32(lo))
		}
		for _, a := range r.levels {
			a.scan(v.text, parts, record)
		}
		r.scanShort(v.text, record)
		if parts {
			r.scanParts(v.text, record)
		}
	}
	return cover(s, from)
}

// scanParts finds the runs of minPrefix bytes of decoded forms.
func (r *Redactor) scanParts(s string, found func(end int, length int32)) {
	if len(r.parts) == 0 {
		return
	}
	var word uint64
	for i := 0; i < len(s); i++ {
		word = word>>8 | uint64(s[i])<<56
		if i < minPrefix-1 {
			continue
		}
		if _, ok := r.parts[word]; ok {
			found(i, minPrefix)
		}
	}
}

// scanShort finds short secrets standing alone: not touching a letter or a digit.
func (r *Redactor) scanShort(s string, found func(end int, length int32)) {
	if len(r.short) == 0 {
		return
	}
	for i := 0; i < len(s); i++ {
		if before, _ := utf8.DecodeLastRuneInString(s[:i]); i > 0 && isWordRune(before) {
			continue
		}
		for l := min(maxShort, len(s)-i); l > 0; l-- {
			if !r.short[s[i:i+l]] {
				continue
			}
			if after, _ := utf8.DecodeRuneInString(s[i+l:]); i+l < len(s) && isWordRune(after) {
				continue
			}
			found(i+l-1, int32(l))
			break
		}
	}
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }

// cover replaces each maximal run of bytes covered by an occurrence with one redaction.
// A byte is covered when some occurrence ends at or after it and starts at or before it:
// walking backwards, keep the leftmost start seen so far.
func cover(s string, from []int32) string {
	covered := make([]bool, len(s))
	any := false
	left := int32(math.MaxInt32)
	for i := len(s) - 1; i >= 0; i-- {
		left = min(left, from[i])
		if left <= int32(i) {
			covered[i], any = true, true
		} else {
			left = math.MaxInt32
		}
	}
	if !any {
		return s
	}
	widenToRunes(s, covered)
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if !covered[i] {
			b.WriteByte(s[i])
			continue
		}
		b.WriteString(secret.Redacted)
		for i+1 < len(s) && covered[i+1] {
			i++
		}
	}
	return b.String()
}

// widenToRunes extends each covered run to whole UTF-8 sequences, so that a redaction
// never leaves part of a character (invalid UTF-8) behind.
func widenToRunes(s string, covered []bool) {
	continuation := func(i int) bool { return s[i]&0xC0 == 0x80 }
	for i := range covered {
		if !covered[i] {
			continue
		}
		for j := i; j > 0 && j > i-utf8.UTFMax && continuation(j) && !covered[j-1]; j-- {
			covered[j-1] = true
		}
		for j := i + 1; j < len(s) && j <= i+utf8.UTFMax && continuation(j) && !covered[j]; j++ {
			covered[j] = true
		}
	}
}
