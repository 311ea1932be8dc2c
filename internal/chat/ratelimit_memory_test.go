package chat

import (
	"context"
	"testing"
	"time"
)

func TestMemoryRateLimiterRefillAndForgetting(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1000, 0)
	l := NewMemoryRateLimiter(3, time.Second)
	l.now = func() time.Time { return now }
	for range 3 {
		l.Allow(ctx, 1)
	}
	if l.Allow(ctx, 1) {
		t.Fatal("fourth message in the same instant allowed")
	}
	now = now.Add(time.Second)
	if !l.Allow(ctx, 1) || l.Allow(ctx, 1) {
		t.Fatal("want exactly one token after one interval")
	}
	l.Allow(ctx, 2)
	// Once a bucket has refilled whole it is dropped: it is the same as no bucket.
	now = now.Add(3 * time.Second)
	l.Allow(ctx, 3)
	if n := l.users(); n != 1 {
		t.Fatalf("%d buckets kept after the others refilled, want 1", n)
	}
}
