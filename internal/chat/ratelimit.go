package chat

import (
	"sync"
	"time"
)

// rateLimiter is a token bucket per user: Burst messages at once, then one every Interval. Buckets
// of users who go offline are dropped, so its size is bounded by the users online. It is safe for
// concurrent use.
type rateLimiter struct {
	burst    float64
	interval time.Duration
	now      func() time.Time

	mu      sync.Mutex
	buckets map[int64]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newRateLimiter(burst int, interval time.Duration) *rateLimiter {
	return &rateLimiter{burst: float64(burst), interval: interval, now: time.Now, buckets: make(map[int64]*bucket)}
}

// allow takes a token for the user and reports whether there was one.
func (l *rateLimiter) allow(userID int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.buckets[userID]
	if b == nil {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[userID] = b
	}
	b.tokens = min(l.burst, b.tokens+float64(now.Sub(b.at))/float64(l.interval))
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// forget drops a user's bucket (they went offline).
func (l *rateLimiter) forget(userID int64) {
	l.mu.Lock()
	delete(l.buckets, userID)
	l.mu.Unlock()
}
