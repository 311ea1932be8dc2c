package gcheadroom

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

// waitForPercent collects until GOGC satisfies ok, or fails after a bounded number of cycles.
func waitForPercent(t *testing.T, ok func(int) bool) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		// The adjustment runs on the runtime's cleanup goroutine, after the cycle.
		time.Sleep(time.Millisecond)
		p := gcPercent()
		if ok(p) {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("GOGC is %d after 5 s of collections", p)
		}
	}
}

// TestKeepGivesASmallHeapItsHeadroom: with 8 MiB live, keeping 256 MiB of headroom must raise
// GOGC far above 100, to a goal at least the headroom above the live heap; stop puts it back.
func TestKeepGivesASmallHeapItsHeadroom(t *testing.T) {
	const headroom = 256 << 20
	ballast := make([][]byte, 0, 8)
	for range 8 {
		ballast = append(ballast, make([]byte, 1<<20))
	}
	defer runtime.KeepAlive(ballast)
	base := gcPercent()
	stop := Keep(headroom)
	p := waitForPercent(t, func(p int) bool { return p > 1000 })
	live := liveHeap()
	if growth := live * uint64(p) / 100; growth < headroom {
		t.Errorf("GOGC %d lets a live heap of %d bytes grow by %d, want at least %d", p, live, growth, headroom)
	}
	stop()
	if got := gcPercent(); got != base {
		t.Errorf("after stop GOGC is %d, want %d", got, base)
	}
	// Stopped means stopped: later collections leave GOGC alone.
	for range 3 {
		runtime.GC()
	}
	time.Sleep(10 * time.Millisecond)
	if got := gcPercent(); got != base {
		t.Errorf("a collection after stop set GOGC to %d", got)
	}
	stop() // a second stop is harmless
}

// TestKeepFollowsTheLiveHeap: when the live heap grows, GOGC comes down, so the headroom stays
// a fixed amount rather than a multiple of a heap that is no longer small.
func TestKeepFollowsTheLiveHeap(t *testing.T) {
	const headroom = 64 << 20
	stop := Keep(headroom)
	defer stop()
	small := waitForPercent(t, func(p int) bool { return p > 200 })
	ballast := make([][]byte, 0, 64)
	for range 64 {
		ballast = append(ballast, make([]byte, 1<<20)) // 64 MiB live
	}
	large := waitForPercent(t, func(p int) bool { return p < small })
	if large > 110 {
		t.Errorf("with %d MiB live GOGC is %d, want about 100", liveHeap()>>20, large)
	}
	runtime.KeepAlive(ballast)
}

// TestKeepLeavesTheCollectorOff: GOGC=off is the operator's choice, not a value to raise.
func TestKeepLeavesTheCollectorOff(t *testing.T) {
	old := debug.SetGCPercent(-1)
	defer debug.SetGCPercent(old)
	stop := Keep(DefaultHeadroom)
	defer stop()
	if p := gcPercent(); p >= 0 {
		t.Errorf("GOGC is %d, want off", p)
	}
}

// TestPercentFor: the arithmetic, at its bounds.
func TestPercentFor(t *testing.T) {
	for _, c := range []struct {
		live, headroom uint64
		base, want     int
	}{
		{live: 16 << 20, headroom: 64 << 20, base: 100, want: 400},
		{live: 64 << 20, headroom: 64 << 20, base: 100, want: 100},
		{live: 1 << 30, headroom: 64 << 20, base: 100, want: 100},
		{live: 16 << 20, headroom: 64 << 20, base: 800, want: 800},
		{live: 0, headroom: 64 << 20, base: 100, want: 1600},
		{live: 1, headroom: 64 << 20, base: 100, want: 1600},
		{live: 4 << 20, headroom: 64 << 20, base: 100, want: 1600},
	} {
		if got := percentFor(c.live, c.headroom, c.base); got != c.want {
			t.Errorf("percentFor(%d, %d, %d) = %d, want %d", c.live, c.headroom, c.base, got, c.want)
		}
	}
}

// TestKeepBoundsTheGoal: whatever GOGC it sets, the heap goal the runtime derives from it stays
// near the live heap plus the headroom, including with a live heap under the runtime's minimum
// (the runtime's minimum goal grows with GOGC: a GOGC computed for a live heap of almost nothing
// once set a first goal of gigabytes).
func TestKeepBoundsTheGoal(t *testing.T) {
	const headroom = 64 << 20
	runtime.GC() // the test binary's live heap: well under 4 MiB
	stop := Keep(headroom)
	defer stop()
	waitForPercent(t, func(p int) bool { return p > 100 })
	runtime.GC()
	time.Sleep(time.Millisecond)
	live, goal := liveHeap(), heapGoal()
	if limit := live + headroom + headroom/4; goal > limit {
		t.Errorf("heap goal %d MiB with %d MiB live and %d MiB headroom (GOGC %d)", goal>>20, live>>20, headroom>>20, gcPercent())
	}
}

func heapGoal() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
