// Package ratelimittest is the contract every chat.RateLimiter backend must keep, as one test
// suite that each backend's tests run.
package ratelimittest

import (
	"context"
	"testing"
	"time"

	"github.com/herald-chat/herald/internal/chat"
)

// Factory makes a fresh, empty limiter of burst messages at once, then one per interval. Two
// limiters made by one factory in one test must share their state when the backend is shared
// (as the servers of a cluster do); for a backend on one server, each is its own.
type Factory func(t *testing.T, burst int, interval time.Duration) chat.RateLimiter

// waitLimit bounds the one wait of the suite: a refill of a few milliseconds, on a loaded
// machine.
const waitLimit = 10 * time.Second

// Run runs the contract against limiters made by newLimiter.
func Run(t *testing.T, newLimiter Factory) {
	ctx := context.Background()
	t.Run("BurstThenRefused", func(t *testing.T) {
		// An interval of an hour: nothing refills while the test runs, however slow.
		l := newLimiter(t, 3, time.Hour)
		for i := range 3 {
			if !l.Allow(ctx, 1) {
				t.Fatalf("message %d of a burst of 3 refused", i+1)
			}
		}
		if l.Allow(ctx, 1) {
			t.Fatal("a fourth message allowed within the burst of 3")
		}
	})
	t.Run("UsersApart", func(t *testing.T) {
		l := newLimiter(t, 1, time.Hour)
		if !l.Allow(ctx, 1) || l.Allow(ctx, 1) {
			t.Fatal("user 1: want one message, then refused")
		}
		if !l.Allow(ctx, 2) {
			t.Fatal("user 2 refused because of user 1's messages")
		}
	})
	t.Run("Refills", func(t *testing.T) {
		l := newLimiter(t, 1, 5*time.Millisecond)
		refused := false
		for range 1000 { // drains the bucket faster than it refills, on any machine
			if !l.Allow(ctx, 7) {
				refused = true
				break
			}
		}
		if !refused {
			t.Fatal("1000 messages in a row allowed at one per 5ms")
		}
		for deadline := time.Now().Add(waitLimit); !l.Allow(ctx, 7); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no token came back within %v at one per 5ms", waitLimit)
			}
		}
	})
}
