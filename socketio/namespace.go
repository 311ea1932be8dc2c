package socketio

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
)

// Namespace is a channel of communication multiplexed over the connections: "/" by default, or
// one made with Server.Of. It is safe for concurrent use.
type Namespace struct {
	name    string
	srv     *Server
	adapter Adapter
	ackSeq  atomic.Int64 // ack ids are unique per namespace, so one broadcast can carry one id
	count   atomic.Int64

	serverSide serverSideHandlers
	parent     *ParentNamespace // the namespace that made this one, or nil
	joining    int              // clients between CONNECT and the end of admit; guarded by srv.mu

	mu         sync.RWMutex
	middleware []func(*Socket) error
	onConnect  []func(*Socket)
	onAnyEvent map[string][]func(*Event) // handlers for every socket, registered on the namespace
	sockets    map[string]*Socket
}

func newNamespace(srv *Server, name string) *Namespace {
	n := &Namespace{name: name, srv: srv, sockets: make(map[string]*Socket)}
	n.serverSide.box.init(srv.cfg.MaxPendingEvents, srv.log)
	n.adapter = srv.cfg.AdapterFactory(n)
	return n
}

// Name returns the namespace's name, e.g. "/" or "/chat".
func (n *Namespace) Name() string { return n.name }

// Adapter returns the namespace's adapter.
func (n *Namespace) Adapter() Adapter { return n.adapter }

// Use adds a middleware. Middlewares run in order for every connecting socket, before the
// connection handlers; the first error refuses the connection: the client's connect_error
// receives it (see ConnectError for sending data along). Socket.Request gives the HTTP
// handshake: headers, cookies, query.
func (n *Namespace) Use(mw func(s *Socket) error) {
	n.mu.Lock()
	n.middleware = append(n.middleware, mw)
	n.mu.Unlock()
}

// OnConnection registers a function called for every socket that joins the namespace.
func (n *Namespace) OnConnection(f func(s *Socket)) {
	n.mu.Lock()
	n.onConnect = append(n.onConnect, f)
	n.mu.Unlock()
}

// On registers an event handler for every socket of the namespace (several may be registered for
// one event; they run in turn); handlers registered on the socket itself take precedence.
func (n *Namespace) On(event string, h func(*Event)) {
	n.mu.Lock()
	if n.onAnyEvent == nil {
		n.onAnyEvent = make(map[string][]func(*Event))
	}
	n.onAnyEvent[event] = append(n.onAnyEvent[event], h)
	n.mu.Unlock()
}

func (n *Namespace) fallbackHandlers(event string) []func(*Event) {
	n.mu.RLock()
	own := n.onAnyEvent[event]
	n.mu.RUnlock()
	if n.parent != nil {
		return append(slices.Clip(n.parent.eventHandlers(event)), own...)
	}
	return own
}

// Emit sends an event to every socket of the namespace (io.emit in Node.js).
func (n *Namespace) Emit(event string, args ...any) error { return n.broadcast().Emit(event, args...) }

// EmitWithAck sends an event to every socket and collects their acks; see
// BroadcastOperator.EmitWithAck.
func (n *Namespace) EmitWithAck(ctx context.Context, event string, args ...any) ([][]any, error) {
	return n.broadcast().EmitWithAck(ctx, event, args...)
}

// To returns a broadcast to the sockets in any of rooms.
func (n *Namespace) To(rooms ...string) *BroadcastOperator { return n.broadcast().To(rooms...) }

// In is the same as To.
func (n *Namespace) In(rooms ...string) *BroadcastOperator { return n.To(rooms...) }

// Except returns a broadcast to every socket but those in rooms.
func (n *Namespace) Except(rooms ...string) *BroadcastOperator {
	return n.broadcast().Except(rooms...)
}

// Volatile returns a broadcast whose recipients may miss the event if they are not keeping up.
func (n *Namespace) Volatile() *BroadcastOperator { return n.broadcast().Volatile() }

// Local returns a broadcast to the sockets of this server only; see BroadcastOperator.Local.
func (n *Namespace) Local() *BroadcastOperator { return n.broadcast().Local() }

// DisconnectSockets disconnects every socket of the namespace, on every server.
func (n *Namespace) DisconnectSockets(closeConn bool) { n.broadcast().DisconnectSockets(closeConn) }

