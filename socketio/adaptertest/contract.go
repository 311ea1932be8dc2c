package adaptertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/internal/sioclient"
	"github.com/herald-chat/herald/socketio"
)

func decodeAuth(s *socketio.Socket, dst any) error { return json.Unmarshal(s.Handshake().Auth, dst) }

// sentinel is broadcast after the event under test, from the same server: a server's broadcasts
// reach each client in the order they were made, so a client has seen everything the test sent
// it once the sentinel arrives.
const sentinel = "sentinel"

// received reads what a client gets until the sentinel from server from, and returns the events'
// names and their first argument.
func (c *cluster) received(cl *client) []string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	var got []string
	for {
		e, err := cl.Next(ctx)
		if err != nil {
			c.t.Fatalf("%s (server %d): waiting for the sentinel after %v: %v", cl.name, cl.server, got, err)
		}
		if e.Name == sentinel {
			return got
		}
		got = append(got, describe(e))
	}
}

func describe(e *sioclient.Event) string {
	if len(e.Args) == 0 {
		return e.Name
	}
	return fmt.Sprintf("%s:%v", e.Name, e.Args[0])
}

// expect sends the sentinel from server from and checks that each client received exactly
// want(client) before it.
func (c *cluster) expect(from int, nsp string, clients []*client, want func(*client) []string) {
	c.t.Helper()
	if err := c.servers[from].io.Of(nsp).Emit(sentinel); err != nil {
		c.t.Fatal(err)
	}
	for _, cl := range clients {
		got, w := c.received(cl), want(cl)
		if w == nil {
			w = []string{}
		}
		if got == nil {
			got = []string{}
		}
		if !slices.Equal(got, w) {
			c.t.Errorf("%s on server %d in %v received %q, want %q", cl.name, cl.server, cl.rooms, got, w)
		}
	}
}

func inAny(cl *client, rooms ...string) bool {
	for _, r := range rooms {
		if slices.Contains(cl.rooms, r) {
			return true
		}
	}
	return false
}

// testBroadcast: an emit from any server reaches every client of every server once, with its
// arguments (binary included) intact.
func testBroadcast(t *testing.T, c *cluster) {
	clients := c.spread("/", nil, nil, nil, nil, nil, nil)
	blob := []byte{0, 1, 2, 0xff, 'x'}
	for from := range c.servers {
		err := c.servers[from].io.Emit("hello", from, "text", map[string]any{"nested": []any{blob, 1.5}}, blob)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.servers[from].io.Of("/").Emit(sentinel); err != nil {
			t.Fatal(err)
		}
		for _, cl := range clients {
			ctx, cancel := context.WithTimeout(context.Background(), Wait)
			e, err := cl.Next(ctx)
			cancel()
			if err != nil {
				t.Fatalf("%s: %v", cl.name, err)
			}
			if e.Name != "hello" || len(e.Args) != 4 {
				t.Fatalf("%s got %s %v", cl.name, e.Name, e.Args)
			}
			if n, _ := e.Args[0].(float64); int(n) != from || e.Args[1] != "text" {
				t.Errorf("%s: args %v", cl.name, e.Args)
			}
			nested, _ := e.Args[2].(map[string]any)["nested"].([]any)
			if len(nested) != 2 || !bytes.Equal(asBytes(nested[0]), blob) || nested[1] != 1.5 {
				t.Errorf("%s: nested %v", cl.name, e.Args[2])
			}
			if !bytes.Equal(asBytes(e.Args[3]), blob) {
				t.Errorf("%s: binary %v", cl.name, e.Args[3])
			}
			if got := c.received(cl); len(got) != 0 {
				t.Errorf("%s got %v more", cl.name, got)
			}
		}
	}
}

func asBytes(v any) []byte { b, _ := v.([]byte); return b }

