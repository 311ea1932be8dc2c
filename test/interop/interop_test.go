package interop_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-chat/herald/socketio"
)

// TestDefaultOptionsUpgrade: io(url) with no options starts on long-polling, upgrades to
// WebSocket, and events flow both ways, in order and without loss across the upgrade.
func TestDefaultOptionsUpgrade(t *testing.T) {
	t.Parallel()
	srv, url := newServer(t)
	conns := make(chan *socketio.Socket, 4)
	hellos := make(chan map[string]any, 4)
	var bad failures
	srv.OnConnection(func(s *socketio.Socket) {
		ticks := 0 // handlers of one socket run one at a time
		s.On("tick", func(e *socketio.Event) {
			var n int
			if err := e.Bind(&n); err != nil || n != ticks {
				bad.add("tick %d (%v), want %d", n, err, ticks)
			}
			ticks++
			if err := s.Emit("tock", n); err != nil {
				bad.add("Emit(tock): %v", err)
			}
		})
		s.On("ticks-done", func(e *socketio.Event) { _ = e.Ack(ticks) })
		s.On("hello", func(e *socketio.Event) {
			var m map[string]any
			if err := e.Bind(&m); err != nil {
				bad.add("hello: %v", err)
			}
			m["transport"] = s.Transport()
			post(hellos, m)
		})
		post(conns, s)
	})

	p := startScript(t, "upgrade", url)
	s := recv(t, conns, "the connection")
	waitFor(t, `the server to see transport "websocket"`, func() bool { return s.Transport() == "websocket" })
	hello := recv(t, hellos, `the client's "hello"`)
	if err := s.Emit("welcome", "over websocket"); err != nil {
		t.Fatalf("Emit: %v", err)
	}
	lines := p.finish()
	bad.check(t)

	if !jsonEqual(hello, map[string]any{"from": "node", "n": 1, "transport": "websocket"}) {
		t.Errorf(`server got hello %v, want {from: node, n: 1} over websocket`, hello)
	}
	// The connection opens over long-polling; the upgrade may complete before or after the
	// Socket.IO connect, whichever the timing gives.
	wantField(t, one(t, lines, "open"), "transport", "polling")
	wantField(t, one(t, lines, "connect"), "id", s.ID())
	wantField(t, one(t, lines, "upgraded"), "transport", "websocket")
	ticks := one(t, lines, "ticks")
	wantField(t, ticks, "serverCount", ticks["sent"])
	wantField(t, ticks, "tocks", ticks["sent"])
	wantField(t, ticks, "inOrder", true)
	t.Logf("%v ticks, %v of them before the upgrade", ticks["sent"], one(t, lines, "upgraded")["ticksBefore"])
	w := one(t, lines, "welcome")
	wantField(t, w, "msg", "over websocket")
	wantField(t, w, "transport", "websocket")
}

// TestPollingOnly and TestWebSocketOnly: with one transport, events, acks and binary payloads
// work in both directions.
func TestPollingOnly(t *testing.T) {
	t.Parallel()
	testTransport(t, "polling")
}

func TestWebSocketOnly(t *testing.T) {
	t.Parallel()
	testTransport(t, "websocket")
}

