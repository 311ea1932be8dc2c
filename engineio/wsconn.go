package engineio

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"
)

// wsConn is the server side of one WebSocket connection. It is written for memory: an idle
// connection holds no goroutine and no buffer. Where the platform allows (see netpoll), the
// server waits for all idle connections in one poller and starts a goroutine only when bytes
// arrive; writes are first tried without blocking, from the sender's goroutine, and only a
// client that is not keeping up gets a flush goroutine (see Session.kickLocked).
type wsConn struct {
	nc net.Conn
	fd int // the descriptor, or -1 when nc offers none: then reads and writes block, as usual

	maxPayload int
	// owner receives the connection's messages, pings and end (a *Session); set before
	// start. An interface rather than three method values: those were three allocations
	// per connection.
	owner wsOwner

	// Read state, owned by whichever goroutine is reading (one at a time).
	partial []byte // bytes of an incomplete frame, kept between reads; nil when none
	msg     []byte // the fragments of a message in progress
	msgOp   byte   // its opcode (text or binary); 0 when none

	closeOnce sync.Once
	poller    *poller // set before the connection is shared; nil without one

	// tlsRaw is set when nc is a *tls.Conn over Listener's connection (see tlsRecords, Linux
	// only): then fd is the descriptor under TLS, every write through nc holds wmu, and reads
	// and writes take the TLS paths of wsconn_tls_linux.go.
	tlsRaw *tlsRecords
	wmu    sync.Mutex

	// fdMu guards fdClosed. Once it is set, the descriptor number may belong to another
	// connection: it must not be written directly again, nor (re)registered with the poller.
	fdMu     sync.Mutex
	fdClosed bool
}

// wsOwner is what a wsConn reports to.
type wsOwner interface {
	// onWSMessage receives each complete message (text or binary) and reports whether to go on.
	onWSMessage(c *wsConn, op byte, payload []byte) bool
	// onWSPing answers a ping; payload is only valid during the call.
	onWSPing(c *wsConn, payload []byte)
	// onWSGone is called once when the connection fails or the peer closes it.
	onWSGone(c *wsConn, err error)
}

// readBufPool holds the buffers reads go through, so that idle connections hold none.
var readBufPool = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

// errClientClosed reports the client's close frame or a clean end of its stream.
var errClientClosed = errors.New("engineio: websocket closed by client")

// hijackWebSocket completes the WebSocket handshake on the HTTP connection and takes it over. It
// answers the request itself when the handshake is malformed.
func hijackWebSocket(w http.ResponseWriter, r *http.Request) (net.Conn, []byte, error) {
	key := r.Header.Get("Sec-WebSocket-Key")
	if r.Method != http.MethodGet || !validKey(key) || r.Header.Get("Sec-WebSocket-Version") != "13" {
		w.Header().Set("Sec-WebSocket-Version", "13")
		errBadRequest.write(w)
		return nil, nil, errors.New("engineio: malformed websocket handshake")
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		errBadRequest.write(w)
		return nil, nil, errors.New("engineio: connection cannot be hijacked (HTTP/2?)")
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, fmt.Errorf("engineio: hijack: %w", err)
	}
	// The HTTP server's deadlines no longer apply: the heartbeat watches this connection now.
	_ = nc.SetDeadline(time.Time{})
	var early []byte // bytes the client sent right behind its handshake
	if n := brw.Reader.Buffered(); n > 0 {
		early, _ = brw.Reader.Peek(n)
		early = append([]byte(nil), early...)
	}
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		acceptKey(key) + "\r\n\r\n"
	if _, err := io.WriteString(nc, resp); err != nil {
		_ = nc.Close()
		return nil, nil, err
	}
	return nc, early, nil
}

// validKey reports whether a Sec-WebSocket-Key is base64 of 16 bytes, as RFC 6455 requires.
func validKey(key string) bool {
	b, err := base64.StdEncoding.DecodeString(key)
	return err == nil && len(b) == 16
}

