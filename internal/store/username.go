package store

import (
	"strconv"
	"unicode/utf8"
)

// SuffixedUsername returns base for n <= 1 and base followed by n otherwise,
// shortening base (on a rune boundary) so the result fits MaxUsernameLen.
// Backends use it to find a free name for a new GitHub account ("name2",
// "name3", …), so every backend picks the same names.
func SuffixedUsername(base string, n int) string {
	suffix := ""
	if n > 1 {
		suffix = strconv.Itoa(n)
	}
	limit := MaxUsernameLen - len(suffix)
	for len(base) > limit {
		_, size := utf8.DecodeLastRuneInString(base)
		base = base[:len(base)-size]
	}
	return base + suffix
}
