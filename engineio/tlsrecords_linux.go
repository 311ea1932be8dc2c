//go:build !herald_portable

package engineio

import (
	"errors"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
)

// tlsRecords is what a rawTCPConn adds once its first byte shows that crypto/tls runs on top of
// it (a TLS handshake record): it hands tls.Conn at most one TLS record per Read, from a read
// buffer of its own. Then, after a tls.Conn.Read into a buffer that holds a whole record's
// plaintext (16 KiB), neither tls.Conn nor this layer has anything buffered that the kernel does
// not know of, and an idle WebSocket can wait in the poller like a plain one (wsConn.readReadyTLS):
// readiness of the descriptor then means exactly "tls.Conn has something to read".
//
// Reads block (park in the runtime's poller) unless nonblock is set; then a Read with no whole
// record to hand over reports errWouldBlock, a temporary net.Error that tls.Conn passes up
// without making it sticky. Records are handed over only whole, so tls.Conn never holds part of
// one across such an error.
//
// Writes: tls.Conn writes each record with one Write. With spill set (by a nonblocking writer,
// see wsConn.writeNowTLS), what the socket does not take at once is kept in pending instead of
// waiting: tls.Conn treats a short write as fatal, so Write always reports the whole record
// written. With drop set (the connection is closing), a write takes what the socket takes now
// and forgets the rest: tls.Conn's closing alert never waits for a client that does not read.
type tlsRecords struct {
	conn *rawTCPConn // the connection under tls.Conn

	// Read side, owned by the one goroutine reading at a time.
	buf      []byte // bytes read from the kernel not yet handed to tls: buf[off:]
	off      int
	cur      int  // bytes of the record being handed over still to go; 0 at a record boundary
	pooled   bool // buf came from recordBufPool
	nonblock bool

	// Write side. tls.Conn writes under its own lock, but a wsConn also flushes pending
	// directly, and tls.Conn.Read may write (a TLS 1.3 key update): pmu guards pending.
	spill    atomic.Bool
	drop     atomic.Bool
	pmu      sync.Mutex
	pending  []byte                      // ciphertext the socket did not take, written before anything else
	writeNow func(p []byte) (int, error) // writes what the socket takes now; set once, by the wsConn
}

const (
	tlsRecordHeaderLen = 5
	tlsRecordTypeShake = 0x16
	// tlsMaxCiphertext is the largest record body TLS 1.2 allows (RFC 5246 §6.2.3: 2^14+2048);
	// TLS 1.3's is smaller. crypto/tls refuses larger ones too.
	tlsMaxCiphertext = 16384 + 2048
	recordBufSize    = 24 << 10 // a whole record and then some, so one read takes several small ones
)

var recordBufPool = sync.Pool{New: func() any { b := make([]byte, 0, recordBufSize); return &b }}

// errWouldBlock is what a nonblocking Read reports when no whole record has arrived. tls.Conn
// keeps only errors that are not temporary net.Errors, so the connection stays usable.
var errWouldBlock error = wouldBlockError{}

type wouldBlockError struct{}

func (wouldBlockError) Error() string   { return "engineio: no whole TLS record to read yet" }
func (wouldBlockError) Timeout() bool   { return true }
func (wouldBlockError) Temporary() bool { return true }

var errRecordTooLong = errors.New("engineio: TLS record longer than the protocol allows")

// read hands tls at most the rest of one record, reading from the kernel until one is whole.
func (t *tlsRecords) read(c *rawTCPConn, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for t.cur == 0 {
		avail := t.buf[t.off:]
		if len(avail) >= tlsRecordHeaderLen {
			body := int(avail[3])<<8 | int(avail[4])
			if body > tlsMaxCiphertext {
				return 0, errRecordTooLong
			}
			if len(avail) >= tlsRecordHeaderLen+body {
				t.cur = tlsRecordHeaderLen + body
				break
			}
		}
		if err := t.fill(c); err != nil {
			if err == errWouldBlock {
				t.shrink()
			}
			return 0, err
		}
	}
	n := copy(p[:min(len(p), t.cur)], t.buf[t.off:])
	t.off += n
	t.cur -= n
	if t.off == len(t.buf) {
		t.release()
	}
	return n, nil
}

