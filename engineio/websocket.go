package engineio

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// isWebSocketRequest reports whether r asks to upgrade to WebSocket.
func isWebSocketRequest(r *http.Request) bool {
	return headerHasToken(r.Header, "Connection", "upgrade") &&
		strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}

// acceptWebSocket completes a WebSocket handshake and returns the connection, ready to start. The
// Origin was already checked by the Server, with its own configurable policy.
func (srv *Server) acceptWebSocket(w http.ResponseWriter, r *http.Request) (*wsConn, []byte, error) {
	nc, early, err := hijackWebSocket(w, r)
	if err != nil {
		return nil, nil, err
	}
	return newWSConn(nc, srv.cfg.MaxPayload, srv.netPoller()), early, nil
}

// attachWebSocket makes c the session's transport and starts reading from it. A session opened
// directly over WebSocket first sends its open packet.
func (s *Session) attachWebSocket(c *wsConn, fresh bool, early []byte) {
	c.owner = s
	s.mu.Lock()
	if fresh {
		// The open packet goes ahead of anything Open queued.
		s.queue = append([]Frame{{Data: s.openPacket(false)}}, s.queue...)
	}
	s.transport = transportWebSocket
	s.ws = c
	if s.state == stateClosed {
		s.mu.Unlock()
		c.close()
		return
	}
	s.kickLocked()
	s.mu.Unlock()
	c.start(early)
}

// onWSMessage receives a complete WebSocket message: a packet for the session, or part of an
// upgrade handshake on a connection still being probed.
func (s *Session) onWSMessage(c *wsConn, op byte, data []byte) bool {
	s.mu.Lock()
	active := s.ws == c
	s.mu.Unlock()
	if !active {
		return s.onProbeMessage(c, op, data)
	}
	p := decodedPacket{typ: typeMessage, data: data, binary: true}
	if op == opText {
		var err error
		if p, err = decodeTextPacket(data); err != nil {
			s.fail(ReasonParseError)
			return false
		}
	}
	return s.receive(p)
}

// onWSPing answers a client's WebSocket ping. On the session's transport the pong joins the
// queue like any frame: written directly it could land inside a frame partly written, and its
// write deadline would cut short that of a blocked write in progress. A connection still being
// probed carries nothing else and answers at once. Pongs count against MaxQueuedFrames, so a
// client pinging without reading cannot grow the queue without bound.
func (s *Session) onWSPing(c *wsConn, payload []byte) {
	w := &wsCache{frame: serverFrame(opPong, payload)}
	w.once.Do(func() {})
	s.mu.Lock()
	if s.ws != c {
		s.mu.Unlock()
		c.control(w.frame)
		return
	}
	if len(s.queue) >= s.srv.cfg.MaxQueuedFrames {
		s.mu.Unlock()
		s.fail(ReasonQueueFull)
		return
	}
	if s.state != stateClosed {
		s.queue = append(s.queue, Frame{ws: w})
		s.kickLocked()
	}
	s.mu.Unlock()
}

// onWSGone ends the session whose transport failed or was closed by the client.
func (s *Session) onWSGone(c *wsConn, err error) {
	s.mu.Lock()
	active := s.ws == c
	s.mu.Unlock()
	if !active {
		s.abortUpgrade(c)
		return
	}
	reason := ReasonTransportError
	switch {
	case errors.Is(err, errClientClosed), errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		reason = ReasonTransportClose
	case errors.Is(err, errTooBig):
		reason = ReasonPayloadTooBig
	}
	s.fail(reason)
}

