package store

import (
	"strings"
	"testing"
)

func TestSuffixedUsername(t *testing.T) {
	for _, tc := range []struct {
		base string
		n    int
		want string
	}{
		{"bob", 1, "bob"},
		{"bob", 2, "bob2"},
		{"bob", 10, "bob10"},
		{strings.Repeat("x", 32), 1, strings.Repeat("x", 32)},
		{strings.Repeat("x", 32), 2, strings.Repeat("x", 31) + "2"},
		{strings.Repeat("x", 40), 1, strings.Repeat("x", 32)},
		{strings.Repeat("é", 20), 3, strings.Repeat("é", 15) + "3"}, // never splits a rune
	} {
		if got := SuffixedUsername(tc.base, tc.n); got != tc.want {
			t.Errorf("SuffixedUsername(%q, %d) = %q, want %q", tc.base, tc.n, got, tc.want)
		}
	}
}
