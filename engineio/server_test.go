package engineio

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestHandshakePolling checks the open packet of a long-polling handshake: the defaults of the
// Node.js reference server, a WebSocket upgrade on offer, and a fresh sid per session.
func TestHandshakePolling(t *testing.T) {
	e := newEnv(t, Config{})
	r := e.mustDo(t, http.MethodGet, "EIO=4&transport=polling", nil, nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d, body %q", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
		t.Errorf("Content-Type %q", ct)
	}
	o, err := parseOpen(r.body)
	if err != nil {
		t.Fatal(err)
	}
	want := openInfo{SID: o.SID, Upgrades: []string{"websocket"}, PingInterval: 25000, PingTimeout: 20000, MaxPayload: 1000000}
	if !slices.Equal(o.Upgrades, want.Upgrades) || o.PingInterval != want.PingInterval ||
		o.PingTimeout != want.PingTimeout || o.MaxPayload != want.MaxPayload {
		t.Errorf("open packet %+v, want %+v", o, want)
	}
	if e.srv.session(o.SID) == nil {
		t.Errorf("sid %q is not a live session", o.SID)
	}
	if o2 := e.handshake(t); o2.SID == o.SID {
		t.Errorf("two handshakes got the same sid %q", o.SID)
	}
	if n := e.srv.Count(); n != 2 {
		t.Errorf("Count() = %d, want 2", n)
	}
}

// TestHandshakeConfig checks that the configured heartbeat and payload limit are announced.
func TestHandshakeConfig(t *testing.T) {
	e := newEnv(t, Config{PingInterval: 1500 * time.Millisecond, PingTimeout: 700 * time.Millisecond, MaxPayload: 4242})
	o := e.handshake(t)
	if o.PingInterval != 1500 || o.PingTimeout != 700 || o.MaxPayload != 4242 {
		t.Errorf("open packet %+v", o)
	}
	cfg := e.srv.Config()
	if cfg.PingInterval != 1500*time.Millisecond || cfg.UpgradeTimeout != 10*time.Second || cfg.MaxQueuedFrames != 4096 {
		t.Errorf("Config() = %+v", cfg)
	}
}

// TestHandshakeWebSocket checks a session opened directly over WebSocket: the open packet is the
// first message and offers no upgrade.
func TestHandshakeWebSocket(t *testing.T) {
	e := newEnv(t, Config{})
	c, o := e.openWS(t)
	if len(o.Upgrades) != 0 || o.PingInterval != 25000 || o.PingTimeout != 20000 || o.MaxPayload != 1000000 {
		t.Errorf("open packet %+v", o)
	}
	s := e.srv.session(o.SID)
	if s == nil {
		t.Fatalf("sid %q is not a live session", o.SID)
	}
	if s.Transport() != "websocket" {
		t.Errorf("Transport() = %q", s.Transport())
	}
	writeText(t, c, "4hi")
	if got := readText(t, c); got != "4hi" {
		t.Errorf("echo: got %q", got)
	}
}

// TestEchoPolling checks message packets over long-polling: several packets in one POST, text and
// binary ("b" + base64), come back in one GET joined with the record separator.
func TestEchoPolling(t *testing.T) {
	e := newEnv(t, Config{})
	sid := e.handshake(t).SID
	payload := "4hello\x1ebAQID\x1e4wörld ✓\x1e4\x1eb"
	e.post(t, sid, payload)
	if got := e.get(t, sid); got != payload {
		t.Errorf("GET = %q, want %q", got, payload)
	}
	rs := e.rec.session(t, sid)
	rs.mu.Lock()
	got := slices.Clone(rs.msgs)
	rs.mu.Unlock()
	want := []string{"hello", "b:\x01\x02\x03", "wörld ✓", "", "b:"}
	if !slices.Equal(got, want) {
		t.Errorf("handler got %q, want %q", got, want)
	}
	if tr := e.srv.session(sid).Transport(); tr != "polling" {
		t.Errorf("Transport() = %q", tr)
	}
}

