package socketio

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"sync"
)

// MemoryAdapter is the Adapter of a namespace on one server, and the local part of every cluster
// adapter: rooms are sets guarded by one RWMutex, so broadcasts (readers) run in parallel and only
// joins and leaves take the write lock. A broadcast is encoded once and reaches its recipients in
// the order they joined. Its requests by selector act on this server's sockets; it has no other
// server to talk to.
type MemoryAdapter struct {
	nsp   *Namespace
	mu    sync.RWMutex
	all   socketSet              // every socket that has joined a room (its own id room at least)
	rooms map[string]*socketSet  // room → members
	ofs   map[*Socket]*roomNames // socket → rooms
}

// NewMemoryAdapter returns an empty MemoryAdapter for nsp.
func NewMemoryAdapter(nsp *Namespace) *MemoryAdapter {
	return &MemoryAdapter{
		nsp:   nsp,
		rooms: make(map[string]*socketSet),
		ofs:   make(map[*Socket]*roomNames),
	}
}

// AddAll puts s in rooms.
func (a *MemoryAdapter) AddAll(s *Socket, rooms []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.all.add(s)
	mine := a.ofs[s]
	if mine == nil {
		mine = &roomNames{}
		a.ofs[s] = mine
	}
	for _, r := range rooms {
		mine.add(r)
		members := a.rooms[r]
		if members == nil {
			members = &socketSet{}
			a.rooms[r] = members
		}
		members.add(s)
	}
}

// Del takes s out of room.
func (a *MemoryAdapter) Del(s *Socket, room string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if mine := a.ofs[s]; mine != nil {
		mine.remove(room)
	}
	a.leaveLocked(s, room)
}

func (a *MemoryAdapter) leaveLocked(s *Socket, room string) {
	members := a.rooms[room]
	if members == nil {
		return
	}
	members.remove(s)
	if members.len() == 0 {
		delete(a.rooms, room) // rooms vanish with their last member, so they cannot pile up
	}
}

// DelAll takes s out of every room.
func (a *MemoryAdapter) DelAll(s *Socket) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if mine := a.ofs[s]; mine != nil {
		mine.all(func(r string) { a.leaveLocked(s, r) })
	}
	delete(a.ofs, s)
	a.all.remove(s)
}

// SocketRooms returns the rooms s is in.
func (a *MemoryAdapter) SocketRooms(s *Socket) []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	mine := a.ofs[s]
	if mine == nil {
		return []string{}
	}
	out := make([]string, 0, mine.len())
	mine.all(func(r string) { out = append(out, r) })
	return out
}

// Sockets returns the sockets opts selects.
func (a *MemoryAdapter) Sockets(opts BroadcastOptions) []*Socket {
	var out []*Socket
	a.each(opts, func(s *Socket) { out = append(out, s) })
	return out
}

// Rooms returns the names of the rooms that have at least one local socket, socket id rooms
// included.
func (a *MemoryAdapter) Rooms() []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return slices.Collect(maps.Keys(a.rooms))
}

// HasRoom reports whether a room has at least one local socket.
func (a *MemoryAdapter) HasRoom(room string) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.rooms[room] != nil
}

// Broadcast queues p, encoded once, to every local socket opts selects.
func (a *MemoryAdapter) Broadcast(p *Packet, opts BroadcastOptions) {
	frames := encodeFrames(p.wire(-1))
	var watched []*Socket // told after the walk: their listeners may join or leave rooms
	a.each(opts, func(s *Socket) {
		if s.watchOut.Load() {
			watched = append(watched, s)
		}
		s.sendFrames(frames, opts.Volatile)
	})
	for _, s := range watched {
		s.notifyOutgoing(p)
	}
}