func testTransport(t *testing.T, transport string) {
	srv, url := newServer(t)
	var bad failures
	conns := make(chan *socketio.Socket, 4)
	notes := make(chan string, 4)
	binUps := make(chan []any, 4)
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("note", func(e *socketio.Event) {
			var note string
			if err := e.Bind(&note); err != nil {
				bad.add("note: %v", err)
			}
			if e.HasAck() {
				bad.add("note: the client asked for an ack it did not pass")
			}
			post(notes, note)
		})
		s.On("sum", func(e *socketio.Event) {
			var a, b int
			if err := e.Bind(&a, &b); err != nil {
				bad.add("sum: %v", err)
			}
			if err := e.Ack(a + b); err != nil {
				bad.add("sum: Ack: %v", err)
			}
		})
		s.On("upper", func(e *socketio.Event) {
			var str string
			if err := e.Bind(&str); err != nil {
				bad.add("upper: %v", err)
			}
			if err := e.Ack(strings.ToUpper(str)); err != nil {
				bad.add("upper: Ack: %v", err)
			}
		})
		s.On("bin-up", func(e *socketio.Event) {
			args, err := e.Args()
			if err != nil {
				bad.add("bin-up: Args: %v", err)
			}
			post(binUps, args)
			var buf []byte
			if err := e.Bind(&buf); err != nil {
				bad.add("bin-up: Bind: %v", err)
			}
			echo := slices.Clone(buf)
			slices.Reverse(echo)
			if err := e.Ack(map[string]any{"size": len(buf), "echo": echo}); err != nil {
				bad.add("bin-up: Ack: %v", err)
			}
		})
		post(conns, s)
	})

	p := startScript(t, "transports", url, transport)
	s := recv(t, conns, "the connection")
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()

	// Server → client: an ack, a binary event (top level and nested), an ack carrying binary.
	res, err := s.EmitWithAck(ctx, "question", 20, 22)
	if err != nil || !jsonEqual(res, []any{42}) {
		t.Errorf("EmitWithAck(question, 20, 22) = %v, %v; want [42]", res, err)
	}
	down := []byte{0, 1, 2, 253, 254, 255}
	inner := []byte("héllo")
	if err := s.Emit("bin-down", down, map[string]any{"inner": inner, "label": "x"}); err != nil {
		t.Errorf("Emit(bin-down): %v", err)
	}
	res, err = s.EmitWithAck(ctx, "bin-question", []byte{1, 2, 3})
	if err != nil || len(res) != 1 {
		t.Errorf("EmitWithAck(bin-question) = %v, %v; want one argument", res, err)
	} else if b, ok := res[0].([]byte); !ok || !bytes.Equal(b, []byte{3, 2, 1}) {
		t.Errorf("EmitWithAck(bin-question) acked %#v, want []byte{3, 2, 1}", res[0])
	}
	if err := s.Emit("server-done"); err != nil {
		t.Errorf("Emit(server-done): %v", err)
	}

	// Client → server, as the server saw it.
	if note := recv(t, notes, `the client's "note"`); note != "fire and forget" {
		t.Errorf("note = %q", note)
	}
	args := recv(t, binUps, `the client's "bin-up"`)
	if len(args) != 2 {
		t.Fatalf("bin-up args = %#v, want 2", args)
	}
	if b, ok := args[0].([]byte); !ok || !bytes.Equal(b, []byte{0, 1, 2, 255}) {
		t.Errorf("bin-up arg 0 = %#v, want []byte{0, 1, 2, 255}", args[0])
	}
	obj, _ := args[1].(map[string]any)
	if b, ok := obj["nested"].([]byte); !ok || !bytes.Equal(b, []byte{9, 8, 7}) || obj["label"] != "x" {
		t.Errorf("bin-up arg 1 = %#v, want {nested: []byte{9, 8, 7}, label: x}", args[1])
	}

	lines := p.finish()
	bad.check(t)
	if got := s.Transport(); got != transport {
		t.Errorf("server transport = %q, want %q", got, transport)
	}
	wantField(t, one(t, lines, "connect"), "transport", transport)
	wantField(t, one(t, lines, "end"), "transport", transport)
	wantField(t, one(t, lines, "sum"), "value", 5)
	wantField(t, one(t, lines, "upper"), "value", "ABC")
	ack := one(t, lines, "bin-up-ack")
	wantField(t, ack, "size", 4)
	wantField(t, ack, "echo", map[string]any{"isBuffer": true, "hex": "ff020100"})
	wantField(t, one(t, lines, "question"), "args", []int{20, 22})
	wantField(t, one(t, lines, "bin-question"), "buf", map[string]any{"isBuffer": true, "hex": "010203"})
	bd := one(t, lines, "bin-down")
	wantField(t, bd, "top", map[string]any{"isBuffer": true, "hex": fmt.Sprintf("%x", down)})
	wantField(t, bd, "nested", map[string]any{"isBuffer": true, "hex": fmt.Sprintf("%x", inner)})
	wantField(t, bd, "label", "x")
}

