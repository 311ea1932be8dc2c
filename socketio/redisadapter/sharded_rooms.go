package redisadapter

import (
	"context"
	"sync"

	"github.com/herald-chat/herald/socketio"
)

// Subscription modes of the sharded adapter, as the Node.js one names them.
const (
	// SubscriptionStatic: two channels per namespace; every broadcast goes on the namespace's.
	SubscriptionStatic = "static"
	// SubscriptionDynamic (the default, as in Node.js): also one channel per public room that
	// has a member on this server, and a broadcast to exactly one public room goes on that
	// room's channel, so that only the servers with members of it receive it. A room named by
	// 20 characters is taken for a socket id (private) and has no channel.
	SubscriptionDynamic = "dynamic"
	// SubscriptionDynamicPrivate: as dynamic, for private rooms too.
	SubscriptionDynamicPrivate = "dynamic-private"
)

// roomChannels keeps, in the dynamic modes, one subscription per room with a member here. It
// works on a goroutine of its own, so that joining and leaving never wait for Redis: they mark
// rooms to look at, and the goroutine subscribes to the rooms that now exist and unsubscribes
// from those that are gone.
type roomChannels struct {
	a       *shardedAdapter
	private bool // dynamic-private: private rooms too

	mu    sync.Mutex
	dirty map[string]struct{}
	// touched counts the calls of touch, applied the ones whose subscriptions are made; applying
	// closes and replaces progress, for settle to wait on.
	touched, applied uint64
	progress         chan struct{}

	subscribed map[string]bool // the goroutine's own
	wake       chan struct{}
	stop       chan struct{}
	stopped    chan struct{}
}

func newRoomChannels(a *shardedAdapter, private bool) *roomChannels {
	r := &roomChannels{a: a, private: private, dirty: map[string]struct{}{}, subscribed: map[string]bool{},
		progress: make(chan struct{}), wake: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
	go r.run()
	return r
}

// hasChannel reports whether a broadcast to room alone goes on the room's channel.
func (r *roomChannels) hasChannel(room string) bool {
	return r.private || !looksLikeSocketID(room)
}

// looksLikeSocketID is the Node.js sharded adapter's test for a private room.
func looksLikeSocketID(room string) bool { return len(room) == 20 }

// touch marks rooms whose membership changed.
func (r *roomChannels) touch(rooms ...string) {
	r.mu.Lock()
	for _, room := range rooms {
		if r.hasChannel(room) {
			r.dirty[room] = struct{}{}
		}
	}
	r.touched++
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *roomChannels) run() {
	defer close(r.stopped)
	for {
		select {
		case <-r.wake:
		case <-r.stop:
			return
		}
		r.mu.Lock()
		dirty := r.dirty
		r.dirty = map[string]struct{}{}
		upTo := r.touched
		r.mu.Unlock()
		add := map[string]subscription{}
		var remove []string
		for room := range dirty {
			want := r.a.HasRoom(room)
			if want == r.subscribed[room] {
				continue
			}
			if want {
				add[r.a.roomChannel(room)] = subscription{kind: shardedChannel, sharded: r.a}
				r.subscribed[room] = true
			} else {
				remove = append(remove, r.a.roomChannel(room))
				delete(r.subscribed, room)
			}
		}
		if len(add) > 0 {
			r.a.c.sub.add(add, nil)
		}
		if len(remove) > 0 {
			r.a.c.sub.remove(remove, nil)
		}
		r.mu.Lock()
		r.applied = upTo
		close(r.progress)
		r.progress = make(chan struct{})
		r.mu.Unlock()
	}
}

// settle waits until the subscriptions called for by every touch so far are made, the
// goroutine has stopped, or ctx ends.
func (r *roomChannels) settle(ctx context.Context) error {
	r.mu.Lock()
	target := r.touched
	for r.applied < target {
		progress := r.progress
		r.mu.Unlock()
		select {
		case <-progress:
		case <-r.stopped:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
		r.mu.Lock()
	}
	r.mu.Unlock()
	return nil
}

// close stops the goroutine and returns the channels still subscribed.
func (r *roomChannels) close() []string {
	close(r.stop)
	<-r.stopped
	out := make([]string, 0, len(r.subscribed))
	for room := range r.subscribed {
		out = append(out, r.a.roomChannel(room))
	}
	return out
}

// roomChannel is the channel of a room: <key>#<nsp>#<room>#.
func (a *shardedAdapter) roomChannel(room string) string { return a.channel + room + "#" }

// AddAll puts a local socket in rooms, and in the dynamic modes subscribes to the new rooms.
func (a *shardedAdapter) AddAll(s *socketio.Socket, rooms []string) {
	a.MemoryAdapter.AddAll(s, rooms)
	if a.rooms != nil {
		a.rooms.touch(rooms...)
	}
}

// Del takes a local socket out of room, and in the dynamic modes unsubscribes from it when it
// is left empty.
func (a *shardedAdapter) Del(s *socketio.Socket, room string) {
	a.MemoryAdapter.Del(s, room)
	if a.rooms != nil {
		a.rooms.touch(room)
	}
}

// DelAll takes a local socket out of every room, as Del.
func (a *shardedAdapter) DelAll(s *socketio.Socket) {
	var rooms []string
	if a.rooms != nil {
		rooms = a.MemoryAdapter.SocketRooms(s)
	}
	a.MemoryAdapter.DelAll(s)
	if a.rooms != nil {
		a.rooms.touch(rooms...)
	}
}
