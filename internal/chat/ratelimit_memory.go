package chat

import (
	"context"
	"sync"
	"time"
)

// MemoryRateLimiter is the RateLimiter of a chat on one server: Burst messages at once, then one
// every Interval, per user. A user's bucket outlives their sockets, so disconnecting and
// reconnecting does not refill it; it is dropped only once it has refilled whole (then it is the
// same as no bucket), so its size is bounded by the users who sent within the last
// Burst×Interval. It is safe for concurrent use.
type MemoryRateLimiter struct {
	burst    float64
	interval time.Duration
	now      func() time.Time

	mu        sync.Mutex // guards what follows
	buckets   map[int64]*bucket
	nextSweep time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

// NewMemoryRateLimiter returns a limiter of burst messages at once, then one per interval.
// Values below 1 and 1ns are raised to them.
func NewMemoryRateLimiter(burst int, interval time.Duration) *MemoryRateLimiter {
	return &MemoryRateLimiter{burst: float64(max(burst, 1)), interval: max(interval, 1), now: time.Now, buckets: make(map[int64]*bucket)}
}

// Allow takes a token for the user and reports whether there was one.
func (l *MemoryRateLimiter) Allow(_ context.Context, userID int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.sweep(now)
	b := l.buckets[userID]
	if b == nil {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[userID] = b
	}
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.tokens = min(l.burst, b.tokens+float64(elapsed)/float64(l.interval))
	}
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// refillTime is how long an empty bucket takes to fill up again.
func (l *MemoryRateLimiter) refillTime() time.Duration {
	return time.Duration(l.burst * float64(l.interval))
}

// sweep drops the buckets that have refilled whole, at most once per refill time, so that the
// cost stays a fraction of the calls'. Callers hold mu.
func (l *MemoryRateLimiter) sweep(now time.Time) {
	if now.Before(l.nextSweep) {
		return
	}
	full := l.refillTime()
	l.nextSweep = now.Add(full)
	for id, b := range l.buckets {
		if now.Sub(b.at) >= full {
			delete(l.buckets, id)
		}
	}
}

// users returns how many buckets are held, for tests.
func (l *MemoryRateLimiter) users() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
