package socketio

import (
	"slices"
	"sync"
	"time"

	"github.com/herald-chat/herald/engineio"
)

// client is the Socket.IO side of one Engine.IO session: it decodes packets and routes them to
// the session's sockets, one per namespace joined.
type client struct {
	srv  *Server
	conn *engineio.Session
	dec  decoder // used only from OnMessage, which the engine serializes
	box  mailbox

	mu sync.Mutex
	// sockets, one per namespace joined, is a slice: a connection joins one namespace or a
	// few, and a map cost an idle connection ~250 bytes more. Guarded by mu.
	sockets []*Socket
	// connectTimer closes the connection if no namespace is joined in time; nil once one is,
	// so that an idle connection does not keep it. Guarded by mu.
	connectTimer *time.Timer
}

// socketLocked returns the socket in namespace name, or nil; c.mu must be held.
func (c *client) socketLocked(name string) *Socket {
	for _, s := range c.sockets {
		if s.nsp.name == name {
			return s
		}
	}
	return nil
}

func newClient(srv *Server, conn *engineio.Session) *client {
	c := &client{srv: srv, conn: conn, dec: decoder{maxAttachments: srv.cfg.MaxAttachments}}
	c.box.init(srv.cfg.MaxPendingEvents, srv.log)
	c.box.alive = conn.IsOpen
	srv.clients.Add(1) // done in OnClose's final job
	c.mu.Lock()
	c.connectTimer = time.AfterFunc(srv.cfg.ConnectTimeout, c.onConnectTimeout)
	c.mu.Unlock()
	return c
}

func (c *client) onConnectTimeout() {
	c.mu.Lock()
	joined := len(c.sockets) > 0
	c.mu.Unlock()
	if !joined {
		c.conn.Close(engineio.ReasonForcedClose)
	}
}

// OnMessage decodes one Engine.IO message; an invalid packet closes the connection.
func (c *client) OnMessage(data []byte, binary bool) {
	var p *packet
	var err error
	if binary {
		p, err = c.dec.decodeBinary(data)
	} else {
		p, err = c.dec.decodeText(data)
	}
	if err != nil {
		c.srv.log.Debug("socketio: closing connection on invalid packet", "sid", c.conn.ID(), "err", err)
		c.conn.Close(engineio.ReasonParseError)
		return
	}
	if p != nil {
		c.route(p)
	}
}

func (c *client) route(p *packet) {
	switch p.typ {
	case packetConnect:
		c.connect(p)
		return
	case packetConnectError:
		// Only servers send CONNECT_ERROR.
		c.conn.Close(engineio.ReasonParseError)
		return
	}
	c.mu.Lock()
	s := c.socketLocked(p.nsp)
	c.mu.Unlock()
	if s == nil {
		return // not joined to that namespace: ignored, as the Node.js server does
	}
	switch p.typ {
	case packetDisconnect:
		// The client will answer nothing more in this namespace: release at once a handler
		// waiting in EmitWithAck, which would otherwise hold up the close queued behind it.
		s.mu.Lock()
		s.leaving = true
		s.mu.Unlock()
		s.failAcks()
		c.box.post(func() { s.close(ReasonClientDisconnect) }, false)
	case packetEvent, packetBinaryEvent:
		c.box.post(func() { s.dispatch(p) }, true)
	case packetAck, packetBinaryAck:
		s.resolveAck(p)
	}
}

// connect starts joining a namespace; middleware and handlers run in the mailbox.
func (c *client) connect(p *packet) {
	nsp := c.srv.joinNamespace(p.nsp, p.data)
	if nsp == nil {
		c.sendPacket(&packet{typ: packetConnectError, nsp: p.nsp, id: -1, data: invalidNamespace})
		return
	}
	c.mu.Lock()
	// A CONNECT to a namespace the connection is in is a protocol error, unless the server has
	// just disconnected that socket: the client may rejoin before the close has run.
	old := c.socketLocked(p.nsp)
	if old != nil && !old.isLeaving() {
		c.mu.Unlock()
		c.srv.joined(nsp)
		c.conn.Close(engineio.ReasonParseError) // a second CONNECT to a joined namespace
		return
	}
	s := newSocket(nsp, c, p.data)
	if old != nil {
		c.sockets = slices.DeleteFunc(c.sockets, func(x *Socket) bool { return x == old })
	}
	c.sockets = append(c.sockets, s)
	c.mu.Unlock()
	if !c.box.post(func() { nsp.admit(s) }, true) {
		c.srv.joined(nsp) // the connection is gone: admit will not run
	}
}

var invalidNamespace = []byte(`{"message":"Invalid namespace"}`)

// forget drops a socket that left its namespace.
func (c *client) forget(s *Socket) {
	c.mu.Lock()
	c.sockets = slices.DeleteFunc(c.sockets, func(x *Socket) bool { return x == s })
	c.mu.Unlock()
}

// joined marks the connection as having a namespace, which disarms the connect timeout.
func (c *client) joined() {
	c.mu.Lock()
	c.stopConnectTimerLocked()
	c.mu.Unlock()
}

func (c *client) stopConnectTimerLocked() {
	if c.connectTimer != nil {
		c.connectTimer.Stop()
		c.connectTimer = nil
	}
}

// OnClose ends every socket of the connection, after the events already received.
func (c *client) OnClose(reason string) {
	c.mu.Lock()
	c.stopConnectTimerLocked()
	c.mu.Unlock()
	// No ack can come any more: release at once a handler waiting in EmitWithAck, which would
	// otherwise hold up the mailbox, and with it the close queued behind it, forever.
	for _, s := range c.joinedSockets() {
		s.failAcks()
	}
	c.box.postFinal(func() {
		defer c.srv.clients.Done()
		for _, s := range c.joinedSockets() {
			s.close(reason)
		}
	})
}

// joinedSockets returns the connection's sockets, one per namespace, as they are now.
func (c *client) joinedSockets() []*Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sockets)
}

// sendPacket encodes and queues one packet for this connection.
func (c *client) sendPacket(p *packet) error {
	return c.conn.Send(encodeFrames(p)...)
}

// encodeFrames turns a packet into its Engine.IO frames: the text part, then each attachment.
func encodeFrames(p *packet) []engineio.Frame {
	frames := make([]engineio.Frame, 1+len(p.attachments))
	frames[0] = engineio.TextMessage(p.encode())
	for i, a := range p.attachments {
		frames[i+1] = engineio.BinaryMessage(a)
	}
	return frames
}