// TestNamespaces: "/" and "/admin" share one connection, each namespace's handlers and
// broadcasts stay in it, and an unknown namespace is refused with "Invalid namespace".
func TestNamespaces(t *testing.T) {
	t.Parallel()
	srv, url := newServer(t)
	admin := srv.Of("/admin")
	ready := make(chan struct{}, 1)
	var mainConns, adminConns atomic.Int32
	reasons := make(chan string, 4)
	srv.OnConnection(func(s *socketio.Socket) {
		mainConns.Add(1)
		s.OnDisconnect(func(r string) { post(reasons, "/: "+r) })
		s.On("whoami", func(e *socketio.Event) { _ = e.Ack("main:" + s.Namespace().Name()) })
		s.On("ready", func(*socketio.Event) { post(ready, struct{}{}) })
	})
	admin.OnConnection(func(s *socketio.Socket) {
		adminConns.Add(1)
		s.OnDisconnect(func(r string) { post(reasons, "/admin: "+r) })
		s.On("whoami", func(e *socketio.Event) { _ = e.Ack("admin:" + s.Namespace().Name()) })
	})

	p := startScript(t, "namespaces", url)
	recv(t, ready, `the client's "ready"`)
	for _, err := range []error{
		admin.Emit("news", "admin-only"),
		srv.Emit("news", "main-only"),
		admin.Emit("end"),
		srv.Emit("end"),
	} {
		if err != nil {
			t.Errorf("Emit: %v", err)
		}
	}
	lines := p.finish()

	wantField(t, one(t, lines, "connect"), "sameManager", true)
	wantField(t, one(t, lines, "bogus"), "message", "Invalid namespace")
	who := one(t, lines, "whoami")
	wantField(t, who, "main", "main:/")
	wantField(t, who, "admin", "admin:/admin")
	news := one(t, lines, "news")
	wantField(t, news, "main", []string{"main-only"})
	wantField(t, news, "admin", []string{"admin-only"})
	if m, a := mainConns.Load(), adminConns.Load(); m != 1 || a != 1 {
		t.Errorf("connections: %d to /, %d to /admin; want 1 each", m, a)
	}
	// The script left both namespaces with socket.disconnect() before closing the connection.
	got := []string{recv(t, reasons, "a disconnect handler"), recv(t, reasons, "a disconnect handler")}
	slices.Sort(got)
	if want := []string{"/: client namespace disconnect", "/admin: client namespace disconnect"}; !slices.Equal(got, want) {
		t.Errorf("disconnect reasons = %q, want %q", got, want)
	}
}