// TestPollingGetWaits checks that a GET with nothing to deliver waits, and is answered as soon as
// the application sends something.
func TestPollingGetWaits(t *testing.T) {
	e := newEnv(t, Config{})
	sid := e.handshake(t).SID
	ch := e.asyncGet(sid)
	e.waitGetPending(t, sid)
	select {
	case r := <-ch:
		t.Fatalf("GET answered with nothing to send: %+v", r)
	default:
	}
	s := e.srv.session(sid)
	if err := s.Send(TextMessage([]byte("one")), BinaryMessage([]byte{0xff, 0})); err != nil {
		t.Fatal(err)
	}
	if r := await(t, ch); r.status != http.StatusOK || r.body != "4one\x1eb/wA=" {
		t.Errorf("GET: %d %q", r.status, r.body)
	}
	// Frames queued while no GET is pending are kept, in order, for the next one.
	for _, m := range []string{"a", "b", "c"} {
		if err := s.Send(TextMessage([]byte(m))); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.get(t, sid); got != "4a\x1e4b\x1e4c" {
		t.Errorf("GET = %q", got)
	}
}

// TestEchoWebSocket checks text and binary messages over WebSocket, in order.
func TestEchoWebSocket(t *testing.T) {
	e := newEnv(t, Config{})
	c, _ := e.openWS(t)
	writeText(t, c, "4hello ✓")
	if err := c.Write(tctx(t), websocket.MessageBinary, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	writeText(t, c, "4")
	if got := readText(t, c); got != "4hello ✓" {
		t.Errorf("got %q", got)
	}
	if typ, got := readMsg(t, c); typ != websocket.MessageBinary || got != "\x01\x02\x03" {
		t.Errorf("got %v %q", typ, got)
	}
	if got := readText(t, c); got != "4" {
		t.Errorf("got %q", got)
	}
	for i := range 100 {
		writeText(t, c, "4"+strings.Repeat("x", i))
	}
	for i := range 100 {
		if got := readText(t, c); got != "4"+strings.Repeat("x", i) {
			t.Fatalf("message %d: got %q", i, got)
		}
	}
}

// TestCloseByClientPolling checks the close packet over long-polling: the pending GET gets a
// noop, OnClose says "transport close", a GET racing the close also gets a noop, and after that
// the sid is unknown.
func TestCloseByClientPolling(t *testing.T) {
	e := newEnv(t, Config{})
	h := e.openHealthy(t)
	sid := e.handshake(t).SID
	ch := e.asyncGet(sid)
	e.waitGetPending(t, sid)
	e.post(t, sid, "1")
	if r := await(t, ch); r.status != http.StatusOK || r.body != "6" {
		t.Errorf("pending GET: %d %q, want 200 \"6\"", r.status, r.body)
	}
	if reason := e.rec.waitClosed(t, sid); reason != ReasonTransportClose {
		t.Errorf("reason %q", reason)
	}
	r := e.mustDo(t, http.MethodGet, pollQuery(sid), nil, nil)
	if r.status != http.StatusBadRequest || r.body != `{"code":1,"message":"Session ID unknown"}` {
		t.Errorf("GET after close: %d %q", r.status, r.body)
	}

	// Without a pending GET, the GET that was already on its way gets a noop once.
	sid = e.handshake(t).SID
	e.post(t, sid, "1")
	if got := e.get(t, sid); got != "6" {
		t.Errorf("racing GET: %q", got)
	}
	if r := e.mustDo(t, http.MethodGet, pollQuery(sid), nil, nil); r.status != http.StatusBadRequest {
		t.Errorf("second GET after close: %d %q", r.status, r.body)
	}
	h.check(t)
	if n := e.srv.Count(); n != 2 {
		t.Errorf("Count() = %d, want the 2 healthy sessions", n)
	}
}

// TestCloseByClientWebSocket checks the close packet over WebSocket.
func TestCloseByClientWebSocket(t *testing.T) {
	e := newEnv(t, Config{})
	h := e.openHealthy(t)
	c, o := e.openWS(t)
	writeText(t, c, "1")
	expectWSClosed(t, c, false)
	if reason := e.rec.waitClosed(t, o.SID); reason != ReasonTransportClose {
		t.Errorf("reason %q", reason)
	}
	h.check(t)
}

// TestClientHangsUp checks that a client dropping its connection ends the session with
// "transport close", whether it closes the WebSocket properly or just disconnects.
func TestClientHangsUp(t *testing.T) {
	e := newEnv(t, Config{})
	c, o := e.openWS(t)
	if err := c.Close(websocket.StatusGoingAway, "bye"); err != nil {
		t.Fatal(err)
	}
	if reason := e.rec.waitClosed(t, o.SID); reason != ReasonTransportClose {
		t.Errorf("close handshake: reason %q, want %q", reason, ReasonTransportClose)
	}

	raw := dialRawWS(t, e.url("EIO=4&transport=websocket"))
	o2, err := parseOpen(raw.readText(t))
	if err != nil {
		t.Fatal(err)
	}
	_ = raw.conn.Close()
	if reason := e.rec.waitClosed(t, o2.SID); reason != ReasonTransportClose {
		t.Errorf("TCP hang-up: reason %q, want %q", reason, ReasonTransportClose)
	}
	waitFor(t, "Count() to reach 0", func() bool { return e.srv.Count() == 0 })
}

// TestPollingGetCancelled checks that a client abandoning its GET ends the session (a real client
// never does that while its session lives).
func TestPollingGetCancelled(t *testing.T) {
	e := newEnv(t, Config{})
	sid := e.handshake(t).SID
	c, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(c, http.MethodGet, e.url(pollQuery(sid)), nil)
	done := make(chan error, 1)
	go func() {
		res, err := e.client.Do(req)
		if err == nil {
			res.Body.Close()
		}
		done <- err
	}()
	e.waitGetPending(t, sid)
	cancel()
	<-done
	if reason := e.rec.waitClosed(t, sid); reason != ReasonTransportClose {
		t.Errorf("reason %q", reason)
	}
}

// TestSessionClose checks Session.Close over both transports: what is queued is delivered, then
// the close, and OnClose gets the reason given.
func TestSessionClose(t *testing.T) {
	e := newEnv(t, Config{})
	sid := e.handshake(t).SID
	s := e.srv.session(sid)
	_ = s.Send(TextMessage([]byte("last")))
	s.Close(ReasonForcedClose)
	if s.IsOpen() {
		t.Error("IsOpen() after Close")
	}
	if err := s.Send(TextMessage([]byte("late"))); !errors.Is(err, ErrSessionClosed) {
		t.Errorf("Send after Close: %v", err)
	}
	if got := e.get(t, sid); got != "4last\x1e1" {
		t.Errorf("GET = %q, want the queue then the close packet", got)
	}
	if reason := e.rec.waitClosed(t, sid); reason != ReasonForcedClose {
		t.Errorf("reason %q", reason)
	}

	c, o := e.openWS(t)
	s = e.srv.session(o.SID)
	_ = s.Send(TextMessage([]byte("last")))
	s.Close(ReasonForcedClose)
	if got := readText(t, c); got != "4last" {
		t.Errorf("got %q", got)
	}
	if err := expectWSClosed(t, c, false); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Errorf("close: %v, want a normal closure", err)
	}
	if reason := e.rec.waitClosed(t, o.SID); reason != ReasonForcedClose {
		t.Errorf("reason %q", reason)
	}
}

// TestSessionCloseWithoutPoll checks that a closing long-polling session whose client never polls
// again still ends, after a bounded wait.
func TestSessionCloseWithoutPoll(t *testing.T) {
	e := newEnv(t, Config{PingTimeout: 50 * time.Millisecond})
	sid := e.handshake(t).SID
	e.srv.session(sid).Close(ReasonForcedClose)
	if reason := e.rec.waitClosed(t, sid); reason != ReasonForcedClose {
		t.Errorf("reason %q", reason)
	}
	if n := e.srv.Count(); n != 0 {
		t.Errorf("Count() = %d", n)
	}
}

// TestServerClose checks graceful shutdown: frames queued before Close reach the clients of both
// transports ahead of the close, Close returns once every session has ended, and no new session
// is accepted.
func TestServerClose(t *testing.T) {
	e := newEnv(t, Config{})
	ws, o := e.openWS(t)
	psid := e.handshake(t).SID
	const n = 50
	for i := range n {
		for _, sid := range []string{o.SID, psid} {
			if err := e.srv.session(sid).Send(TextMessage([]byte{byte('a' + i%26)})); err != nil {
				t.Fatal(err)
			}
		}
	}
	closed := make(chan error, 1)
	go func() {
		c, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		closed <- e.srv.Close(c)
	}()
	for i := range n {
		if got, want := readText(t, ws), "4"+string(rune('a'+i%26)); got != want {
			t.Fatalf("message %d: got %q, want %q", i, got, want)
		}
	}
	if err := expectWSClosed(t, ws, false); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Errorf("websocket close: %v", err)
	}
	var want []string
	for i := range n {
		want = append(want, "4"+string(rune('a'+i%26)))
	}
	want = append(want, "1")
	if got := e.get(t, psid); got != strings.Join(want, "\x1e") {
		t.Errorf("polling: got %q", got)
	}
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Close did not return")
	}
	for _, sid := range []string{o.SID, psid} {
		if reason := e.rec.waitClosed(t, sid); reason != ReasonServerShutdown {
			t.Errorf("%s: reason %q", sid, reason)
		}
	}
	if n := e.srv.Count(); n != 0 {
		t.Errorf("Count() = %d", n)
	}
	if r := e.mustDo(t, http.MethodGet, "EIO=4&transport=polling", nil, nil); r.status != http.StatusServiceUnavailable {
		t.Errorf("handshake after Close: %d %q", r.status, r.body)
	}
	// A WebSocket handshake after Close is either refused or closed before any open packet.
	if c, res, err := websocket.Dial(tctx(t), e.wsURL("EIO=4&transport=websocket"), nil); err == nil {
		if _, b, err := c.Read(tctx(t)); err == nil {
			t.Errorf("websocket session opened after Close: %q", b)
		}
		_ = c.CloseNow()
	} else if res == nil || res.StatusCode < 400 {
		t.Errorf("websocket handshake after Close: %v", err)
	}
}

