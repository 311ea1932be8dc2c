package chat

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestPresenceCountsDistinctUsers(t *testing.T) {
	p := NewPresence()
	if first, n := p.Add("a1", 1); !first || n != 1 {
		t.Fatalf("first socket of user 1: first=%v n=%d", first, n)
	}
	for _, sid := range []string{"a2", "a3"} { // more tabs of the same user
		if first, n := p.Add(sid, 1); first || n != 1 {
			t.Fatalf("another tab: first=%v n=%d", first, n)
		}
	}
	if first, n := p.Add("b1", 2); !first || n != 2 {
		t.Fatalf("user 2: first=%v n=%d", first, n)
	}
	if last, _, n := p.Remove("a1"); last || n != 2 {
		t.Fatalf("closing one of three tabs: last=%v n=%d", last, n)
	}
	p.Remove("a2")
	if last, uid, n := p.Remove("a3"); !last || uid != 1 || n != 1 {
		t.Fatalf("closing the last tab: last=%v uid=%d n=%d", last, uid, n)
	}
}

func TestPresenceIsIdempotent(t *testing.T) {
	p := NewPresence()
	p.Add("s", 1)
	p.Add("s", 1) // reported twice
	if last, _, n := p.Remove("s"); !last || n != 0 {
		t.Fatalf("remove: last=%v n=%d", last, n)
	}
	if last, _, n := p.Remove("s"); last || n != 0 {
		t.Fatalf("second remove changed something: last=%v n=%d", last, n)
	}
	if last, _, n := p.Remove("never-seen"); last || n != 0 {
		t.Fatalf("unknown socket changed something: last=%v n=%d", last, n)
	}
}

// TestPresenceNeverDrifts plays random connects and disconnects (some duplicated) and compares
// with a simple model after every step.
func TestPresenceNeverDrifts(t *testing.T) {
	p := NewPresence()
	model := map[string]int64{}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		sid := fmt.Sprintf("s%d", rng.IntN(300))
		if rng.IntN(2) == 0 {
			uid := int64(rng.IntN(40))
			if _, ok := model[sid]; !ok {
				model[sid] = uid
			}
			p.Add(sid, model[sid])
		} else {
			delete(model, sid)
			p.Remove(sid)
		}
		users := map[int64]bool{}
		for _, u := range model {
			users[u] = true
		}
		if p.Online() != len(users) {
			t.Fatalf("step %d: presence says %d users, model %d", i, p.Online(), len(users))
		}
	}
}
