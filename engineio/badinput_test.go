package engineio

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Every test here sends one kind of bad input and checks three things: the request is refused
// as the specification says, the session it concerns is closed (when there is one), and the
// other sessions — one per transport, opened beforehand — keep working.

const (
	sessionUnknownBody = `{"code":1,"message":"Session ID unknown"}`
	badRequestBody     = `{"code":3,"message":"Bad request"}`
)

// expectGone checks that sid was closed with reason and that requests on it are now refused.
func (e *env) expectGone(t *testing.T, sid, reason string) {
	t.Helper()
	if got := e.rec.waitClosed(t, sid); got != reason {
		t.Errorf("session closed with %q, want %q", got, reason)
	}
	if e.srv.session(sid) != nil {
		t.Errorf("session %s still in the table", sid)
	}
	r := e.mustDo(t, http.MethodPost, pollQuery(sid), strings.NewReader("4x"), nil)
	if r.status != http.StatusBadRequest || r.body != sessionUnknownBody {
		t.Errorf("POST on the closed session: %d %q", r.status, r.body)
	}
}

// TestPostTooLarge checks the polling body limit: over MaxPayload gets 413 and closes the
// session, whether the size is announced (Content-Length) or discovered while reading
// (chunked); exactly MaxPayload is accepted.
func TestPostTooLarge(t *testing.T) {
	const limit = 64
	e := newEnv(t, Config{MaxPayload: limit})
	h := e.openHealthy(t)

	sid := e.handshake(t).SID
	exact := "4" + strings.Repeat("x", limit-1)
	e.post(t, sid, exact)
	if got := e.get(t, sid); got != exact {
		t.Errorf("GET = %q", got)
	}

	for name, body := range map[string]func() io.Reader{
		"Content-Length": func() io.Reader { return strings.NewReader("4" + strings.Repeat("x", limit)) },
		"chunked":        func() io.Reader { return io.MultiReader(strings.NewReader("4" + strings.Repeat("x", 4*limit))) },
	} {
		t.Run(name, func(t *testing.T) {
			sid := e.handshake(t).SID
			r := e.mustDo(t, http.MethodPost, pollQuery(sid), body(), nil)
			if r.status != http.StatusRequestEntityTooLarge {
				t.Errorf("status %d, body %q", r.status, r.body)
			}
			e.expectGone(t, sid, ReasonPayloadTooBig)
			h.check(t)
		})
	}
}

// TestPostOctetStream checks that a raw binary POST (not how Engine.IO v4 sends binary) is
// refused with 400 and closes the session.
func TestPostOctetStream(t *testing.T) {
	e := newEnv(t, Config{})
	h := e.openHealthy(t)
	sid := e.handshake(t).SID
	r := e.mustDo(t, http.MethodPost, pollQuery(sid), bytes.NewReader([]byte{1, 2, 3}),
		http.Header{"Content-Type": {"application/octet-stream"}})
	if r.status != http.StatusBadRequest || r.body != badRequestBody {
		t.Errorf("status %d, body %q", r.status, r.body)
	}
	e.expectGone(t, sid, ReasonParseError)
	h.check(t)
}

// TestSecondConcurrentGet checks that a second GET while one is pending is an error: the first
// receives the close packet, the second 400, and the session is gone.
func TestSecondConcurrentGet(t *testing.T) {
	e := newEnv(t, Config{})
	h := e.openHealthy(t)
	sid := e.handshake(t).SID
	first := e.asyncGet(sid)
	e.waitGetPending(t, sid)
	r := e.mustDo(t, http.MethodGet, pollQuery(sid), nil, nil)
	if r.status != http.StatusBadRequest || r.body != badRequestBody {
		t.Errorf("second GET: %d %q", r.status, r.body)
	}
	if r := await(t, first); r.status != http.StatusOK || r.body != "1" {
		t.Errorf("first GET: %d %q, want 200 \"1\"", r.status, r.body)
	}
	e.expectGone(t, sid, ReasonTransportError)
	h.check(t)
}

