//go:build linux

package main

// A lean receive path for many WebSocket clients: the handshakes are done
// with ordinary blocking I/O, then each connection's file descriptor is
// handed to an epoll loop that reads whatever is ready, parses the frames
// and answers pings, with no goroutine per connection. A goroutine per
// connection costs a wake-up, a read and an extra read that finds nothing
// for every message; at 19,000 clients × 5 events/s that alone would take
// more than the load generator's one core, and the latencies would measure
// the client. Linux only, like the rest of the load generator.

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/herald-chat/herald/bench/internal/result"
)

// WebSocket opcodes (RFC 6455).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// maxFrame bounds a message this client accepts; the bench protocol's are
// tiny.
const maxFrame = 1 << 20

// rawConn is one client connection: before the hand-off a net.Conn with a
// buffered reader, after it a raw non-blocking descriptor owned by a loop.
type rawConn struct {
	fd      int
	pending []byte // unparsed bytes, owned by the loop
	msg     []byte // a fragmented message being assembled, owned by the loop
	msgOp   byte
	h       handler
	alive   *atomic.Bool
	closed  bool
	writeMu sync.Mutex   // frames written by the loop and by emit
	poll    *pollSession // set for a long-polling client: the fd is its GET connection
}

// wsAcceptGUID is the fixed GUID of the WebSocket handshake.
const wsAcceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// appendFrame appends a masked client frame carrying payload.
func appendFrame(b []byte, op byte, payload []byte) []byte {
	b = append(b, 0x80|op)
	n := len(payload)
	switch {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	var key [4]byte
	_, _ = rand.Read(key[:])
	b = append(b, key[:]...)
	for i, c := range payload {
		b = append(b, c^key[i&3])
	}
	return b
}

// parseFrame reads one frame from b. It returns the frame and the bytes it
// used, or n == 0 when b does not hold a whole frame yet.
func parseFrame(b []byte) (fin bool, op byte, payload []byte, n int, err error) {
	if len(b) < 2 {
		return false, 0, nil, 0, nil
	}
	fin = b[0]&0x80 != 0
	op = b[0] & 0x0f
	masked := b[1]&0x80 != 0
	size := int64(b[1] & 0x7f)
	hdr := 2
	switch size {
	case 126:
		if len(b) < 4 {
			return false, 0, nil, 0, nil
		}
		size = int64(binary.BigEndian.Uint16(b[2:4]))
		hdr = 4
	case 127:
		if len(b) < 10 {
			return false, 0, nil, 0, nil
		}
		size = int64(binary.BigEndian.Uint64(b[2:10]))
		hdr = 10
	}
	if size > maxFrame || size < 0 {
		return false, 0, nil, 0, fmt.Errorf("frame of %d bytes", size)
	}
	var key []byte
	if masked { // servers must not mask, but tolerate it
		if len(b) < hdr+4 {
			return false, 0, nil, 0, nil
		}
		key = b[hdr : hdr+4]
		hdr += 4
	}
	if int64(len(b)) < int64(hdr)+size {
		return false, 0, nil, 0, nil
	}
	payload = b[hdr : hdr+int(size)]
	if key != nil {
		for i := range payload {
			payload[i] ^= key[i&3]
		}
	}
	return fin, op, payload, hdr + int(size), nil
}

// dialRaw opens a WebSocket session to base, does the Engine.IO and
// Socket.IO handshakes with blocking I/O bounded by ctx, and returns the
// connection ready to be handed to a loop. cookie, when not empty, is sent
// as the upgrade request's Cookie header; no Origin header is sent.
func dialRaw(ctx context.Context, base string, d *net.Dialer, cookie string) (*rawConn, error) {
	u, err := url.Parse(engineURL(base, "websocket"))
	if err != nil {
		return nil, err
	}
	nc, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			nc.Close()
		}
	}()
	if dl, has := ctx.Deadline(); has {
		_ = nc.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	var keyRaw [16]byte
	_, _ = rand.Read(keyRaw[:])
	key := base64.StdEncoding.EncodeToString(keyRaw[:])
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
		"\r\nSec-WebSocket-Version: 13\r\n"
	if cookie != "" {
		req += "Cookie: " + cookie + "\r\n"
	}
	req += "\r\n"
	if _, err := nc.Write([]byte(req)); err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(nc, 1024)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, fmt.Errorf("upgrade response: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return nil, fmt.Errorf("upgrade refused: %s", resp.Status)
	}
	sum := sha1.Sum([]byte(key + wsAcceptGUID))
	if resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		return nil, errors.New("bad Sec-WebSocket-Accept")
	}

	// Blocking frame I/O for the Engine.IO / Socket.IO handshake.
	var buf []byte
	readMsg := func() ([]byte, error) {
		for range 1000 {
			fin, op, payload, n, err := parseFrame(buf)
			if err != nil {
				return nil, err
			}
			if n > 0 {
				p := append([]byte(nil), payload...)
				buf = buf[n:]
				if op == opText && fin {
					return p, nil
				}
				if op == opClose {
					return nil, errors.New("closed during handshake")
				}
				continue // control frames and anything else: skip
			}
			chunk := make([]byte, 512)
			m, err := br.Read(chunk)
			if err != nil {
				return nil, err
			}
			buf = append(buf, chunk[:m]...)
		}
		return nil, errors.New("no message")
	}
	write := func(s string) error {
		_, err := nc.Write(appendFrame(nil, opText, []byte(s)))
		return err
	}
	p, err := readMsg()
	if err != nil {
		return nil, fmt.Errorf("reading open packet: %w", err)
	}
	if len(p) == 0 || p[0] != '0' {
		return nil, fmt.Errorf("want open packet, got %.40q", p)
	}
	if err := write("40"); err != nil {
		return nil, err
	}
	connected := false
	for range 100 {
		p, err := readMsg()
		if err != nil {
			return nil, fmt.Errorf("waiting for CONNECT reply: %w", err)
		}
		switch dispatch(p, 0, nil) {
		case pkConnected:
			connected = true
		case pkConnectError:
			return nil, fmt.Errorf("%w: %.100s", errConnectRefused, p)
		case pkPing:
			if err := write("3"); err != nil {
				return nil, err
			}
		case pkClose, pkDisconnect:
			return nil, errors.New("closed during handshake")
		}
		if connected {
			break
		}
	}
	if !connected {
		return nil, errors.New("no CONNECT reply")
	}

	// Whatever was read past the handshake stays pending for the loop.
	if n := br.Buffered(); n > 0 {
		extra, _ := br.Peek(n)
		buf = append(buf, extra...)
	}
	fd, err := takeFD(nc)
	if err != nil {
		return nil, err
	}
	ok = true
	return &rawConn{fd: fd, pending: buf}, nil
}

