package untrusted

import (
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

// minPrefix is the shortest start of a secret that counts as a leak: shorter ones occur
// in ordinary words too often to hide them.
const minPrefix = 8

// maxShort is the longest secret matched only as a whole token. A secret of one to three
// characters occurs inside ordinary words ("u" in "inputs"); hiding it there garbles
// every message while protecting nothing.
const maxShort = 3

// Redactor hides secrets in text: every form the action knows of each (see Forms),
// wherever they occur, overlapping ones included. The zero value is ready to use and
// hides nothing. It is safe for concurrent use.
//
// Secrets are added as they become known and texts are redacted in between, so the
// automaton is kept in levels whose sizes roughly double (the "logarithmic method"):
// an addition builds a small automaton, merged with the last level only when it grows
// as large, so adding N bytes of secrets costs O(N log N) in all and a redaction scans
// at most log N automata.
type Redactor struct {
	mu      sync.Mutex
	seen    map[string]bool
	pending []string
	levels  []*automaton
	short   map[string]bool // secrets of maxShort bytes or fewer
}

// Add registers secrets. Empty and all-blank values are ignored: hiding whitespace would
// blank out every text.
func (r *Redactor) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen, r.short = map[string]bool{}, map[string]bool{}
	}
	for _, s := range secrets {
		for _, f := range Forms(s) {
			if r.seen[f] {
				continue
			}
			r.seen[f] = true
			if len(f) <= maxShort {
				r.short[f] = true
			} else {
				r.pending = append(r.pending, f)
			}
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
// space and upper- or lower-case hex, path), HTML escapes (numeric and named quotes), the value without what looks like HTML tags
// (a page echoed it raw and the client stripped the tags), and the value with whitespace runs
// collapsed to one space (a body snippet normalized by a proxy or by the client), and
// its Markdown escape (the summary escapes text before it is written).
// Blank forms are left out.
func Forms(v string) []string {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	query := url.QueryEscape(v)
	forms := []string{v, query, url.PathEscape(v), html.EscapeString(v),
		strings.ReplaceAll(query, "+", "%20"), lowerHex.ReplaceAllStringFunc(query, strings.ToLower),
		namedQuotes.Replace(html.EscapeString(v)),
		strings.Join(strings.Fields(v), " "), Markdown(v)}
	if stripped := StripTags(v); stripped != v {
		forms = append(forms, stripped, strings.Join(strings.Fields(stripped), " "))
	}
	for _, f := range secret.Forms(v) { // lines, and the JSON escapes line by line
		forms = append(forms, f, strings.ReplaceAll(f, "/", `\/`)) // PHP and others escape "/"
	}
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
// the log names would otherwise be cut short by the new one's mask).
func (r *Redactor) build() {
	if len(r.pending) == 0 {
		return
	}
	a := newAutomaton(r.pending, awsid.AccessKeyID)
	r.pending = nil
	for len(r.levels) > 0 && r.levels[len(r.levels)-1].size <= 2*a.size {
		last := r.levels[len(r.levels)-1]
		r.levels = r.levels[:len(r.levels)-1]
		a = newAutomaton(append(last.patterns, a.patterns...), awsid.AccessKeyID)
	}
	r.levels = append(r.levels, a)
}

// Redact replaces every occurrence of a secret's form in s with secret.Redacted.
func (r *Redactor) Redact(s string) string { return r.redact(s, false) }

// RedactPrefixes does what Redact does and also hides every start of a secret of at
// least 8 bytes: what is left of a secret that something cut short before it reached
// here.
func (r *Redactor) RedactPrefixes(s string) string { return r.redact(s, true) }

// Leaks reports whether s holds a secret, or a start of one of at least 8 bytes.
func (r *Redactor) Leaks(s string) bool { return r.RedactPrefixes(s) != s }

func (r *Redactor) redact(s string, prefixes bool) string {
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
	record := func(end int, length int32) {
		from[end] = min(from[end], int32(end)+1-length)
	}
	for _, a := range r.levels {
		a.scan(s, prefixes, record)
	}
	r.scanShort(s, record)
	return cover(s, from)
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