// BroadcastWithAck queues p with an ack id of this namespace to every local socket opts selects,
// reports their number to onCount, and passes each answer to onAck until ctx ends.
func (a *MemoryAdapter) BroadcastWithAck(ctx context.Context, p *Packet, opts BroadcastOptions, onCount func(n int), onAck func(args []any, err error)) {
	id := a.nsp.nextAckID()
	frames := encodeFrames(p.wire(id))
	var recipients []*Socket
	a.each(opts, func(s *Socket) {
		// A socket already leaving will never answer: it is not a recipient.
		if s.expectAck(id, onAck) {
			recipients = append(recipients, s)
			s.sendFrames(frames, opts.Volatile)
		}
	})
	onCount(len(recipients))
	if len(recipients) > 0 {
		context.AfterFunc(ctx, func() {
			for _, s := range recipients {
				s.dropAck(id)
			}
		})
	}
}

// ServerCount is 1: a MemoryAdapter knows only its own server.
func (a *MemoryAdapter) ServerCount(context.Context) (int, error) { return 1, nil }

// FetchSockets returns the local sockets opts selects.
func (a *MemoryAdapter) FetchSockets(_ context.Context, opts BroadcastOptions) ([]*RemoteSocket, error) {
	sockets := a.Sockets(opts)
	out := make([]*RemoteSocket, len(sockets))
	for i, s := range sockets {
		out[i] = &RemoteSocket{ID: s.id, Handshake: s.Handshake(), Rooms: a.SocketRooms(s), Data: s.Data(), nsp: a.nsp, local: true}
	}
	return out, nil
}

// AddSockets makes the local sockets opts selects join rooms.
func (a *MemoryAdapter) AddSockets(opts BroadcastOptions, rooms []string) {
	for _, s := range a.Sockets(opts) {
		s.Join(rooms...)
	}
}

// DelSockets makes the local sockets opts selects leave rooms.
func (a *MemoryAdapter) DelSockets(opts BroadcastOptions, rooms []string) {
	for _, s := range a.Sockets(opts) {
		for _, r := range rooms {
			s.Leave(r)
		}
	}
}

// DisconnectSockets disconnects the local sockets opts selects.
func (a *MemoryAdapter) DisconnectSockets(opts BroadcastOptions, closeConn bool) {
	for _, s := range a.Sockets(opts) {
		s.Disconnect(closeConn)
	}
}

// ServerSideEmit does nothing: there is no other server.
func (a *MemoryAdapter) ServerSideEmit(json.RawMessage) error { return nil }

// ServerSideEmitWithAck returns no answers at once: there is no other server.
func (a *MemoryAdapter) ServerSideEmitWithAck(context.Context, json.RawMessage) ([]json.RawMessage, error) {
	return nil, nil
}

// Close does nothing: a MemoryAdapter holds nothing outside the process.
func (a *MemoryAdapter) Close() error { return nil }

// each calls f once for every socket opts selects, under the read lock: f must not join or leave.
func (a *MemoryAdapter) each(opts BroadcastOptions, f func(*Socket)) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	// The excepted rooms' member sets are looked up once per broadcast, not per recipient;
	// rooms that do not exist exclude nobody.
	var except []*socketSet
	for _, r := range opts.Except {
		if members := a.rooms[r]; members != nil && members.len() > 0 {
			except = append(except, members)
		}
	}
	excluded := func(s *Socket) bool {
		for _, members := range except {
			if members.has(s) {
				return true
			}
		}
		return false
	}
	if len(opts.Rooms) == 0 {
		a.all.each(func(s *Socket) {
			if !excluded(s) {
				f(s)
			}
		})
		return
	}
	if len(opts.Rooms) == 1 {
		if members := a.rooms[opts.Rooms[0]]; members != nil {
			members.each(func(s *Socket) {
				if !excluded(s) {
					f(s)
				}
			})
		}
		return
	}
	seen := make(map[*Socket]struct{})
	for _, r := range opts.Rooms {
		members := a.rooms[r]
		if members == nil {
			continue
		}
		members.each(func(s *Socket) {
			if _, dup := seen[s]; dup || excluded(s) {
				return
			}
			seen[s] = struct{}{}
			f(s)
		})
	}
}