// TestSecondConcurrentPost checks that a second POST while one is still being received is an
// error (400) that closes the session.
func TestSecondConcurrentPost(t *testing.T) {
	e := newEnv(t, Config{})
	h := e.openHealthy(t)
	sid := e.handshake(t).SID
	s := e.srv.session(sid)
	pr, pw := io.Pipe()
	first := make(chan result, 1)
	go func() {
		r, err := e.do(http.MethodPost, pollQuery(sid), pr, nil)
		first <- result{r, err}
	}()
	if _, err := pw.Write([]byte("4part")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first POST to be active", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.postActive
	})
	r := e.mustDo(t, http.MethodPost, pollQuery(sid), strings.NewReader("4second"), nil)
	if r.status != http.StatusBadRequest || r.body != badRequestBody {
		t.Errorf("second POST: %d %q", r.status, r.body)
	}
	e.expectGone(t, sid, ReasonTransportError)
	_ = pw.Close()
	await(t, first) // whatever it says, it must be answered
	rs := e.rec.session(t, sid)
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if len(rs.msgs) != 0 {
		t.Errorf("messages delivered from a session closed for misbehaving: %q", rs.msgs)
	}
	h.check(t)
}

// TestUnknownSID checks the answer to a sid the server does not know, on every kind of request.
func TestUnknownSID(t *testing.T) {
	e := newEnv(t, Config{})
	h := e.openHealthy(t)
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		r := e.mustDo(t, m, pollQuery("no-such-sid"), strings.NewReader("4x"), nil)
		if r.status != http.StatusBadRequest || r.body != sessionUnknownBody {
			t.Errorf("%s: %d %q", m, r.status, r.body)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q", m, ct)
		}
	}
	if status, body := e.dialWSStatus(t, "EIO=4&transport=websocket&sid=no-such-sid", nil); status != http.StatusBadRequest || body != sessionUnknownBody {
		t.Errorf("upgrade: %d %q", status, body)
	}
	h.check(t)
}

// TestBadQuery checks missing or wrong EIO and transport parameters, on long-polling requests and
// on WebSocket handshakes, new sessions and upgrades alike. A bad request naming a live session
// is refused without closing it (anyone who learnt the sid could otherwise close it).
func TestBadQuery(t *testing.T) {
	e := newEnv(t, Config{})
	h := e.openHealthy(t)
	const (
		version   = `{"code":5,"message":"Unsupported protocol version"}`
		transport = `{"code":0,"message":"Transport unknown"}`
	)
	sid := e.handshake(t).SID
	cases := []struct{ query, want string }{
		{"transport=polling", version},
		{"EIO=3&transport=polling", version},
		{"EIO=5&transport=polling", version},
		{"EIO=4x&transport=polling", version},
		{"EIO=&transport=polling", version},
		{"EIO=4", transport},
		{"EIO=4&transport=", transport},
		{"EIO=4&transport=flashsocket", transport},
		{"EIO=4&transport=POLLING", transport},
		{"EIO=4&transport=webtransport", transport},
		{"EIO=3&transport=polling&sid=" + sid, version},
		{"EIO=4&transport=xhr&sid=" + sid, transport},
		{"transport=polling&sid=" + sid, version},
	}
	for _, c := range cases {
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			r := e.mustDo(t, m, c.query, strings.NewReader("4x"), nil)
			if r.status != http.StatusBadRequest || r.body != c.want {
				t.Errorf("%s ?%s: %d %q, want 400 %s", m, c.query, r.status, r.body, c.want)
			}
		}
	}
	wsCases := []struct{ query, want string }{
		{"transport=websocket", version},
		{"EIO=3&transport=websocket", version},
		{"EIO=4", transport},
		{"EIO=4&transport=bogus", transport},
		{"EIO=3&transport=websocket&sid=" + sid, version},
		{"EIO=4&transport=bogus&sid=" + sid, transport},
		// A WebSocket handshake announced as long-polling.
		{"EIO=4&transport=polling", badRequestBody},
		{"EIO=4&transport=polling&sid=" + sid, badRequestBody},
	}
	for _, c := range wsCases {
		if status, body := e.dialWSStatus(t, c.query, nil); status != http.StatusBadRequest || body != c.want {
			t.Errorf("WebSocket ?%s: %d %q, want 400 %s", c.query, status, body, c.want)
		}
	}
	if e.rec.isClosed(t, sid) {
		t.Error("a refused request closed the session it named")
	}
	e.post(t, sid, "4still")
	if got := e.get(t, sid); got != "4still" {
		t.Errorf("GET = %q", got)
	}
	if n := e.srv.Count(); n != 3 {
		t.Errorf("Count() = %d, want 3: a refused request opened a session", n)
	}
	h.check(t)
}

