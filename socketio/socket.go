package socketio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-chat/herald/engineio"
)

// Socket is one client's membership of one namespace: the object a connection handler receives.
// It is safe for concurrent use. Its event handlers run one at a time, in the order the client
// sent the events.
type Socket struct {
	id     string
	nsp    *Namespace
	client *client
	// auth and created are the parts of the Handshake that are the socket's own; the rest is
	// the connection's request, which the session keeps packed (see Handshake).
	auth    json.RawMessage
	created time.Time

	mu           sync.Mutex
	connected    bool
	leaving      bool             // Disconnect has told the client: it may join the namespace again at once
	ended        bool             // left its namespace, or refused: it joins no room any more
	handlers     []eventListeners // by event name; a slice: a socket listens to a few events
	onDisconnect []func(reason string)
	acks         map[int64]func(args []any, err error) // waiting for the client's answer
	data         any
	ext          *socketExtras // what few sockets use, allocated on first use

	watchOut atomic.Bool // there are outgoing listeners: broadcasts must tell them
}

func newSocket(nsp *Namespace, c *client, auth json.RawMessage) *Socket {
	if len(auth) == 0 {
		auth = json.RawMessage("{}")
	}
	return &Socket{
		id:      randomSocketID(),
		nsp:     nsp,
		client:  c,
		auth:    auth,
		created: time.Now(),
	}
}

// randomSocketID returns a fresh unguessable socket id; it is distinct from the Engine.IO
// session id, which must stay private to the connection.
func randomSocketID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ID returns the socket's id: also the name of the room only this socket is in.
func (s *Socket) ID() string { return s.id }

// Namespace returns the namespace the socket belongs to.
func (s *Socket) Namespace() *Namespace { return s.nsp }

// Handshake returns the details of the connection as the client opened it. It is built anew on
// each call (an idle socket keeps only what it cannot rebuild), so the caller may change it.
func (s *Socket) Handshake() Handshake {
	r := s.client.conn.Request()
	h := newHandshake(r, s.auth, s.created)
	h.Headers = withHost(h.Headers, r.Host)
	return h
}

// Request returns the HTTP request that opened the underlying connection (headers, cookies,
// URL, remote address), for authentication in middleware.
func (s *Socket) Request() *http.Request { return s.client.conn.Request() }

// Transport returns the transport in use now: "polling" or "websocket".
func (s *Socket) Transport() string { return s.client.conn.Transport() }

// Connected reports whether the socket is still in its namespace.
func (s *Socket) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connected
}

// SetData attaches an application value to the socket (e.g. the signed-in user).
func (s *Socket) SetData(v any) {
	s.mu.Lock()
	s.data = v
	s.mu.Unlock()
}

// Data returns the value set with SetData, or nil.
func (s *Socket) Data() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data
}

// OnDisconnect registers a function called once when the socket leaves its namespace, with the
// reason (one of the Reason* constants).
func (s *Socket) OnDisconnect(f func(reason string)) {
	s.mu.Lock()
	s.onDisconnect = append(s.onDisconnect, f)
	s.mu.Unlock()
}

// Emit sends an event to this client. Arguments are encoded as JSON; []byte values (also inside
// []any and map[string]any) travel as binary attachments.
func (s *Socket) Emit(event string, args ...any) error {
	p, err := NewPacket(s.nsp.name, event, args)
	if err != nil {
		return err
	}
	s.notifyOutgoing(p)
	return s.send(p.wire(-1))
}

// EmitWithAck sends an event and waits for the client to call its acknowledgement callback,
// returning the arguments it passed. It returns ctx's error if ctx ends first (use
// context.WithTimeout), and ErrDisconnected if the socket goes away. It may be called from the
// socket's own handlers.
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) ([]any, error) {
	p, err := eventPacket(s.nsp.name, event, args)
	if err != nil {
		return nil, err
	}
	type result struct {
		args []any
		err  error
	}
	done := make(chan result, 1)
	p.id = s.nsp.nextAckID()
	if !s.expectAck(p.id, func(args []any, err error) { done <- result{args, err} }) {
		return nil, ErrDisconnected
	}
	if err := s.send(p); err != nil {
		s.dropAck(p.id)
		return nil, err
	}
	select {
	case r := <-done:
		return r.args, r.err
	case <-ctx.Done():
		s.dropAck(p.id)
		return nil, ctx.Err()
	}
}