// SocketsJoin makes every socket of the namespace, on every server, join rooms.
func (n *Namespace) SocketsJoin(rooms ...string) { n.broadcast().SocketsJoin(rooms...) }

// SocketsLeave makes every socket of the namespace, on every server, leave rooms.
func (n *Namespace) SocketsLeave(rooms ...string) { n.broadcast().SocketsLeave(rooms...) }

// FetchSockets returns every socket of the namespace, on every server; see
// BroadcastOperator.FetchSockets.
func (n *Namespace) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return n.broadcast().FetchSockets(ctx)
}

// ServerCount returns the number of servers of the namespace's cluster, this one included.
func (n *Namespace) ServerCount(ctx context.Context) (int, error) {
	return n.adapter.ServerCount(ctx)
}

// Sockets returns the namespace's connected sockets on this server.
func (n *Namespace) Sockets() []*Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return slices.Collect(maps.Values(n.sockets))
}

// Socket returns the connected socket with the given id, or nil.
func (n *Namespace) Socket(id string) *Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.sockets[id]
}

// Count returns the number of connected sockets.
func (n *Namespace) Count() int { return int(n.count.Load()) }

func (n *Namespace) broadcast() *BroadcastOperator { return &BroadcastOperator{nsp: n} }

func (n *Namespace) nextAckID() int64 { return n.ackSeq.Add(1) - 1 }

// admit runs the middleware for a connecting socket and, if they all agree, connects it. It runs
// in the connection's mailbox.
func (n *Namespace) admit(s *Socket) {
	defer n.srv.joined(n)
	n.mu.RLock()
	mws := n.middleware
	n.mu.RUnlock()
	if n.parent != nil {
		parentMWs, _ := n.parent.hooks()
		mws = append(slices.Clip(parentMWs), mws...)
	}
	for _, mw := range mws {
		if err := n.runMiddleware(mw, s); err != nil {
			n.refuse(s, err)
			return
		}
	}
	if !s.client.conn.IsOpen() {
		s.abandon()
		return
	}
	s.mu.Lock()
	s.connected = true
	s.mu.Unlock()
	n.mu.Lock()
	n.sockets[s.id] = s
	handlers := n.onConnect
	n.mu.Unlock()
	if n.parent != nil {
		_, parentConnects := n.parent.hooks()
		handlers = append(slices.Clip(parentConnects), handlers...)
	}
	n.count.Add(1)
	n.adapter.AddAll(s, []string{s.id})
	s.client.joined()
	_ = s.client.sendPacket(&packet{typ: packetConnect, nsp: n.name, id: -1, data: connectReply(s.id)})
	for _, f := range handlers {
		f(s)
	}
}

// runMiddleware calls mw. A panic refuses the connection, so that the client gets an answer (and
// may retry) instead of staying half-joined, and is then passed on for the mailbox to log.
func (n *Namespace) runMiddleware(mw func(*Socket) error, s *Socket) error {
	defer func() {
		if v := recover(); v != nil {
			n.refuse(s, errors.New("server error"))
			panic(v)
		}
	}()
	return mw(s)
}

// refuse answers a connection a middleware turned down.
func (n *Namespace) refuse(s *Socket, err error) {
	s.abandon()
	var ce *ConnectError
	if !errors.As(err, &ce) {
		ce = &ConnectError{Message: err.Error()}
	}
	payload := map[string]any{"message": ce.Message}
	if ce.Data != nil {
		payload["data"] = ce.Data
	}
	data, _, encErr := encodeEventData("", []any{payload})
	if encErr != nil {
		data = []byte(`[{"message":"unauthorized"}]`)
	}
	_ = s.client.sendPacket(&packet{typ: packetConnectError, nsp: n.name, id: -1, data: data[1 : len(data)-1]})
}

func connectReply(id string) []byte {
	b := make([]byte, 0, len(id)+10)
	b = append(b, `{"sid":"`...)
	b = append(b, id...)
	return append(b, `"}`...)
}

// remove takes a closing socket out of the namespace.
func (n *Namespace) remove(s *Socket) {
	n.adapter.DelAll(s)
	n.mu.Lock()
	if n.sockets[s.id] == s {
		delete(n.sockets, s.id)
		n.count.Add(-1)
	}
	n.mu.Unlock()
	n.srv.cleanup(n)
}
