package chat

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestUserSocketsCountsDistinctUsers(t *testing.T) {
	p := NewUserSockets()
	if first, n := p.Add("a1", User{ID: 1}); !first || n != 1 {
		t.Fatalf("first socket of user 1: first=%v n=%d", first, n)
	}
	for _, sid := range []string{"a2", "a3"} { // more tabs of the same user
		if first, n := p.Add(sid, User{ID: 1}); first || n != 1 {
			t.Fatalf("another tab: first=%v n=%d", first, n)
		}
	}
	if first, n := p.Add("b1", User{ID: 2}); !first || n != 2 {
		t.Fatalf("user 2: first=%v n=%d", first, n)
	}
	if last, _, n := p.Remove("a1"); last || n != 2 {
		t.Fatalf("closing one of three tabs: last=%v n=%d", last, n)
	}
	p.Remove("a2")
	if last, uid, n := p.Remove("a3"); !last || uid.ID != 1 || n != 1 {
		t.Fatalf("closing the last tab: last=%v uid=%d n=%d", last, uid.ID, n)
	}
}

func TestUserSocketsIsIdempotent(t *testing.T) {
	p := NewUserSockets()
	p.Add("s", User{ID: 1})
	p.Add("s", User{ID: 1}) // reported twice
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

// TestUserSocketsNeverDrifts plays random connects and disconnects (some duplicated) and compares
// with a simple model after every step.
func TestUserSocketsNeverDrifts(t *testing.T) {
	p := NewUserSockets()
	model := map[string]int64{}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		sid := fmt.Sprintf("s%d", rng.IntN(300))
		if rng.IntN(2) == 0 {
			uid := int64(rng.IntN(40))
			if _, ok := model[sid]; !ok {
				model[sid] = uid
			}
			p.Add(sid, User{ID: model[sid]})
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