// TestServerCloseDeadline checks that Close cuts what is left when its context ends: a polling
// client that never comes back cannot hold shutdown up.
func TestServerCloseDeadline(t *testing.T) {
	e := newEnv(t, Config{})
	sid := e.handshake(t).SID
	c, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := e.srv.Close(c); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want DeadlineExceeded", err)
	}
	if reason := e.rec.waitClosed(t, sid); reason != ReasonServerShutdown {
		t.Errorf("reason %q", reason)
	}
	if n := e.srv.Count(); n != 0 {
		t.Errorf("Count() = %d", n)
	}
}

// TestQueueFull checks the bounded send queue: a Send that would exceed MaxQueuedFrames closes
// the session with "send queue full".
func TestQueueFull(t *testing.T) {
	e := newEnv(t, Config{MaxQueuedFrames: 4})
	h := e.openHealthy(t)
	sid := e.handshake(t).SID
	s := e.srv.session(sid)
	for i := range 4 {
		if err := s.Send(TextMessage([]byte{'0' + byte(i)})); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	if err := s.Send(TextMessage([]byte("over"))); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("Send past the bound = %v, want ErrQueueFull", err)
	}
	if reason := e.rec.waitClosed(t, sid); reason != ReasonQueueFull {
		t.Errorf("reason %q", reason)
	}
	h.check(t)
}

