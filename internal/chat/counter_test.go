package chat

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCountBroadcasterMergesAndEndsOnLatest(t *testing.T) {
	var count atomic.Int64
	var mu sync.Mutex
	var emitted []int
	c := &countBroadcaster{
		window: 20 * time.Millisecond,
		read:   func() int { return int(count.Load()) },
		emit: func(n int) {
			mu.Lock()
			emitted = append(emitted, n)
			mu.Unlock()
		},
	}
	defer c.stop()
	for i := 1; i <= 500; i++ { // a crowd arriving at once
		count.Store(int64(i))
		c.changed()
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(emitted)
		last := 0
		if n > 0 {
			last = emitted[n-1]
		}
		mu.Unlock()
		if last == 500 {
			if n > 5 {
				t.Fatalf("500 changes in one burst cost %d emissions, want a handful", n)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("latest emitted value is %d after 5s, want 500", last)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCountBroadcasterStopCancels(t *testing.T) {
	var emits atomic.Int32
	c := &countBroadcaster{window: 10 * time.Millisecond, read: func() int { return 1 }, emit: func(int) { emits.Add(1) }}
	c.changed()
	c.stop()
	c.changed()
	time.Sleep(50 * time.Millisecond)
	if emits.Load() != 0 {
		t.Fatalf("emitted %d times after stop", emits.Load())
	}
}

// TestCountBroadcasterSkipsWhatEveryoneHolds: a broadcast of the value every client already
// holds is skipped (a change noticed twice costs one emission), unless a socket was sent another
// value meanwhile.
func TestCountBroadcasterSkipsWhatEveryoneHolds(t *testing.T) {
	count := 2
	var emitted []int
	c := &countBroadcaster{window: time.Hour, lastSent: -1, read: func() int { return count }, emit: func(n int) { emitted = append(emitted, n) }}
	c.flush()
	c.flush() // nothing changed since: skipped
	count = 3
	c.sendCurrent(func(int) {}) // a newcomer gets 3…
	count = 2                   // …and leaves before the broadcast
	c.flush()                   // the newcomer holds 3: not skipped
	if want := []int{2, 2}; len(emitted) != 2 || emitted[0] != 2 || emitted[1] != 2 {
		t.Fatalf("emitted %v, want %v", emitted, want)
	}
}
