package socketio

import (
	"sync"

	"github.com/herald-chat/herald/engineio"
)

// MemoryAdapter is the in-process Adapter: rooms are sets guarded by one RWMutex, so broadcasts
// (readers) run in parallel and only joins and leaves take the write lock. A broadcast reaches
// its recipients in the order they joined.
type MemoryAdapter struct {
	mu    sync.RWMutex
	all   socketSet                       // every socket that has joined a room (its own id room at least)
	rooms map[string]*socketSet           // room → members
	ofs   map[*Socket]map[string]struct{} // socket → rooms
}

// NewMemoryAdapter returns an empty MemoryAdapter.
func NewMemoryAdapter() *MemoryAdapter {
	return &MemoryAdapter{
		rooms: make(map[string]*socketSet),
		ofs:   make(map[*Socket]map[string]struct{}),
	}
}

// AddAll puts s in rooms.
func (a *MemoryAdapter) AddAll(s *Socket, rooms []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.all.add(s)
	mine := a.ofs[s]
	if mine == nil {
		mine = make(map[string]struct{}, len(rooms))
		a.ofs[s] = mine
	}
	for _, r := range rooms {
		mine[r] = struct{}{}
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
	delete(a.ofs[s], room)
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
	for r := range a.ofs[s] {
		a.leaveLocked(s, r)
	}
	delete(a.ofs, s)
	a.all.remove(s)
}

// SocketRooms returns the rooms s is in.
func (a *MemoryAdapter) SocketRooms(s *Socket) []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]string, 0, len(a.ofs[s]))
	for r := range a.ofs[s] {
		out = append(out, r)
	}
	return out
}

// Sockets returns the sockets opts selects.
func (a *MemoryAdapter) Sockets(opts BroadcastOptions) []*Socket {
	var out []*Socket
	a.each(opts, func(s *Socket) { out = append(out, s) })
	return out
}

// Broadcast queues frames to every socket opts selects.
func (a *MemoryAdapter) Broadcast(frames []engineio.Frame, opts BroadcastOptions, before func(*Socket)) int {
	n := 0
	a.each(opts, func(s *Socket) {
		if before != nil {
			before(s)
		}
		s.sendFrames(frames, opts.Volatile)
		n++
	})
	return n
}

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