// TestTrySend checks volatile sends: refused while a polling client has no GET waiting or a
// queue is not empty, accepted when the client is ready.
func TestTrySend(t *testing.T) {
	e := newEnv(t, Config{})
	sid := e.handshake(t).SID
	s := e.srv.session(sid)
	if s.TrySend(TextMessage([]byte("dropped"))) {
		t.Error("TrySend accepted with no GET pending")
	}
	ch := e.asyncGet(sid)
	e.waitGetPending(t, sid)
	if !s.TrySend(TextMessage([]byte("kept"))) {
		t.Error("TrySend refused with a GET pending")
	}
	if r := await(t, ch); r.body != "4kept" {
		t.Errorf("GET = %q", r.body)
	}

	c, o := e.openWS(t)
	ws := e.srv.session(o.SID)
	waitFor(t, "the open packet to be flushed", func() bool {
		ws.mu.Lock()
		defer ws.mu.Unlock()
		return !ws.writing && len(ws.queue) == 0
	})
	if !ws.TrySend(TextMessage([]byte("kept"))) {
		t.Error("TrySend refused on an idle WebSocket")
	}
	if got := readText(t, c); got != "4kept" {
		t.Errorf("got %q", got)
	}
	ws.Close(ReasonForcedClose)
	if ws.TrySend(TextMessage([]byte("late"))) {
		t.Error("TrySend accepted on a closed session")
	}
}