// Join adds the socket to rooms.
//
// A socket that has left its namespace (or was refused) joins nothing: it would otherwise stay in
// the adapter for good, as when a goroutine joins a room after the client has gone.
func (s *Socket) Join(rooms ...string) {
	if s.hasEnded() {
		return
	}
	s.nsp.adapter.AddAll(s, rooms)
	// The socket may have ended meanwhile, its rooms already cleared: then clear them again. (The
	// adapter is not called under s.mu, which an adapter may well take through the Socket.)
	if s.hasEnded() {
		s.nsp.adapter.DelAll(s)
	}
}

func (s *Socket) hasEnded() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ended
}

// Leave removes the socket from a room.
func (s *Socket) Leave(room string) { s.nsp.adapter.Del(s, room) }

// Rooms returns the rooms the socket is in, its own id room included.
func (s *Socket) Rooms() []string { return s.nsp.adapter.SocketRooms(s) }

// To returns a broadcast to the given rooms that leaves this socket out.
func (s *Socket) To(rooms ...string) *BroadcastOperator {
	return s.Broadcast().To(rooms...)
}

// Broadcast returns a broadcast to every socket of the namespace but this one.
func (s *Socket) Broadcast() *BroadcastOperator {
	return s.nsp.broadcast().Except(s.id)
}

// Volatile returns an emitter whose events may be dropped if the client is not ready to
// receive them (behind on its queue, or mid-upgrade), instead of being queued.
func (s *Socket) Volatile() *VolatileEmitter { return &VolatileEmitter{s: s} }

// VolatileEmitter sends events that may be dropped; see Socket.Volatile.
type VolatileEmitter struct{ s *Socket }

// Emit sends the event if the client is keeping up, and reports whether it was queued.
func (v *VolatileEmitter) Emit(event string, args ...any) (bool, error) {
	p, err := eventPacket(v.s.nsp.name, event, args)
	if err != nil {
		return false, err
	}
	if !v.s.Connected() {
		return false, nil
	}
	return v.s.client.conn.TrySend(encodeFrames(p)...), nil
}

// Disconnect removes the socket from its namespace and tells the client, whose disconnect
// reason is then "io server disconnect" (it does not reconnect by itself). With closeConn the
// underlying connection is closed too, which ends the client's other namespaces.
func (s *Socket) Disconnect(closeConn bool) {
	if !s.Connected() {
		if closeConn {
			s.client.conn.Close(ReasonForcedClose)
		}
		return
	}
	s.mu.Lock()
	s.leaving = true
	s.mu.Unlock()
	_ = s.send(&packet{typ: packetDisconnect, nsp: s.nsp.name, id: -1})
	s.client.box.post(func() { s.close(ReasonServerDisconnect) }, false)
	if closeConn {
		s.client.conn.Close(ReasonForcedClose)
	}
}

// isLeaving reports whether Disconnect has told the client the socket is gone.
func (s *Socket) isLeaving() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leaving
}

// send queues a packet for this socket's client.
func (s *Socket) send(p *packet) error {
	if !s.Connected() {
		return ErrDisconnected
	}
	return s.client.sendPacket(p)
}

// sendFrames queues pre-encoded frames (a broadcast's), or offers them if volatile.
func (s *Socket) sendFrames(frames []engineio.Frame, volatile bool) {
	if volatile {
		s.client.conn.TrySend(frames...)
		return
	}
	_ = s.client.conn.Send(frames...)
}

// dispatch runs the handler of a received event, in the mailbox.
func (s *Socket) dispatch(p *packet) {
	s.mu.Lock()
	connected := s.connected
	s.mu.Unlock()
	if !connected {
		return
	}
	ev, err := newEvent(s, p)
	if err != nil {
		s.client.conn.Close(ReasonParseError)
		return
	}
	s.mu.Lock()
	var middleware []func(*Event) error
	var anys []func(*Event)
	if s.ext != nil {
		middleware = s.ext.middleware
	}
	s.mu.Unlock()
	for _, mw := range middleware {
		if err := mw(ev); err != nil {
			s.refuseEvent(err)
			return
		}
	}
	s.mu.Lock()
	if s.ext != nil {
		anys = s.ext.anyIn.take()
	}
	var handlers []func(*Event)
	if l := s.listenersLocked(ev.Name); l != nil {
		handlers = l.take()
	}
	s.mu.Unlock()
	for _, f := range anys {
		f(ev)
	}
	if len(handlers) == 0 {
		handlers = s.nsp.fallbackHandlers(ev.Name)
	}
	for _, h := range handlers {
		h(ev)
	}
}