// takeFD takes a connection's descriptor away from the Go runtime: it
// duplicates it, closes the net.Conn (which closes only the original) and
// returns the duplicate, non-blocking.
func takeFD(nc net.Conn) (int, error) {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return -1, fmt.Errorf("not a TCP connection: %T", nc)
	}
	sc, err := tc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	var derr error
	if err := sc.Control(func(f uintptr) { fd, derr = syscall.Dup(int(f)) }); err != nil {
		return -1, err
	}
	if derr != nil {
		return -1, derr
	}
	nc.Close()
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	// Ask the kernel to stamp what arrives (see receiveTime); without it reads are timed by
	// the clock after the read, which is all that is lost.
	_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	return fd, nil
}

// write sends one WebSocket frame.
func (c *rawConn) write(op byte, payload []byte) error {
	return c.writeAll(appendFrame(make([]byte, 0, len(payload)+14), op, payload))
}

// send sends one Engine.IO packet: a text frame over WebSocket, a POST over
// long-polling. Safe for concurrent use with the loop.
func (c *rawConn) send(ctx context.Context, p []byte) error {
	if c.poll != nil {
		return c.poll.pc.send(ctx, p)
	}
	return c.write(opText, p)
}

// writeAll writes b, waiting (a bounded time) if the socket is full.
func (c *rawConn) writeAll(b []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	for tries := 0; len(b) > 0; {
		n, err := syscall.Write(c.fd, b)
		if n > 0 {
			b = b[n:]
		}
		switch {
		case err == syscall.EAGAIN || err == syscall.EINTR:
			if tries++; tries > 1000 {
				return errors.New("write: socket stayed full for 1s")
			}
			time.Sleep(time.Millisecond)
		case err != nil:
			return err
		}
	}
	return nil
}

// loop reads every connection registered with it, one epoll set per loop.
// conns is indexed by file descriptor; only the loop goroutine touches it
// after add has returned, add itself takes mu.
type loop struct {
	epfd  int
	mu    sync.Mutex
	conns map[int]*rawConn
	buf   []byte
	oob   []byte // control messages of a read: the kernel's receive time
	// lag records, per read that had a kernel receive time, how long the data waited in the
	// socket before this loop read it: the load generator's own delay. May be nil.
	lag *result.Histogram
	// spin is how long after its last event the loop polls without sleeping. On loopback a
	// write to a client whose loop sleeps in epoll_wait makes the server's core wake it (an
	// inter-processor interrupt, costly in a VM), which a server with remote clients never pays;
	// a loop that has just had events keeps polling instead. 0: it sleeps at once.
	spin time.Duration
}

func newLoop() (*loop, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return &loop{epfd: epfd, conns: map[int]*rawConn{}, buf: make([]byte, 64<<10), oob: make([]byte, 128)}, nil
}

// add registers c with the loop; h receives its events. Bytes already read
// during the handshake are handled first, from the caller's goroutine.
func (l *loop) add(c *rawConn, h handler, alive *atomic.Bool) error {
	c.h, c.alive = h, alive
	l.mu.Lock()
	l.conns[c.fd] = c
	// Handle what came with the handshake under mu: the loop takes mu too.
	if c.poll != nil {
		l.startPoll(c)
	} else {
		l.consume(c, nil, time.Now().UnixNano())
	}
	defer l.mu.Unlock()
	if c.closed {
		return errors.New("closed right after the handshake")
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(c.fd)}
	if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
		l.drop(c)
		return err
	}
	return nil
}

