package engineio

import (
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Reasons a session ends, as passed to Handler.OnClose. They are the strings the Node.js server
// uses, so that logs and client-visible behaviour match.
const (
	ReasonTransportClose = "transport close"     // the client closed the connection or sent a close packet
	ReasonTransportError = "transport error"     // a protocol or I/O error on the transport
	ReasonParseError     = "parse error"         // the client sent a packet we cannot decode
	ReasonPingTimeout    = "ping timeout"        // no pong within pingTimeout
	ReasonForcedClose    = "forced close"        // the server closed the session
	ReasonServerShutdown = "forced server close" // the server is shutting down
	ReasonQueueFull      = "send queue full"     // the client did not read fast enough
	ReasonPayloadTooBig  = "payload too large"   // a message over MaxPayload
)

// ErrQueueFull is returned by Send when the session's bounded queue overflowed; the session is
// then closed.
var ErrQueueFull = errors.New("engineio: send queue full")

type transportKind uint8

const (
	transportPolling transportKind = iota
	transportWebSocket
)

type sessionState uint8

const (
	stateOpen    sessionState = iota
	stateClosing              // no more Sends; what is queued is still written, then the session ends
	stateClosed
)

// Session is one Engine.IO connection, whatever its transport. It is safe for concurrent use.
type Session struct {
	srv *Server
	id  string
	req requestRecord // the handshake request, packed

	handler SessionHandler // set once, before the session is shared

	// dispatchMu serializes calls into the Handler, so that a session's messages are handled
	// in order even while a transport upgrade hands them from one goroutine to another.
	dispatchMu sync.Mutex

	mu          sync.Mutex
	transport   transportKind
	state       sessionState
	closeReason string
	queue       []Frame
	spare       []Frame // the previous batch's backing array, reused to avoid reallocating

	// heartbeat
	timer        *time.Timer
	awaitingPong bool
	deadline     time.Time // when the timer's next action is due

	// long-polling
	getPending     bool
	postActive     bool
	wake           chan struct{} // capacity 1: tells the pending GET to look again; nil over WebSocket
	closedByClient bool          // a GET pending at the end receives a noop, not the close packet
	probed         bool          // an upgrade probe succeeded: pending GETs get a noop and nothing else

	// websocket
	upgrading    bool
	probing      *wsConn     // the connection an upgrade is being tried on
	upgradeTimer *time.Timer // gives up on the upgrade after UpgradeTimeout
	ws           *wsConn
	writing      bool   // a writer or the flush goroutine owns the connection's write side
	queued       bool   // on the writers' ready list
	wsPending    []byte // the part of a frame the socket did not take, written first
}

func newSession(srv *Server, id string, r *http.Request, t transportKind) *Session {
	s := &Session{
		srv:       srv,
		id:        id,
		req:       recordRequest(r),
		transport: t,
	}
	if t == transportPolling {
		// Only long-polling GETs wait on it; a session opened over WebSocket never polls, and
		// wakeGet's send to a nil channel takes its default case.
		s.wake = make(chan struct{}, 1)
	}
	return s
}

// ID returns the Engine.IO session id (the "sid" of the handshake).
func (s *Session) ID() string { return s.id }

// Request returns the HTTP request that opened the session: its headers, cookies, URL, remote
// address and TLS state. Its body is empty and its context is not tied to any connection. Each
// call returns a new copy, rebuilt from what the session keeps, which the caller may change.
func (s *Session) Request() *http.Request { return s.req.request() }

// Transport returns "polling" or "websocket": the transport in use now.
func (s *Session) Transport() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.transport == transportWebSocket {
		return "websocket"
	}
	return "polling"
}

// Send queues frames for the client, atomically: they are written together and in order. It
// never blocks on the network. If the queue would exceed Config.MaxQueuedFrames the session is
// closed and ErrQueueFull returned.
func (s *Session) Send(frames ...Frame) error {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return ErrSessionClosed
	}
	if len(s.queue)+len(frames) > s.srv.cfg.MaxQueuedFrames {
		s.mu.Unlock()
		s.fail(ReasonQueueFull)
		return ErrQueueFull
	}
	s.queue = append(s.queue, frames...)
	s.kickLocked()
	s.mu.Unlock()
	return nil
}

// TrySend queues frames only if the client is keeping up (nothing else is waiting to be written
// and no upgrade is under way), and reports whether it did. It serves volatile emits, which may be
// dropped rather than delay or overflow a slow client.
func (s *Session) TrySend(frames ...Frame) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateOpen || len(s.queue) > 0 || s.upgrading || s.writing {
		return false
	}
	if s.transport == transportPolling && !s.getPending {
		return false
	}
	s.queue = append(s.queue, frames...)
	s.kickLocked()
	return true
}

// Close ends the session gracefully: what is queued is still delivered, then the transport is
// closed. reason is what OnClose receives. It does not wait.
func (s *Session) Close(reason string) {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return
	}
	s.state = stateClosing
	s.closeReason = reason
	if s.transport == transportPolling && !s.getPending {
		// Give the client one poll to collect what is queued and the close packet.
		s.resetTimerLocked(s.drainWait())
	}
	s.kickLocked()
	s.mu.Unlock()
}