func newWSConn(nc net.Conn, maxPayload int, p *poller) *wsConn {
	c := &wsConn{nc: nc, maxPayload: maxPayload, fd: -1, poller: p}
	if c.attachTLS(nc); c.tlsRaw != nil {
		return c
	}
	if sc, ok := nc.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			_ = raw.Control(func(fd uintptr) { c.fd = int(fd) })
		}
	}
	return c
}

// start begins delivering the client's messages, after processing early (bytes that arrived with
// the handshake). With a poller it returns at once; without one it reads on a goroutine of its own.
func (c *wsConn) start(early []byte) {
	if len(early) > 0 && !c.process(early) {
		return
	}
	if c.poller != nil && c.fd >= 0 {
		// Over TLS, records may have arrived behind the handshake request, already read from
		// the kernel: the poller would not see them.
		if c.tlsRaw != nil && !c.drainTLS() {
			return
		}
		if err := c.poller.add(c); err == nil {
			return
		}
	}
	if c.tlsRaw != nil {
		c.blockingReadsTLS()
	}
	go c.readBlocking()
}

// readBlocking is the portable reader: a goroutine per connection, parked in Read.
func (c *wsConn) readBlocking() {
	bp := readBufPool.Get().(*[]byte)
	defer readBufPool.Put(bp)
	for {
		n, err := c.nc.Read(*bp)
		if n > 0 && !c.process((*bp)[:n]) {
			return
		}
		if err != nil {
			c.fail(err)
			return
		}
	}
}

// readReady drains what the kernel holds for the connection without blocking, then asks the
// poller to watch it again. The poller starts it on a fresh goroutine when the socket turns
// readable, and never twice at once for one connection.
func (c *wsConn) readReady() {
	if c.tlsRaw != nil {
		c.readReadyTLS()
		return
	}
	bp := readBufPool.Get().(*[]byte)
	defer readBufPool.Put(bp)
	buf := *bp
	for {
		n, err := c.readNow(buf)
		switch {
		case err == syscall.EAGAIN || err == syscall.EINTR:
			if err == syscall.EINTR {
				continue
			}
			c.poller.rearm(c)
			return
		case err != nil:
			c.fail(err)
			return
		case n == 0:
			c.fail(io.EOF)
			return
		}
		if !c.process(buf[:n]) {
			return
		}
		if n < len(buf) {
			// A short read usually means the socket is empty; the poller will say if not.
			c.poller.rearm(c)
			return
		}
	}
}

// process consumes received bytes: whole frames are handled, an incomplete one is kept. It
// reports whether to keep reading.
func (c *wsConn) process(data []byte) bool {
	if len(c.partial) > 0 {
		c.partial = append(c.partial, data...)
		data = c.partial
	}
	for len(data) > 0 {
		h, ok, err := parseFrameHeader(data, c.maxPayload)
		if err != nil {
			c.protocolFailure(err)
			return false
		}
		if !ok || len(data) < h.headerLen+h.length {
			break
		}
		payload := data[h.headerLen : h.headerLen+h.length]
		unmask(payload, h.mask)
		data = data[h.headerLen+h.length:]
		if !c.frame(h, payload) {
			return false
		}
	}
	if len(data) == 0 {
		c.partial = nil
	} else {
		// Keep the incomplete frame in a buffer of its own: the read buffer goes back to the pool.
		c.partial = append(make([]byte, 0, len(data)+512), data...)
	}
	return true
}