// run serves the loop's connections until ctx is done, then closes them.
func (l *loop) run(ctx context.Context) {
	defer l.closeAll()
	events := make([]syscall.EpollEvent, 512)
	var lastEvent time.Time
	for ctx.Err() == nil {
		timeout := 50 // ms
		if l.spin > 0 && time.Since(lastEvent) < l.spin {
			timeout = 0
		}
		n, err := syscall.EpollWait(l.epfd, events, timeout)
		if n > 0 && l.spin > 0 {
			lastEvent = time.Now()
		}
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			return
		}
		if n <= 0 {
			continue
		}
		l.mu.Lock()
		for _, ev := range events[:n] {
			c := l.conns[int(ev.Fd)]
			if c == nil || c.closed {
				continue
			}
			l.readable(c)
		}
		l.mu.Unlock()
	}
}

// readable reads once from c (level-triggered epoll calls again if more is
// there) and handles the complete frames.
func (l *loop) readable(c *rawConn) {
	n, oobn, _, _, err := syscall.Recvmsg(c.fd, l.buf, l.oob, 0)
	at := time.Now().UnixNano()
	if stamp, ok := receiveTime(l.oob[:max(oobn, 0)]); ok && n > 0 {
		if l.lag != nil {
			l.lag.Record(at - stamp)
		}
		at = stamp
	}
	if n > 0 {
		l.consume(c, l.buf[:n], at)
		return
	}
	if err == syscall.EAGAIN || err == syscall.EINTR {
		return
	}
	l.drop(c) // EOF or error
}

// consume parses c.pending followed by data and handles each frame.
func (l *loop) consume(c *rawConn, data []byte, at int64) {
	if c.poll != nil {
		l.consumePoll(c, data, at)
		return
	}
	b := data
	if len(c.pending) > 0 {
		c.pending = append(c.pending, data...)
		b = c.pending
	}
	for len(b) > 0 && !c.closed {
		fin, op, payload, n, err := parseFrame(b)
		if err != nil {
			l.drop(c)
			return
		}
		if n == 0 {
			break
		}
		b = b[n:]
		switch op {
		case opText, opBinary:
			if fin {
				if op == opText {
					l.packet(c, payload, at)
				}
				continue
			}
			c.msgOp, c.msg = op, append(c.msg[:0], payload...)
		case opContinuation:
			c.msg = append(c.msg, payload...)
			if len(c.msg) > maxFrame {
				l.drop(c)
				return
			}
			if fin {
				if c.msgOp == opText {
					l.packet(c, c.msg, at)
				}
				c.msg = c.msg[:0]
			}
		case opPing:
			if c.write(opPong, payload) != nil {
				l.drop(c)
				return
			}
		case opClose:
			_ = c.write(opClose, nil)
			l.drop(c)
			return
		}
	}
	// Keep the unparsed tail (a partial frame) for the next read.
	if len(b) == 0 {
		c.pending = c.pending[:0]
	} else {
		c.pending = append(c.pending[:0:0], b...)
	}
}

// packet handles one Engine.IO packet.
func (l *loop) packet(c *rawConn, p []byte, at int64) {
	switch dispatch(p, at, c.h) {
	case pkPing:
		if c.write(opText, []byte("3")) != nil {
			l.drop(c)
			return
		}
		c.h.ping()
	case pkClose, pkDisconnect:
		l.drop(c)
	}
}

func (l *loop) drop(c *rawConn) {
	if c.closed {
		return
	}
	c.closed = true
	c.alive.Store(false)
	if c.poll != nil {
		c.poll.pc.close()
	}
	_ = syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
	syscall.Close(c.fd)
	delete(l.conns, c.fd)
}

func (l *loop) closeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		l.drop(c)
	}
	syscall.Close(l.epfd)
}

// receiveTime returns the kernel's receive time from a read's control messages (SO_TIMESTAMPNS):
// when the data reached the client's socket, which on loopback is while the server's write is
// under way. Latency is measured to that instant, not to when this process got round to reading:
// with thousands of sockets ready at once, the load generator's own queue would otherwise be
// counted against the server (for TCP the stamp is that of the last segment the read took, so a
// read of several messages errs late, never early).
func receiveTime(oob []byte) (int64, bool) {
	// Walked in place rather than with syscall.ParseSocketControlMessage, which allocates:
	// this runs for every read of every client.
	for len(oob) >= syscall.SizeofCmsghdr {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[0]))
		n := int(h.Len)
		if n < syscall.CmsgLen(0) || n > len(oob) {
			return 0, false
		}
		data := oob[syscall.CmsgLen(0):n]
		if h.Level == syscall.SOL_SOCKET && h.Type == syscall.SCM_TIMESTAMPNS && len(data) >= 16 {
			sec := int64(binary.NativeEndian.Uint64(data[0:8]))
			nsec := int64(binary.NativeEndian.Uint64(data[8:16]))
			if sec > 0 {
				return sec*1e9 + nsec, true
			}
		}
		oob = oob[min(syscall.CmsgSpace(n-syscall.CmsgLen(0)), len(oob)):]
	}
	return 0, false
}
