package socketio

import (
	"context"
	"slices"
	"sync"
)

// BroadcastOperator describes a broadcast: which sockets of a namespace it reaches and how. Its
// methods return a new operator and leave the receiver unchanged, so operators can be shared and
// built upon from any goroutine.
type BroadcastOperator struct {
	nsp  *Namespace
	opts BroadcastOptions
}

func (b *BroadcastOperator) with(f func(*BroadcastOptions)) *BroadcastOperator {
	c := &BroadcastOperator{nsp: b.nsp, opts: b.opts}
	c.opts.Rooms = slices.Clone(b.opts.Rooms)
	c.opts.Except = slices.Clone(b.opts.Except)
	f(&c.opts)
	return c
}

// To narrows the broadcast to sockets in any of rooms (added to rooms named before).
func (b *BroadcastOperator) To(rooms ...string) *BroadcastOperator {
	return b.with(func(o *BroadcastOptions) { o.Rooms = append(o.Rooms, rooms...) })
}

// In is the same as To.
func (b *BroadcastOperator) In(rooms ...string) *BroadcastOperator { return b.To(rooms...) }

// Except leaves out the sockets in any of rooms (a socket id names its own room).
func (b *BroadcastOperator) Except(rooms ...string) *BroadcastOperator {
	return b.with(func(o *BroadcastOptions) { o.Except = append(o.Except, rooms...) })
}

// Volatile lets recipients that are not keeping up miss the event rather than queue it.
func (b *BroadcastOperator) Volatile() *BroadcastOperator {
	return b.with(func(o *BroadcastOptions) { o.Volatile = true })
}

// Local limits the broadcast to the sockets of this server (io.local in Node.js): with a cluster
// adapter nothing is sent to the other servers.
func (b *BroadcastOperator) Local() *BroadcastOperator {
	return b.with(func(o *BroadcastOptions) { o.Local = true })
}

// Emit sends an event to every selected socket. The packet is encoded once and the same bytes
// are queued to each recipient; a recipient whose queue is full is disconnected and nobody waits
// for it. With a cluster adapter the event goes to the other servers too, without waiting for
// them.
func (b *BroadcastOperator) Emit(event string, args ...any) error {
	p, err := NewPacket(b.nsp.name, event, args)
	if err != nil {
		return err
	}
	b.nsp.adapter.Broadcast(p, b.opts)
	return nil
}

// EmitWithAck sends an event to every selected socket, on every server, and waits for each
// client to acknowledge it, or for ctx to end (use context.WithTimeout). It returns the
// arguments of every ack received, one slice per client, and ctx's error if some never came.
// A client of another server answers with its ack's first argument only, as between Node.js
// servers.
func (b *BroadcastOperator) EmitWithAck(ctx context.Context, event string, args ...any) ([][]any, error) {
	p, err := NewPacket(b.nsp.name, event, args)
	if err != nil {
		return nil, err
	}
	wait := newAckCollector()
	// The adapter forgets the pending acks once this context ends, which is when we return.
	ackCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	b.nsp.adapter.BroadcastWithAck(ackCtx, p, b.opts, wait.count, wait.ack)
	servers, countErr := 1, error(nil)
	if !b.opts.Local {
		servers, countErr = b.nsp.adapter.ServerCount(ctx)
		if countErr != nil {
			servers = 1 // this server's answers still count
		}
	}
	wait.expectServers(servers)
	select {
	case <-wait.done:
		return wait.replies(), countErr
	case <-ctx.Done():
		return wait.replies(), ctx.Err()
	}
}

// ackCollector gathers the answers of a broadcast with acks: it is complete once every server
// has said how many clients it reached and that many answers have come (less those who left).
type ackCollector struct {
	mu             sync.Mutex
	got            [][]any
	servers        int // servers that have reported their client count
	expectedServer int // -1 until the server count is known
	expected       int // answers still owed by the clients reported so far
	done           chan struct{}
	closed         bool
}

func newAckCollector() *ackCollector {
	return &ackCollector{expectedServer: -1, done: make(chan struct{})}
}

func (c *ackCollector) count(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.servers++
	c.expected += n
	c.checkLocked()
}

func (c *ackCollector) ack(args []any, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		c.got = append(c.got, args)
	}
	c.expected-- // answered, or gone: nothing more will come from it
	c.checkLocked()
}

func (c *ackCollector) expectServers(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expectedServer = n
	c.checkLocked()
}

func (c *ackCollector) checkLocked() {
	if !c.closed && c.expectedServer >= 0 && c.servers >= c.expectedServer && c.expected <= 0 {
		c.closed = true
		close(c.done)
	}
}

func (c *ackCollector) replies() [][]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.got)
}

// Sockets returns the selected sockets of this server.
func (b *BroadcastOperator) Sockets() []*Socket { return b.nsp.adapter.Sockets(b.opts) }

// FetchSockets returns the selected sockets of every server (of this one only after Local). It
// fails if a server does not answer in time; see Adapter.FetchSockets.
func (b *BroadcastOperator) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return b.nsp.adapter.FetchSockets(ctx, b.opts)
}

// SocketsJoin makes the selected sockets, on every server, join rooms.
func (b *BroadcastOperator) SocketsJoin(rooms ...string) { b.nsp.adapter.AddSockets(b.opts, rooms) }

// SocketsLeave makes the selected sockets, on every server, leave rooms.
func (b *BroadcastOperator) SocketsLeave(rooms ...string) { b.nsp.adapter.DelSockets(b.opts, rooms) }

// DisconnectSockets disconnects the selected sockets, on every server; with closeConn their
// connections are closed too.
func (b *BroadcastOperator) DisconnectSockets(closeConn bool) {
	b.nsp.adapter.DisconnectSockets(b.opts, closeConn)
}
