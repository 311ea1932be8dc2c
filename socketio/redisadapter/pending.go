package redisadapter

import (
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/herald-chat/herald/socketio"
)

// pendingKind is what a request waits for.
type pendingKind int

const (
	pendingFetch pendingKind = iota
	pendingServerSideEmit
)

// pendingRequest is a request of this server waiting for the other servers' answers.
type pendingRequest struct {
	kind     pendingKind
	expected int // answers still awaited
	sockets  []*socketio.RemoteSocket
	replies  []json.RawMessage
	done     chan struct{} // closed when every answer came, or the table closed
	err      error         // ErrClosed when the table closed first
}

// ackRequest is a broadcast with acks of this server, collecting the other servers' counts and
// their clients' answers.
type ackRequest struct {
	onCount func(int)
	onAck   func([]any, error)
}

// pendingTable holds a namespace's requests in flight. It is bounded, every entry leaves it when
// answered, timed out or closed, and Close empties it. It is safe for concurrent use.
type pendingTable struct {
	mu       sync.Mutex
	max      int
	requests map[string]*pendingRequest
	acks     map[string]*ackRequest
	closed   bool
	gauge    *atomic.Int64 // the cluster's count of entries, of every namespace's table
}

// ErrTooManyRequests is returned by a request made while Config.MaxPendingRequests others of
// its namespace wait for answers.
var ErrTooManyRequests = errors.New("redisadapter: too many requests waiting for other servers")

func newPendingTable(max int, gauge *atomic.Int64) *pendingTable {
	return &pendingTable{max: max, requests: map[string]*pendingRequest{}, acks: map[string]*ackRequest{}, gauge: gauge}
}

// isClosed reports whether close was called.
func (t *pendingTable) isClosed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}

// len returns the number of entries.
func (t *pendingTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.requests) + len(t.acks)
}

// add registers a request expecting n answers.
func (t *pendingTable) add(id string, kind pendingKind, n int) (*pendingRequest, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, ErrClosed
	}
	if len(t.requests)+len(t.acks) >= t.max {
		return nil, ErrTooManyRequests
	}
	r := &pendingRequest{kind: kind, expected: n, done: make(chan struct{})}
	t.requests[id] = r
	t.gauge.Add(1)
	return r, nil
}

// addAck registers a broadcast with acks.
func (t *pendingTable) addAck(id string, a *ackRequest) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return ErrClosed
	}
	if len(t.requests)+len(t.acks) >= t.max {
		return ErrTooManyRequests
	}
	t.acks[id] = a
	t.gauge.Add(1)
	return nil
}

// remove forgets a request (answered or given up on).
func (t *pendingTable) remove(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.requests[id]; ok {
		delete(t.requests, id)
		t.gauge.Add(-1)
	}
	if _, ok := t.acks[id]; ok {
		delete(t.acks, id)
		t.gauge.Add(-1)
	}
}

// has reports whether id is one of this server's requests.
func (t *pendingTable) has(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, r := t.requests[id]
	_, a := t.acks[id]
	return r || a
}

func (t *pendingTable) ack(id string) *ackRequest {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.acks[id]
}

// answer records one answer to request id with record, which runs under the table's lock.
func (t *pendingTable) answer(id string, kind pendingKind, record func(*pendingRequest)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.requests[id]
	if r == nil || r.kind != kind || r.expected <= 0 {
		return
	}
	record(r)
	r.expected--
	if r.expected == 0 {
		close(r.done)
	}
}

// result returns what came for r so far and how many answers are missing.
func (t *pendingTable) result(r *pendingRequest) ([]*socketio.RemoteSocket, []json.RawMessage, int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return r.sockets, r.replies, r.expected, r.err
}

// close fails every request and forgets every broadcast with acks.
func (t *pendingTable) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	for id, r := range t.requests {
		if r.expected > 0 {
			r.err = ErrClosed
			close(r.done)
		}
		delete(t.requests, id)
		t.gauge.Add(-1)
	}
	t.gauge.Add(-int64(len(t.acks)))
	clear(t.acks)
}