// testRooms: To, Except and their combinations select the same clients wherever they are; a
// socket id names that socket's room.
func testRooms(t *testing.T, c *cluster) {
	clients := c.spread("/", []string{"red"}, []string{"blue"}, []string{"red", "blue"}, nil, []string{"red"}, []string{"green"})
	from := len(c.servers) - 1
	io := c.servers[from].io
	must(t, io.To("red").Emit("to red"))
	must(t, io.To("red", "blue").Emit("to red or blue"))
	must(t, io.Except("red").Emit("except red"))
	must(t, io.To("red").Except("blue").Emit("red except blue"))
	must(t, io.To("nobody").Emit("to nobody"))
	must(t, io.To(clients[3].ID).Emit("to c3"))
	must(t, io.Except(clients[0].ID, clients[1].ID).Emit("except c0 c1"))
	c.expect(from, "/", clients, func(cl *client) []string {
		var w []string
		if inAny(cl, "red") {
			w = append(w, "to red")
		}
		if inAny(cl, "red", "blue") {
			w = append(w, "to red or blue")
		}
		if !inAny(cl, "red") {
			w = append(w, "except red")
		}
		if inAny(cl, "red") && !inAny(cl, "blue") {
			w = append(w, "red except blue")
		}
		if cl == clients[3] {
			w = append(w, "to c3")
		}
		if cl != clients[0] && cl != clients[1] {
			w = append(w, "except c0 c1")
		}
		return w
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// testLocal: a Local broadcast reaches the clients of its own server only.
func testLocal(t *testing.T, c *cluster) {
	clients := c.spread("/", []string{"red"}, []string{"red"}, []string{"red"}, nil, nil, nil)
	io := c.servers[0].io
	must(t, io.Local().Emit("local"))
	must(t, io.To("red").Local().Emit("local red"))
	c.expect(0, "/", clients, func(cl *client) []string {
		if cl.server != 0 {
			return nil
		}
		if inAny(cl, "red") {
			return []string{"local", "local red"}
		}
		return []string{"local"}
	})
}

// testEmitWithAck: a broadcast with acks collects an answer from every selected client of every
// server, and completes as soon as they have all answered.
func testEmitWithAck(t *testing.T, c *cluster) {
	clients := c.spread("/", []string{"red"}, nil, []string{"red"}, nil, []string{"red"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	replies, err := c.servers[0].io.EmitWithAck(ctx, "question")
	if err != nil {
		t.Fatalf("EmitWithAck: %v (got %v)", err, replies)
	}
	var got, want []string
	for _, r := range replies {
		if len(r) == 0 {
			t.Fatalf("empty reply in %v", replies)
		}
		got = append(got, fmt.Sprint(r[0]))
	}
	for _, cl := range clients {
		want = append(want, "ack from "+cl.name)
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("replies %v, want %v", got, want)
	}
	replies, err = c.servers[len(c.servers)-1].io.To("red").EmitWithAck(ctx, "red question")
	if err != nil || len(replies) != 3 {
		t.Errorf("to red: %v, %v; want 3 replies", replies, err)
	}
	for _, cl := range clients {
		for _, e := range cl.Pending() {
			if e.Name != "question" && e.Name != "red question" {
				t.Errorf("%s got %s", cl.name, e.Name)
			}
		}
	}
	// No client at all: the answer is immediate and empty.
	replies, err = c.servers[0].io.To("nobody").EmitWithAck(ctx, "to nobody")
	if err != nil || len(replies) != 0 {
		t.Errorf("to nobody: %v, %v", replies, err)
	}
}

// roomsOf returns, for every socket the server lists, its rooms without its own id room.
func (c *cluster) roomsOf(from int) map[string][]string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	sockets, err := c.servers[from].io.FetchSockets(ctx)
	if err != nil {
		c.t.Fatalf("FetchSockets: %v", err)
	}
	out := map[string][]string{}
	for _, s := range sockets {
		rooms := slices.DeleteFunc(slices.Clone(s.Rooms), func(r string) bool { return r == s.ID })
		sort.Strings(rooms)
		out[s.ID] = rooms
	}
	return out
}

// testSocketsJoinLeave: SocketsJoin and SocketsLeave act on the selected sockets of every server.
func testSocketsJoinLeave(t *testing.T, c *cluster) {
	clients := c.spread("/", []string{"red"}, []string{"blue"}, []string{"red"}, []string{"blue"}, []string{"red"}, nil)
	c.servers[0].io.In("red").SocketsJoin("green", "yellow")
	c.servers[len(c.servers)-1].io.Except("red").SocketsJoin("purple")
	want := func(cl *client) []string {
		var w []string
		w = append(w, cl.rooms...)
		if inAny(cl, "red") {
			w = append(w, "green", "yellow")
		} else {
			w = append(w, "purple")
		}
		sort.Strings(w)
		return w
	}
	c.waitRooms(clients, want)
	must(t, c.servers[0].io.To("green").Emit("to green"))
	c.expect(0, "/", clients, func(cl *client) []string {
		if inAny(cl, "red") {
			return []string{"to green"}
		}
		return nil
	})
	c.servers[len(c.servers)-1].io.In("green").SocketsLeave("yellow", "red")
	c.waitRooms(clients, func(cl *client) []string {
		w := slices.DeleteFunc(want(cl), func(r string) bool { return inAny(cl, "red") && (r == "yellow" || r == "red") })
		return w
	})
}

func (c *cluster) waitRooms(clients []*client, want func(*client) []string) {
	c.t.Helper()
	for from := range c.servers {
		var last map[string][]string
		c.waitFor(fmt.Sprintf("server %d to list the new rooms", from), func() bool {
			last = c.roomsOf(from)
			for _, cl := range clients {
				if !slices.Equal(last[cl.ID], want(cl)) {
					return false
				}
			}
			return true
		})
	}
	if c.settle != nil {
		c.settle(c.t)
	}
}

// testDisconnectSockets: DisconnectSockets ends the selected sockets of every server.
func testDisconnectSockets(t *testing.T, c *cluster) {
	clients := c.spread("/", []string{"blue"}, []string{"blue"}, []string{"blue"}, nil, nil, nil)
	c.servers[0].io.In("blue").DisconnectSockets(true)
	for _, cl := range clients {
		if !inAny(cl, "blue") {
			continue
		}
		select {
		case <-cl.Done():
		case <-time.After(Wait):
			t.Fatalf("%s on server %d still connected", cl.name, cl.server)
		}
	}
	c.waitFor("every server to drop the blue sockets", func() bool {
		for _, s := range c.servers {
			if s.io.Of("/").Count() != len(clients)/len(c.servers)-count(clients, s.index, "blue") {
				return false
			}
		}
		return true
	})
	c.expect(0, "/", slices.DeleteFunc(slices.Clone(clients), func(cl *client) bool { return inAny(cl, "blue") }), func(*client) []string { return nil })
}

func count(clients []*client, server int, room string) int {
	n := 0
	for _, cl := range clients {
		if cl.server == server && inAny(cl, room) {
			n++
		}
	}
	return n
}

// testFetchSockets: every server lists every socket, with its handshake, rooms and data; a
// selection narrows the list the same way a broadcast's does.
func testFetchSockets(t *testing.T, c *cluster) {
	clients := c.spread("/", []string{"red"}, nil, []string{"red", "blue"}, nil, nil, []string{"blue"})
	for from := range c.servers {
		ctx, cancel := context.WithTimeout(context.Background(), Wait)
		sockets, err := c.servers[from].io.FetchSockets(ctx)
		cancel()
		if err != nil {
			t.Fatalf("server %d: %v", from, err)
		}
		byID := map[string]*socketio.RemoteSocket{}
		for _, s := range sockets {
			byID[s.ID] = s
		}
		if len(byID) != len(clients) || len(sockets) != len(clients) {
			t.Fatalf("server %d lists %d sockets, want %d", from, len(sockets), len(clients))
		}
		for _, cl := range clients {
			s := byID[cl.ID]
			if s == nil {
				t.Fatalf("server %d does not list %s", from, cl.name)
			}
			var d socketData
			if err := s.DecodeData(&d); err != nil || d.Server != cl.server || d.Name != cl.name {
				t.Errorf("server %d: %s's data %v (%v)", from, cl.name, s.Data, err)
			}
			var a auth
			if err := json.Unmarshal(s.Handshake.Auth, &a); err != nil || a.Name != cl.name {
				t.Errorf("server %d: %s's handshake auth %s", from, cl.name, s.Handshake.Auth)
			}
			if s.Handshake.Time.IsZero() || s.Handshake.Address == "" || s.Handshake.URL == "" {
				t.Errorf("server %d: %s's handshake %+v", from, cl.name, s.Handshake)
			}
			if s.IsLocal() != (cl.server == from) {
				t.Errorf("server %d: %s IsLocal %v", from, cl.name, s.IsLocal())
			}
			if !slices.Contains(s.Rooms, cl.ID) || !containsAll(s.Rooms, cl.rooms) || len(s.Rooms) != len(cl.rooms)+1 {
				t.Errorf("server %d: %s's rooms %v, want its id and %v", from, cl.name, s.Rooms, cl.rooms)
			}
		}
		ctx, cancel = context.WithTimeout(context.Background(), Wait)
		sel, err := c.servers[from].io.In("red").Except("blue").FetchSockets(ctx)
		cancel()
		if err != nil || len(sel) != 1 || sel[0].ID != clients[0].ID {
			t.Errorf("server %d: red except blue = %v, %v", from, sel, err)
		}
		ctx, cancel = context.WithTimeout(context.Background(), Wait)
		local, err := c.servers[from].io.Local().FetchSockets(ctx)
		cancel()
		if err != nil || len(local) != len(clients)/len(c.servers) {
			t.Errorf("server %d: local %d sockets, %v", from, len(local), err)
		}
	}
}

// testRemoteSocket: a socket listed by FetchSockets can be emitted to, made to join and leave,
// and disconnected, from any server.
func testRemoteSocket(t *testing.T, c *cluster) {
	clients := c.spread("/", nil, nil, nil)
	target := clients[len(clients)-1]
	from := 0
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	sockets, err := c.servers[from].io.FetchSockets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var rs *socketio.RemoteSocket
	for _, s := range sockets {
		if s.ID == target.ID {
			rs = s
		}
	}
	if rs == nil {
		t.Fatalf("target not listed in %v", sockets)
	}
	must(t, rs.Emit("direct", "hi"))
	c.expect(from, "/", clients, func(cl *client) []string {
		if cl == target {
			return []string{"direct:hi"}
		}
		return nil
	})
	rs.Join("vip")
	c.waitRooms(clients, func(cl *client) []string {
		if cl == target {
			return []string{"vip"}
		}
		return []string{}
	})
	rs.Leave("vip")
	c.waitRooms(clients, func(*client) []string { return []string{} })
	rs.Disconnect(false)
	select {
	case <-target.Done():
	case <-time.After(Wait):
		t.Fatal("target still connected")
	}
}

// testServerSideEmit: a server-side event reaches the other servers' handlers, not the sender's;
// with an ack it returns one answer per other server.
func testServerSideEmit(t *testing.T, c *cluster) {
	var mu sync.Mutex
	got := map[int][]string{}
	for _, s := range c.servers {
		s.io.OnServerSideEmit("ping", func(e *socketio.ServerSideEvent) {
			var who string
			_ = e.Bind(&who)
			mu.Lock()
			got[s.index] = append(got[s.index], who)
			mu.Unlock()
			if e.HasAck() {
				_ = e.Ack(fmt.Sprintf("pong from %d", s.index))
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	if n, err := c.servers[0].io.ServerCount(ctx); err != nil || n != len(c.servers) {
		t.Errorf("ServerCount = %d, %v; want %d", n, err, len(c.servers))
	}
	must(t, c.servers[0].io.ServerSideEmit("ping", "plain"))
	replies, err := c.servers[0].io.ServerSideEmitWithAck(ctx, "ping", "with ack")
	if err != nil {
		t.Fatalf("ServerSideEmitWithAck: %v (%v)", err, replies)
	}
	var want []any
	for i := 1; i < len(c.servers); i++ {
		want = append(want, fmt.Sprintf("pong from %d", i))
	}
	sort.Slice(replies, func(i, j int) bool { return fmt.Sprint(replies[i]) < fmt.Sprint(replies[j]) })
	if fmt.Sprint(replies) != fmt.Sprint(want) {
		t.Errorf("replies %v, want %v", replies, want)
	}
	c.waitFor("every other server to handle both events", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for i := 1; i < len(c.servers); i++ {
			if !slices.Equal(got[i], []string{"plain", "with ack"}) {
				return false
			}
		}
		return true
	})
	mu.Lock()
	defer mu.Unlock()
	if len(got[0]) != 0 {
		t.Errorf("the sender handled its own events: %v", got[0])
	}
}

// testNamespaces: a broadcast stays in its namespace, on every server.
func testNamespaces(t *testing.T, c *cluster) {
	main := c.spread("/", nil, nil, nil)
	var other []*client
	for k := range 3 {
		other = append(other, c.connect(k%len(c.servers), "/other", fmt.Sprintf("o%d", k)))
	}
	must(t, c.servers[0].io.Of("/other").Emit("to other"))
	must(t, c.servers[0].io.Emit("to main"))
	c.expect(0, "/", main, func(*client) []string { return []string{"to main"} })
	c.expect(0, "/other", other, func(*client) []string { return []string{"to other"} })
}