// TestRooms: sockets join rooms on request; To, Except, Socket.Broadcast and Socket.To reach
// exactly the sockets they name.
func TestRooms(t *testing.T) {
	t.Parallel()
	srv, url := newServer(t)
	var bad failures
	type joined struct {
		name string
		s    *socketio.Socket
	}
	joins := make(chan joined, 8)
	leaves := make(chan string, 8)
	type roomReq struct {
		Name string `json:"name"`
		Room string `json:"room"`
	}
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("join", func(e *socketio.Event) {
			var req roomReq
			if err := e.Bind(&req); err != nil {
				bad.add("join: %v", err)
			}
			s.Join(req.Room)
			post(joins, joined{req.Name, s})
			_ = e.Ack(true)
		})
		s.On("leave", func(e *socketio.Event) {
			var req roomReq
			if err := e.Bind(&req); err != nil {
				bad.add("leave: %v", err)
			}
			s.Leave(req.Room)
			post(leaves, req.Room)
			_ = e.Ack(true)
		})
	})

	p := startScript(t, "rooms", url)
	sockets := map[string]*socketio.Socket{}
	for range 4 {
		j := recv(t, joins, "a join")
		sockets[j.name] = j.s
	}
	recv(t, leaves, "D leaving red")
	a, b := sockets["A"], sockets["B"]
	if a == nil || b == nil {
		t.Fatalf("joined sockets: %v", sockets)
	}
	if !slices.Contains(a.Rooms(), "red") || !slices.Contains(a.Rooms(), a.ID()) {
		t.Errorf("A's rooms = %v, want red and its own id", a.Rooms())
	}
	if d := sockets["D"]; d == nil || slices.Contains(d.Rooms(), "red") {
		t.Errorf("D should have left red: %v", d)
	}
	for _, err := range []error{
		srv.To("red").Emit("msg", "to-red"),                                // A, B
		srv.Except("red").Emit("msg", "except-red"),                        // C, D
		a.Broadcast().Emit("msg", "from-A"),                                // B, C, D
		a.To("red").Emit("msg", "A-to-red"),                                // B
		srv.To("red", "blue").Except(b.ID()).Emit("msg", "red-blue-not-B"), // A, C
	} {
		if err != nil {
			t.Errorf("Emit: %v", err)
		}
	}
	// A room broadcast with acks collects one answer per member.
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	replies, err := srv.To("red").EmitWithAck(ctx, "roll-call")
	var names []string
	for _, r := range replies {
		if len(r) == 1 {
			name, _ := r[0].(string)
			names = append(names, name)
		}
	}
	slices.Sort(names)
	if err != nil || !slices.Equal(names, []string{"A", "B"}) {
		t.Errorf("To(red).EmitWithAck(roll-call) = %v, %v; want answers from A and B", replies, err)
	}
	if err := srv.Emit("msg", "end"); err != nil {
		t.Errorf("Emit(end): %v", err)
	}
	lines := p.finish()
	bad.check(t)

	got := one(t, lines, "received")
	wantField(t, got, "A", []string{"to-red", "red-blue-not-B", "end"})
	wantField(t, got, "B", []string{"to-red", "from-A", "A-to-red", "end"})
	wantField(t, got, "C", []string{"except-red", "from-A", "red-blue-not-B", "end"})
	wantField(t, got, "D", []string{"except-red", "from-A", "end"})
}

// TestMiddlewareRefusal: a middleware's ConnectError reaches the client's connect_error with its
// message and data, a plain error with its message; the connection handlers never run. A
// middleware sees the client's auth payload and query, and admits it when they check out.
func TestMiddlewareRefusal(t *testing.T) {
	t.Parallel()
	srv, url := newServer(t)
	plain := srv.Of("/plain")
	auth := srv.Of("/auth")
	var mainMW, plainMW, handlers atomic.Int32
	srv.Use(func(*socketio.Socket) error {
		mainMW.Add(1)
		return &socketio.ConnectError{Message: "not authorized", Data: map[string]any{"code": 42}}
	})
	plain.Use(func(*socketio.Socket) error {
		plainMW.Add(1)
		return errors.New("plain refusal")
	})
	srv.OnConnection(func(*socketio.Socket) { handlers.Add(1) })
	plain.OnConnection(func(*socketio.Socket) { handlers.Add(1) })
	auth.Use(func(s *socketio.Socket) error {
		var a struct {
			Token string `json:"token"`
		}
		if err := json.Unmarshal(s.Handshake().Auth, &a); err != nil || a.Token != "s3cret" {
			return &socketio.ConnectError{Message: "bad token"}
		}
		if who := s.Handshake().Query["who"]; !slices.Equal(who, []string{"node"}) {
			return &socketio.ConnectError{Message: fmt.Sprintf("query who = %q", who)}
		}
		return nil
	})
	admitted := make(chan string, 2)
	auth.OnConnection(func(s *socketio.Socket) { post(admitted, s.ID()) })

	lines := startScript(t, "middleware", url).finish()
	refused := find(lines, "refused")
	if len(refused) != 2 {
		t.Fatalf("want two refused lines, got %v", lines)
	}
	for _, r := range refused {
		switch r["nsp"] {
		case "/":
			wantField(t, r, "message", "not authorized")
			wantField(t, r, "data", map[string]any{"code": 42})
			wantField(t, r, "active", false)
		case "/plain":
			wantField(t, r, "message", "plain refusal")
			wantField(t, r, "dataUndefined", true)
			wantField(t, r, "active", false)
		default:
			t.Errorf("unexpected line %v", r)
		}
	}
	if m, pl, h := mainMW.Load(), plainMW.Load(), handlers.Load(); m != 1 || pl != 1 || h != 0 {
		t.Errorf("middleware ran %d times on / and %d on /plain (want 1 each); connection handlers ran %d times (want 0)", m, pl, h)
	}
	wantField(t, one(t, lines, "admitted"), "id", recv(t, admitted, "the /auth connection"))
}