// TestBadHandshakeMethod checks that only GET opens a long-polling session, and that other
// methods on a session are refused.
func TestBadHandshakeMethod(t *testing.T) {
	e := newEnv(t, Config{})
	h := e.openHealthy(t)
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		r := e.mustDo(t, m, "EIO=4&transport=polling", strings.NewReader("4x"), nil)
		if r.status != http.StatusBadRequest || r.body != `{"code":2,"message":"Bad handshake method"}` {
			t.Errorf("%s handshake: %d %q", m, r.status, r.body)
		}
	}
	sid := e.handshake(t).SID
	for _, m := range []string{http.MethodPut, http.MethodDelete} {
		r := e.mustDo(t, m, pollQuery(sid), strings.NewReader("4x"), nil)
		if r.status != http.StatusBadRequest || r.body != badRequestBody {
			t.Errorf("%s on a session: %d %q", m, r.status, r.body)
		}
	}
	if n := e.srv.Count(); n != 3 {
		t.Errorf("Count() = %d, want 3", n)
	}
	h.check(t)
}

// TestMalformedUpgrade checks WebSocket handshakes that are not valid WebSocket handshakes: they
// are refused (no 101, no session, no panic), and an upgrade attempt of that kind leaves the
// session on long-polling.
func TestMalformedUpgrade(t *testing.T) {
	e := newEnv(t, Config{})
	h := e.openHealthy(t)
	sid := e.handshake(t).SID
	upgradeHeaders := func(extra ...string) http.Header {
		h := http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"}, "Sec-Websocket-Version": {"13"}}
		for i := 0; i+1 < len(extra); i += 2 {
			h.Set(extra[i], extra[i+1])
		}
		return h
	}
	cases := []struct {
		name   string
		query  string
		header http.Header
	}{
		{"no key", "EIO=4&transport=websocket", upgradeHeaders()},
		{"no key, upgrade", "EIO=4&transport=websocket&sid=" + sid, upgradeHeaders()},
		{"bad key", "EIO=4&transport=websocket", upgradeHeaders("Sec-WebSocket-Key", "short")},
		{"bad version", "EIO=4&transport=websocket&sid=" + sid, upgradeHeaders("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version", "8")},
		{"h2c", "EIO=4&transport=websocket", http.Header{"Connection": {"Upgrade, HTTP2-Settings"}, "Upgrade": {"h2c"}, "Http2-Settings": {"AAMAAABkAAQCAAAAAAIAAAAA"}}},
		{"h2c, upgrade", "EIO=4&transport=websocket&sid=" + sid, http.Header{"Connection": {"Upgrade, HTTP2-Settings"}, "Upgrade": {"h2c"}}},
		{"no Connection", "EIO=4&transport=websocket", http.Header{"Upgrade": {"websocket"}, "Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}}},
		{"websocket on polling", "EIO=4&transport=polling", upgradeHeaders("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")},
	}
	for _, c := range cases {
		before := e.srv.Count()
		r := e.mustDo(t, http.MethodGet, c.query, nil, c.header)
		if r.status < 400 || r.status >= 500 {
			t.Errorf("%s: status %d %q, want a 4xx refusal", c.name, r.status, r.body)
		}
		if n := e.srv.Count(); n != before {
			t.Errorf("%s: Count() went from %d to %d", c.name, before, n)
		}
	}
	// An h2c upgrade request on a long-polling handshake is an ordinary GET: it must not switch
	// protocols (the server may serve or refuse it).
	r := e.mustDo(t, http.MethodGet, "EIO=4&transport=polling", nil,
		http.Header{"Connection": {"Upgrade, HTTP2-Settings"}, "Upgrade": {"h2c"}, "Http2-Settings": {"AAMAAABkAAQCAAAAAAIAAAAA"}})
	if r.status == http.StatusSwitchingProtocols || (r.status != http.StatusOK && r.status != http.StatusBadRequest) {
		t.Errorf("h2c on polling: %d %q", r.status, r.body)
	}
	if e.rec.isClosed(t, sid) {
		t.Error("a malformed upgrade closed the session")
	}
	e.post(t, sid, "4still")
	if got := e.get(t, sid); got != "4still" {
		t.Errorf("GET = %q", got)
	}
	c := e.upgrade(t, sid) // and the real upgrade still works
	writeText(t, c, "4ws")
	if got := readText(t, c); got != "4ws" {
		t.Errorf("got %q", got)
	}
	h.check(t)
}

// openRaw opens a session over a raw WebSocket connection and returns it with its sid.
func (e *env) openRaw(t *testing.T) (*rawWS, string) {
	t.Helper()
	c := dialRawWS(t, e.url("EIO=4&transport=websocket"))
	o, err := parseOpen(c.readText(t))
	if err != nil {
		t.Fatal(err)
	}
	return c, o.SID
}

// TestWebSocketBadFrames checks frames a WebSocket server must reject: reserved bits (there is
// no extension to give them meaning), unknown opcodes, unmasked client frames, fragmented control
// frames and continuation frames without a start. Each closes that connection and its session.
func TestWebSocketBadFrames(t *testing.T) {
	e := newEnv(t, Config{})
	h := e.openHealthy(t)
	cases := []struct {
		name  string
		frame func() []byte
	}{
		{"RSV1", func() []byte { return appendFrame(nil, wsFin|wsRSV1|wsOpText, []byte("4x")) }},
		{"RSV2", func() []byte { return appendFrame(nil, wsFin|wsRSV2|wsOpText, []byte("4x")) }},
		{"RSV3", func() []byte { return appendFrame(nil, wsFin|wsRSV3|wsOpBinary, []byte{1}) }},
		{"RSV on a continuation", func() []byte {
			return appendFrame(appendFrame(nil, wsOpText, []byte("4")), wsFin|wsRSV1|wsOpContinuation, []byte("x"))
		}},
		{"opcode 3", func() []byte { return appendFrame(nil, wsFin|0x3, []byte("4x")) }},
		{"opcode 0xB", func() []byte { return appendFrame(nil, wsFin|0xB, nil) }},
		{"unmasked", func() []byte { return []byte{wsFin | wsOpText, 2, '4', 'x'} }},
		{"fragmented ping", func() []byte { return appendFrame(nil, wsOpPing, []byte("p")) }},
		{"lone continuation", func() []byte { return appendFrame(nil, wsFin|wsOpContinuation, []byte("4x")) }},
		{"text inside a fragmented message", func() []byte {
			return appendFrame(appendFrame(nil, wsOpText, []byte("4")), wsFin|wsOpText, []byte("4x"))
		}},
		{"oversized control frame", func() []byte { return appendFrame(nil, wsFin|wsOpPing, bytes.Repeat([]byte("p"), 126)) }},
		{"invalid UTF-8 close reason", func() []byte { return appendFrame(nil, wsFin|wsOpClose, []byte{0x03, 0xe8, 0xff}) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw, sid := e.openRaw(t)
			if err := raw.write(c.frame()); err != nil {
				t.Fatal(err)
			}
			raw.expectClosed(t)
			e.rec.waitClosed(t, sid)
			waitFor(t, "the session to leave the table", func() bool { return e.srv.session(sid) == nil })
			h.check(t)
		})
	}
}

// TestWebSocketFragmentFlood checks that a message sent as a flood of one-byte fragments is
// bounded by MaxPayload like any other: the connection is closed with "message too big" once the
// fragments exceed it.
func TestWebSocketFragmentFlood(t *testing.T) {
	const limit = 1000
	e := newEnv(t, Config{MaxPayload: limit})
	h := e.openHealthy(t)
	raw, sid := e.openRaw(t)
	buf := appendFrame(nil, wsOpText, []byte("4"))
	for range 4 * limit {
		buf = appendFrame(buf, wsOpContinuation, []byte("x"))
	}
	_ = raw.write(buf) // the server may hang up before it has read everything
	if code := raw.expectClosed(t); code != int(websocket.StatusMessageTooBig) {
		t.Errorf("close code %d, want %d", code, websocket.StatusMessageTooBig)
	}
	e.expectGone(t, sid, ReasonPayloadTooBig)
	h.check(t)
}

// TestWebSocketMessageTooBig checks that a WebSocket message over MaxPayload closes the
// connection, text or binary, while one of exactly MaxPayload is accepted.
func TestWebSocketMessageTooBig(t *testing.T) {
	const limit = 1000
	e := newEnv(t, Config{MaxPayload: limit})
	h := e.openHealthy(t)
	c, _ := e.openWS(t)
	exact := "4" + strings.Repeat("x", limit-1)
	writeText(t, c, exact)
	if got := readText(t, c); got != exact {
		t.Errorf("echo of %d bytes: got %d bytes", limit, len(got))
	}
	for _, typ := range []websocket.MessageType{websocket.MessageText, websocket.MessageBinary} {
		c, o := e.openWS(t)
		_ = c.Write(tctx(t), typ, []byte("4"+strings.Repeat("x", limit)))
		if err := expectWSClosed(t, c, false); websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
			t.Errorf("%v: %v, want close status %d", typ, err, websocket.StatusMessageTooBig)
		}
		e.expectGone(t, o.SID, ReasonPayloadTooBig)
	}
	h.check(t)
}

// TestInvalidPacket checks packets that are not Engine.IO packets: over WebSocket the connection
// is closed; over long-polling the POST gets 400; either way the session ends with "parse error".
func TestInvalidPacket(t *testing.T) {
	e := newEnv(t, Config{})
	h := e.openHealthy(t)
	for _, p := range []string{"", "9", "7x", "a", "/", "0", "\x00", "b4x"} {
		c, o := e.openWS(t)
		writeText(t, c, p)
		expectWSClosed(t, c, false)
		e.expectGone(t, o.SID, ReasonParseError)
	}
	for _, p := range []string{"", "9", "4a\x1e\x1e4b", "4a\x1e", "\x1e", "b!!!!", "bAQID=", "4ok\x1e8", "x"} {
		sid := e.handshake(t).SID
		r := e.mustDo(t, http.MethodPost, pollQuery(sid), strings.NewReader(p), nil)
		if r.status != http.StatusBadRequest || r.body != badRequestBody {
			t.Errorf("POST %q: %d %q", p, r.status, r.body)
		}
		e.expectGone(t, sid, ReasonParseError)
	}
	h.check(t)
}

// TestBinaryPacketIsMessage checks that a binary WebSocket message is a message, whatever its
// first byte: binary frames carry no packet type.
func TestBinaryPacketIsMessage(t *testing.T) {
	e := newEnv(t, Config{})
	c, _ := e.openWS(t)
	for _, b := range [][]byte{{'1'}, {'9', 0}, {}} {
		if err := c.Write(tctx(t), websocket.MessageBinary, b); err != nil {
			t.Fatal(err)
		}
		if typ, got := readMsg(t, c); typ != websocket.MessageBinary || got != string(b) {
			t.Errorf("echo of %q: %v %q", b, typ, got)
		}
	}
}

// TestSlowlorisPost checks that a client trickling a POST body does not stop other sessions.
func TestSlowlorisPost(t *testing.T) {
	e := newEnv(t, Config{})
	h := e.openHealthy(t)
	sid := e.handshake(t).SID
	conn, err := net.Dial("tcp", e.ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /engine.io/?%s HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n4", pollQuery(sid))
	s := e.srv.session(sid)
	waitFor(t, "the POST to be active", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.postActive
	})
	h.check(t)
}

// TestWebSocketPingWhileClientSlow checks a client that pauses reading for longer than a second
// (less than WriteTimeout) and sends a WebSocket ping meanwhile: the session must survive, and
// the client must then read the message whole, followed by the pong. (The pong used to be written
// straight from the reader with a 1 s write deadline of its own, which cut short the deadline of
// the blocked write in progress and killed the session.)
func TestWebSocketPingWhileClientSlow(t *testing.T) {
	e := newEnv(t, Config{WriteTimeout: 5 * time.Second})
	raw, sid := e.openRaw(t)
	_ = raw.conn.(*net.TCPConn).SetReadBuffer(64 << 10)
	s := e.srv.session(sid)
	withSessionLock(s, func() { setWriteBuffer(t, s.ws.nc, 64<<10) })
	big := strings.Repeat("x", 2<<20)
	if err := s.Send(TextMessage([]byte(big))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a blocked write", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.writing
	})
	if err := raw.write(appendFrame(nil, wsFin|wsOpPing, []byte("p"))); err != nil {
		t.Fatal(err)
	}
	// The scenario, not a synchronization: the client stalls past the 1 s mark.
	time.Sleep(1500 * time.Millisecond)
	op, p, err := raw.readFrame()
	if err != nil || op != wsOpText || len(p) != 1+len(big) {
		reason := "still open"
		if e.rec.isClosed(t, sid) {
			reason = "closed: " + e.rec.waitClosed(t, sid)
		}
		t.Fatalf("got opcode %d, %d bytes, %v (session %s); want the whole message", op, len(p), err, reason)
	}
	if op, p, err := raw.readFrame(); err != nil || op != 0xA || string(p) != "p" {
		t.Fatalf("got opcode %d %q %v; want the pong", op, p, err)
	}
	if e.rec.isClosed(t, sid) {
		t.Fatalf("session closed: %q", e.rec.waitClosed(t, sid))
	}
}
