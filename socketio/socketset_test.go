package socketio

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func members(m *socketSet) []*Socket {
	var out []*Socket
	m.each(func(s *Socket) { out = append(out, s) })
	return out
}

// TestSocketSetKeepsJoiningOrder: iteration follows the order of joining through removals,
// compaction and the switch to an index, and the set agrees with a plain map model throughout.
func TestSocketSetKeepsJoiningOrder(t *testing.T) {
	for _, size := range []int{3, indexFrom - 1, indexFrom, 200} {
		socks := make([]*Socket, size)
		for i := range socks {
			socks[i] = &Socket{}
		}
		var m socketSet
		var model []*Socket // the expected members, in joining order
		r := rand.New(rand.NewPCG(1, uint64(size)))
		for step := range 20 * size {
			s := socks[r.IntN(size)]
			if r.IntN(3) == 0 {
				m.remove(s)
				if i := slices.Index(model, s); i >= 0 {
					model = slices.Delete(model, i, i+1)
				}
			} else {
				m.add(s)
				if !slices.Contains(model, s) {
					model = append(model, s)
				}
			}
			if got := members(&m); !slices.Equal(got, model) {
				t.Fatalf("size %d, step %d: members out of order or wrong: %d members, want %d", size, step, len(got), len(model))
			}
			if m.len() != len(model) {
				t.Fatalf("size %d, step %d: len %d, want %d", size, step, m.len(), len(model))
			}
			for _, s := range socks {
				if m.has(s) != slices.Contains(model, s) {
					t.Fatalf("size %d, step %d: has disagrees with the model", size, step)
				}
			}
			if m.holes > len(m.list)/2 {
				t.Fatalf("size %d, step %d: %d holes in a list of %d", size, step, m.holes, len(m.list))
			}
		}
		for _, s := range socks {
			m.remove(s)
		}
		if m.list != nil || m.index != nil || m.len() != 0 {
			t.Fatalf("size %d: an emptied set still holds memory", size)
		}
	}
}

// TestBroadcastFollowsJoiningOrder: the adapter delivers a broadcast to sockets in the order
// they joined, to everyone and to a room, as Node's adapter does.
func TestBroadcastFollowsJoiningOrder(t *testing.T) {
	a := NewMemoryAdapter(nil)
	socks := make([]*Socket, 100)
	for i := range socks {
		socks[i] = &Socket{id: string(rune('A' + i))}
		a.AddAll(socks[i], []string{socks[i].id, "room"})
	}
	a.DelAll(socks[10])
	want := slices.Delete(slices.Clone(socks), 10, 11)
	if got := a.Sockets(BroadcastOptions{}); !slices.Equal(got, want) {
		t.Error("a broadcast to everyone does not follow the joining order")
	}
	if got := a.Sockets(BroadcastOptions{Rooms: []string{"room"}}); !slices.Equal(got, want) {
		t.Error("a broadcast to a room does not follow the joining order")
	}
}
