package socketio

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

// bareSockets returns sockets that exist only as adapter members (no connection): enough for
// everything but delivering a broadcast.
func bareSockets(ids ...string) map[string]*Socket {
	m := make(map[string]*Socket, len(ids))
	for _, id := range ids {
		m[id] = &Socket{id: id}
	}
	return m
}

// socketIDs returns the sorted ids of sockets.
func socketIDs(ss []*Socket) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		out = append(out, s.id)
	}
	slices.Sort(out)
	return out
}

// TestMemoryAdapterRooms checks joining, leaving and the selection of sockets by rooms and
// exceptions.
func TestMemoryAdapterRooms(t *testing.T) {
	a := NewMemoryAdapter(nil)
	s := bareSockets("a", "b", "c", "d")
	for id, sock := range s {
		a.AddAll(sock, []string{id})
	}
	a.AddAll(s["a"], []string{"red", "blue"})
	a.AddAll(s["b"], []string{"red"})
	a.AddAll(s["c"], []string{"blue", "blue"})

	rooms := a.SocketRooms(s["a"])
	slices.Sort(rooms)
	if !slices.Equal(rooms, []string{"a", "blue", "red"}) {
		t.Errorf("SocketRooms(a) = %v", rooms)
	}
	cases := []struct {
		opts BroadcastOptions
		want []string
	}{
		{BroadcastOptions{}, []string{"a", "b", "c", "d"}},
		{BroadcastOptions{Rooms: []string{"red"}}, []string{"a", "b"}},
		{BroadcastOptions{Rooms: []string{"red", "blue"}}, []string{"a", "b", "c"}},
		{BroadcastOptions{Rooms: []string{"red", "red"}}, []string{"a", "b"}},
		{BroadcastOptions{Rooms: []string{"none"}}, []string{}},
		{BroadcastOptions{Rooms: []string{"none", "red"}}, []string{"a", "b"}},
		{BroadcastOptions{Except: []string{"red"}}, []string{"c", "d"}},
		{BroadcastOptions{Except: []string{"a", "d"}}, []string{"b", "c"}},
		{BroadcastOptions{Rooms: []string{"blue"}, Except: []string{"red"}}, []string{"c"}},
		{BroadcastOptions{Rooms: []string{"red", "blue"}, Except: []string{"c"}}, []string{"a", "b"}},
		{BroadcastOptions{Rooms: []string{"red"}, Except: []string{"red"}}, []string{}},
	}
	for _, c := range cases {
		if got := socketIDs(a.Sockets(c.opts)); !slices.Equal(got, c.want) {
			t.Errorf("Sockets(%+v) = %v, want %v", c.opts, got, c.want)
		}
	}

	a.Del(s["a"], "red")
	a.Del(s["a"], "never joined")
	a.Del(s["d"], "red")
	if got := socketIDs(a.Sockets(BroadcastOptions{Rooms: []string{"red"}})); !slices.Equal(got, []string{"b"}) {
		t.Errorf("after Del: red = %v", got)
	}
	a.DelAll(s["b"])
	if got := socketIDs(a.Sockets(BroadcastOptions{})); !slices.Equal(got, []string{"a", "c", "d"}) {
		t.Errorf("after DelAll: %v", got)
	}
	if rooms := a.SocketRooms(s["b"]); len(rooms) != 0 {
		t.Errorf("SocketRooms after DelAll = %v", rooms)
	}
	// Rooms vanish with their last member: nothing piles up.
	a.mu.RLock()
	_, red := a.rooms["red"]
	_, bRoom := a.rooms["b"]
	a.mu.RUnlock()
	if red || bRoom {
		t.Errorf("empty rooms kept: red %v, b %v", red, bRoom)
	}
	for _, sock := range s {
		a.DelAll(sock)
	}
	a.DelAll(s["a"]) // twice is harmless
	a.mu.RLock()
	defer a.mu.RUnlock()
	if len(a.rooms) != 0 || len(a.ofs) != 0 || a.all.len() != 0 {
		t.Errorf("adapter not empty: %d rooms, %d sockets, %d all", len(a.rooms), len(a.ofs), a.all.len())
	}
}