// flushWebSocket writes, blocking, what a slow client did not take at once, until the queue is
// empty; then the session goes back to the writers. Writes are bounded by WriteTimeout, so a
// client that stops reading loses its session instead of holding anyone up.
func (s *Session) flushWebSocket(c *wsConn) {
	for {
		s.mu.Lock()
		if s.state == stateClosed || s.ws != c {
			s.writing = false
			s.mu.Unlock()
			return
		}
		pending := s.wsPending
		s.wsPending = nil
		batch := s.takeQueueLocked()
		if pending == nil && len(batch) == 0 {
			s.writing = false
			closing := s.state == stateClosing
			if closing {
				s.finishLocked("")
			}
			s.mu.Unlock()
			if closing {
				c.closeGracefully(s.srv.cfg.WriteTimeout)
			}
			return
		}
		s.mu.Unlock()

		frames := make([][]byte, 0, len(batch))
		for _, f := range batch {
			frames = append(frames, f.wsFrame())
		}
		if err := c.writeAll(pending, frames, s.srv.cfg.WriteTimeout); err != nil {
			s.fail(ReasonTransportError)
			return
		}
		s.recycle(batch)
	}
}

// serveUpgrade moves a long-polling session to WebSocket: the client probes with "2probe", we
// answer "3probe", the pending GET is ended with a noop, and the client's "5" completes the switch.
func (s *Session) serveUpgrade(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.transport != transportPolling || s.upgrading || s.state != stateOpen {
		s.mu.Unlock()
		// Not an upgrade we can take (already upgraded, or one under way): accept and close at
		// once, as the Node.js server does, so the client sees an orderly close, not an error.
		if c, _, err := s.srv.acceptWebSocket(w, r); err == nil {
			c.control(closeFrame(closePolicyViolation))
			c.close()
		}
		return
	}
	s.upgrading = true
	s.mu.Unlock()

	c, early, err := s.srv.acceptWebSocket(w, r)
	if err != nil {
		s.abortUpgrade(nil)
		return
	}
	c.owner = s
	s.mu.Lock()
	s.probing = c
	s.upgradeTimer = time.AfterFunc(s.srv.cfg.UpgradeTimeout, func() {
		if s.abortUpgrade(c) {
			c.close()
		}
	})
	s.mu.Unlock()
	c.start(early)
}

// onProbeMessage runs the upgrade handshake on a connection being probed.
func (s *Session) onProbeMessage(c *wsConn, op byte, data []byte) bool {
	s.mu.Lock()
	if s.probing != c || op != opText {
		s.mu.Unlock()
		s.abortUpgrade(c)
		c.close()
		return false
	}
	switch string(data) {
	case "2probe":
		// Long-polling pauses before the client hears "3probe": from then on what is queued
		// waits for the WebSocket, and the pending GET ends with a noop.
		s.probed = true
		s.kickLocked()
		s.mu.Unlock()
		c.control(serverFrame(opText, []byte("3probe")))
		return true
	case "6":
		// The client may send noops while it waits for its last poll to return.
		s.mu.Unlock()
		return true
	case "5":
		if !s.probed {
			break
		}
		s.probing, s.upgrading, s.probed = nil, false, false
		if s.upgradeTimer != nil {
			s.upgradeTimer.Stop()
			s.upgradeTimer = nil
		}
		s.transport = transportWebSocket
		s.ws = c
		s.wakeGet() // a GET waiting on the upgrade learns it is over
		if s.state == stateClosed {
			s.mu.Unlock()
			c.close()
			return false
		}
		s.kickLocked() // what was queued meanwhile goes over the WebSocket
		s.mu.Unlock()
		return true
	}
	s.mu.Unlock()
	s.abortUpgrade(c)
	c.close()
	return false
}

// abortUpgrade forgets an upgrade that failed (c nil: before a connection existed) and reports
// whether c was the one being probed.
func (s *Session) abortUpgrade(c *wsConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c != nil && s.probing != c {
		return false
	}
	s.probing, s.upgrading, s.probed = nil, false, false
	if s.upgradeTimer != nil {
		s.upgradeTimer.Stop()
		s.upgradeTimer = nil
	}
	s.wakeGet() // a GET held for the upgrade need not wait longer
	return true
}
