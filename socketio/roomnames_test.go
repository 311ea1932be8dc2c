package socketio

import (
	"fmt"
	"slices"
	"testing"
)

// TestRoomNames: a socket's rooms are a set, small or past the size where a map takes over.
func TestRoomNames(t *testing.T) {
	for _, n := range []int{1, roomNamesMapFrom, roomNamesMapFrom + 1, 100} {
		var rn roomNames
		want := map[string]bool{}
		for i := range n {
			r := fmt.Sprint("r", i)
			rn.add(r)
			rn.add(r) // twice: still once
			want[r] = true
		}
		for i := 0; i < n; i += 3 {
			r := fmt.Sprint("r", i)
			rn.remove(r)
			rn.remove(r)
			delete(want, r)
		}
		var got []string
		rn.all(func(r string) { got = append(got, r) })
		if len(got) != len(want) || rn.len() != len(want) {
			t.Fatalf("%d rooms: got %d (len %d), want %d", n, len(got), rn.len(), len(want))
		}
		for _, r := range got {
			if !want[r] {
				t.Fatalf("%d rooms: %q should be gone", n, r)
			}
		}
		if u := slices.Compact(slices.Sorted(slices.Values(got))); len(u) != len(want) {
			t.Fatalf("%d rooms: duplicates in %v", n, got)
		}
	}
}
