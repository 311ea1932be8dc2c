package chat

import (
	"testing"
	"time"
)

func TestRateLimiterBurstThenRefill(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newRateLimiter(3, time.Second)
	l.now = func() time.Time { return now }
	for i := 0; i < 3; i++ {
		if !l.allow(1) {
			t.Fatalf("message %d of the burst refused", i+1)
		}
	}
	if l.allow(1) {
		t.Fatal("fourth message in the same instant allowed")
	}
	if !l.allow(2) {
		t.Fatal("another user is limited by the first one's burst")
	}
	now = now.Add(time.Second)
	if !l.allow(1) {
		t.Fatal("no token after one interval")
	}
	if l.allow(1) {
		t.Fatal("two tokens after one interval")
	}
	l.forget(1)
	if len(l.buckets) != 1 {
		t.Fatalf("forget left %d buckets, want 1", len(l.buckets))
	}
}
