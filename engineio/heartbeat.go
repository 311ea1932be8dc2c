package engineio

import (
	"time"
)

// The heartbeat is one timer per session (no goroutine while idle): it fires pingInterval after
// the handshake or the last pong to queue a ping, then pingTimeout later to end the session if no
// pong came. pingTimeout counts from the moment the ping is queued, not from when a long-polling
// GET carries it, as the protocol's reference server does.

func (s *Session) startHeartbeat() {
	s.mu.Lock()
	s.deadline = time.Now().Add(s.srv.cfg.PingInterval)
	s.timer = time.AfterFunc(s.srv.cfg.PingInterval, s.onTimer)
	s.mu.Unlock()
}

// resetTimerLocked points the timer at now+d.
func (s *Session) resetTimerLocked(d time.Duration) {
	s.deadline = time.Now().Add(d)
	if s.timer != nil {
		s.timer.Reset(d)
	}
}

func (s *Session) onTimer() {
	s.mu.Lock()
	switch {
	case s.state == stateClosed:
		s.mu.Unlock()
		return
	case time.Until(s.deadline) > time.Millisecond:
		// A stale firing: the deadline moved after this run was scheduled.
		s.timer.Reset(time.Until(s.deadline))
		s.mu.Unlock()
		return
	case s.state == stateClosing:
		// A closing session whose client never came back for its last poll.
		ws := s.finishLocked("")
		s.mu.Unlock()
		if ws != nil {
			ws.close()
		}
		return
	case s.awaitingPong:
		s.mu.Unlock()
		s.fail(ReasonPingTimeout)
		return
	}
	s.awaitingPong = true
	// The ping bypasses the queue bound: it is how a stuck client gets found out.
	s.queue = append(s.queue, framePing)
	s.kickLocked()
	s.resetTimerLocked(s.srv.cfg.PingTimeout)
	s.mu.Unlock()
}

func (s *Session) onPong() {
	s.mu.Lock()
	if s.awaitingPong && s.state == stateOpen {
		s.awaitingPong = false
		s.resetTimerLocked(s.srv.cfg.PingInterval)
		if len(s.queue) == 0 && !s.writing {
			// Nothing waits to be written: drop the queue's arrays, so that an idle session
			// holds none between heartbeats. A busy one allocates them again, once a heartbeat.
			s.queue, s.spare = nil, nil
		}
	}
	s.mu.Unlock()
}

// pingExpiredLocked reports whether the client has already missed its pong deadline, so that a
// request racing the timer sees the session as it really is.
func (s *Session) pingExpiredLocked() bool {
	return s.awaitingPong && !time.Now().Before(s.deadline)
}
