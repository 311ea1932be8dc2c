//go:build !herald_portable

package engineio

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// newTLSEnv is newEnv served over TLS, through Listener as herald serves it: tls.Conn on top of
// the package's raw connection. Its client trusts the test certificate.
func newTLSEnv(t testing.TB, cfg Config) *env {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = discardLogger
	}
	rec := newRecorder()
	srv := NewServer(cfg, rec)
	mux := http.NewServeMux()
	mux.Handle("/engine.io/", srv)
	ts := httptest.NewUnstartedServer(mux)
	ts.Listener = Listener(ts.Listener)
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes cut short by the tests
	ts.StartTLS()
	client := ts.Client()
	client.Timeout = waitLimit
	e := &env{srv: srv, ts: ts, rec: rec, client: client}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_ = srv.Close(ctx)
		e.client.CloseIdleConnections()
		ts.Close()
		rec.checkCloseCounts(t)
	})
	return e
}

// tlsConfig returns the client side's TLS settings for e's server.
func (e *env) tlsConfig() *tls.Config {
	cfg := e.client.Transport.(*http.Transport).TLSClientConfig.Clone()
	cfg.ServerName = "127.0.0.1" // the test certificate names it
	return cfg
}

// heldConn is what a test TLS client writes through: while hold is set its writes are kept
// and sent together by flush, in one write, so that several records share a TCP segment; while
// trickle is set each write is sent a few bytes at a time, so that records arrive in pieces.
type heldConn struct {
	net.Conn
	mu      sync.Mutex
	hold    bool
	trickle bool
	held    []byte
}

func (c *heldConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.hold:
		c.held = append(c.held, p...)
		return len(p), nil
	case c.trickle:
		for i := 0; i < len(p); i += 3 {
			if _, err := c.Conn.Write(p[i:min(i+3, len(p))]); err != nil {
				return i, err
			}
			time.Sleep(200 * time.Microsecond)
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// take returns the held bytes and stops holding.
func (c *heldConn) take() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.held
	c.held, c.hold = nil, false
	return b
}

// dialRawWSS is dialRawWSEarly over TLS: the handshake request and early go out as TLS records
// in one TCP segment. It returns the raw client and what its TLS runs over.
func (e *env) dialRawWSS(t testing.TB, query string, early []byte) (*rawWS, *heldConn) {
	t.Helper()
	return e.dialRawWSSVia(t, &net.Dialer{Timeout: waitLimit}, query, early)
}

// dialRawWSSVia is dialRawWSS with the TCP connection made by d.
func (e *env) dialRawWSSVia(t testing.TB, d *net.Dialer, query string, early []byte) (*rawWS, *heldConn) {
	t.Helper()
	u, err := url.Parse(e.url(query))
	if err != nil {
		t.Fatal(err)
	}
	tcp, err := d.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	hc := &heldConn{Conn: tcp}
	conn := tls.Client(hc, e.tlsConfig())
	t.Cleanup(func() { _ = tcp.Close() })
	_ = conn.SetDeadline(time.Now().Add(waitLimit))
	if err := conn.Handshake(); err != nil {
		t.Fatal(err)
	}
	var key [16]byte
	_, _ = rand.Read(key[:])
	req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
		u.RequestURI(), u.Host, base64.StdEncoding.EncodeToString(key[:]))
	hc.mu.Lock()
	hc.hold = true
	hc.mu.Unlock()
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	if len(early) > 0 {
		if _, err := conn.Write(early); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tcp.Write(hc.take()); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("raw handshake: status %d", res.StatusCode)
	}
	_ = conn.SetDeadline(time.Time{})
	return &rawWS{conn: conn, br: br}, hc
}

// serverTLS reports whether the session's WebSocket took the raw TLS path.
func serverTLS(s *Session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ws != nil && s.ws.tlsRaw != nil && s.ws.fd >= 0
}

