package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/herald-chat/herald/engineio"
	"github.com/herald-chat/herald/internal/testcleanup"
)

// This file holds the test client the socketio tests share, and the tests of the Server itself:
// connecting, namespaces, middleware, the connect timeout, invalid packets and panics.

// sioWait bounds every wait in these tests: generous for a loaded 2-core machine running the race
// detector, yet short enough that a hang fails the test rather than the whole run.
const sioWait = 10 * time.Second

// sioEnv is one Socket.IO server under test, mounted at /socket.io/ on a loopback server.
type sioEnv struct {
	srv    *Server
	ts     *httptest.Server
	client *http.Client
}

// newSIOEnv starts a server with cfg (logging discarded unless cfg sets a logger) and stops it
// when the test ends.
func newSIOEnv(t testing.TB, cfg Config) *sioEnv { return newSIOEnvListener(t, cfg, nil) }

// newSIOEnvListener is newSIOEnv with the server's listener wrapped by wrap (when not nil), for
// tests that tune the server side of connections.
func newSIOEnvListener(t testing.TB, cfg Config, wrap func(net.Listener) net.Listener) *sioEnv {
	t.Helper()
	if cfg.Engine.Logger == nil {
		cfg.Engine.Logger = slog.New(slog.DiscardHandler)
	}
	srv := NewServer(cfg)
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	ts := httptest.NewUnstartedServer(mux)
	if wrap != nil {
		ts.Listener = wrap(ts.Listener)
	}
	ts.Start()
	e := &sioEnv{srv: srv, ts: ts, client: &http.Client{Transport: &http.Transport{}, Timeout: sioWait}}
	testcleanup.Within(t, sioWait, "closing the server", func() {
		c, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_ = srv.Close(c)
		e.client.CloseIdleConnections()
		ts.Close()
	})
	return e
}

// sioMsg is one WebSocket message received by a test client.
type sioMsg struct {
	binary bool
	data   string
}

// sioClient is a raw Socket.IO client over WebSocket. A goroutine reads everything the server
// sends, answers pings, and queues the rest for the test.
type sioClient struct {
	t    testing.TB
	conn *websocket.Conn
	eid  string // the Engine.IO session id

	msgs   chan sioMsg
	done   chan struct{} // closed when the connection has ended
	err    error         // why it ended; readable once done is closed
	noPong atomic.Bool   // set to stop answering pings
}

// dial opens an Engine.IO session over WebSocket, without joining any namespace.
func (e *sioEnv) dial(t testing.TB) *sioClient {
	t.Helper()
	c, err := e.tryDial(t)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// dialQuery is dial with extra query parameters ("a=1&b=2") on the handshake.
func (e *sioEnv) dialQuery(t testing.TB, query string) *sioClient {
	t.Helper()
	c, err := e.tryDialQuery(t, query)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tryDial is dial that reports failure instead of failing the test.
func (e *sioEnv) tryDial(t testing.TB) (*sioClient, error) { return e.tryDialQuery(t, "") }

// tryDialQuery is dialQuery that reports failure instead of failing the test.
func (e *sioEnv) tryDialQuery(t testing.TB, query string) (*sioClient, error) {
	ctx, cancel := context.WithTimeout(context.Background(), sioWait)
	defer cancel()
	url := "ws" + strings.TrimPrefix(e.ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	if query != "" {
		url += "&" + query
	}
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: e.client})
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(-1)
	_, open, err := conn.Read(ctx)
	if err != nil {
		_ = conn.CloseNow()
		return nil, err
	}
	var o struct{ SID string }
	if len(open) == 0 || open[0] != '0' || json.Unmarshal(open[1:], &o) != nil || o.SID == "" {
		_ = conn.CloseNow()
		return nil, fmt.Errorf("bad open packet %q", open)
	}
	c := &sioClient{t: t, conn: conn, eid: o.SID, msgs: make(chan sioMsg, 256), done: make(chan struct{})}
	go c.readLoop()
	t.Cleanup(func() { _ = conn.CloseNow() })
	return c, nil
}

func (c *sioClient) readLoop() {
	defer close(c.done)
	for {
		typ, b, err := c.conn.Read(context.Background())
		if err != nil {
			c.err = err
			return
		}
		if typ == websocket.MessageText && string(b) == "2" && !c.noPong.Load() {
			ctx, cancel := context.WithTimeout(context.Background(), sioWait)
			_ = c.conn.Write(ctx, websocket.MessageText, []byte("3"))
			cancel()
			continue
		}
		c.msgs <- sioMsg{binary: typ == websocket.MessageBinary, data: string(b)}
	}
}

// sendRaw sends one Engine.IO text packet as is.
func (c *sioClient) sendRaw(s string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), sioWait)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		c.t.Fatalf("write %q: %v", s, err)
	}
}

