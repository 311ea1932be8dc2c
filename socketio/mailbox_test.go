package socketio

import (
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// newTestMailbox returns a mailbox with the given bound and a discarding logger.
func newTestMailbox(limit int) *mailbox {
	m := &mailbox{}
	m.init(limit, slog.New(slog.DiscardHandler))
	return m
}

// idle reports whether the mailbox has no goroutine and no jobs.
func (m *mailbox) idle() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return !m.running && len(m.jobs) == 0
}

// TestMailboxOrder checks that jobs run one at a time, in the order posted.
func TestMailboxOrder(t *testing.T) {
	m := newTestMailbox(1000)
	var (
		mu      sync.Mutex
		got     []int
		running atomic.Int32
		overlap atomic.Bool
	)
	done := make(chan struct{})
	const n = 500
	for i := range n {
		m.post(func() {
			if running.Add(1) > 1 {
				overlap.Store(true)
			}
			if i%100 == 0 {
				runtime.Gosched()
			}
			mu.Lock()
			got = append(got, i)
			if len(got) == n {
				close(done)
			}
			mu.Unlock()
			running.Add(-1)
		}, true)
	}
	recvTimeout(t, done, "every job")
	if overlap.Load() {
		t.Error("two jobs ran at once")
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("jobs ran out of order: %v", got)
		}
	}
	sioWaitFor(t, "the mailbox to go idle", m.idle)
}

// TestMailboxBackpressure checks the bound: a waiting post blocks while the box is full and
// resumes when a job is taken; a non-waiting post passes the bound.
func TestMailboxBackpressure(t *testing.T) {
	m := newTestMailbox(2)
	release := make(chan struct{})
	started := make(chan struct{})
	m.post(func() { close(started); <-release }, true)
	<-started // the running job has left the queue
	m.post(func() {}, true)
	m.post(func() {}, true) // the box now holds its limit
	posted := make(chan bool, 1)
	go func() { posted <- m.post(func() {}, true) }()
	select {
	case <-posted:
		t.Fatal("a post into a full box did not wait")
	case <-time.After(20 * time.Millisecond): // a negative check: nothing to wait for
	}
	if !m.post(func() {}, false) {
		t.Error("an internal post was refused")
	}
	close(release)
	if !recvTimeout(t, posted, "the blocked post") {
		t.Error("the blocked post was refused")
	}
	sioWaitFor(t, "the mailbox to go idle", m.idle)
}

// TestMailboxFinal checks postFinal: its job runs after those already queued, later posts are
// refused, and posters blocked on a full box give up.
func TestMailboxFinal(t *testing.T) {
	m := newTestMailbox(1)
	release := make(chan struct{})
	started := make(chan struct{})
	var order []string
	var mu sync.Mutex
	add := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
	m.post(func() { close(started); <-release; add("first") }, true)
	<-started
	m.post(func() { add("second") }, true)
	blocked := make(chan bool, 1)
	go func() { blocked <- m.post(func() { add("blocked") }, true) }()
	finalDone := make(chan struct{})
	sioWaitFor(t, "the poster to block", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return len(m.jobs) == 1
	})
	m.postFinal(func() { add("final"); close(finalDone) })
	if recvTimeout(t, blocked, "the blocked post") {
		t.Error("a post blocked before the final one was accepted after it")
	}
	if m.post(func() { add("late") }, false) {
		t.Error("a post after the final one was accepted")
	}
	close(release)
	recvTimeout(t, finalDone, "the final job")
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"first", "second", "final"}; len(order) != 3 || order[0] != want[0] || order[1] != want[1] || order[2] != want[2] {
		t.Errorf("ran %v, want %v", order, want)
	}
}

// TestMailboxPanic checks that a panicking job is contained and the next jobs still run.
func TestMailboxPanic(t *testing.T) {
	m := newTestMailbox(10)
	done := make(chan struct{})
	m.post(func() { panic("job") }, true)
	m.post(func() { var p *int; _ = *p }, true) // a runtime error, too
	m.post(func() { close(done) }, true)
	recvTimeout(t, done, "the job after the panics")
	sioWaitFor(t, "the mailbox to go idle", m.idle)
}

// TestMailboxNoIdleGoroutine checks that an idle mailbox holds no goroutine: a new one starts on
// the next post.
func TestMailboxNoIdleGoroutine(t *testing.T) {
	m := newTestMailbox(10)
	for range 3 {
		done := make(chan struct{})
		m.post(func() { close(done) }, true)
		recvTimeout(t, done, "the job")
		sioWaitFor(t, "the mailbox to go idle", m.idle)
		m.mu.Lock()
		if m.jobs != nil {
			t.Error("an idle mailbox keeps its backing array")
		}
		m.mu.Unlock()
	}
}

// TestMailboxPosterGivesUpWhenConnectionGone checks that a poster blocked on a full box returns
// (refused) once the connection is no longer alive, even though nothing is taken from the box.
func TestMailboxPosterGivesUpWhenConnectionGone(t *testing.T) {
	m := newTestMailbox(1)
	var alive atomic.Bool
	alive.Store(true)
	m.alive = alive.Load
	release := make(chan struct{})
	defer close(release)
	started := make(chan struct{})
	m.post(func() { close(started); <-release }, true) // a job that never finishes by itself
	<-started
	m.post(func() {}, true) // fills the box
	posted := make(chan bool, 1)
	go func() { posted <- m.post(func() {}, true) }()
	select {
	case <-posted:
		t.Fatal("a post into a full box did not wait")
	case <-time.After(20 * time.Millisecond): // most likely blocked by now; either way it must refuse
	}
	alive.Store(false)
	if recvTimeout(t, posted, "the blocked poster to give up") {
		t.Error("the post was accepted after the connection was gone")
	}
}