// fill reads what the kernel holds behind the buffered bytes. Unless nonblock is set it waits
// for at least one byte; the buffer is taken from the pool only when there is something to read,
// so a connection that waits holds none.
func (t *tlsRecords) fill(c *rawTCPConn) error {
	var n int
	var rerr error
	err := c.rc.Read(func(fd uintptr) bool {
		t.makeRoom()
		for {
			n, rerr = rawRead(int(fd), t.buf[len(t.buf):cap(t.buf)])
			switch rerr {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				if t.nonblock {
					return true
				}
				t.shrink()
				return false // park until readable
			}
			return true
		}
	})
	switch {
	case err != nil:
		return c.opError("read", err)
	case rerr == syscall.EAGAIN:
		return errWouldBlock
	case rerr != nil:
		return c.opError("read", os.NewSyscallError("read", rerr))
	case n == 0:
		return io.EOF
	}
	t.buf = t.buf[:len(t.buf)+n]
	return nil
}

// makeRoom gives the buffer a pooled backing array with the unread bytes at its start.
func (t *tlsRecords) makeRoom() {
	if t.pooled {
		if t.off > 0 {
			t.buf = t.buf[:copy(t.buf, t.buf[t.off:])]
			t.off = 0
		}
		return
	}
	b := (*recordBufPool.Get().(*[]byte))[:0]
	t.buf = append(b, t.buf[t.off:]...)
	t.off, t.pooled = 0, true
}

// release gives the buffer back to the pool once everything in it was handed over.
func (t *tlsRecords) release() {
	if t.pooled {
		b := t.buf[:0]
		recordBufPool.Put(&b)
	}
	t.buf, t.off, t.pooled = nil, 0, false
}

// shrink keeps only the unread bytes, in an array of their size, before the connection waits:
// an idle connection holds no pooled buffer.
func (t *tlsRecords) shrink() {
	if !t.pooled {
		return
	}
	if t.off == len(t.buf) {
		t.release()
		return
	}
	rest := append([]byte(nil), t.buf[t.off:]...)
	t.release()
	t.buf = rest
}

// write writes one record for tls.Conn (see the type's comment for the modes).
func (t *tlsRecords) write(c *rawTCPConn, p []byte) (int, error) {
	if t.drop.Load() {
		var werr error
		err := c.rc.Write(func(fd uintptr) bool {
			for {
				_, werr = rawWrite(int(fd), p)
				if werr != syscall.EINTR {
					return true
				}
			}
		})
		if err != nil {
			return 0, c.opError("write", err)
		}
		if werr != nil && werr != syscall.EAGAIN {
			return 0, c.opError("write", os.NewSyscallError("write", werr))
		}
		return len(p), nil
	}
	t.pmu.Lock()
	defer t.pmu.Unlock()
	if t.spill.Load() {
		if len(t.pending) > 0 {
			t.pending = append(t.pending, p...) // behind what is already waiting, in order
			return len(p), nil
		}
		n, err := t.writeNow(p)
		if err != nil {
			return n, err
		}
		if n < len(p) {
			t.pending = append(t.pending, p[n:]...)
		}
		return len(p), nil
	}
	if err := t.flushLocked(c); err != nil {
		return 0, err
	}
	return c.writeBlocking(p)
}

// hasPending reports whether spilled writes left ciphertext for the socket.
func (t *tlsRecords) hasPending() bool {
	t.pmu.Lock()
	defer t.pmu.Unlock()
	return len(t.pending) > 0
}

// flush writes what spilled writes left, blocking within the connection's write deadline.
func (t *tlsRecords) flush(c *rawTCPConn) error {
	t.pmu.Lock()
	defer t.pmu.Unlock()
	return t.flushLocked(c)
}

func (t *tlsRecords) flushLocked(c *rawTCPConn) error {
	if len(t.pending) == 0 {
		return nil
	}
	n, err := c.writeBlocking(t.pending)
	t.pending = t.pending[n:]
	if len(t.pending) == 0 {
		t.pending = nil
	}
	return err
}
