package socketio

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"
)

// mailbox runs one connection's jobs (connects, events, disconnects) one at a time and in order,
// on a goroutine that exists only while there is work: an idle connection holds none. Handlers
// therefore never block the connection's reader, and may wait for acks from their own client.
type mailbox struct {
	mu      sync.Mutex
	notFull sync.Cond // signalled when a job is taken, for posters waiting on a full box
	jobs    []func()
	running bool
	closed  bool // no more jobs are accepted; waiting posters give up
	limit   int
	log     *slog.Logger
	// alive, when set, reports whether the connection is still open. A poster blocked on a full
	// box checks it now and then and gives up once the connection is gone: the connection's
	// close cannot reach the box while its reader is the one blocked (see post).
	alive func() bool
}

// aliveCheck is how often a poster blocked on a full box checks that its connection is alive.
const aliveCheck = 100 * time.Millisecond

func (m *mailbox) init(limit int, log *slog.Logger) {
	m.limit = limit
	m.log = log
	m.notFull.L = &m.mu
}

// post queues job. With wait set (jobs from the client's traffic) it blocks while the box is
// full, which stops the connection's reader and so pushes back on the client; internal jobs pass
// the bound, so that a handler posting to its own box cannot deadlock. It reports false if the box
// is closed.
func (m *mailbox) post(job func(), wait bool) bool {
	m.mu.Lock()
	for wait && len(m.jobs) >= m.limit && !m.closed {
		// The blocked poster is the connection's reader, inside the engine's OnMessage: the
		// engine delivers the close (OnClose, hence postFinal) only after OnMessage returns. If
		// the running job waits for something only the reader could bring (an ack), nothing
		// would ever move again; so the poster gives up by itself once the connection is gone.
		if m.alive != nil && !m.alive() {
			m.mu.Unlock()
			return false
		}
		t := time.AfterFunc(aliveCheck, m.notFull.Broadcast)
		m.notFull.Wait()
		t.Stop()
	}
	if m.closed {
		m.mu.Unlock()
		return false
	}
	m.enqueueLocked(job)
	m.mu.Unlock()
	return true
}

// tryPost queues job unless the box is full or closed, and reports whether it did.
func (m *mailbox) tryPost(job func()) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || len(m.jobs) >= m.limit {
		return false
	}
	m.enqueueLocked(job)
	return true
}

// enqueueLocked appends job and starts the runner if it is not running.
func (m *mailbox) enqueueLocked(job func()) {
	m.jobs = append(m.jobs, job)
	if !m.running {
		m.running = true
		go m.run()
	}
}

// postFinal queues the last job and closes the box behind it.
func (m *mailbox) postFinal(job func()) {
	m.mu.Lock()
	m.closed = true
	m.notFull.Broadcast()
	m.enqueueLocked(job)
	m.mu.Unlock()
}

func (m *mailbox) run() {
	for {
		m.mu.Lock()
		if len(m.jobs) == 0 {
			m.running = false
			m.jobs = nil // an idle connection keeps no backing array
			m.mu.Unlock()
			return
		}
		job := m.jobs[0]
		m.jobs[0] = nil
		m.jobs = m.jobs[1:]
		m.notFull.Signal()
		m.mu.Unlock()
		m.safely(job)
	}
}

// safely runs a job, turning a panic in application code into a logged error: one bad handler
// must not take the whole server down.
func (m *mailbox) safely(job func()) {
	defer func() {
		if v := recover(); v != nil {
			m.log.Error("socketio: handler panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		}
	}()
	job()
}
