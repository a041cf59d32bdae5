// Package suggest finds the name a user most likely meant: the field, type, input or
// flag closest to a misspelled one, for a "did you mean …?" in an error.
package suggest

import (
	"strings"
	"unicode"
)

// Closest returns the candidate that name most likely misspells, if any is close
// enough to be worth suggesting. Names are compared without case and punctuation, so
// `access_key_id` finds `accessKeyId` and `azureiot-credentials` finds
// `azureIoT-credentials`; one name containing the other (`privateKey` for `key`,
// `pass` for `password`) also counts as close.
func Closest(name string, candidates []string) (string, bool) {
	n := normalize(name)
	best, bestDist := "", -1
	for _, c := range candidates {
		cn := normalize(c)
		d := distance(n, cn)
		if !isClose(n, cn, d) {
			continue
		}
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	return best, bestDist >= 0
}

// isClose allows more typos in longer names (one in four characters, at least one, at
// most three) and accepts one name containing the other.
func isClose(a, b string, d int) bool {
	if d <= max(1, min(3, len(b)/4)) {
		return true
	}
	short, long := a, b
	if len(short) > len(long) {
		short, long = long, short
	}
	return len(short) >= 3 && strings.Contains(long, short)
}

func normalize(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, s)
}

// distance is the optimal-string-alignment edit distance: insertions, deletions,
// substitutions and swaps of neighbours each cost one, because a swap is the most
// common typo.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
