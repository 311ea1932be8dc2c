package engineio

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"runtime"
	"strconv"
	"time"
)

// servePollGet answers a long-polling GET: it waits until there is something to send, then sends
// everything queued as one payload.
func (s *Session) servePollGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.transport != transportPolling {
		s.mu.Unlock()
		errBadRequest.write(w)
		return
	}
	if s.pingExpiredLocked() {
		s.mu.Unlock()
		s.fail(ReasonPingTimeout)
		errSessionUnknown.write(w)
		return
	}
	if s.getPending {
		// A second concurrent GET is a protocol violation: the first one receives the close
		// packet, this one an error, and the session ends.
		ws := s.finishLocked(ReasonTransportError)
		s.mu.Unlock()
		if ws != nil {
			ws.close()
		}
		errBadRequest.write(w)
		return
	}
	s.getPending = true
	// A GET that arrives once an upgrade probe has succeeded is held briefly: if the client's
	// "5" completes the upgrade meanwhile it gets an error, as a poll after an upgrade should;
	// otherwise a noop ends it, as it would have ended the GET pending at the probe.
	var probeWait <-chan time.Time
	if s.probed {
		t := time.NewTimer(upgradeSettle)
		defer t.Stop()
		probeWait = t.C
	}
	for s.state == stateOpen && len(s.queue) == 0 && s.transport == transportPolling && (!s.probed || probeWait != nil) {
		s.mu.Unlock()
		select {
		case <-s.wake:
		case <-probeWait:
			probeWait = nil
		case <-r.Context().Done():
			// The client gave up on its GET: a real client never does that while the
			// session lives, so the session ends (as with the Node.js server).
			s.mu.Lock()
			s.getPending = false
			ws := s.finishLocked(ReasonTransportClose)
			s.mu.Unlock()
			if ws != nil {
				ws.close()
			}
			return
		}
		s.mu.Lock()
	}
	if s.transport != transportPolling && s.state != stateClosed {
		s.getPending = false
		s.mu.Unlock()
		errBadRequest.write(w)
		return
	}
	var frames []Frame
	switch {
	case s.state == stateClosed:
		frames = []Frame{s.lastAnswer()}
	case s.probed:
		// An upgrade is completing: end this poll cleanly; the queue goes over the WebSocket.
		frames = []Frame{frameNoop}
	case s.state == stateClosing:
		frames = append(s.takeQueueLocked(), frameClose)
		s.finishLocked("")
	default:
		frames = s.takeQueueLocked()
	}
	s.getPending = false
	s.mu.Unlock()

	body := appendPayload(make([]byte, 0, payloadSize(frames)), frames)
	s.recycle(frames)
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	// Put the response on the wire now, then yield: when a broadcast has woken many pending
	// GETs, the others' responses go out before this connection's bookkeeping and the client's
	// next poll run. Without it each recipient's whole round (response, end of request, next
	// request) ran before the next recipient got anything, and the last one waited for all.
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	runtime.Gosched()
}

// takeQueueLocked hands the queued frames to the caller and gives the queue a fresh backing array.
func (s *Session) takeQueueLocked() []Frame {
	frames := s.queue
	s.queue, s.spare = s.spare[:0], nil
	return frames
}

// recycle offers a written batch's backing array for reuse, unless it is large: a burst should not
// pin memory on an idle session forever.
func (s *Session) recycle(frames []Frame) {
	s.mu.Lock()
	s.recycleLocked(frames)
	s.mu.Unlock()
}

// recycleLocked is recycle for a caller that holds s.mu.
func (s *Session) recycleLocked(frames []Frame) {
	if cap(frames) > 64 {
		return
	}
	clear(frames)
	if s.spare == nil && s.state != stateClosed {
		s.spare = frames[:0]
	}
}

// servePollPost receives a long-polling payload from the client.
func (s *Session) servePollPost(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.transport != transportPolling || s.state == stateClosed {
		s.mu.Unlock()
		errBadRequest.write(w)
		return
	}
	if s.postActive {
		ws := s.finishLocked(ReasonTransportError)
		s.mu.Unlock()
		if ws != nil {
			ws.close()
		}
		errBadRequest.write(w)
		return
	}
	s.postActive = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.postActive = false
		s.mu.Unlock()
	}()

	if ct := r.Header.Get("Content-Type"); ct != "" {
		// Engine.IO v4 polling carries binary as base64 text; a raw binary body is not a v4
		// client, and parsing it as text would be wrong.
		if mt, _, _ := mime.ParseMediaType(ct); mt == "application/octet-stream" {
			s.fail(ReasonParseError)
			errBadRequest.write(w)
			return
		}
	}
	limit := int64(s.srv.cfg.MaxPayload)
	if r.ContentLength > limit {
		s.fail(ReasonPayloadTooBig)
		http.Error(w, "payload too large", http.StatusRequestEntityTooLarge)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.fail(ReasonPayloadTooBig)
			http.Error(w, "payload too large", http.StatusRequestEntityTooLarge)
			return
		}
		s.fail(ReasonTransportError)
		errBadRequest.write(w)
		return
	}
	packets, err := decodePayload(body)
	if err != nil {
		s.fail(ReasonParseError)
		errBadRequest.write(w)
		return
	}
	for _, p := range packets {
		if !s.receive(p) {
			break
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", "2")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "ok")
}

// upgradeSettle is how long a GET arriving mid-upgrade waits for the upgrade to complete.
const upgradeSettle = 100 * time.Millisecond

// tombstoneTTL is how long a session the client closed over long-polling keeps answering a racing
// GET with a noop instead of an error.
const tombstoneTTL = 2 * time.Second

// tombstone remembers a session the client closed, for one racing GET.
func (srv *Server) tombstone(id string) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	now := time.Now()
	if srv.tombstones == nil || len(srv.tombstones) > 10_000 {
		srv.tombstones = make(map[string]time.Time) // bounded: forgetting only costs a 400
	}
	for k, t := range srv.tombstones {
		if now.Sub(t) > tombstoneTTL {
			delete(srv.tombstones, k)
		}
	}
	srv.tombstones[id] = now
}

// takeTombstone reports whether id was closed by its client a moment ago, once.
func (srv *Server) takeTombstone(id string) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	t, ok := srv.tombstones[id]
	delete(srv.tombstones, id)
	return ok && time.Since(t) <= tombstoneTTL
}

// writeNoop answers a GET with a lone noop packet.
func writeNoop(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Content-Length", "1")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(frameNoop.Data)
}

// lastAnswer is what a GET pending when the session ends receives: the close packet, or a noop
// when the client itself closed.
func (s *Session) lastAnswer() Frame {
	if s.closedByClient {
		return frameNoop
	}
	return frameClose
}