// expectAck registers the callback for an ack id, unless the socket is gone.
func (s *Socket) expectAck(id int64, f func([]any, error)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.connected || s.leaving {
		return false
	}
	if s.acks == nil {
		s.acks = make(map[int64]func([]any, error))
	}
	s.acks[id] = f
	return true
}

// failAcks answers every ack still awaited with ErrDisconnected.
func (s *Socket) failAcks() {
	s.mu.Lock()
	acks := s.acks
	s.acks = nil
	s.mu.Unlock()
	for _, f := range acks {
		f(nil, ErrDisconnected)
	}
}

func (s *Socket) dropAck(id int64) {
	s.mu.Lock()
	delete(s.acks, id)
	s.mu.Unlock()
}

// resolveAck delivers the client's answer to the emit waiting for it. It runs on the reader,
// not in the mailbox, so that a handler waiting in EmitWithAck is answered.
func (s *Socket) resolveAck(p *packet) {
	s.mu.Lock()
	f := s.acks[p.id]
	delete(s.acks, p.id)
	s.mu.Unlock()
	if f == nil {
		return // unknown or already timed out
	}
	args, err := decodeArgs(p.data, p.attachments)
	if err != nil {
		f(nil, err)
		s.client.conn.Close(ReasonParseError)
		return
	}
	f(args, nil)
}

// close takes the socket out of its namespace, once, and runs its disconnect handlers. It runs in
// the mailbox.
func (s *Socket) close(reason string) {
	s.mu.Lock()
	s.ended = true
	if !s.connected {
		s.endContextLocked()
		s.mu.Unlock()
		s.client.forget(s)
		return
	}
	s.connected = false
	acks := s.acks
	s.acks = nil
	var disconnecting []func(string)
	if s.ext != nil {
		disconnecting = s.ext.onDisconnecting
		s.ext.onDisconnecting = nil
	}
	handlers := s.onDisconnect
	s.onDisconnect = nil
	s.endContextLocked()
	s.mu.Unlock()

	for _, f := range acks {
		f(nil, ErrDisconnected)
	}
	if reason == "forced server close" {
		reason = ReasonServerShutdown
	}
	// Still in its rooms: the disconnecting handlers can tell them who left.
	for _, f := range disconnecting {
		s.client.box.safely(func() { f(reason) })
	}
	s.nsp.remove(s)
	s.client.forget(s)
	for _, f := range handlers {
		// Each handler on its own: a panic in one must not skip the others, nor the close of
		// the connection's other sockets, which runs in the same job.
		s.client.box.safely(func() { f(reason) })
	}
}

// abandon drops a socket that never joined its namespace (refused, or its connection gone),
// with any room a middleware had it join.
func (s *Socket) abandon() {
	s.mu.Lock()
	s.ended = true
	s.endContextLocked()
	s.mu.Unlock()
	s.nsp.adapter.DelAll(s)
	s.client.forget(s)
}

// Handshake describes how a connection was opened.
type Handshake struct {
	// Headers are the HTTP headers of the request that opened the connection, Host among them
	// (net/http keeps it apart, in Request.Host; Node.js servers and the other servers of a
	// cluster expect it here).
	Headers http.Header
	// Query holds the URL query parameters of that request.
	Query map[string][]string
	// Auth is the payload the client passed to io({auth}), "{}" when none.
	Auth json.RawMessage
	// Address is the client's IP address, without the port, as Node.js gives it.
	Address string
	// Time is when the socket was created.
	Time time.Time
	// Secure reports whether the connection came over TLS.
	Secure bool
	// URL is the request URI.
	URL string
}

func newHandshake(r *http.Request, auth json.RawMessage, created time.Time) Handshake {
	return Handshake{
		Headers: r.Header, // Host is added by Socket.Handshake, so that no socket keeps a copy
		Query:   r.URL.Query(),
		Auth:    auth,
		Address: remoteIP(r.RemoteAddr),
		Time:    created,
		Secure:  r.TLS != nil,
		URL:     r.RequestURI,
	}
}

// remoteIP is the address part of a request's RemoteAddr ("ip:port", "[ipv6]:port"), or all of
// it when it has no port.
func remoteIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// withHost returns a copy of headers with Host set to host, unless it is empty or there already.
func withHost(headers http.Header, host string) http.Header {
	h := headers.Clone()
	if h == nil {
		h = http.Header{}
	}
	if host != "" && h.Get("Host") == "" {
		h.Set("Host", host)
	}
	return h
}
