package engineio

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/coder/websocket"
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

// acceptWebSocket completes the WebSocket handshake. The Origin was already checked by the
// Server (with its own, configurable policy), so the library's check is turned off here.
func acceptWebSocket(w http.ResponseWriter, r *http.Request, maxPayload int) (*websocket.Conn, error) {
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true,
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(int64(maxPayload))
	return conn, nil
}

// runWebSocket serves a session whose transport is now conn, on the calling goroutine (the
// HTTP handler's, whose connection was hijacked): it reads until the session ends. A session
// opened directly over WebSocket first sends its open packet.
func (s *Session) runWebSocket(conn *websocket.Conn, fresh bool) {
	s.mu.Lock()
	if fresh {
		// The open packet goes ahead of anything OnOpen queued.
		s.queue = append([]Frame{{Data: s.openPacket(false)}}, s.queue...)
	}
	s.transport = transportWebSocket
	s.ws = conn
	select { // a GET waiting on the upgrade learns it is over
	case s.wake <- struct{}{}:
	default:
	}
	if s.state == stateClosed {
		s.mu.Unlock()
		_ = conn.CloseNow()
		return
	}
	s.kickLocked()
	s.mu.Unlock()
	s.readWebSocket(conn)
}

// readWebSocket delivers the client's packets until the connection or the session ends.
func (s *Session) readWebSocket(conn *websocket.Conn) {
	for {
		typ, data, err := conn.Read(contextBackground)
		if err != nil {
			reason := ReasonTransportClose
			if errors.Is(err, websocket.ErrMessageTooBig) {
				reason = ReasonPayloadTooBig
			} else if websocket.CloseStatus(err) == -1 && !errors.Is(err, context.Canceled) && !errors.Is(err, io.EOF) {
				// A connection that simply ends (io.EOF) was closed by the client, as with
				// Node.js; anything else unexpected is a transport error.
				reason = ReasonTransportError
			}
			s.fail(reason)
			return
		}
		var p decodedPacket
		if typ == websocket.MessageBinary {
			p = decodedPacket{typ: typeMessage, data: data, binary: true}
		} else if p, err = decodeTextPacket(data); err != nil {
			s.fail(ReasonParseError)
			return
		}
		if !s.receive(p) {
			return
		}
	}
}

// flushWebSocket writes the queue to conn until it is empty, then returns: a session that is not
// sending holds no writer goroutine. Writes are bounded by WriteTimeout, so a client that stops
// reading loses its session instead of holding anyone up.
func (s *Session) flushWebSocket(conn *websocket.Conn) {
	for {
		s.mu.Lock()
		if s.state == stateClosed {
			s.writing = false
			s.mu.Unlock()
			return
		}
		if len(s.queue) == 0 {
			s.writing = false
			closing := s.state == stateClosing
			if closing {
				s.finishLocked("")
			}
			s.mu.Unlock()
			if closing {
				// Every queued frame is written: say goodbye properly.
				go func() { _ = conn.Close(websocket.StatusNormalClosure, "") }()
			}
			return
		}
		batch := s.takeQueueLocked()
		s.mu.Unlock()

		ctx, cancel := context.WithTimeout(contextBackground, s.srv.cfg.WriteTimeout)
		for _, f := range batch {
			typ := websocket.MessageText
			if f.Binary {
				typ = websocket.MessageBinary
			}
			if err := conn.Write(ctx, typ, f.Data); err != nil {
				cancel()
				s.mu.Lock()
				s.writing = false
				s.mu.Unlock()
				s.fail(ReasonTransportError)
				return
			}
		}
		cancel()
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
		if conn, err := acceptWebSocket(w, r, s.srv.cfg.MaxPayload); err == nil {
			_ = conn.Close(websocket.StatusPolicyViolation, "session already upgraded")
		}
		return
	}
	s.upgrading = true
	s.mu.Unlock()

	conn, err := acceptWebSocket(w, r, s.srv.cfg.MaxPayload)
	if err != nil {
		s.abortUpgrade()
		return
	}
	if !s.probe(conn) {
		s.abortUpgrade()
		_ = conn.CloseNow()
		return
	}
	s.mu.Lock()
	s.upgrading, s.probed = false, false
	s.mu.Unlock()
	s.runWebSocket(conn, false)
}

// probe runs the upgrade handshake on conn and reports whether the client completed it in time.
func (s *Session) probe(conn *websocket.Conn) bool {
	ctx, cancel := context.WithTimeout(contextBackground, s.srv.cfg.UpgradeTimeout)
	defer cancel()
	typ, data, err := conn.Read(ctx)
	if err != nil || typ != websocket.MessageText || string(data) != "2probe" {
		return false
	}
	if err := conn.Write(ctx, websocket.MessageText, []byte("3probe")); err != nil {
		return false
	}
	s.mu.Lock()
	s.probed = true
	s.kickLocked() // end the pending GET with a noop
	s.mu.Unlock()
	for {
		typ, data, err = conn.Read(ctx)
		if err != nil || typ != websocket.MessageText {
			return false
		}
		switch string(data) {
		case "5":
			return true
		case "6":
			// The client may send noops while it waits for its last poll to return.
		default:
			return false
		}
	}
}

func (s *Session) abortUpgrade() {
	s.mu.Lock()
	s.upgrading, s.probed = false, false
	s.mu.Unlock()
}
