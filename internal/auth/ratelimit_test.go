package auth

import (
	"fmt"
	"testing"
	"time"
)

func TestLimiterWindow(t *testing.T) {
	l := newLimiter(2, time.Minute, 100)
	t0 := time.Unix(1000, 0)
	if l.blocked("k", t0) {
		t.Fatal("blocked before any failure")
	}
	l.fail("k", t0)
	if l.blocked("k", t0) {
		t.Fatal("blocked after one failure of two")
	}
	l.fail("k", t0.Add(time.Second))
	if !l.blocked("k", t0.Add(2*time.Second)) {
		t.Fatal("not blocked after two failures")
	}
	if l.blocked("other", t0) {
		t.Fatal("an unrelated key is blocked")
	}
	if l.blocked("k", t0.Add(time.Minute)) {
		t.Fatal("still blocked after the window")
	}
	// A failure after the window starts a new one.
	l.fail("k", t0.Add(time.Minute))
	if l.blocked("k", t0.Add(time.Minute)) {
		t.Fatal("new window inherited old failures")
	}
	l.reset("k")
	if l.len() != 0 {
		t.Fatalf("len after reset = %d", l.len())
	}
}

func TestLimiterIsBounded(t *testing.T) {
	l := newLimiter(1, time.Hour, 5)
	t0 := time.Unix(1000, 0)
	for i := range 100 {
		l.fail(fmt.Sprint("k", i), t0.Add(time.Duration(i)*time.Second))
	}
	if l.len() != 5 {
		t.Fatalf("len = %d, want capacity 5", l.len())
	}
	// The newest keys are the ones kept.
	now := t0.Add(100 * time.Second)
	if !l.blocked("k99", now) || l.blocked("k0", now) {
		t.Error("eviction did not drop the oldest entries first")
	}
	// Expired entries are swept as new failures arrive.
	l.fail("late", t0.Add(2*time.Hour))
	if l.len() != 1 {
		t.Errorf("len after all expired = %d, want 1", l.len())
	}
}