// frame handles one complete frame and reports whether to keep reading.
func (c *wsConn) frame(h frameHeader, payload []byte) bool {
	switch h.op {
	case opPing:
		c.owner.onWSPing(c, payload)
		return true
	case opPong:
		return true
	case opClose:
		// Echo the client's status code, as RFC 6455 asks, so its close handshake completes.
		code := closeNormal
		if len(payload) >= 2 {
			code = int(payload[0])<<8 | int(payload[1])
		}
		c.control(closeFrame(code))
		c.fail(errClientClosed)
		return false
	case opContinuation:
		if c.msgOp == 0 {
			c.protocolFailure(fmt.Errorf("%w: continuation without a message", errWSProtocol))
			return false
		}
	default: // text or binary: a new message
		if c.msgOp != 0 {
			c.protocolFailure(fmt.Errorf("%w: new message inside a fragmented one", errWSProtocol))
			return false
		}
		if h.fin {
			return c.deliver(h.op, append([]byte(nil), payload...))
		}
		c.msgOp = h.op
	}
	if len(c.msg)+len(payload) > c.maxPayload {
		c.protocolFailure(errTooBig)
		return false
	}
	c.msg = append(c.msg, payload...)
	if !h.fin {
		return true
	}
	op, msg := c.msgOp, c.msg
	c.msgOp, c.msg = 0, nil
	return c.deliver(op, msg)
}

func (c *wsConn) deliver(op byte, msg []byte) bool {
	if op == opText && !utf8.Valid(msg) {
		c.control(closeFrame(closeInvalidData))
		c.fail(fmt.Errorf("%w: text message is not UTF-8", errWSProtocol))
		return false
	}
	return c.owner.onWSMessage(c, op, msg)
}

// control writes a control frame at once, best effort: it answers the client from the reading
// goroutine, and a client that does not take a few bytes will be cut by the heartbeat anyway.
func (c *wsConn) control(frame []byte) {
	if c.tlsRaw != nil {
		c.writeTLS(frame, time.Second)
		return
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = c.nc.Write(frame)
}

func (c *wsConn) protocolFailure(err error) {
	code := closeProtocolError
	if errors.Is(err, errTooBig) {
		code = closeTooBig
	}
	c.control(closeFrame(code))
	c.fail(err)
}

func (c *wsConn) fail(err error) {
	c.close()
	if c.owner != nil {
		c.owner.onWSGone(c, err)
	}
}

// writeNow writes what the socket takes of frames now, without blocking, and returns what is
// left for writeAll: nil when everything was written.
func (c *wsConn) writeNow(frames [][]byte) ([]byte, error) {
	if c.tlsRaw != nil {
		return c.writeNowTLS(frames)
	}
	n, err := c.tryWritev(frames)
	if err != nil {
		return nil, err
	}
	return unwritten(frames, n), nil
}

// writeAll writes pending (what writeNow left) and then frames, blocking up to timeout: the
// flush goroutine's path.
func (c *wsConn) writeAll(pending []byte, frames [][]byte, timeout time.Duration) error {
	if c.tlsRaw != nil {
		return c.writeAllTLS(frames, timeout) // tlsRecords holds what is pending
	}
	bufs := make(net.Buffers, 0, len(frames)+1)
	if len(pending) > 0 {
		bufs = append(bufs, pending)
	}
	bufs = append(bufs, frames...)
	_ = c.nc.SetWriteDeadline(time.Now().Add(timeout))
	_, err := bufs.WriteTo(c.nc)
	return err
}

// close releases the connection at once.
func (c *wsConn) close() {
	c.closeOnce.Do(func() {
		// Marked first: once fdMu is released no direct write is under way or can start, and
		// the poller, which checks the mark, cannot register the connection again.
		c.fdMu.Lock()
		c.fdClosed = true
		c.fdMu.Unlock()
		if c.poller != nil {
			c.poller.remove(c)
		}
		if c.tlsRaw != nil {
			c.dropTLSWrites()
		}
		_ = c.nc.Close()
	})
}

// closeGracefully sends a normal close frame, then closes.
func (c *wsConn) closeGracefully(timeout time.Duration) {
	if c.tlsRaw != nil {
		c.writeTLS(closeFrame(closeNormal), timeout)
	} else {
		_ = c.nc.SetWriteDeadline(time.Now().Add(timeout))
		_, _ = c.nc.Write(closeFrame(closeNormal))
	}
	c.close()
}
