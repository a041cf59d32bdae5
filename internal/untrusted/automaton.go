package untrusted

import (
	"slices"
	"unicode/utf8"
)

// automaton is an Aho-Corasick automaton over bytes: one pass over a text finds, for
// every position, the longest pattern ending there and the longest prefix of a pattern
// ending there. Both come from the state alone, so a search is linear in the text and a
// build is linear in the patterns' total size.
//
// Why not a library: the Go packages that implement Aho-Corasick have no release tags
// (or no maintenance) and offer leftmost-first or leftmost-longest replacement, which
// leaves part of a secret visible when two secrets overlap in a text; redaction here
// hides the union of every occurrence instead, and needs the prefix depth too.
// strings.Replacer tries every pattern start at each position (quadratic in the worst
// case) and keeps a lookup table per trie node, far too large for the 100k secrets a
// credentials file can hold.
//
// Nodes are stored as parallel slices (17 bytes a node) rather than as structs with
// maps, so a few megabytes of secrets make tens, not hundreds, of megabytes of automaton.
type automaton struct {
	size int // total bytes of patterns, for merging (see Redactor)
	// patterns are sorted and unique; kept to rebuild a merged automaton.
	patterns []string

	label   []byte  // byte on the edge into the node
	child   []int32 // first child, -1 for none; siblings are sorted by label
	sibling []int32 // next sibling, -1 for none
	fail    []int32 // longest proper suffix that is a node
	// match is the length of the longest pattern that is a suffix of the node's string.
	match []int32
	// reveal is the length of the longest suffix of the node's string that is a prefix of
	// a pattern whose prefixes count as a leak (see Redactor.hidePrefixes).
	reveal []int32
	root   [256]int32 // transitions from the root, dense: every search starts there often
}

// newAutomaton builds an automaton for patterns. noPrefix reports the patterns whose
// prefixes are not a leak.
func newAutomaton(patterns []string, noPrefix func(string) bool) *automaton {
	patterns = slices.Clone(patterns)
	slices.Sort(patterns)
	patterns = slices.Compact(patterns)
	a := &automaton{patterns: patterns}
	total := 1
	for _, p := range patterns {
		total += len(p)
	}
	// At most one node a byte: allocate once rather than grow six slices.
	a.label = make([]byte, 0, total)
	a.child = make([]int32, 0, total)
	a.sibling = make([]int32, 0, total)
	a.fail = make([]int32, 0, total)
	a.match = make([]int32, 0, total)
	a.reveal = make([]int32, 0, total)
	for i := range a.root {
		a.root[i] = -1
	}
	a.newNode(0) // the root
	depth := a.insertAll(noPrefix)
	a.link(depth)
	return a
}

func (a *automaton) newNode(b byte) int32 {
	a.label = append(a.label, b)
	a.child = append(a.child, -1)
	a.sibling = append(a.sibling, -1)
	a.fail = append(a.fail, 0)
	a.match = append(a.match, 0)
	a.reveal = append(a.reveal, 0)
	return int32(len(a.label) - 1)
}

// insertAll builds the trie. The patterns are sorted, so each one shares its path with
// the previous one up to their common prefix and only appends nodes after it: no child
// lookup is needed, and children come out sorted. It returns each node's depth, and
// marks in reveal (temporarily: 1) the nodes on the path of a pattern whose prefixes
// are a leak.
func (a *automaton) insertAll(noPrefix func(string) bool) []int32 {
	depth := []int32{0}
	var path []int32      // path[i] is the node for the previous pattern's first i+1 bytes
	var lastChild []int32 // per node, its last child so far
	lastChild = append(lastChild, -1)
	prev := ""
	for _, p := range a.patterns {
		a.size += len(p)
		common := commonPrefix(prev, p)
		path = path[:common]
		parent := int32(0)
		if common > 0 {
			parent = path[common-1]
		}
		for i := common; i < len(p); i++ {
			n := a.newNode(p[i])
			depth = append(depth, int32(i+1))
			lastChild = append(lastChild, -1)
			if parent == 0 {
				a.root[p[i]] = n
			}
			if last := lastChild[parent]; last >= 0 {
				a.sibling[last] = n
			} else {
				a.child[parent] = n
			}
			lastChild[parent] = n
			path = append(path, n)
			parent = n
		}
		a.match[parent] = int32(len(p))
		if !noPrefix(p) {
			for _, n := range path {
				a.reveal[n] = 1
			}
		}
		prev = p
	}
	return depth
}

func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// next is the trie edge from n on b, or -1.
func (a *automaton) next(n int32, b byte) int32 {
	if n == 0 {
		return a.root[b]
	}
	for c := a.child[n]; c >= 0; c = a.sibling[c] {
		switch {
		case a.label[c] == b:
			return c
		case a.label[c] > b:
			return -1
		}
	}
	return -1
}

// link computes failure links breadth first, and from them match and reveal.
func (a *automaton) link(depth []int32) {
	queue := make([]int32, 0, len(a.label))
	for c := a.child[0]; c >= 0; c = a.sibling[c] {
		queue = append(queue, c)
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if f := a.fail[n]; a.match[n] == 0 {
			a.match[n] = a.match[f]
		}
		if a.reveal[n] == 1 {
			a.reveal[n] = depth[n]
		} else {
			a.reveal[n] = a.reveal[a.fail[n]]
		}
		for c := a.child[n]; c >= 0; c = a.sibling[c] {
			a.fail[c] = a.step(a.fail[n], a.label[c])
			queue = append(queue, c)
		}
	}
}

// step is the automaton's transition: the trie edge, or the failure links until one.
func (a *automaton) step(n int32, b byte) int32 {
	for {
		if c := a.next(n, b); c >= 0 {
			return c
		}
		if n == 0 {
			return 0
		}
		n = a.fail[n]
	}
}

// scan reports, for each byte of text that ends an occurrence, the occurrence's length:
// the longest whole pattern, or with prefixes set, the longest pattern prefix of at
// least minPrefix bytes if that is longer and not only digits and punctuation (the
// start of a secret that happens to be a number is in ids and times everywhere).
func (a *automaton) scan(text string, prefixes bool, found func(end int, length int32)) {
	n := int32(0)
	for i := 0; i < len(text); i++ {
		n = a.step(n, text[i])
		l := a.match[n]
		if r := a.reveal[n]; prefixes && r >= minPrefix && r > l && !numeric(text[i+1-int(r):i+1]) {
			l = r
		}
		if l > 0 {
			found(i, l)
		}
	}
}

// numeric reports whether s holds no letter and nothing beyond ASCII.
func numeric(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c >= utf8.RuneSelf || 'a' <= c && c <= 'z' {
			return false
		}
	}
	return true
}
