package engineio

import (
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Listener returns ln with the TCP connections it accepts writing through one raw, non-blocking
// write(2) first (see rawsyscall_linux.go), and through the connection's usual, blocking path only
// for what the socket does not take at once. Serve the server over it with [http.Server.Serve]:
// it makes every long-polling response, and any other HTTP response, cheaper to send. Every
// other method is the *net.TCPConn's own, and connections of other types pass through as they
// are.
func Listener(ln net.Listener) net.Listener { return rawWriteListener{ln} }

type rawWriteListener struct{ net.Listener }

func (l rawWriteListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c, nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return c, nil
	}
	fd := -1
	if err := rc.Control(func(f uintptr) { fd = int(f) }); err != nil || fd < 0 {
		return c, nil
	}
	return &rawWriteConn{TCPConn: tc, fd: fd}, nil
}

// rawWriteConn is a TCP connection whose writes try the descriptor directly first.
type rawWriteConn struct {
	*net.TCPConn
	fd int

	// writeMu makes each Write whole on the wire, as net.Conn promises to concurrent writers,
	// across the raw write and the blocking rest.
	writeMu sync.Mutex
	// fdMu is held across a raw write and by Close, so that a closed descriptor number, which
	// the kernel may already have given to another connection, is never written. Close does
	// not wait for writeMu: it is what ends a blocked write.
	fdMu   sync.Mutex
	closed bool
	// writeDeadline is the write deadline in Unix nanoseconds (0: none); past it, writes take
	// the usual path, which reports the timeout.
	writeDeadline atomic.Int64
}

func (c *rawWriteConn) Write(p []byte) (int, error) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	n := 0
	if dl := c.writeDeadline.Load(); dl == 0 || time.Now().UnixNano() < dl {
		c.fdMu.Lock()
		if !c.closed {
			n, _ = rawWrite(c.fd, p) // on any error, the usual path below retries and reports it
		}
		c.fdMu.Unlock()
		if n == len(p) {
			return n, nil
		}
	}
	m, err := c.TCPConn.Write(p[n:])
	return n + m, err
}

func (c *rawWriteConn) Close() error {
	c.fdMu.Lock()
	c.closed = true
	c.fdMu.Unlock()
	return c.TCPConn.Close()
}

func (c *rawWriteConn) SetDeadline(t time.Time) error {
	c.writeDeadline.Store(unixNanoOrZero(t))
	return c.TCPConn.SetDeadline(t)
}

func (c *rawWriteConn) SetWriteDeadline(t time.Time) error {
	c.writeDeadline.Store(unixNanoOrZero(t))
	return c.TCPConn.SetWriteDeadline(t)
}

// unixNanoOrZero is t in Unix nanoseconds, or 0 (no deadline) for the zero time and for times
// past what UnixNano can hold (the year 2262).
func unixNanoOrZero(t time.Time) int64 {
	if t.IsZero() || t.Year() >= 2262 {
		return 0
	}
	return t.UnixNano()
}

var _ syscall.Conn = (*rawWriteConn)(nil) // the WebSocket transport finds the descriptor through it
