package socketio

import "github.com/herald-chat/herald/engineio"

// Adapter keeps a namespace's rooms and delivers its broadcasts. Every broadcast goes through it,
// so an adapter that also forwards to other nodes (e.g. over Redis) spreads a namespace over
// several servers. Implementations must be safe for concurrent use.
type Adapter interface {
	// AddAll puts a socket in rooms.
	AddAll(s *Socket, rooms []string)
	// Del takes a socket out of a room.
	Del(s *Socket, room string)
	// DelAll takes a socket out of every room.
	DelAll(s *Socket)
	// SocketRooms returns the rooms a socket is in.
	SocketRooms(s *Socket) []string
	// Sockets returns the local sockets a broadcast with opts would reach.
	Sockets(opts BroadcastOptions) []*Socket
	// Broadcast queues frames, encoded once, to every socket opts selects; each recipient is
	// first passed to before, when it is not nil (a broadcast with acks registers there). It
	// returns the number of local recipients.
	Broadcast(frames []engineio.Frame, opts BroadcastOptions, before func(*Socket)) int
}

// BroadcastOptions selects the recipients of a broadcast.
type BroadcastOptions struct {
	// Rooms limits the broadcast to sockets in at least one of these rooms; empty means every
	// socket of the namespace.
	Rooms []string
	// Except leaves out the sockets in any of these rooms.
	Except []string
	// Volatile lets a recipient that is not keeping up miss the packet.
	Volatile bool
}