// send sends one Socket.IO packet (the Engine.IO "4" is added).
func (c *sioClient) send(p string) { c.t.Helper(); c.sendRaw("4" + p) }

// sendBinary sends one binary attachment.
func (c *sioClient) sendBinary(b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), sioWait)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageBinary, b); err != nil {
		c.t.Fatalf("write binary: %v", err)
	}
}

// next returns the next message from the server.
func (c *sioClient) next() sioMsg {
	c.t.Helper()
	select {
	case m := <-c.msgs:
		return m
	case <-c.done:
		select {
		case m := <-c.msgs:
			return m
		default:
		}
		c.t.Fatalf("connection closed while waiting for a message: %v", c.err)
	case <-time.After(sioWait):
		c.t.Fatalf("no message within %v", sioWait)
	}
	return sioMsg{}
}

// recv returns the next Socket.IO packet (text, without the Engine.IO "4").
func (c *sioClient) recv() string {
	c.t.Helper()
	m := c.next()
	if m.binary || !strings.HasPrefix(m.data, "4") {
		c.t.Fatalf("got %+v, want a Socket.IO text packet", m)
	}
	return m.data[1:]
}

// expect requires the next packet to be want.
func (c *sioClient) expect(want string) {
	c.t.Helper()
	if got := c.recv(); got != want {
		c.t.Fatalf("got %q, want %q", got, want)
	}
}

// expectBinary requires the next message to be the binary attachment want.
func (c *sioClient) expectBinary(want []byte) {
	c.t.Helper()
	if m := c.next(); !m.binary || m.data != string(want) {
		c.t.Fatalf("got %+v, want binary %q", m, want)
	}
}

// expectSilence fails if a message arrives in the next d. It is only a negative check: what it
// asserts is "nothing more", never a synchronization point.
func (c *sioClient) expectSilence(d time.Duration) {
	c.t.Helper()
	select {
	case m := <-c.msgs:
		c.t.Fatalf("unexpected %+v", m)
	case <-time.After(d):
	}
}

// connect joins nsp ("/" or "/chat") with an optional auth payload and returns the socket id the
// server answered with.
func (c *sioClient) connect(nsp, auth string) string {
	c.t.Helper()
	prefix := ""
	if nsp != "/" {
		prefix = nsp + ","
	}
	c.send("0" + prefix + auth)
	got := c.recv()
	if !strings.HasPrefix(got, "0"+prefix+"{") {
		c.t.Fatalf("connect to %s: got %q", nsp, got)
	}
	var reply map[string]any
	if err := json.Unmarshal([]byte(got[1+len(prefix):]), &reply); err != nil {
		c.t.Fatalf("connect reply %q: %v", got, err)
	}
	sid, _ := reply["sid"].(string)
	if sid == "" || len(reply) != 1 {
		c.t.Fatalf("connect reply %q: want exactly a sid", got)
	}
	return sid
}

// connectReplyID reads a CONNECT reply to "/" (after sending "0" by hand) and returns its id.
func (c *sioClient) connectReplyID() string {
	c.t.Helper()
	got := c.recv()
	var reply struct{ SID string }
	if !strings.HasPrefix(got, "0{") || json.Unmarshal([]byte(got[1:]), &reply) != nil || reply.SID == "" {
		c.t.Fatalf("connect reply %q", got)
	}
	return reply.SID
}

// waitClosed waits until the server has closed the connection, discarding what arrives first.
func (c *sioClient) waitClosed() {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(sioWait):
		c.t.Fatalf("connection still open after %v", sioWait)
	}
}

