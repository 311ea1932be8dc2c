package socketio

import (
	"context"
	"encoding/json"
)

// Adapter keeps a namespace's rooms and carries everything that acts on several sockets at once:
// broadcasts, broadcasts that collect acks, joins, leaves and disconnections by selector, socket
// listings, and messages between servers. The in-memory adapter (MemoryAdapter) does all of it on
// one server; a cluster adapter (package redisadapter) does it on every server of a cluster, and
// embeds a MemoryAdapter for the part that is local. Implementations must be safe for concurrent
// use.
//
// Local delivery never waits on other servers: Broadcast, AddSockets, DelSockets,
// DisconnectSockets and ServerSideEmit act on this server at once and forward to the others
// without blocking. The calls that wait for other servers take a context and return an error.
type Adapter interface {
	// AddAll puts a local socket in rooms.
	AddAll(s *Socket, rooms []string)
	// Del takes a local socket out of a room.
	Del(s *Socket, room string)
	// DelAll takes a local socket out of every room.
	DelAll(s *Socket)
	// SocketRooms returns the rooms a local socket is in.
	SocketRooms(s *Socket) []string
	// Sockets returns the local sockets opts selects.
	Sockets(opts BroadcastOptions) []*Socket

	// Broadcast delivers an event to every socket opts selects, encoded once for all of them.
	Broadcast(p *Packet, opts BroadcastOptions)
	// BroadcastWithAck delivers an event that asks for acks. Each server that delivers it calls
	// onCount once with how many clients it reached; each client's answer comes to onAck, and a
	// local client that leaves before answering comes to onAck with an error. The callbacks may
	// run on any goroutine, until ctx ends: then the pending acks are forgotten.
	BroadcastWithAck(ctx context.Context, p *Packet, opts BroadcastOptions, onCount func(n int), onAck func(args []any, err error))
	// ServerCount returns the number of servers of the namespace, this one included.
	ServerCount(ctx context.Context) (int, error)

	// FetchSockets returns the sockets opts selects, on every server (only this one with
	// opts.Local). It fails, rather than return a partial list, if a server does not answer
	// before ctx ends or the adapter's own timeout.
	FetchSockets(ctx context.Context, opts BroadcastOptions) ([]*RemoteSocket, error)
	// AddSockets makes the sockets opts selects join rooms.
	AddSockets(opts BroadcastOptions, rooms []string)
	// DelSockets makes the sockets opts selects leave rooms.
	DelSockets(opts BroadcastOptions, rooms []string)
	// DisconnectSockets disconnects the sockets opts selects, and with closeConn closes their
	// connections too.
	DisconnectSockets(opts BroadcastOptions, closeConn bool)

	// ServerSideEmit sends data, the JSON array [event, args...], to the other servers' handlers
	// (Namespace.OnServerSideEmit); it is not delivered on this server.
	ServerSideEmit(data json.RawMessage) error
	// ServerSideEmitWithAck is ServerSideEmit with one answer expected from every other server.
	// It returns the answers in the order they came; if some server does not answer before ctx
	// ends or the adapter's timeout, it returns those that came with an error.
	ServerSideEmitWithAck(ctx context.Context, data json.RawMessage) ([]json.RawMessage, error)

	// Close releases what the adapter holds (subscriptions, pending requests). The server closes
	// its namespaces' adapters when it closes.
	Close() error
}

// BroadcastOptions selects the recipients of a broadcast or of a request by selector, and says how
// to deliver.
type BroadcastOptions struct {
	// Rooms limits the selection to sockets in at least one of these rooms; empty means every
	// socket of the namespace.
	Rooms []string
	// Except leaves out the sockets in any of these rooms.
	Except []string
	// Volatile lets a recipient that is not keeping up miss the packet.
	Volatile bool
	// Local limits the selection to the sockets of this server.
	Local bool
}