// TestEmitToManyClients: one io.Emit reaches each of 200 clients exactly once.
func TestEmitToManyClients(t *testing.T) {
	t.Parallel()
	const n = 200
	srv, url := newServer(t)
	conns := make(chan *socketio.Socket, n)
	srv.OnConnection(func(s *socketio.Socket) { post(conns, s) })

	p := startScript(t, "fanout", url, fmt.Sprint(n))
	for i := range n {
		recv(t, conns, fmt.Sprintf("connection %d of %d", i+1, n))
	}
	if c := srv.Of("/").Count(); c != n {
		t.Fatalf("namespace count = %d, want %d", c, n)
	}
	if err := srv.Emit("blast", map[string]any{"seq": 1}); err != nil {
		t.Fatalf("Emit(blast): %v", err)
	}
	// Per connection, events arrive in order: a duplicate blast would come before fin.
	if err := srv.Emit("fin"); err != nil {
		t.Fatalf("Emit(fin): %v", err)
	}
	// A broadcast with acks: every client answers with its index.
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	replies, err := srv.EmitWithAck(ctx, "survey")
	if err != nil {
		t.Errorf("EmitWithAck(survey): %v (%d replies)", err, len(replies))
	}
	seen := map[float64]bool{}
	for _, r := range replies {
		if len(r) != 1 {
			t.Fatalf("survey reply %v, want one argument", r)
		}
		i, _ := r[0].(float64)
		seen[i] = true
	}
	if len(replies) != n || len(seen) != n {
		t.Errorf("survey: %d replies from %d distinct clients, want %d", len(replies), len(seen), n)
	}
	lines := p.finish()
	res := one(t, lines, "result")
	wantField(t, res, "clients", n)
	wantField(t, res, "histogram", map[string]int{"1": n})
	wantField(t, res, "badValues", 0)
}

// TestVolatile: volatile emits never fail, an emit reported as queued arrives, and nothing is
// delivered twice or when reported as dropped. Which emits are dropped depends on timing, so the
// test checks the client got exactly what the server says it queued.
func TestVolatile(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"polling", "websocket"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			testVolatile(t, transport)
		})
	}
}

func testVolatile(t *testing.T, transport string) {
	srv, url := newServer(t)
	ready := make(chan *socketio.Socket, 1)
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("ready", func(*socketio.Event) { post(ready, s) })
	})
	p := startScript(t, "volatile", url, transport)
	s := recv(t, ready, `the client's "ready"`)

	var queued []int
	seq := 0
	emit := func() bool {
		ok, err := s.Volatile().Emit("v", seq)
		if err != nil {
			t.Fatalf("Volatile().Emit: %v", err)
		}
		if ok {
			queued = append(queued, seq)
		}
		seq++
		return ok
	}
	// The client is idle and keeping up: an emit gets through as soon as the server has
	// finished writing what came before (the connect and ack traffic).
	waitFor(t, "a volatile emit to be queued", emit)
	// A burst: later emits find earlier ones still queued and may be dropped.
	for range 50 {
		emit()
	}
	if err := srv.Volatile().Emit("vb", "x"); err != nil {
		t.Errorf("Volatile broadcast: %v", err)
	}
	if err := s.Emit("end"); err != nil {
		t.Fatalf("Emit(end): %v", err)
	}
	v := one(t, p.finish(), "volatile")
	wantField(t, v, "got", queued)
	if vb, _ := v["vb"].(float64); vb > 1 {
		t.Errorf("volatile broadcast received %v times, want at most once", vb)
	}
	t.Logf("%s: %d of %d volatile emits queued", transport, len(queued), seq)
}