// isClosed reports whether the connection has ended.
func (c *sioClient) isClosed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// sioWaitFor polls cond until it holds, for server state no event announces (counts, tables).
func sioWaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(sioWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// recvTimeout waits for a value from ch.
func recvTimeout[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(sioWait):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// echoServer registers, on nsp, the handlers most tests use: "echo" emits "echo" back with the
// same arguments, and answers the ack if one is asked for.
func echoServer(nsp *Namespace) {
	nsp.On("echo", func(e *Event) {
		args, err := e.Args()
		if err != nil {
			return
		}
		if e.HasAck() {
			_ = e.Ack(args...)
			return
		}
		_ = e.Socket.Emit("echo", args...)
	})
}

// healthyClient connects a client to "/" of a server running echoServer; check proves the server
// still serves it after another client misbehaved.
type healthyClient struct {
	*sioClient
	n int
}

func (e *sioEnv) healthy(t testing.TB) *healthyClient {
	t.Helper()
	h := &healthyClient{sioClient: e.dial(t)}
	h.connect("/", "")
	h.check()
	return h
}

func (h *healthyClient) check() {
	h.t.Helper()
	h.n++
	h.send(fmt.Sprintf(`2["echo","still here",%d]`, h.n))
	h.expect(fmt.Sprintf(`2["echo","still here",%d]`, h.n))
}

// jsonEqual compares two JSON texts by value.
func jsonEqual(t testing.TB, got, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Errorf("invalid JSON %q: %v", got, err)
		return false
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("invalid JSON %q: %v", want, err)
	}
	return reflect.DeepEqual(g, w)
}

// TestConnect checks joining the main namespace: the reply carries a socket id distinct from the
// Engine.IO sid, the connection handler sees the same id, the handshake details and the auth
// payload.
func TestConnect(t *testing.T) {
	e := newSIOEnv(t, Config{})
	sockets := make(chan *Socket, 2)
	e.srv.OnConnection(func(s *Socket) { sockets <- s })

	c := e.dial(t)
	id := c.connect("/", "")
	s := recvTimeout(t, sockets, "the connection handler")
	if id == c.eid {
		t.Errorf("socket id %q equals the Engine.IO sid", id)
	}
	if s.ID() != id {
		t.Errorf("handler got socket %q, client was told %q", s.ID(), id)
	}
	if got := string(s.Handshake().Auth); got != "{}" {
		t.Errorf("Auth = %q, want {}", got)
	}
	if !s.Connected() || s.Namespace() != e.srv.Of("/") || s.Transport() != "websocket" {
		t.Errorf("Connected %v, Namespace %q, Transport %q", s.Connected(), s.Namespace().Name(), s.Transport())
	}
	if got := e.srv.Of("/").Socket(id); got != s {
		t.Errorf("Namespace.Socket(%q) = %v", id, got)
	}
	if n := len(e.srv.Sockets()); n != 1 {
		t.Errorf("Sockets() has %d", n)
	}

	c2 := e.dial(t)
	id2 := c2.connect("/", `{"token":"abc","n":1}`)
	s2 := recvTimeout(t, sockets, "the connection handler")
	if id2 == id || s2.ID() != id2 {
		t.Errorf("ids %q %q %q", id, id2, s2.ID())
	}
	if !jsonEqual(t, string(s2.Handshake().Auth), `{"token":"abc","n":1}`) {
		t.Errorf("Auth = %s", s2.Handshake().Auth)
	}
	hs := s2.Handshake()
	if hs.Query["EIO"][0] != "4" || hs.Address == "" || hs.Secure || hs.Time.IsZero() || !strings.HasPrefix(hs.URL, "/socket.io/") {
		t.Errorf("Handshake = %+v", hs)
	}
	if s2.Request().URL.Query().Get("transport") != "websocket" {
		t.Errorf("Request() = %v", s2.Request().URL)
	}
	if n := e.srv.Of("/").Count(); n != 2 {
		t.Errorf("Count() = %d", n)
	}
}

// TestNamespaces checks custom namespaces: joining one, events routed to it, a connection in
// several at once, and an unknown one refused without closing the connection.
func TestNamespaces(t *testing.T) {
	e := newSIOEnv(t, Config{})
	chat := e.srv.Of("chat") // the leading slash is optional
	if chat.Name() != "/chat" || e.srv.Of("/chat") != chat {
		t.Fatalf("Of(chat) = %q", chat.Name())
	}
	echoServer(chat)
	got := make(chan string, 4)
	e.srv.Of("/").On("echo", func(ev *Event) { got <- "main" })

	c := e.dial(t)
	c.send("0/nope,")
	c.expect(`4/nope,{"message":"Invalid namespace"}`)
	c.send(`0/nope,{"auth":1}`)
	c.expect(`4/nope,{"message":"Invalid namespace"}`)
	chatID := c.connect("/chat", "")
	mainID := c.connect("/", "")
	if chatID == mainID {
		t.Errorf("same socket id %q in two namespaces", chatID)
	}
	c.send(`2/chat,["echo","hi"]`)
	c.expect(`2/chat,["echo","hi"]`)
	c.send(`2["echo","x"]`)
	if w := recvTimeout(t, got, "the main namespace's handler"); w != "main" {
		t.Error(w)
	}
	// Events for a namespace the client has not joined are ignored.
	c.send(`2/other,["echo","lost"]`)
	c.send(`2/chat,["echo","after"]`)
	c.expect(`2/chat,["echo","after"]`)
	if chat.Count() != 1 || e.srv.Of("/").Count() != 1 {
		t.Errorf("counts %d %d", chat.Count(), e.srv.Of("/").Count())
	}
}

// TestMiddleware checks that middleware runs in order before the connection handlers, can see
// the request and pass values along, and refuses with a message and data.
func TestMiddleware(t *testing.T) {
	e := newSIOEnv(t, Config{})
	echoServer(e.srv.Of("/"))
	var mu sync.Mutex
	var order []string
	e.srv.Use(func(s *Socket) error {
		mu.Lock()
		order = append(order, "first")
		mu.Unlock()
		s.SetData(s.Request().URL.Query().Get("user"))
		return nil
	})
	e.srv.Use(func(s *Socket) error {
		mu.Lock()
		order = append(order, "second")
		mu.Unlock()
		var auth struct{ Token string }
		_ = json.Unmarshal(s.Handshake().Auth, &auth)
		switch auth.Token {
		case "data":
			return &ConnectError{Message: "m", Data: map[string]any{"reason": "expired", "retry": 3}}
		case "plain":
			return errors.New("not allowed")
		}
		return nil
	})
	connected := make(chan *Socket, 4)
	e.srv.OnConnection(func(s *Socket) { connected <- s })

	c := e.dial(t)
	c.send(`0{"token":"data"}`)
	got := c.recv()
	if !strings.HasPrefix(got, "4") || !jsonEqual(t, got[1:], `{"message":"m","data":{"reason":"expired","retry":3}}`) {
		t.Errorf("refusal %q", got)
	}
	c.send(`0{"token":"plain"}`)
	got = c.recv()
	if !strings.HasPrefix(got, "4") || !jsonEqual(t, got[1:], `{"message":"not allowed"}`) {
		t.Errorf("refusal %q", got)
	}
	select {
	case s := <-connected:
		t.Fatalf("refused socket %s reached the connection handler", s.ID())
	default:
	}
	if n := e.srv.Of("/").Count(); n != 0 {
		t.Errorf("Count() = %d after refusals", n)
	}
	// The connection survives refusals: the same client may try again.
	c.send(`2["echo","ignored before joining"]`)
	c.connect("/", `{"token":"ok"}`)
	s := recvTimeout(t, connected, "the connection handler")
	c.send(`2["echo",1]`)
	c.expect(`2["echo",1]`)
	mu.Lock()
	if want := []string{"first", "second", "first", "second", "first", "second"}; !reflect.DeepEqual(order, want) {
		t.Errorf("middleware ran %v", order)
	}
	mu.Unlock()
	if s.Data() != "" {
		t.Errorf("Data() = %v", s.Data())
	}
}

// TestConnectTimeout checks that a connection that joins no namespace in time is closed, and
// one that does is not.
func TestConnectTimeout(t *testing.T) {
	e := newSIOEnv(t, Config{ConnectTimeout: 500 * time.Millisecond})
	echoServer(e.srv.Of("/"))
	idle := e.dial(t)
	joined := e.dial(t)
	joined.connect("/", "")
	idle.waitClosed()
	// A refused CONNECT does not count as joining.
	e.srv.Of("/refuse").Use(func(*Socket) error { return errors.New("no") })
	refused := e.dial(t)
	refused.send("0/refuse,")
	refused.expect(`4/refuse,{"message":"no"}`)
	refused.waitClosed()
	if joined.isClosed() {
		t.Fatal("a joined connection was closed by the connect timeout")
	}
	joined.send(`2["echo","alive"]`)
	joined.expect(`2["echo","alive"]`)
}

// TestSecondConnect checks that a CONNECT to a namespace the connection already joined is a
// protocol error that closes the connection.
func TestSecondConnect(t *testing.T) {
	e := newSIOEnv(t, Config{})
	echoServer(e.srv.Of("/"))
	h := e.healthy(t)
	c := e.dial(t)
	c.connect("/", "")
	c.send("0")
	c.waitClosed()
	h.check()
}

// badPackets are Socket.IO packets a client must not send; each closes its connection. The
// comments give what is wrong.
var badPackets = []struct {
	name    string
	packets []string
}{
	{"unknown packet type", []string{"4abc"}},
	{"packet type 7", []string{"7"}},
	{"empty message", []string{""}},
	{"event payload is an object", []string{"2{}"}},
	{"garbage before the payload", []string{`2abc["hello"]`}},
	{"event name is an object", []string{`2[{"toString":"foo"}]`}},
	{"event name is a boolean", []string{`2[true,"foo"]`}},
	{"event name is null", []string{`2[null,"bar"]`}},
	{"event name is a number", []string{`2[1]`}},
	{"empty event", []string{`2[]`}},
	{"not JSON", []string{`2["a",]`}},
	{"placeholder num is a string", []string{`51-["hello",{"_placeholder":true,"num":"splice"}]`}},
	{"placeholder num out of range", []string{`51-["hello",{"_placeholder":true,"num":1}]`}},
	{"placeholder num negative", []string{`51-["hello",{"_placeholder":true,"num":-1}]`}},
	{"placeholder num fractional", []string{`51-["hello",{"_placeholder":true,"num":0.5}]`}},
	{"1e9 attachments", []string{`51000000000-["hello"]`}},
	{"11 attachments", []string{`511-["hello"]`}},
	{"attachment count without dash", []string{`51["hello"]`}},
	{"attachment count on an event", []string{`21-["hello"]`}},
	{"ack id 2^70", []string{`21180591620717411303424["hello"]`}},
	{"ack id 2^53", []string{`29007199254740992["hello"]`}},
	{"deeply nested JSON", []string{`2["a",` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `]`}},
	{"deeply nested objects", []string{`2["a",` + strings.Repeat(`{"a":`, 1000) + "1" + strings.Repeat("}", 1000) + `]`}},
	{"reserved event connect", []string{`2["connect"]`}},
	{"reserved event connect_error", []string{`2["connect_error"]`}},
	{"reserved event disconnect", []string{`2["disconnect"]`}},
	{"reserved event disconnecting", []string{`2["disconnecting"]`}},
	{"reserved event newListener", []string{`2["newListener"]`}},
	{"reserved event removeListener", []string{`2["removeListener"]`}},
	{"reserved event, escaped", []string{`2["conn\u0065ct"]`}},
	{"ack payload is an object", []string{`31{}`}},
	{"ack without id", []string{`3["a"]`}},
	{"disconnect with payload", []string{`1{}`}},
	{"CONNECT_ERROR from a client", []string{`4{"message":"x"}`}},
	{"connect payload is an array", []string{`0/x,[1]`}},
	{"control character in namespace", []string{"2/a\x00b,[\"a\"]"}},
	{"invalid UTF-8", []string{"2[\"\xff\"]"}},
	{"text while attachments are awaited", []string{`51-["a",{"_placeholder":true,"num":0}]`, `2["a"]`}},
}

// TestBadPackets sends every bad packet on its own connection (joined to "/" first): each closes
// that connection, the socket's disconnect reason is "parse error", and a healthy client keeps
// being served.
func TestBadPackets(t *testing.T) {
	e := newSIOEnv(t, Config{})
	echoServer(e.srv.Of("/"))
	reasons := make(chan string, len(badPackets)+4)
	e.srv.OnConnection(func(s *Socket) { s.OnDisconnect(func(r string) { reasons <- r }) })
	h := e.healthy(t)
	for _, bp := range badPackets {
		t.Run(bp.name, func(t *testing.T) {
			c := e.dial(t)
			c.t = t
			c.connect("/", "")
			for _, p := range bp.packets {
				c.send(p)
			}
			c.waitClosed()
			r := recvTimeout(t, reasons, "the disconnect handler")
			// Invalid UTF-8 in a text frame breaks the WebSocket protocol itself (RFC 6455
			// 8.1): a transport that checks it closes the connection before Socket.IO sees it.
			utf8Transport := bp.name == "invalid UTF-8" && r == ReasonTransportError
			if r != ReasonParseError && !utf8Transport {
				t.Errorf("disconnect reason %q, want %q", r, ReasonParseError)
			}
			h.t = t
			h.check()
		})
	}
	// Binary messages nobody asked for close the connection too.
	c := e.dial(t)
	c.connect("/", "")
	c.sendBinary([]byte{1, 2, 3})
	c.waitClosed()
	h.t = t
	h.check()
	sioWaitFor(t, "the bad clients' sessions to end", func() bool { return e.srv.Engine().Count() == 1 })
}

// TestBadPacketsBeforeConnect checks the same packets on a connection that has joined nothing.
func TestBadPacketsBeforeConnect(t *testing.T) {
	e := newSIOEnv(t, Config{})
	echoServer(e.srv.Of("/"))
	h := e.healthy(t)
	for _, p := range []string{"4abc", "2{}", `51000000000-["a"]`, `0[1]`, "9"} {
		c := e.dial(t)
		c.send(p)
		c.waitClosed()
	}
	h.check()
}

// TestErrorEventWithoutListener checks that an "error" event (reserved in Node.js's EventEmitter,
// where an unhandled one throws) is harmless here.
func TestErrorEventWithoutListener(t *testing.T) {
	e := newSIOEnv(t, Config{})
	echoServer(e.srv.Of("/"))
	c := e.dial(t)
	c.connect("/", "")
	c.send(`2["error"]`)
	c.send(`2["error",{"message":"boom"}]`)
	c.send(`21["unknown-event"]`) // no handler: no ack, nothing else
	c.send(`2["echo","fine"]`)
	c.expect(`2["echo","fine"]`)
}

// TestHandlerPanics checks that a panicking handler (event, connection, middleware, disconnect)
// neither crashes the server nor stops the connection's later events.
func TestHandlerPanics(t *testing.T) {
	e := newSIOEnv(t, Config{})
	main := e.srv.Of("/")
	echoServer(main)
	main.On("boom", func(*Event) { panic("boom") })
	var (
		mu      sync.Mutex
		n       int
		reasons = make(chan string, 4)
	)
	e.srv.OnConnection(func(s *Socket) {
		s.OnDisconnect(func(r string) {
			reasons <- r
			panic("disconnect handler")
		})
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		if first {
			panic("connection handler")
		}
	})
	e.srv.Of("/mw").Use(func(*Socket) error { panic("middleware") })

	c := e.dial(t)
	c.connect("/", "") // the reply goes out before the handlers run
	c.send(`2["boom"]`)
	c.send(`2["echo","after the panic"]`)
	c.expect(`2["echo","after the panic"]`)
	c.send("0/mw,")
	c.expect(`4/mw,{"message":"server error"}`)
	c.send(`2["echo","after the middleware panic"]`)
	c.expect(`2["echo","after the middleware panic"]`)
	c.send("1")
	if r := recvTimeout(t, reasons, "the disconnect handler"); r != ReasonClientDisconnect {
		t.Errorf("reason %q", r)
	}
	c2 := e.dial(t)
	c2.connect("/", "")
	c2.send(`2["echo","second client"]`)
	c2.expect(`2["echo","second client"]`)
}

// TestDisconnectHandlerPanicMultiNamespace checks that when a connection in several namespaces
// ends, every socket leaves its namespace, even if a disconnect handler panics.
func TestDisconnectHandlerPanicMultiNamespace(t *testing.T) {
	e := newSIOEnv(t, Config{})
	names := []string{"/", "/a", "/b"}
	for _, name := range names {
		e.srv.Of(name).OnConnection(func(s *Socket) {
			s.OnDisconnect(func(string) { panic("disconnect handler of " + name) })
		})
	}
	c := e.dial(t)
	for _, name := range names {
		c.connect(name, "")
	}
	_ = c.conn.CloseNow()
	for _, name := range names {
		nsp := e.srv.Of(name)
		sioWaitFor(t, "namespace "+name+" to be empty", func() bool { return nsp.Count() == 0 && len(nsp.Sockets()) == 0 })
	}
}

// TestServerClose checks graceful shutdown: sockets see "server shutting down", clients see the
// connection closed, and events emitted before Close are delivered first.
func TestServerClose(t *testing.T) {
	e := newSIOEnv(t, Config{})
	reasons := make(chan string, 8)
	e.srv.OnConnection(func(s *Socket) { s.OnDisconnect(func(r string) { reasons <- r }) })
	var clients []*sioClient
	for range 3 {
		c := e.dial(t)
		c.connect("/", "")
		clients = append(clients, c)
	}
	if err := e.srv.Emit("bye", 1); err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithTimeout(context.Background(), sioWait)
	defer cancel()
	if err := e.srv.Close(c); err != nil {
		t.Errorf("Close: %v", err)
	}
	for _, cl := range clients {
		cl.expect(`2["bye",1]`)
		cl.waitClosed()
	}
	for range clients {
		if r := recvTimeout(t, reasons, "a disconnect handler"); r != ReasonServerShutdown {
			t.Errorf("reason %q", r)
		}
	}
	if n := e.srv.Of("/").Count(); n != 0 {
		t.Errorf("Count() = %d", n)
	}
	if _, err := e.tryDial(t); err == nil {
		t.Error("a new connection was served after Close")
	}
}

// pollingClient is a raw Socket.IO client over Engine.IO long-polling.
type pollingClient struct {
	e   *sioEnv
	sid string
}

// pollQuery returns the query of a long-polling request of this client.
func (p *pollingClient) url() string {
	return p.e.ts.URL + "/socket.io/?EIO=4&transport=polling&sid=" + p.sid
}

// dialPolling opens an Engine.IO session over long-polling. It reports errors instead of failing
// the test, so that it may run on any goroutine.
func (e *sioEnv) dialPolling() (*pollingClient, error) {
	res, err := e.client.Get(e.ts.URL + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	var o struct{ SID string }
	if len(b) == 0 || b[0] != '0' || json.Unmarshal(b[1:], &o) != nil {
		return nil, fmt.Errorf("bad handshake %d %q", res.StatusCode, b)
	}
	return &pollingClient{e: e, sid: o.SID}, nil
}

// post sends an Engine.IO payload.
func (p *pollingClient) post(payload string) error {
	res, err := p.e.client.Post(p.url(), "text/plain;charset=UTF-8", strings.NewReader(payload))
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(b) != "ok" {
		return fmt.Errorf("POST %q: %d %q", payload, res.StatusCode, b)
	}
	return nil
}

// get polls once and returns the payload.
func (p *pollingClient) get() (string, error) {
	res, err := p.e.client.Get(p.url())
	if err != nil {
		return "", err
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET: %d %q", res.StatusCode, b)
	}
	return string(b), err
}

// TestPolling checks a Socket.IO session over long-polling: connect, an event with a binary
// attachment in and out, and a clean disconnect.
func TestPolling(t *testing.T) {
	e := newSIOEnv(t, Config{})
	gotBytes := make(chan []byte, 1)
	e.srv.Of("/").On("bin", func(ev *Event) {
		var b []byte
		var label string
		if err := ev.Bind(&label, &b); err != nil {
			t.Error(err)
		}
		gotBytes <- b
		_ = ev.Socket.Emit("bin", label, []byte{0xca, 0xfe})
	})
	reasons := make(chan string, 1)
	e.srv.OnConnection(func(s *Socket) { s.OnDisconnect(func(r string) { reasons <- r }) })
	p, err := e.dialPolling()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.post("40"); err != nil {
		t.Fatal(err)
	}
	got, err := p.get()
	if err != nil || !strings.HasPrefix(got, `40{"sid":"`) {
		t.Fatalf("connect: %q %v", got, err)
	}
	if err := p.post(`451-["bin","x",{"_placeholder":true,"num":0}]` + "\x1ebAQID"); err != nil {
		t.Fatal(err)
	}
	if b := recvTimeout(t, gotBytes, "the binary event"); string(b) != "\x01\x02\x03" {
		t.Errorf("attachment %q", b)
	}
	var packets []string
	for len(packets) < 2 { // the event and its attachment may come in one poll or two
		more, err := p.get()
		if err != nil {
			t.Fatal(err)
		}
		packets = append(packets, strings.Split(more, "\x1e")...)
	}
	if want := []string{`451-["bin","x",{"_placeholder":true,"num":0}]`, "byv4="}; !reflect.DeepEqual(packets, want) {
		t.Errorf("got %q, want %q", packets, want)
	}
	if err := p.post("41"); err != nil {
		t.Fatal(err)
	}
	if r := recvTimeout(t, reasons, "the disconnect handler"); r != ReasonClientDisconnect {
		t.Errorf("reason %q", r)
	}
	if err := p.post("1"); err != nil {
		t.Fatal(err)
	}
	sioWaitFor(t, "the session to end", func() bool { return e.srv.Engine().Count() == 0 })
}

// TestMaxPendingEvents checks backpressure: a client whose events pile up while a handler is busy
// is not read from past MaxPendingEvents, and nothing is lost or reordered.
func TestMaxPendingEvents(t *testing.T) {
	e := newSIOEnv(t, Config{MaxPendingEvents: 4})
	release := make(chan struct{})
	var mu sync.Mutex
	var got []int
	done := make(chan struct{})
	const n = 50
	e.srv.Of("/").On("n", func(ev *Event) {
		var i int
		_ = ev.Bind(&i)
		if i == 0 {
			<-release
		}
		mu.Lock()
		got = append(got, i)
		if len(got) == n {
			close(done)
		}
		mu.Unlock()
	})
	c := e.dial(t)
	c.connect("/", "")
	for i := range n {
		c.send(fmt.Sprintf(`2["n",%d]`, i))
	}
	close(release)
	recvTimeout(t, done, "every event")
	for i, v := range got {
		if v != i {
			t.Fatalf("events handled in order %v", got)
		}
	}
}

// TestEngineLayer checks that Engine exposes the Engine.IO server with the configuration given.
func TestEngineLayer(t *testing.T) {
	e := newSIOEnv(t, Config{Engine: engineio.Config{PingInterval: 1234 * time.Millisecond}})
	if got := e.srv.Engine().Config().PingInterval; got != 1234*time.Millisecond {
		t.Errorf("PingInterval %v", got)
	}
}

// TestBadPacketPolling checks that an invalid packet over long-polling closes the connection too:
// the client's next poll receives the close packet.
func TestBadPacketPolling(t *testing.T) {
	e := newSIOEnv(t, Config{})
	echoServer(e.srv.Of("/"))
	h := e.healthy(t)
	for _, bad := range []string{`42{}`, `42["connect"]`, `4511-["a"]`, `421180591620717411303424["a"]`} {
		p, err := e.dialPolling()
		if err != nil {
			t.Fatal(err)
		}
		if err := p.post("40"); err != nil {
			t.Fatal(err)
		}
		if got, err := p.get(); err != nil || !strings.HasPrefix(got, "40{") {
			t.Fatalf("connect: %q %v", got, err)
		}
		if err := p.post(bad); err != nil {
			t.Fatal(err)
		}
		if got, err := p.get(); err != nil || got != "1" {
			t.Errorf("%s: poll after it = %q %v, want the close packet", bad, got, err)
		}
		h.check()
	}
	sioWaitFor(t, "the polling sessions to end", func() bool { return e.srv.Engine().Count() == 1 })
}

// TestMiddlewarePanic checks a middleware that panics: the client is refused (it would otherwise
// wait for an answer forever, half-joined), may retry without being taken for a duplicate
// CONNECT, and its other namespaces are unaffected.
func TestMiddlewarePanic(t *testing.T) {
	e := newSIOEnv(t, Config{ConnectTimeout: time.Minute})
	echoServer(e.srv.Of("/"))
	e.srv.Of("/mw").Use(func(*Socket) error { panic("middleware") })
	c := e.dial(t)
	c.connect("/", "")
	for range 2 {
		c.send("0/mw,")
		got := c.recv()
		if !strings.HasPrefix(got, "4/mw,{") || !strings.Contains(got, `"message"`) {
			t.Fatalf("answer to a CONNECT whose middleware panicked: %q", got)
		}
	}
	c.send(`2["echo","fine"]`)
	c.expect(`2["echo","fine"]`)
	if n := e.srv.Of("/mw").Count(); n != 0 {
		t.Errorf("Count() = %d", n)
	}
}
