//go:build linux

package main

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// conn is one client connection as the broadcast set sees it.
type conn struct {
	// nc owns the descriptor: the connection's goroutine reads through it,
	// and keeping it referenced keeps the runtime from closing fd.
	nc     *net.TCPConn
	fd     int  // nc's descriptor, written directly by the set
	idx    int  // position in the set, -1 when not in it; guarded by the set's mu
	closed bool // guarded by the set's mu
}

// broadcastSet is the connected clients, and the only writer of their
// descriptors once they are in it. Every write, every removal and every
// close happens under mu, so a descriptor is never written after it was
// closed (and perhaps reused by a new connection): a connection leaves the
// set first and is closed after, both under mu.
type broadcastSet struct {
	mu sync.Mutex
	// fds and conns are parallel slices: the broadcast loop reads only fds,
	// a tight loop over ints; append on connect, swap-remove on disconnect.
	fds   []int
	conns []*conn
	shut  bool // closeAll was called: no more additions

	// onJoin, when a test sets it before the first connection, runs in a
	// connection's goroutine right after it has joined the set.
	onJoin func()

	// Counters for the summary at exit.
	broadcasts, pings, frames int64
	eagain, short, failed     int
}

// join writes reply (the CONNECT reply) to c, whose descriptor is fd, and puts
// c into the set, both under mu: no broadcast can come between them, and no
// other goroutine writes to c while the reply goes out. It returns false
// after closeAll, when c was already closed or when the reply could not be
// written whole; the caller then drops c.
func (s *broadcastSet) join(c *conn, fd int, reply []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shut || c.closed {
		return false
	}
	// The socket's buffer is empty at this point (nothing was sent since the
	// handshake), so the write takes the reply at once; the deadline only
	// guards against a peer that is gone.
	_ = c.nc.SetWriteDeadline(time.Now().Add(handshakeTimeout))
	if _, err := c.nc.Write(reply); err != nil {
		return false
	}
	_ = c.nc.SetWriteDeadline(time.Time{})
	c.fd, c.idx = fd, len(s.fds)
	s.fds = append(s.fds, fd)
	s.conns = append(s.conns, c)
	return true
}

// remove takes c out of the set if it is there, and closes it if it is
// not closed yet. Safe to call more than once.
func (s *broadcastSet) remove(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.idx >= 0 {
		s.removeAt(c.idx)
	}
	s.close(c)
}

// removeAt swap-removes the connection at i. Callers hold mu.
func (s *broadcastSet) removeAt(i int) {
	last := len(s.fds) - 1
	c := s.conns[i]
	s.fds[i], s.conns[i] = s.fds[last], s.conns[last]
	s.conns[i].idx = i
	s.conns[last] = nil
	s.fds, s.conns = s.fds[:last], s.conns[:last]
	c.idx = -1
}

// close closes c once. Callers hold mu, and have taken c out of the set.
func (s *broadcastSet) close(c *conn) {
	if !c.closed {
		c.closed = true
		_ = c.nc.Close()
	}
}

// sendLocked writes frame to every connection with exactly one write system
// call each, and returns how many took it whole. A connection whose socket
// is full (EAGAIN), which takes only part of the frame, or whose write fails
// is dropped and closed at once: the floor never queues, so that what is
// measured is the write and nothing else. The descriptors are non-blocking
// (the runtime made them so for its poller), so no write waits. Callers
// hold mu for the whole loop.
func (s *broadcastSet) sendLocked(frame []byte) int {
	sent := 0
	for i := 0; i < len(s.fds); {
		n, err := rawWrite(s.fds[i], frame)
		for err == unix.EINTR { // nothing was written: the one write is still to do
			n, err = rawWrite(s.fds[i], frame)
		}
		if n == len(frame) {
			sent++
			i++
			continue
		}
		switch {
		case err == unix.EAGAIN:
			s.eagain++
		case err != nil:
			s.failed++
		default:
			s.short++ // the client now holds half a frame: it cannot stay
		}
		c := s.conns[i]
		s.removeAt(i) // the last connection moves to i: i is not advanced
		s.close(c)
	}
	s.frames += int64(sent)
	return sent
}

// broadcast sends a fan-out frame to everyone.
func (s *broadcastSet) broadcast(frame []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.broadcasts++
	s.sendLocked(frame)
}

// heartbeat sends the Engine.IO ping ("2") to everyone every interval until
// ctx is done. The clients answer with "3", which the floor ignores: it
// does not enforce the ping timeout.
func (s *broadcastSet) heartbeat(ctx context.Context, interval time.Duration) {
	ping := appendTextFrame(nil, []byte("2"))
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.mu.Lock()
			s.pings++
			s.sendLocked(ping)
			s.mu.Unlock()
		}
	}
}

// closeAll closes every connection and refuses new ones.
func (s *broadcastSet) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shut = true
	for len(s.conns) > 0 {
		c := s.conns[len(s.conns)-1]
		s.removeAt(len(s.conns) - 1)
		s.close(c)
	}
}

// stats summarizes the set's work, for the log at exit.
func (s *broadcastSet) stats() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("%d broadcasts, %d pings, %d frames written; dropped: %d socket full (EAGAIN), %d short writes, %d write errors",
		s.broadcasts, s.pings, s.frames, s.eagain, s.short, s.failed)
}
