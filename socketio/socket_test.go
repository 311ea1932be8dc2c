package socketio

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/engineio"
)

// connectOne starts a server whose connection handler hands each socket to the test, connects
// one client to "/" and returns both ends.
func connectOne(t *testing.T, cfg Config) (*sioEnv, *sioClient, *Socket) {
	t.Helper()
	e := newSIOEnv(t, cfg)
	sockets := make(chan *Socket, 1)
	e.srv.OnConnection(func(s *Socket) { sockets <- s })
	c := e.dial(t)
	c.connect("/", "")
	return e, c, recvTimeout(t, sockets, "the connection handler")
}

// TestEventsInOrder checks that a socket's events are handled one at a time in the order sent,
// and that the server's emits reach the client in the order made.
func TestEventsInOrder(t *testing.T) {
	e := newSIOEnv(t, Config{})
	const n = 300
	var (
		mu      sync.Mutex
		got     []int
		running int
		overlap bool
		done    = make(chan struct{})
	)
	e.srv.Of("/").On("n", func(ev *Event) {
		mu.Lock()
		running++
		overlap = overlap || running > 1
		mu.Unlock()
		var i int
		if err := ev.Bind(&i); err != nil {
			t.Error(err)
		}
		if i%50 == 0 {
			time.Sleep(time.Millisecond) // a slow handler must not let the next event overtake it
		}
		mu.Lock()
		running--
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
	recvTimeout(t, done, "every event")
	mu.Lock()
	if overlap {
		t.Error("two handlers of one socket ran at once")
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("handled out of order: %v", got)
		}
	}
	mu.Unlock()

	s := e.srv.Sockets()[0]
	for i := range n {
		if err := s.Emit("n", i); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		c.expect(fmt.Sprintf(`2["n",%d]`, i))
	}
}

// TestClientAck checks acknowledgements the client asks for: the server's answer carries the
// client's ack id, only once, in the event's namespace; binary answers are BINARY_ACKs.
func TestClientAck(t *testing.T) {
	e := newSIOEnv(t, Config{})
	errs := make(chan error, 8)
	handler := func(ev *Event) {
		if !ev.HasAck() {
			errs <- ev.Ack("nobody asked")
			return
		}
		var name string
		_ = ev.Bind(&name)
		if name == "bin" {
			errs <- ev.Ack("bytes", []byte{7, 8})
		} else {
			errs <- ev.Ack("hello "+name, 2)
		}
		errs <- ev.Ack("twice")
	}
	e.srv.Of("/").On("greet", handler)
	e.srv.Of("/chat").On("greet", handler)
	c := e.dial(t)
	c.connect("/", "")
	c.connect("/chat", "")

	c.send(`212["greet","bob"]`)
	c.expect(`312["hello bob",2]`)
	c.send(`2/chat,9007199254740991["greet","eve"]`) // the largest id a JavaScript client can use
	c.expect(`3/chat,9007199254740991["hello eve",2]`)
	c.send(`20["greet","bin"]`)
	c.expect(`61-0["bytes",{"_placeholder":true,"num":0}]`)
	c.expectBinary([]byte{7, 8})
	c.send(`2["greet","no ack"]`)
	for i, want := range []error{nil, ErrAckUsed, nil, ErrAckUsed, nil, ErrAckUsed, ErrAckUsed} {
		if err := recvTimeout(t, errs, "Ack's result"); !errors.Is(err, want) {
			t.Errorf("Ack %d = %v, want %v", i, err, want)
		}
	}
}

// TestServerEmitWithAck checks acknowledgements the server asks for: the client's answer is
// returned; no answer returns the context's error; the socket leaving returns ErrDisconnected.
func TestServerEmitWithAck(t *testing.T) {
	_, c, s := connectOne(t, Config{})

	type reply struct {
		args []any
		err  error
	}
	ask := func(ctx context.Context, args ...any) <-chan reply {
		ch := make(chan reply, 1)
		go func() {
			a, err := s.EmitWithAck(ctx, "question", args...)
			ch <- reply{a, err}
		}()
		return ch
	}
	ackID := func(pkt, prefix string) string {
		t.Helper()
		rest, ok := strings.CutPrefix(pkt, prefix)
		i := strings.IndexByte(rest, '[')
		if !ok || i <= 0 {
			t.Fatalf("packet %q has no ack id", pkt)
		}
		if _, err := strconv.ParseUint(rest[:i], 10, 53); err != nil {
			t.Fatalf("packet %q: ack id %v", pkt, err)
		}
		return rest[:i]
	}

	// Answered.
	ch := ask(context.Background(), "life?", 1)
	pkt := c.recv()
	id := ackID(pkt, "2")
	if !strings.HasSuffix(pkt, `["question","life?",1]`) {
		t.Errorf("emit %q", pkt)
	}
	c.send("3" + id + `[42,"yes"]`)
	r := recvTimeout(t, ch, "EmitWithAck")
	if r.err != nil || !slices.Equal(r.args, []any{float64(42), "yes"}) {
		t.Errorf("EmitWithAck = %v, %v", r.args, r.err)
	}
	// A second answer to the same id, or an answer to an id never used, is ignored.
	c.send("3" + id + `["again"]`)
	c.send(`3123456["stray"]`)

	// Answered with a binary attachment.
	ch = ask(context.Background(), []byte{1})
	pkt = c.recv()
	id = ackID(pkt, "51-")
	c.expectBinary([]byte{1})
	c.send("61-" + id + `[{"_placeholder":true,"num":0}]`)
	c.sendBinary([]byte{9, 9})
	r = recvTimeout(t, ch, "EmitWithAck")
	if r.err != nil || len(r.args) != 1 || string(r.args[0].([]byte)) != "\x09\x09" {
		t.Errorf("binary EmitWithAck = %v, %v", r.args, r.err)
	}

	// Unanswered: the context's error.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	ch = ask(ctx)
	pkt = c.recv()
	r = recvTimeout(t, ch, "EmitWithAck")
	if !errors.Is(r.err, context.DeadlineExceeded) || r.args != nil {
		t.Errorf("unanswered EmitWithAck = %v, %v", r.args, r.err)
	}
	c.send("3" + ackID(pkt, "2") + `["too late"]`) // ignored

	// The socket leaves while the server waits.
	ch = ask(context.Background())
	c.recv()
	c.send("1")
	r = recvTimeout(t, ch, "EmitWithAck")
	if !errors.Is(r.err, ErrDisconnected) {
		t.Errorf("EmitWithAck on a leaving socket = %v, %v", r.args, r.err)
	}
	// And once it is gone, at once.
	if _, err := s.EmitWithAck(context.Background(), "question"); !errors.Is(err, ErrDisconnected) {
		t.Errorf("EmitWithAck on a gone socket = %v", err)
	}
}

// TestEmitWithAckFromHandler checks that a handler may wait for its own client's ack: the reader
// is not blocked by the handler, so the answer gets through.
func TestEmitWithAckFromHandler(t *testing.T) {
	e := newSIOEnv(t, Config{})
	results := make(chan string, 1)
	e.srv.Of("/").On("start", func(ev *Event) {
		ctx, cancel := context.WithTimeout(context.Background(), sioWait)
		defer cancel()
		args, err := ev.Socket.EmitWithAck(ctx, "confirm")
		results <- fmt.Sprint(args, err)
	})
	c := e.dial(t)
	c.connect("/", "")
	c.send(`2["start"]`)
	pkt := c.recv()
	id := strings.TrimSuffix(strings.TrimPrefix(pkt, "2"), `["confirm"]`)
	c.send("3" + id + `["ok"]`)
	if got := recvTimeout(t, results, "the handler"); got != "[ok] <nil>" {
		t.Errorf("handler got %s", got)
	}
}

// TestBinaryEvents checks binary data both ways: attachments in order, nested ones, several per
// packet, and the placeholders on the wire.
func TestBinaryEvents(t *testing.T) {
	e := newSIOEnv(t, Config{})
	type got struct {
		args []any
		a, b []byte
	}
	events := make(chan got, 2)
	e.srv.Of("/").On("upload", func(ev *Event) {
		args, err := ev.Args()
		if err != nil {
			t.Error(err)
		}
		var name string
		var a, b []byte
		if len(args) == 3 {
			if err := ev.Bind(&name, &a); err != nil {
				t.Error(err)
			}
			b, _ = args[2].(map[string]any)["inner"].([]any)[0].([]byte)
		}
		events <- got{args, a, b}
	})
	c := e.dial(t)
	c.connect("/", "")
	c.send(`52-["upload","file",{"_placeholder":true,"num":0},{"inner":[{"_placeholder":true,"num":1}]}]`)
	c.sendBinary([]byte("first"))
	c.sendBinary([]byte{0, 0xff})
	g := recvTimeout(t, events, "the binary event")
	if len(g.args) != 3 || g.args[0] != "file" || string(g.a) != "first" || string(g.b) != "\x00\xff" {
		t.Errorf("got %+v", g)
	}

	s := e.srv.Sockets()[0]
	if err := s.Emit("download", []byte("x"), map[string]any{"n": []any{[]byte("y"), 1}}); err != nil {
		t.Fatal(err)
	}
	c.expect(`52-["download",{"_placeholder":true,"num":0},{"n":[{"_placeholder":true,"num":1},1]}]`)
	c.expectBinary([]byte("x"))
	c.expectBinary([]byte("y"))
	// An event with zero attachments declared is valid and has no binary.
	c.send(`50-["upload","none"]`)
	if g := recvTimeout(t, events, "the event"); len(g.args) != 1 {
		t.Errorf("got %+v", g)
	}
}

// TestDisconnectReasons checks the reason each way of leaving gives the disconnect handlers.
func TestDisconnectReasons(t *testing.T) {
	e := newSIOEnv(t, Config{Engine: engineio.Config{PingInterval: 30 * time.Millisecond, PingTimeout: time.Second}})
	echoServer(e.srv.Of("/"))
	type left struct {
		id, reason string
	}
	reasons := make(chan left, 16)
	e.srv.OnConnection(func(s *Socket) {
		s.OnDisconnect(func(r string) { reasons <- left{s.ID(), r} })
	})
	expectReason := func(id, want string) {
		t.Helper()
		l := recvTimeout(t, reasons, "the disconnect handler")
		if l.id != id || l.reason != want {
			t.Errorf("socket %s left with %q; want socket %s, %q", l.id, l.reason, id, want)
		}
	}

	c := e.dial(t)
	id := c.connect("/", "")
	c.send("1")
	expectReason(id, ReasonClientDisconnect)
	// Leaving a namespace keeps the connection: the client may join again.
	id = c.connect("/", "")
	c.send(`2["echo",1]`)
	c.expect(`2["echo",1]`)
	_ = c.conn.CloseNow()
	expectReason(id, ReasonTransportClose)

	c = e.dial(t)
	id = c.connect("/", "")
	c.sendRaw("1") // Engine.IO close
	expectReason(id, ReasonTransportClose)

	c = e.dial(t)
	id = c.connect("/", "")
	c.send("2{}")
	expectReason(id, ReasonParseError)

	c = e.dial(t)
	id = c.connect("/", "")
	s := e.srv.Of("/").Socket(id)
	s.Disconnect(false)
	c.expect("1")
	expectReason(id, ReasonServerDisconnect)
	if c.isClosed() {
		t.Error("Disconnect(false) closed the connection")
	}
	id = c.connect("/", "")
	e.srv.Of("/").Socket(id).Disconnect(true)
	c.expect("1")
	c.waitClosed()
	expectReason(id, ReasonServerDisconnect)

	// A client that stops answering pings: a raw dial without the ping-answering reader.
	c = e.dial(t)
	id = c.connect("/", "")
	c.noPong.Store(true)
	expectReason(id, ReasonPingTimeout)

	// A connection the engine closes for a full queue (the real overflow is in
	// slowreader_test.go): the engine's reason is passed on.
	c = e.dial(t)
	id = c.connect("/", "")
	s = e.srv.Of("/").Socket(id)
	s.client.conn.Close(engineio.ReasonQueueFull)
	expectReason(id, ReasonSendQueueOverflow)

	// Closing a connection from another of its namespaces: "forced close".
	e.srv.Of("/other")
	c = e.dial(t)
	id = c.connect("/", "")
	c.connect("/other", "")
	e.srv.Of("/other").Sockets()[0].Disconnect(true)
	expectReason(id, ReasonForcedClose)
}

// TestSocketState checks a socket's own state: data, rooms, Connected, and the errors of emitting
// to a socket that left or with a reserved name.
func TestSocketState(t *testing.T) {
	_, c, s := connectOne(t, Config{})
	if s.Data() != nil {
		t.Errorf("Data() = %v", s.Data())
	}
	s.SetData(map[string]int{"user": 7})
	if d, ok := s.Data().(map[string]int); !ok || d["user"] != 7 {
		t.Errorf("Data() = %v", s.Data())
	}
	for _, name := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
		if err := s.Emit(name); !errors.Is(err, ErrReservedEvent) {
			t.Errorf("Emit(%q) = %v", name, err)
		}
		if _, err := s.EmitWithAck(context.Background(), name); !errors.Is(err, ErrReservedEvent) {
			t.Errorf("EmitWithAck(%q) = %v", name, err)
		}
	}
	if err := s.Emit("bad", func() {}); err == nil {
		t.Error("Emit of a function succeeded")
	}
	if err := s.Emit("error", "allowed"); err != nil { // "error" is not reserved on the wire
		t.Error(err)
	}
	c.expect(`2["error","allowed"]`)

	s.Join("a", "b")
	s.Join("a")
	s.Leave("b")
	s.Leave("never")
	rooms := s.Rooms()
	slices.Sort(rooms)
	if want := []string{s.ID(), "a"}; !slices.Equal(rooms, sortedCopy(want)) {
		t.Errorf("Rooms() = %v", rooms)
	}

	c.send("1")
	sioWaitFor(t, "the socket to leave", func() bool { return !s.Connected() })
	if err := s.Emit("x"); !errors.Is(err, ErrDisconnected) {
		t.Errorf("Emit after leaving = %v", err)
	}
	if ok, err := s.Volatile().Emit("x"); ok || err != nil {
		t.Errorf("volatile Emit after leaving = %v, %v", ok, err)
	}
	if rooms := s.Rooms(); len(rooms) != 0 {
		t.Errorf("Rooms() after leaving = %v", rooms)
	}
	s.Disconnect(false) // harmless
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// TestHandlerPrecedence checks that a socket's own handlers take precedence over the
// namespace-wide one, and that a second On adds a handler rather than replace the first.
func TestHandlerPrecedence(t *testing.T) {
	e := newSIOEnv(t, Config{})
	got := make(chan string, 4)
	e.srv.Of("/").On("ev", func(*Event) { got <- "namespace" })
	e.srv.OnConnection(func(s *Socket) {
		if len(s.Handshake().Query["own"]) > 0 {
			s.On("ev", func(*Event) { got <- "first" })
			s.On("ev", func(*Event) { got <- "socket" })
		}
	})
	c := e.dial(t)
	c.connect("/", "")
	c.send(`2["ev"]`)
	if g := recvTimeout(t, got, "a handler"); g != "namespace" {
		t.Errorf("got %s", g)
	}
	own := e.dialQuery(t, "own=1")
	own.connect("/", "")
	own.send(`2["ev"]`)
	for _, want := range []string{"first", "socket"} {
		if g := recvTimeout(t, got, "a handler"); g != want {
			t.Errorf("got %s, want %s", g, want)
		}
	}
}

// TestVolatile checks volatile emits: delivered to a client that keeps up, dropped (not queued)
// for one that is behind.
func TestVolatile(t *testing.T) {
	e, c, s := connectOne(t, Config{})
	// The client is idle once the server has finished writing: until then volatile events are
	// dropped, after that they are sent. Each attempt is one or the other, never queued.
	for i := range 2 {
		sioWaitFor(t, "a volatile emit to be accepted", func() bool {
			ok, err := s.Volatile().Emit("v", i)
			return ok && err == nil
		})
		c.expect(fmt.Sprintf(`2["v",%d]`, i))
	}
	if _, err := s.Volatile().Emit("connect"); !errors.Is(err, ErrReservedEvent) {
		t.Errorf("reserved volatile emit: %v", err)
	}

	// A polling client with no GET waiting is not keeping up: the volatile event is dropped.
	p, err := e.dialPolling()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.post("40"); err != nil {
		t.Fatal(err)
	}
	if got, err := p.get(); err != nil || !strings.HasPrefix(got, "40") {
		t.Fatalf("connect: %q %v", got, err)
	}
	sioWaitFor(t, "the polling socket", func() bool { return e.srv.Of("/").Count() == 2 })
	if err := e.srv.Volatile().Emit("dropped", 3); err != nil {
		t.Error(err)
	}
	if err := e.srv.Emit("kept", 4); err != nil {
		t.Error(err)
	}
	// The WebSocket client may or may not have been idle at that instant.
	if got := c.recv(); got == `2["dropped",3]` {
		c.expect(`2["kept",4]`)
	} else if got != `2["kept",4]` {
		t.Errorf("got %q", got)
	}
	if got, err := p.get(); err != nil || got != `42["kept",4]` {
		t.Errorf("polling client got %q %v", got, err)
	}
}

// TestReconnectAfterServerDisconnect checks that a client told "you are disconnected" (41) may
// join the namespace again at once, even while the handler that disconnected it is still
// running: its CONNECT must not be taken for a second CONNECT of a joined namespace (which closes
// the connection).
func TestReconnectAfterServerDisconnect(t *testing.T) {
	e := newSIOEnv(t, Config{})
	echoServer(e.srv.Of("/"))
	release := make(chan struct{})
	e.srv.Of("/").On("kick me", func(ev *Event) {
		ev.Socket.Disconnect(false)
		<-release // the handler goes on with other work
	})
	c := e.dial(t)
	old := c.connect("/", "")
	cl := e.srv.Of("/").Socket(old).client
	c.send(`2["kick me"]`)
	c.expect("1")
	c.send("0")
	sioWaitFor(t, "the new CONNECT to be routed", func() bool {
		cl.mu.Lock()
		defer cl.mu.Unlock()
		s := cl.socketLocked("/")
		return c.isClosed() || (s != nil && s.id != old)
	})
	close(release)
	if c.isClosed() {
		t.Fatal("the connection was closed: the CONNECT was taken for a duplicate")
	}
	if id := c.connectReplyID(); id == old {
		t.Errorf("same socket id %q after reconnecting", id)
	}
	c.send(`2["echo","back"]`)
	c.expect(`2["echo","back"]`)
}

// TestJoinAfterLeaving checks that a socket that has left (typically joined from a goroutine that
// finished after the client had gone) is not put back into rooms: it would stay in the adapter
// for good, and every broadcast to the room would keep reaching for it.
func TestJoinAfterLeaving(t *testing.T) {
	e, c, s := connectOne(t, Config{})
	c.send("1")
	sioWaitFor(t, "the socket to leave", func() bool { return !s.Connected() })
	s.Join("late", "later")
	if got := e.srv.To("late", "later").Sockets(); len(got) != 0 {
		t.Errorf("a socket that left is in rooms again: %d sockets", len(got))
	}
	if rooms := s.Rooms(); len(rooms) != 0 {
		t.Errorf("Rooms() = %v", rooms)
	}
	a := e.srv.Of("/").Adapter().(*MemoryAdapter)
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.all.len() != 0 || len(a.rooms) != 0 {
		t.Errorf("adapter keeps %d sockets and %d rooms", a.all.len(), len(a.rooms))
	}
}

// TestJoinInMiddleware checks that a middleware may put the socket in rooms (as with Node.js),
// and that a refused socket leaves them again.
func TestJoinInMiddleware(t *testing.T) {
	e := newSIOEnv(t, Config{})
	nsp := e.srv.Of("/mw")
	nsp.Use(func(s *Socket) error {
		s.Join("from-middleware")
		if string(s.Handshake().Auth) == `{"deny":true}` {
			return errors.New("denied")
		}
		return nil
	})
	c := e.dial(t)
	c.send(`0/mw,{"deny":true}`)
	c.expect(`4/mw,{"message":"denied"}`)
	a := nsp.Adapter().(*MemoryAdapter)
	a.mu.RLock()
	all, rooms := a.all.len(), len(a.rooms)
	a.mu.RUnlock()
	if all != 0 || rooms != 0 {
		t.Errorf("a refused socket left %d sockets and %d rooms in the adapter", all, rooms)
	}
	id := c.connect("/mw", "")
	got := nsp.To("from-middleware").Sockets()
	if len(got) != 1 || got[0].ID() != id {
		t.Errorf("room joined in the middleware: %d sockets", len(got))
	}
}

// TestAckAwaitedWhileReaderBlocked checks the worst case of backpressure: a handler waits
// (without a deadline) for its client's ack while the client, instead of answering, fills the
// connection's event queue, so that the server stops reading from it, and then goes silent. When
// the connection times out the handler must be released and the socket must leave: nothing may
// stay blocked for good.
func TestAckAwaitedWhileReaderBlocked(t *testing.T) {
	e := newSIOEnv(t, Config{
		MaxPendingEvents: 2,
		Engine:           engineio.Config{PingInterval: 50 * time.Millisecond, PingTimeout: 100 * time.Millisecond},
	})
	released := make(chan error, 1)
	left := make(chan string, 1)
	e.srv.Of("/").On("ask", func(ev *Event) {
		_, err := ev.Socket.EmitWithAck(context.Background(), "question")
		released <- err
	})
	e.srv.OnConnection(func(s *Socket) { s.OnDisconnect(func(r string) { left <- r }) })
	c := e.dial(t)
	c.connect("/", "")
	c.noPong.Store(true)
	c.send(`2["ask"]`)
	for range 10 {
		c.send(`2["filler"]`)
	}
	if err := recvTimeout(t, released, "the handler to be released"); !errors.Is(err, ErrDisconnected) {
		t.Errorf("EmitWithAck = %v, want ErrDisconnected", err)
	}
	if r := recvTimeout(t, left, "the disconnect handler"); r != ReasonPingTimeout {
		t.Errorf("reason %q", r)
	}
	sioWaitFor(t, "the socket to leave", func() bool { return e.srv.Of("/").Count() == 0 })
}

// TestHandshakeHostAndAddress checks that the handshake has what a Node.js server's has and other
// servers of a cluster read: the Host header (which net/http keeps out of Request.Header) and
// the client's address without its port.
func TestHandshakeHostAndAddress(t *testing.T) {
	e, _, s := connectOne(t, Config{})
	hs := s.Handshake()
	u, err := url.Parse(e.ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	if got := hs.Headers.Get("Host"); got != u.Host {
		t.Errorf("Host header = %q, want %q", got, u.Host)
	}
	if hs.Address != "127.0.0.1" {
		t.Errorf("Address = %q, want 127.0.0.1", hs.Address)
	}
	// The headers are the caller's copy: changing them changes nothing for the next caller.
	hs.Headers.Set("Host", "elsewhere")
	if got := s.Handshake().Headers.Get("Host"); got != u.Host {
		t.Errorf("after changing a copy, Host header = %q", got)
	}
	if s.Request().Header.Get("Host") != "" {
		t.Error("the request's own headers were changed")
	}
}

func TestRemoteIP(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:5000": "127.0.0.1",
		"[::1]:5000":     "::1",
		"10.0.0.1":       "10.0.0.1",
		"":               "",
	} {
		if got := remoteIP(in); got != want {
			t.Errorf("remoteIP(%q) = %q, want %q", in, got, want)
		}
	}
}