// TestTLSWebSocketSession: a real WebSocket client over TLS opens a session, which takes the
// raw path, and messages of every size go both ways, the large ones as many records.
func TestTLSWebSocketSession(t *testing.T) {
	e := newTLSEnv(t, Config{})
	c, _ := e.openWS(t)
	s := <-e.rec.opened
	if !serverTLS(s) {
		t.Fatal("the session's WebSocket is not on the raw TLS path")
	}
	for _, n := range []int{1, 100, 16 << 10, 100 << 10} {
		msg := "4" + strings.Repeat(string(rune('a'+n%26)), n)
		writeText(t, c, msg)
		if got := readText(t, c); got != msg {
			t.Fatalf("%d bytes: echo of %d bytes differs", n, len(got))
		}
	}
	// Several sends in a row: the writers may join them into one record.
	for i := range 50 {
		if err := s.Send(Frame{Data: fmt.Appendf(nil, "4n%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 50 {
		if got, want := readText(t, c), fmt.Sprintf("4n%d", i); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

// TestTLSRecordsCoalescedAndFragmented: records that arrive behind the handshake request in the
// same segment (which the server has read from the kernel before the WebSocket exists) and
// records that arrive a few bytes at a time are all delivered, in order.
func TestTLSRecordsCoalescedAndFragmented(t *testing.T) {
	e := newTLSEnv(t, Config{})
	var early []byte
	for i := range 3 {
		early = appendFrame(early, wsFin|wsOpText, fmt.Appendf(nil, "4early%d", i))
	}
	c, hc := e.dialRawWSS(t, "EIO=4&transport=websocket", early)
	if _, err := parseOpen(c.readText(t)); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if got, want := c.readText(t), fmt.Sprintf("4early%d", i); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	if s := <-e.rec.opened; !serverTLS(s) {
		t.Fatal("the session's WebSocket is not on the raw TLS path")
	}

	// Many records in one segment, then many records in pieces.
	hc.mu.Lock()
	hc.hold = true
	hc.mu.Unlock()
	for i := range 20 {
		if err := c.write(appendFrame(nil, wsFin|wsOpText, fmt.Appendf(nil, "4held%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := hc.Conn.Write(hc.take()); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if got, want := c.readText(t), fmt.Sprintf("4held%d", i); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	hc.mu.Lock()
	hc.trickle = true
	hc.mu.Unlock()
	for i := range 5 {
		msg := fmt.Sprintf("4trickle%d-%s", i, strings.Repeat("x", 40*i))
		if err := c.write(appendFrame(nil, wsFin|wsOpText, []byte(msg))); err != nil {
			t.Fatal(err)
		}
		if got := c.readText(t); got != msg {
			t.Fatalf("got %q, want %q", got, msg)
		}
	}
}

// TestTLSClientClosesMidRecord: a client that sends part of a record and hangs up ends its
// session, and the server keeps serving others.
func TestTLSClientClosesMidRecord(t *testing.T) {
	e := newTLSEnv(t, Config{})
	other, _ := e.openWS(t)
	<-e.rec.opened
	c, hc := e.dialRawWSS(t, "EIO=4&transport=websocket", nil)
	o, err := parseOpen(c.readText(t))
	if err != nil {
		t.Fatal(err)
	}
	hc.mu.Lock()
	hc.hold = true
	hc.mu.Unlock()
	if err := c.write(appendFrame(nil, wsFin|wsOpText, []byte("4never whole"))); err != nil {
		t.Fatal(err)
	}
	record := hc.take()
	if _, err := hc.Conn.Write(record[:len(record)/2]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // let the server read the half record and wait for the rest
	_ = hc.Conn.Close()
	if reason := e.rec.waitClosed(t, o.SID); reason != ReasonTransportClose && reason != ReasonTransportError {
		t.Errorf("reason %q", reason)
	}
	rs := e.rec.session(t, o.SID)
	rs.mu.Lock()
	if len(rs.msgs) != 0 {
		t.Errorf("a half record was delivered: %q", rs.msgs)
	}
	rs.mu.Unlock()
	writeText(t, other, "4still here")
	if got := readText(t, other); got != "4still here" {
		t.Errorf("got %q", got)
	}
}

// TestTLSIdleSocketsHoldNoGoroutine: idle WebSockets over TLS wait in the poller, like plain
// ones, rather than each in a goroutine blocked in tls.Conn.Read; and they still answer.
func TestTLSIdleSocketsHoldNoGoroutine(t *testing.T) {
	const n = 500
	e := newTLSEnv(t, Config{PingInterval: time.Hour})
	// The raw clients run no goroutine, so the count is the server's.
	c0, _ := e.dialRawWSS(t, "EIO=4&transport=websocket", nil)
	c0.readText(t)
	<-e.rec.opened
	base := settledGoroutines()
	clients := make([]*rawWS, n)
	sessions := make([]*Session, n)
	for i := range clients {
		clients[i], _ = e.dialRawWSS(t, "EIO=4&transport=websocket", nil)
		clients[i].readText(t)
		sessions[i] = <-e.rec.opened
	}
	e.client.CloseIdleConnections()
	if got := settledGoroutines(); got-base >= 50 {
		t.Fatalf("%d idle TLS WebSockets: goroutines grew from %d to %d", n, base, got)
	}
	for i, c := range clients {
		if !serverTLS(sessions[i]) {
			t.Fatal("a session's WebSocket is not on the raw TLS path")
		}
		if err := c.write(appendFrame(nil, wsFin|wsOpText, fmt.Appendf(nil, "4m%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range clients {
		if got, want := c.readText(t), fmt.Sprintf("4m%d", i); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	if got := settledGoroutines(); got-base >= 50 {
		t.Fatalf("after a message each: goroutines grew from %d to %d", base, got)
	}
}

// settledGoroutines returns the goroutine count once it has stopped changing (bounded wait).
func settledGoroutines() int {
	n, same := runtime.NumGoroutine(), 0
	for deadline := time.Now().Add(3 * time.Second); same < 10 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		if m := runtime.NumGoroutine(); m == n {
			same++
		} else {
			n, same = m, 0
		}
	}
	return n
}

// TestTLSSlowReaderKeepsOrder: a client that stops reading makes the socket refuse ciphertext
// part-way through a record; what it did not take is written first once it reads again, so every
// frame arrives whole and in order.
func TestTLSSlowReaderKeepsOrder(t *testing.T) {
	e := newTLSEnv(t, Config{MaxQueuedFrames: 1 << 16})
	// A small receive buffer set before the connection is made: set after, with the window
	// scale already agreed for a large one, the kernel stalls the transfer in zero-window probes.
	small := &net.Dialer{Timeout: waitLimit, Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	c, _ := e.dialRawWSSVia(t, small, "EIO=4&transport=websocket", nil)
	c.readText(t)
	s := <-e.rec.opened
	s.mu.Lock()
	records := s.ws.tlsRaw
	setWriteBuffer(t, records.conn, 4096)
	s.mu.Unlock()
	const frames = 2000
	payload := strings.Repeat("y", 500)
	for i := range frames {
		if err := s.Send(Frame{Data: fmt.Appendf(nil, "4%d-%s", i, payload)}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the socket to refuse part of a record", func() bool {
		if !records.pmu.TryLock() {
			return true // a flush of what was refused is under way
		}
		defer records.pmu.Unlock()
		return len(records.pending) > 0
	})
	for i := range frames {
		if got, want := c.readText(t), fmt.Sprintf("4%d-%s", i, payload); got != want {
			t.Fatalf("frame %d: got %.20q…, want %.20q…", i, got, want)
		}
	}
}

// TestTLSRecordsHandedOneAtATime drives the record layer alone: whatever way records arrive,
// one Read never returns more than one of them, a nonblocking Read reports errWouldBlock until
// a record is whole, and a record longer than TLS allows is refused.
func TestTLSRecordsHandedOneAtATime(t *testing.T) {
	server, client := tcpPair(t, Listener)
	record := func(n int) []byte {
		r := []byte{tlsRecordTypeShake, 3, 3, byte(n >> 8), byte(n)}
		return append(r, bytes.Repeat([]byte{byte(n)}, n)...)
	}
	sizes := []int{0, 1, 300, 16384, 18432, 7}
	var all []byte
	for _, n := range sizes {
		all = append(all, record(n)...)
	}
	go func() {
		_, _ = client.Write(all[:1]) // the first Read sees one byte, which must be enough to tell
		time.Sleep(10 * time.Millisecond)
		for i := 1; i < len(all); i += 7000 {
			_, _ = client.Write(all[i:min(i+7000, len(all))])
		}
	}()
	_ = server.SetReadDeadline(time.Now().Add(waitLimit))
	buf := make([]byte, 32<<10)
	for _, n := range sizes {
		got, err := server.Read(buf)
		if err != nil || !bytes.Equal(buf[:got], record(n)) {
			t.Fatalf("record of %d: Read = %d bytes, %v", n, got, err)
		}
	}
	raw := server.(*rawTCPConn)
	if raw.tls == nil {
		t.Fatal("a connection starting with a handshake record is not taken for TLS")
	}
	if raw.tls.buf != nil {
		t.Errorf("a drained connection holds a %d-byte buffer", cap(raw.tls.buf))
	}

	raw.tls.nonblock = true
	if _, err := server.Read(buf); err != errWouldBlock {
		t.Fatalf("nonblocking Read with nothing = %v, want errWouldBlock", err)
	}
	r := record(1000)
	_, _ = client.Write(r[:600])
	waitFor(t, "the half record to be read", func() bool {
		_, err := server.Read(buf)
		return err == errWouldBlock && len(raw.tls.buf) == 600
	})
	if cap(raw.tls.buf) > 1024 {
		t.Errorf("waiting with a partial record of 600 bytes, the buffer is %d bytes", cap(raw.tls.buf))
	}
	_, _ = client.Write(r[600:])
	var got int
	var err error
	waitFor(t, "the whole record", func() bool {
		got, err = server.Read(buf[:100]) // a short buffer gets the record in parts
		return err != errWouldBlock
	})
	if err != nil || !bytes.Equal(buf[:got], r[:100]) {
		t.Fatalf("first part: %d bytes, %v", got, err)
	}
	rest, err := server.Read(buf)
	if err != nil || !bytes.Equal(buf[:rest], r[100:]) {
		t.Fatalf("rest: %d bytes, %v", rest, err)
	}

	_, _ = client.Write([]byte{23, 3, 3, 0xff, 0xff})
	waitFor(t, "the oversized header", func() bool {
		_, err = server.Read(buf)
		return err != errWouldBlock
	})
	if !errors.Is(err, errRecordTooLong) {
		t.Fatalf("oversized record: %v", err)
	}
}

// TestPlainConnNotTakenForTLS: an HTTP request is read as it is.
func TestPlainConnNotTakenForTLS(t *testing.T) {
	server, client := tcpPair(t, Listener)
	_, _ = client.Write([]byte("GET / HTTP/1.1\r\n"))
	buf := make([]byte, 64)
	_ = server.SetReadDeadline(time.Now().Add(waitLimit))
	n, err := io.ReadAtLeast(server, buf, 16)
	if err != nil || string(buf[:n]) != "GET / HTTP/1.1\r\n" || server.(*rawTCPConn).tls != nil {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
}

// TestTLSPollingAndUpgrade: long-polling over TLS, and its upgrade to a WebSocket that takes
// the raw path.
func TestTLSPollingAndUpgrade(t *testing.T) {
	e := newTLSEnv(t, Config{})
	sid := e.handshake(t).SID
	e.post(t, sid, "4poll")
	if got := e.get(t, sid); got != "4poll" {
		t.Fatalf("got %q", got)
	}
	c := e.upgrade(t, sid)
	writeText(t, c, "4ws")
	if got := readText(t, c); got != "4ws" {
		t.Fatalf("got %q", got)
	}
	if !serverTLS(e.srv.session(sid)) {
		t.Fatal("the upgraded WebSocket is not on the raw TLS path")
	}
	_ = c.Close(websocket.StatusNormalClosure, "")
	if reason := e.rec.waitClosed(t, sid); reason != ReasonTransportClose {
		t.Errorf("reason %q", reason)
	}
}
