//go:build !herald_portable

package engineio

import (
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"
)

// A WebSocket over TLS served through Listener (see tlsRecords) waits in the poller like a plain
// one, and its writes are tls.Conn writes into the raw descriptor that never wait from a writer's
// goroutine: what the socket does not take stays in tlsRecords.pending, for the session's flush
// goroutine. Every write through tls.Conn holds wmu, so that spill mode is one writer's alone.

// tlsHeld is the Session.wsPending of a TLS connection whose unwritten ciphertext is held by its
// tlsRecords: not empty for the session's checks, nothing for writeAll to write itself.
var tlsHeld = []byte{}

// joinBufPool holds the buffers several frames are joined in, so that they make one TLS record
// and one system call.
var joinBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// attachTLS makes c use the raw TLS path when nc is a *tls.Conn over Listener's connection.
func (c *wsConn) attachTLS(nc net.Conn) {
	tc, ok := nc.(*tls.Conn)
	if !ok {
		return
	}
	raw, ok := tc.NetConn().(*rawTCPConn)
	if !ok || raw.tls == nil {
		return
	}
	if err := raw.rc.Control(func(fd uintptr) { c.fd = int(fd) }); err != nil {
		return
	}
	c.tlsRaw = raw.tls
	raw.tls.writeNow = c.tryWrite
}

// drainTLS hands the poller's reader everything readable now, without waiting, and reports
// whether to keep reading. The buffer holds a whole record's plaintext, so when tls.Conn.Read
// reports errWouldBlock nothing is left in tls.Conn or in tlsRecords: the socket may wait.
func (c *wsConn) drainTLS() bool {
	c.tlsRaw.nonblock = true
	bp := readBufPool.Get().(*[]byte)
	defer readBufPool.Put(bp)
	buf := *bp
	for {
		n, err := c.nc.Read(buf)
		if n > 0 && !c.process(buf[:n]) {
			return false
		}
		switch {
		case err == nil:
		case errors.Is(err, errWouldBlock):
			return true
		default:
			c.fail(err)
			return false
		}
	}
}

// readReadyTLS is readReady for a TLS connection.
func (c *wsConn) readReadyTLS() {
	if c.drainTLS() {
		c.poller.rearm(c)
	}
}

// blockingReadsTLS makes reads wait again: the portable reader's way.
func (c *wsConn) blockingReadsTLS() { c.tlsRaw.nonblock = false }

// writeNowTLS writes frames through tls.Conn without waiting and reports, with tlsHeld, that
// the socket did not take them all.
func (c *wsConn) writeNowTLS(frames [][]byte) ([]byte, error) {
	data, jp := joinFrames(frames)
	c.wmu.Lock()
	c.tlsRaw.spill.Store(true)
	_, err := c.nc.Write(data)
	c.tlsRaw.spill.Store(false)
	held := c.tlsRaw.hasPending()
	c.wmu.Unlock()
	putJoined(jp)
	if err != nil || !held {
		return nil, err
	}
	return tlsHeld, nil
}

// writeAllTLS is writeAll for a TLS connection: what tlsRecords holds goes first, then frames.
func (c *wsConn) writeAllTLS(frames [][]byte, timeout time.Duration) error {
	data, jp := joinFrames(frames)
	defer putJoined(jp)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(timeout))
	if len(data) == 0 {
		return c.tlsRaw.flush(c.tlsRaw.conn)
	}
	_, err := c.nc.Write(data)
	return err
}

// writeTLS writes one frame through tls.Conn, waiting up to timeout.
func (c *wsConn) writeTLS(frame []byte, timeout time.Duration) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(timeout))
	_, _ = c.nc.Write(frame)
}

// dropTLSWrites makes every later write take only what the socket takes at once: tls.Conn's
// closing alert then never waits for a client that does not read.
func (c *wsConn) dropTLSWrites() { c.tlsRaw.drop.Store(true) }

// joinFrames returns frames as one slice: the only one as it is, several joined in a pooled
// buffer, returned for putJoined.
func joinFrames(frames [][]byte) ([]byte, *[]byte) {
	switch len(frames) {
	case 0:
		return nil, nil
	case 1:
		return frames[0], nil
	}
	jp := joinBufPool.Get().(*[]byte)
	b := (*jp)[:0]
	for _, f := range frames {
		b = append(b, f...)
	}
	*jp = b
	return b, jp
}

func putJoined(jp *[]byte) {
	if jp != nil && cap(*jp) <= 64<<10 { // a rare huge batch does not stay pinned in the pool
		*jp = (*jp)[:0]
		joinBufPool.Put(jp)
	}
}