// TestServerDisconnect: Socket.Disconnect ends the client's socket with "io server disconnect",
// after which the client does not reconnect by itself; an ack still awaited fails.
func TestServerDisconnect(t *testing.T) {
	t.Parallel()
	srv, url := newServer(t)
	conns := make(chan *socketio.Socket, 2)
	reasons := make(chan string, 2)
	srv.OnConnection(func(s *socketio.Socket) {
		s.OnDisconnect(func(reason string) { post(reasons, reason) })
		post(conns, s)
	})
	p := startScript(t, "disconnect", url)
	s := recv(t, conns, "the connection")
	p.expect("connect")
	// An ack the client never sends must not outlive the socket: EmitWithAck returns
	// ErrDisconnected when the socket goes, not when ctx ends.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pending := make(chan error, 1)
	go func() {
		_, err := s.EmitWithAck(ctx, "never-acked")
		pending <- err
	}()
	p.expect("never-acked")
	s.Disconnect(false)
	if r := recv(t, reasons, "the disconnect handler"); r != socketio.ReasonServerDisconnect {
		t.Errorf("server disconnect reason = %q, want %q", r, socketio.ReasonServerDisconnect)
	}
	if err := recv(t, pending, "EmitWithAck to return"); !errors.Is(err, socketio.ErrDisconnected) {
		t.Errorf("EmitWithAck on a disconnected socket: %v, want ErrDisconnected", err)
	}
	lines := p.finish()
	d := one(t, lines, "disconnect")
	wantField(t, d, "reason", "io server disconnect")
	wantField(t, d, "active", false)
	wantField(t, one(t, lines, "connect"), "id", s.ID())
	if s.Connected() {
		t.Error("socket still connected after Disconnect")
	}
}

// TestServerClose: Server.Close ends every connection (WebSocket and long-polling): clients see
// "transport close", and by the time Close returns the disconnect handlers have run, with
// "server shutting down".
func TestServerClose(t *testing.T) {
	t.Parallel()
	srv, url := newServer(t)
	reasons := make(chan string, 4)
	srv.OnConnection(func(s *socketio.Socket) {
		s.OnDisconnect(func(reason string) {
			// A handler with work to do (say, recording that the user left): Close must
			// wait for it, or an application would tear down what it uses under it.
			time.Sleep(50 * time.Millisecond)
			post(reasons, reason)
		})
	})
	p := startScript(t, "shutdown", url)
	p.expect("connected")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
	if n := len(reasons); n != 2 {
		t.Errorf("Close returned after %d of 2 disconnect handlers had run", n)
	}
	for range 2 {
		if r := recv(t, reasons, "a disconnect handler"); r != socketio.ReasonServerShutdown {
			t.Errorf("disconnect reason = %q, want %q", r, socketio.ReasonServerShutdown)
		}
	}
	lines := p.finish()
	got := map[string]any{}
	for _, d := range find(lines, "disconnect") {
		got[d["transport"].(string)] = d["reason"]
	}
	if !jsonEqual(got, map[string]string{"websocket": "transport close", "polling": "transport close"}) {
		t.Errorf("client disconnect reasons = %v, want transport close for both", got)
	}
}

// TestReconnection: when the client's transport dies it reconnects by itself, as a new socket.
func TestReconnection(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"default", "websocket"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			arg := []string{}
			if transport != "default" {
				arg = append(arg, transport)
			}
			testReconnection(t, arg...)
		})
	}
}