// drainWait bounds how long a closing polling session waits for the client's next GET.
func (s *Session) drainWait() time.Duration {
	return min(s.srv.cfg.PingTimeout, 5*time.Second)
}

// kickLocked wakes whatever delivers the queue: the pending GET, or the WebSocket writers.
func (s *Session) kickLocked() {
	if s.transport == transportWebSocket && s.ws != nil {
		if !s.writing && !s.queued {
			s.queued = true
			s.srv.writers.add(s)
		}
		return
	}
	s.wakeGet()
}

// wakeGet tells a pending long-polling GET to look at the session again; it never blocks.
func (s *Session) wakeGet() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// fail ends the session at once, dropping what is queued: for errors, where there is no point in
// writing more.
func (s *Session) fail(reason string) {
	s.mu.Lock()
	ws := s.finishLocked(reason)
	s.mu.Unlock()
	if ws != nil {
		ws.close()
	}
}

// cut ends the session at once, whatever its state (used when graceful shutdown runs out of time).
func (s *Session) cut() {
	s.mu.Lock()
	ws := s.ws
	s.finishLocked(ReasonServerShutdown)
	s.mu.Unlock()
	if ws != nil {
		ws.close()
	}
}

// finishLocked moves the session to closed, once: it leaves the table, stops its timer, wakes a
// pending GET and has OnClose called. It returns the WebSocket to close, if any.
func (s *Session) finishLocked(reason string) *wsConn {
	if s.state == stateClosed {
		return nil
	}
	if s.state == stateClosing && s.closeReason != "" {
		reason = s.closeReason
	}
	s.state = stateClosed
	s.closeReason = reason
	if s.timer != nil {
		s.timer.Stop()
	}
	s.queue, s.spare, s.wsPending = nil, nil, nil
	if s.probing != nil {
		go s.probing.close()
		s.probing = nil
	}
	if s.upgradeTimer != nil {
		s.upgradeTimer.Stop()
	}
	s.wakeGet()
	s.srv.forget(s)
	go s.notifyClosed(reason)
	return s.ws
}

// notifyClosed calls OnClose after any OnMessage still running for this session has returned. It
// runs on its own goroutine because the close may have been triggered from inside OnMessage.
func (s *Session) notifyClosed(reason string) {
	s.dispatchMu.Lock()
	s.handler.OnClose(reason)
	s.dispatchMu.Unlock()
	s.srv.wg.Done()
}

// receive handles one packet from the client and reports whether the session is still open.
func (s *Session) receive(p decodedPacket) bool {
	switch p.typ {
	case typeMessage:
		s.deliver(p)
	case typePong:
		s.onPong()
	case typeClose:
		s.closeByClient()
		return false
	case typeNoop, typePing, typeUpgrade:
		// Harmless out of place (a late probe, a stray noop): ignore rather than drop the session.
	default:
		s.fail(ReasonParseError)
		return false
	}
	return s.IsOpen()
}

// deliver hands a message to the handler, holding dispatchMu so that OnClose waits for it.
func (s *Session) deliver(p decodedPacket) {
	s.dispatchMu.Lock()
	defer s.dispatchMu.Unlock()
	if s.IsOpen() {
		s.handler.OnMessage(p.data, p.binary)
	}
}

// IsOpen reports whether the session is open: not closing or closed.
func (s *Session) IsOpen() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == stateOpen
}

// closeByClient ends the session on the client's close packet. A pending GET receives a noop, as
// with the Node.js server; a GET racing the close finds a tombstone that answers the same way.
func (s *Session) closeByClient() {
	s.mu.Lock()
	s.closedByClient = true
	if s.transport == transportPolling && !s.getPending {
		s.srv.tombstone(s.id)
	}
	ws := s.finishLocked(ReasonTransportClose)
	s.mu.Unlock()
	if ws != nil {
		ws.close()
	}
}

// openPacket returns the open packet's bytes: "0" and the handshake JSON.
func (s *Session) openPacket(upgradable bool) []byte {
	cfg := s.srv.cfg
	b := make([]byte, 0, 128)
	b = append(b, typeOpen)
	b = append(b, `{"sid":"`...)
	b = append(b, s.id...)
	if upgradable {
		b = append(b, `","upgrades":["websocket"],"pingInterval":`...)
	} else {
		b = append(b, `","upgrades":[],"pingInterval":`...)
	}
	b = strconv.AppendInt(b, cfg.PingInterval.Milliseconds(), 10)
	b = append(b, `,"pingTimeout":`...)
	b = strconv.AppendInt(b, cfg.PingTimeout.Milliseconds(), 10)
	b = append(b, `,"maxPayload":`...)
	b = strconv.AppendInt(b, int64(cfg.MaxPayload), 10)
	b = append(b, '}')
	return b
}