// TestSessionRequest checks that the handshake request is kept for the layers above, detached
// from its connection.
func TestSessionRequest(t *testing.T) {
	e := newEnv(t, Config{})
	r := e.mustDo(t, http.MethodGet, "EIO=4&transport=polling&token=abc", nil, http.Header{"X-Test": {"yes"}})
	o, err := parseOpen(r.body)
	if err != nil {
		t.Fatal(err)
	}
	s := e.srv.session(o.SID)
	req := s.Request()
	if req.Header.Get("X-Test") != "yes" || req.URL.Query().Get("token") != "abc" || req.RemoteAddr == "" {
		t.Errorf("Request() lost details: %v %v %q", req.Header, req.URL, req.RemoteAddr)
	}
	if req.Context().Err() != nil {
		t.Error("the request's context ended with its connection")
	}
	if s.ID() != o.SID {
		t.Errorf("ID() = %q", s.ID())
	}
}

// TestOpenCanClose checks that a Handler may refuse a session from inside Open: the client gets
// the open packet then the close packet, and OnClose runs once, after Open has returned (it used
// to race with Open: the close could reach the handler before it existed).
func TestOpenCanClose(t *testing.T) {
	e := newEnv(t, Config{})
	e.rec.setOnOpen(func(s *Session) {
		_ = s.Send(TextMessage([]byte("go away")))
		s.Close(ReasonForcedClose)
	})
	sid := e.handshake(t).SID
	if got := e.get(t, sid); got != "4go away\x1e1" {
		t.Errorf("GET = %q", got)
	}
	if reason := e.rec.waitClosed(t, sid); reason != ReasonForcedClose {
		t.Errorf("reason %q", reason)
	}

	c, o := e.openWS(t)
	if got := readText(t, c); got != "4go away" {
		t.Errorf("got %q", got)
	}
	expectWSClosed(t, c, false)
	if reason := e.rec.waitClosed(t, o.SID); reason != ReasonForcedClose {
		t.Errorf("reason %q", reason)
	}

	// Overflowing the queue from Open ends the session at once.
	e.rec.setOnOpen(func(s *Session) {
		for range e.srv.cfg.MaxQueuedFrames + 1 {
			_ = s.Send(TextMessage([]byte("x")))
		}
	})
	r := e.mustDo(t, http.MethodGet, "EIO=4&transport=polling", nil, nil)
	o2, err := parseOpen(r.body)
	if err != nil {
		t.Fatal(err)
	}
	if reason := e.rec.waitClosed(t, o2.SID); reason != ReasonQueueFull {
		t.Errorf("reason %q", reason)
	}
	waitFor(t, "Count() to reach 0", func() bool { return e.srv.Count() == 0 })
}