func testReconnection(t *testing.T, args ...string) {
	srv, url := newServer(t)
	conns := make(chan *socketio.Socket, 4)
	reasons := make(chan string, 4)
	srv.OnConnection(func(s *socketio.Socket) {
		s.OnDisconnect(func(reason string) { post(reasons, reason) })
		post(conns, s)
	})
	p := startScript(t, "reconnect", url, args...)
	first := recv(t, conns, "the first connection")
	if r := recv(t, reasons, "the first socket's disconnect"); r != socketio.ReasonTransportClose {
		t.Errorf("first socket's disconnect reason = %q, want %q", r, socketio.ReasonTransportClose)
	}
	second := recv(t, conns, "the reconnection")
	lines := p.finish()
	if first.ID() == second.ID() {
		t.Errorf("the reconnection reused socket id %s", first.ID())
	}
	wantField(t, one(t, lines, "connect"), "id", first.ID())
	d := one(t, lines, "disconnect")
	// The client closed its own transport, so it names the cause itself; what matters is that
	// it stays active and reconnects.
	wantField(t, d, "reason", "forced close")
	wantField(t, d, "active", true)
	r := one(t, lines, "reconnect")
	wantField(t, r, "id", second.ID())
	wantField(t, r, "recovered", false)
}

// TestHeartbeat (beyond the required scenarios): with a 100 ms ping interval the client stays
// connected, on the same socket, across several pings on either transport while events flow.
func TestHeartbeat(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"polling", "websocket"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			srv, url := newServer(t, func(c *socketio.Config) {
				c.Engine.PingInterval = 100 * time.Millisecond
				c.Engine.PingTimeout = time.Second // generous: the race detector on 2 loaded cores
			})
			reasons := make(chan string, 4)
			srv.OnConnection(func(s *socketio.Socket) {
				s.OnDisconnect(func(reason string) { post(reasons, reason) })
				s.On("echo", func(e *socketio.Event) {
					args, _ := e.Args()
					_ = e.Ack(args...)
				})
			})
			p := startScript(t, "heartbeat", url, transport)
			h := one(t, p.finish(), "heartbeat")
			// The socket's only disconnect is the script's own, at the end.
			if r := recv(t, reasons, "the disconnect handler"); r != socketio.ReasonClientDisconnect {
				t.Errorf("disconnect reason = %q, want %q", r, socketio.ReasonClientDisconnect)
			}
			wantField(t, h, "acks", 5)
			wantField(t, h, "sameId", true)
			wantField(t, h, "connected", true)
		})
	}
}

// TestAckAwaitedWhenClientLeaves (beyond the required scenarios; a regression test): a handler
// waiting in EmitWithAck, without a deadline, for a client that goes away gets ErrDisconnected,
// and the socket's disconnect handlers run. (The close used to queue behind the waiting
// handler, which then waited forever.)
func TestAckAwaitedWhenClientLeaves(t *testing.T) {
	t.Parallel()
	srv, url := newServer(t)
	results := make(chan error, 1)
	reasons := make(chan string, 1)
	srv.OnConnection(func(s *socketio.Socket) {
		s.OnDisconnect(func(r string) { post(reasons, r) })
		s.On("ask", func(*socketio.Event) {
			_, err := s.EmitWithAck(context.Background(), "question")
			post(results, err)
		})
	})
	startScript(t, "unacked", url).finish()
	if err := recv(t, results, "EmitWithAck, waiting in a handler, to return"); !errors.Is(err, socketio.ErrDisconnected) {
		t.Errorf("EmitWithAck = %v, want ErrDisconnected", err)
	}
	if r := recv(t, reasons, "the disconnect handler"); r != socketio.ReasonTransportClose {
		t.Errorf("disconnect reason = %q, want %q", r, socketio.ReasonTransportClose)
	}
	waitFor(t, "the namespace to be empty", func() bool { return srv.Of("/").Count() == 0 })
}
