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

// Emit sends an event to every selected socket. The packet is encoded once and the same bytes
// are queued to each recipient; a recipient whose queue is full is disconnected and nobody waits
// for it.
func (b *BroadcastOperator) Emit(event string, args ...any) error {
	p, err := eventPacket(b.nsp.name, event, args)
	if err != nil {
		return err
	}
	b.nsp.adapter.Broadcast(encodeFrames(p), b.opts, nil)
	return nil
}

// EmitWithAck sends an event to every selected socket and waits for each to acknowledge it, or
// for ctx to end (use context.WithTimeout). It returns the arguments of every ack received, one
// slice per client, and ctx's error if some never came.
func (b *BroadcastOperator) EmitWithAck(ctx context.Context, event string, args ...any) ([][]any, error) {
	p, err := eventPacket(b.nsp.name, event, args)
	if err != nil {
		return nil, err
	}
	p.id = b.nsp.nextAckID()
	var (
		mu       sync.Mutex
		replies  [][]any
		expected int
		done     = make(chan struct{})
		closed   bool
	)
	finishLocked := func() {
		if !closed && len(replies) >= expected {
			closed = true
			close(done)
		}
	}
	var recipients []*Socket
	gone := 0 // recipients already leaving: they will never answer
	mu.Lock()
	expected = b.nsp.adapter.Broadcast(encodeFrames(p), b.opts, func(s *Socket) {
		recipients = append(recipients, s)
		registered := s.expectAck(p.id, func(args []any, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				expected-- // gone: nothing more will come from it
			} else {
				replies = append(replies, args)
			}
			finishLocked()
		})
		if !registered {
			gone++
		}
	})
	expected -= gone
	finishLocked()
	mu.Unlock()
	select {
	case <-done:
		return replies, nil
	case <-ctx.Done():
		for _, s := range recipients {
			s.dropAck(p.id)
		}
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(replies), ctx.Err()
	}
}

// Sockets returns the selected sockets of this server.
func (b *BroadcastOperator) Sockets() []*Socket { return b.nsp.adapter.Sockets(b.opts) }

// DisconnectSockets disconnects every selected socket; with closeConn their connections are
// closed too.
func (b *BroadcastOperator) DisconnectSockets(closeConn bool) {
	for _, s := range b.Sockets() {
		s.Disconnect(closeConn)
	}
}