// TestWebSocketControlFrames checks the WebSocket-level ping and close: a ping gets a pong with
// its payload, in order with the messages, and a close frame is answered and ends the session
// with "transport close".
func TestWebSocketControlFrames(t *testing.T) {
	e := newEnv(t, Config{})
	raw, sid := e.openRaw(t)
	buf := appendFrame(nil, wsFin|wsOpText, []byte("4one"))
	buf = appendFrame(buf, wsFin|wsOpPing, []byte("are you there"))
	buf = appendFrame(buf, wsOpText, []byte("4tw")) // a fragmented message around a ping
	buf = appendFrame(buf, wsFin|wsOpPing, nil)
	buf = appendFrame(buf, wsFin|wsOpContinuation, []byte("o"))
	if err := raw.write(buf); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		op byte
		p  string
	}{{wsOpText, "4one"}, {0xA, "are you there"}, {0xA, ""}, {wsOpText, "4two"}}
	for _, w := range want {
		op, p, err := raw.readFrame()
		if err != nil || op != w.op || string(p) != w.p {
			t.Fatalf("got %d %q %v, want %d %q", op, p, err, w.op, w.p)
		}
	}
	if err := raw.write(appendFrame(nil, wsFin|wsOpClose, []byte{0x03, 0xe8})); err != nil {
		t.Fatal(err)
	}
	if code := raw.expectClosed(t); code != 1000 {
		t.Errorf("close answered with %d", code)
	}
	if reason := e.rec.waitClosed(t, sid); reason != ReasonTransportClose {
		t.Errorf("reason %q", reason)
	}
}

// TestWebSocketPingFlood checks that a client pinging without reading its pongs cannot make the
// server queue without bound.
func TestWebSocketPingFlood(t *testing.T) {
	e := newEnv(t, Config{MaxQueuedFrames: 16})
	h := e.openHealthy(t)
	raw, sid := e.openRaw(t)
	_ = raw.conn.(*net.TCPConn).SetReadBuffer(4096)
	s := e.srv.session(sid)
	withSessionLock(s, func() { setWriteBuffer(t, s.ws.nc, 4096) })
	ping := appendFrame(nil, wsFin|wsOpPing, bytes.Repeat([]byte("p"), 125))
	for i := 0; i < 100_000 && !e.rec.isClosed(t, sid); i++ {
		if err := raw.write(ping); err != nil {
			break // the server hung up
		}
	}
	if reason := e.rec.waitClosed(t, sid); reason != ReasonQueueFull && reason != ReasonTransportError {
		t.Errorf("reason %q", reason)
	}
	h.check(t)
}

// TestServerCloseReleasesEverything checks that a server that served sessions of every kind
// gives back every goroutine and file descriptor once it is closed (the WebSocket poller
// included).
func TestServerCloseReleasesEverything(t *testing.T) {
	fds := func() int {
		entries, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			return -1
		}
		return len(entries)
	}
	steady := func(measure func() int) int {
		n, same := measure(), 0
		for deadline := time.Now().Add(2 * time.Second); same < 5 && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
			if m := measure(); m == n {
				same++
			} else {
				n, same = m, 0
			}
		}
		return n
	}
	baseG, baseFD := steady(runtime.NumGoroutine), steady(fds)

	rec := newRecorder()
	srv := NewServer(Config{Logger: discardLogger}, rec)
	ts := httptest.NewServer(srv)
	e := &env{srv: srv, ts: ts, rec: rec, client: &http.Client{Transport: &http.Transport{}, Timeout: waitLimit}}
	var clientConns []func() error // the client ends count as descriptors of this process too
	for range 5 {
		c, _ := e.openWS(t)
		writeText(t, c, "4x")
		readText(t, c)
		sid := e.handshake(t).SID
		e.post(t, sid, "4y")
		e.get(t, sid)
		u := e.upgrade(t, e.handshake(t).SID)
		writeText(t, u, "4z")
		readText(t, u)
		raw, _ := e.openRaw(t)
		clientConns = append(clientConns, c.CloseNow, u.CloseNow, raw.conn.Close)
	}
	c, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_ = srv.Close(c)
	for _, close := range clientConns {
		_ = close()
	}
	e.client.CloseIdleConnections()
	ts.Close()
	rec.checkCloseCounts(t)

	deadline := time.Now().Add(waitLimit)
	// No slack on descriptors (a leaked poller is one goroutine and two descriptors), a little
	// on goroutines, which the runtime may start on its own.
	const slackG = 2
	for (runtime.NumGoroutine() > baseG+slackG || fds() > baseFD) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseG+slackG {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: %d after Close, %d before\n%s", n, baseG, buf[:runtime.Stack(buf, true)])
	}
	if baseFD >= 0 {
		if n := fds(); n > baseFD {
			t.Errorf("file descriptors: %d after Close, %d before", n, baseFD)
		}
	}
}