// TestMemoryAdapterConcurrent runs joins, leaves and selections at once, for the race detector.
func TestMemoryAdapterConcurrent(t *testing.T) {
	a := NewMemoryAdapter(nil)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				s := &Socket{id: fmt.Sprintf("%d-%d", w, i)}
				a.AddAll(s, []string{s.id, "all", fmt.Sprint("r", i%5)})
				_ = a.Sockets(BroadcastOptions{Rooms: []string{"r1", "r2"}, Except: []string{"r3"}})
				_ = a.SocketRooms(s)
				a.Del(s, "all")
				a.DelAll(s)
			}
		}()
	}
	wg.Wait()
	if n := len(a.Sockets(BroadcastOptions{})); n != 0 {
		t.Errorf("%d sockets left", n)
	}
}

// TestMemoryAdapterBroadcast checks Broadcast on real sockets: a packet reaches the sockets its
// options select, and one with attachments arrives as a binary event.
func TestMemoryAdapterBroadcast(t *testing.T) {
	e := newSIOEnv(t, Config{})
	var clients []*sioClient
	for range 3 {
		c := e.dial(t)
		c.connect("/", "")
		clients = append(clients, c)
	}
	sioWaitFor(t, "every socket", func() bool { return e.srv.Of("/").Count() == 3 })
	nsp := e.srv.Of("/")
	target := nsp.Sockets()[0]
	target.Join("vip")
	nsp.Adapter().Broadcast(&Packet{Namespace: "/", Data: []byte(`["vip only"]`)}, BroadcastOptions{Rooms: []string{"vip"}})
	nsp.Adapter().Broadcast(&Packet{Namespace: "/", Data: []byte(`["raw",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1, 2}}}, BroadcastOptions{})
	const binaryEvent = `51-["raw",{"_placeholder":true,"num":0}]`
	vips := 0
	for _, c := range clients {
		got := c.recv()
		if got == `2["vip only"]` {
			vips++
			got = c.recv()
		}
		if got != binaryEvent {
			t.Fatalf("got %q, want %q", got, binaryEvent)
		}
		c.expectBinary([]byte{1, 2})
	}
	if vips != 1 {
		t.Errorf("%d clients got the room's packet, want 1", vips)
	}
}

// countingAdapter wraps the memory adapter to prove the factory is used.
type countingAdapter struct {
	*MemoryAdapter
	mu         sync.Mutex
	broadcasts int
}

func (c *countingAdapter) Broadcast(p *Packet, opts BroadcastOptions) {
	c.mu.Lock()
	c.broadcasts++
	c.mu.Unlock()
	c.MemoryAdapter.Broadcast(p, opts)
}

// TestAdapterFactory checks that every namespace gets its adapter from Config.AdapterFactory and
// that broadcasts go through it.
func TestAdapterFactory(t *testing.T) {
	made := map[string]*countingAdapter{}
	var mu sync.Mutex
	e := newSIOEnv(t, Config{AdapterFactory: func(n *Namespace) Adapter {
		a := &countingAdapter{MemoryAdapter: NewMemoryAdapter(n)}
		mu.Lock()
		made[n.Name()] = a
		mu.Unlock()
		return a
	}})
	chat := e.srv.Of("/chat")
	mu.Lock()
	if made["/"] == nil || made["/chat"] == nil || chat.Adapter() != Adapter(made["/chat"]) {
		t.Fatalf("factory made %v", made)
	}
	mu.Unlock()
	c := e.dial(t)
	c.connect("/chat", "")
	if err := chat.To("x").Emit("a"); err != nil {
		t.Fatal(err)
	}
	if err := chat.Emit("b"); err != nil {
		t.Fatal(err)
	}
	c.expect(`2/chat,["b"]`)
	a := made["/chat"]
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.broadcasts != 2 {
		t.Errorf("%d broadcasts through the adapter", a.broadcasts)
	}
}
