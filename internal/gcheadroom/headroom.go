// Package gcheadroom keeps Go's garbage collector from running more often than a server with a
// small live heap needs.
//
// With the default GOGC of 100 the collector runs each time the heap has grown by as much as it
// holds live. A server whose live heap is small but which allocates on every request (a
// long-polling server: each poll is a request) then collects every second or so, and each
// collection makes the goroutines that allocate meanwhile help with the marking. On one core that
// lands in the middle of a broadcast and stretches its tail. Keep raises GOGC, after every
// collection, just enough that the heap may grow by a fixed headroom before the next one; once
// the live heap is large enough that GOGC's own growth exceeds the headroom, it leaves GOGC alone.
// A memory limit (GOMEMLIMIT) still applies on top.
package gcheadroom

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// DefaultHeadroom is what the herald binaries keep: 64 MiB, about what the collector gives a
// live heap of 64 MiB anyway, so a large server is unaffected and a small one pays at most that
// much memory for rarer collections.
const DefaultHeadroom = 64 << 20

// minLive is the smallest live heap the arithmetic assumes: the runtime's own minimum heap goal
// (4 MiB at GOGC=100) grows with GOGC, so a GOGC computed for a tinier heap (or for none, before
// the first collection, when the live heap reads 0) would put the first goal far past the
// headroom: 0 bytes live once gave GOGC the cap and a first goal of gigabytes.
const minLive = 4 << 20

// Keep makes the collector leave at least headroom bytes of allocation between collections,
// never setting GOGC below the process's own setting; it does nothing when headroom is 0 or the
// collector is off. stop undoes it: GOGC goes back to what it was. Only one Keep should be in
// effect at a time, since GOGC belongs to the whole process.
func Keep(headroom uint64) (stop func()) {
	base := gcPercent()
	if headroom == 0 || base < 0 {
		return func() {}
	}
	t := &tuner{headroom: headroom, base: base, current: base}
	t.adjust()
	t.arm()
	return t.stop
}

// tuner adjusts GOGC after each collection. mu guards its fields: the adjustment runs on the
// runtime's cleanup goroutine, stop on the caller's.
type tuner struct {
	headroom uint64
	base     int

	mu      sync.Mutex
	current int
	stopped bool
}

// sentinel is allocated to be collected: its cleanup runs once per collection cycle that finds it
// unreachable, which is the next one. It holds a pointer so that it is never one of the tiny
// pointer-free objects the allocator packs together (whose cleanups may never run).
type sentinel struct{ _ *sentinel }

// arm schedules the next adjustment for after the next collection.
func (t *tuner) arm() {
	runtime.AddCleanup(new(sentinel), (*tuner).afterGC, t)
}

// afterGC runs after each collection: it adjusts GOGC and arms itself again, unless stopped.
func (t *tuner) afterGC() {
	if t.adjust() {
		t.arm()
	}
}

// adjust sets GOGC to the smallest value that gives the live heap the headroom, or the base if
// that is more, and reports whether the tuner is still running. It leaves GOGC alone for
// changes under an eighth, so that a steady heap does not reset the collector's pacing after
// every cycle.
func (t *tuner) adjust() bool {
	want := percentFor(liveHeap(), t.headroom, t.base)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return false
	}
	if abs(want-t.current) > t.current/8 {
		t.current = want
		debug.SetGCPercent(want)
	}
	return true
}

// stop ends the adjustments and restores the base GOGC.
func (t *tuner) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	t.stopped = true
	debug.SetGCPercent(t.base)
}

// percentFor is the GOGC that lets a heap of live bytes (minLive at least) grow by headroom before
// the next collection, and at least base.
func percentFor(live, headroom uint64, base int) int {
	p := math.Ceil(float64(headroom) * 100 / float64(max(live, minLive)))
	return max(base, int(min(p, math.MaxInt32)))
}

// liveHeap is the heap the last collection found live, in bytes.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// gcPercent is the current GOGC, negative when the collector is off.
func gcPercent() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 100
	}
	v := s[0].Value.Uint64()
	if v > math.MaxInt32 {
		return -1
	}
	return int(v)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
