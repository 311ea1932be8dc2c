//go:build !herald_portable

package engineio

import (
	"io"
	"net"
	"os"
	"syscall"
)

// Listener returns ln with the TCP connections it accepts reading and writing through raw,
// non-blocking system calls (see rawsyscall_linux.go) inside the connection's own RawConn: the
// runtime's poller still parks a read or write that has to wait, honours deadlines and ends
// them on Close, but no call marks the P as in a system call. Serve the server over it with
// [http.Server.Serve]: it makes every long-polling request and response, and any other HTTP
// exchange, cheaper. Every other method is the *net.TCPConn's own, and connections of other
// types pass through as they are.
//
// Serve TLS on top of it, not under it — srv.ServeTLS(engineio.Listener(ln), certFile, keyFile),
// or srv.Serve(tls.NewListener(engineio.Listener(ln), cfg)) — and WebSockets over TLS cost what
// plain ones do: an idle one waits in the server's poller with no goroutine, and broadcasts are
// written without one (see tlsRecords). Under http.ListenAndServeTLS, whose listener is not
// this one, each WebSocket over TLS reads on a goroutine of its own.
func Listener(ln net.Listener) net.Listener { return rawListener{ln} }

type rawListener struct{ net.Listener }

func (l rawListener) Accept() (net.Conn, error) {
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
	return &rawTCPConn{TCPConn: tc, rc: rc}, nil
}

// rawTCPConn is a TCP connection whose reads and writes make raw system calls.
type rawTCPConn struct {
	*net.TCPConn
	rc syscall.RawConn

	// sniffed is set after the first read, whose first byte tells whether crypto/tls runs on
	// top: an HTTP request never starts with a TLS handshake record's type. tls is set then.
	sniffed bool
	tls     *tlsRecords
}

func (c *rawTCPConn) Read(p []byte) (int, error) {
	if c.tls != nil {
		return c.tls.read(c, p)
	}
	n, err := c.readBlocking(p)
	if !c.sniffed && n > 0 {
		c.sniffed = true
		if p[0] == tlsRecordTypeShake {
			c.tls = &tlsRecords{conn: c}
			c.tls.buf = append(c.tls.buf, p[:n]...)
			return c.tls.read(c, p)
		}
	}
	return n, err
}

// readBlocking reads what the socket holds, parking until it holds something.
func (c *rawTCPConn) readBlocking(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var rerr error
	err := c.rc.Read(func(fd uintptr) bool {
		for {
			n, rerr = rawRead(int(fd), p)
			switch rerr {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // park until readable
			}
			return true
		}
	})
	switch {
	case err != nil:
		return 0, c.opError("read", err)
	case rerr != nil:
		return 0, c.opError("read", os.NewSyscallError("read", rerr))
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func (c *rawTCPConn) Write(p []byte) (int, error) {
	if c.tls != nil {
		return c.tls.write(c, p)
	}
	return c.writeBlocking(p)
}

// writeBlocking writes all of p, parking while the socket is full.
func (c *rawTCPConn) writeBlocking(p []byte) (int, error) {
	var n int
	var werr error
	err := c.rc.Write(func(fd uintptr) bool {
		for n < len(p) {
			m, err := rawWrite(int(fd), p[n:])
			switch err {
			case nil:
				n += m
			case syscall.EINTR:
			case syscall.EAGAIN:
				return false // park until writable; the runtime's write lock keeps this write whole
			default:
				werr = err
				return true
			}
		}
		return true
	})
	switch {
	case err != nil:
		return n, c.opError("write", err)
	case werr != nil:
		return n, c.opError("write", os.NewSyscallError("write", werr))
	}
	return n, nil
}

// opError wraps err as net.TCPConn's own methods do, so that callers' checks (a timeout, a
// closed connection) see the same errors.
func (c *rawTCPConn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}
