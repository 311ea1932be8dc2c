package socketio

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// record collects strings from handlers, for the test goroutine.
type record struct {
	mu  sync.Mutex
	got []string
}

func (r *record) add(s string) {
	r.mu.Lock()
	r.got = append(r.got, s)
	r.mu.Unlock()
}

func (r *record) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// TestListeners: several handlers per event in order, Once, the remover On returns, Off, and the
// catch-all OnAny / PrependAny / OffAny, which see every event before its own handlers.
func TestListeners(t *testing.T) {
	e := newSIOEnv(t, Config{})
	var r record
	e.srv.OnConnection(func(s *Socket) {
		s.On("ev", func(*Event) { r.add("a") })
		offB := s.On("ev", func(*Event) { r.add("b") })
		s.Once("ev", func(*Event) { r.add("once") })
		s.OnAny(func(ev *Event) { r.add("any:" + ev.Name) })
		s.PrependAny(func(ev *Event) { r.add("first-any:" + ev.Name) })
		s.On("remove-b", func(*Event) { offB() })
		s.On("off", func(*Event) { s.Off("ev"); s.OffAny() })
		s.On("done", func(*Event) { r.add("done") })
	})
	c := e.dial(t)
	c.connect("/", "")
	for _, p := range []string{`2["ev"]`, `2["ev"]`, `2["remove-b"]`, `2["ev"]`, `2["off"]`, `2["ev"]`, `2["done"]`} {
		c.send(p)
	}
	sioWaitFor(t, "the last event", func() bool { return slices.Contains(r.snapshot(), "done") })
	want := []string{
		"first-any:ev", "any:ev", "a", "b", "once", // the first ev
		"first-any:ev", "any:ev", "a", "b", // once is gone
		"first-any:remove-b", "any:remove-b",
		"first-any:ev", "any:ev", "a", // b removed
		"first-any:off", "any:off",
		// ev: no handler left, no catch-all
		"done",
	}
	if got := r.snapshot(); !slices.Equal(got, want) {
		t.Errorf("handlers ran\n%q\nwant\n%q", got, want)
	}
}

// TestAnyOutgoing: outgoing listeners see the events sent to the client, by Emit and by
// broadcasts, with decoded arguments; removed ones see nothing more.
func TestAnyOutgoing(t *testing.T) {
	e := newSIOEnv(t, Config{})
	var r record
	var off func()
	ready := make(chan *Socket, 1)
	e.srv.OnConnection(func(s *Socket) {
		off = s.OnAnyOutgoing(func(event string, args []any) {
			if len(args) > 0 {
				if b, ok := args[0].([]byte); ok {
					r.add(event + ":bytes:" + string(b))
					return
				}
			}
			r.add(event)
		})
		ready <- s
	})
	c := e.dial(t)
	c.connect("/", "")
	s := recvTimeout(t, ready, "the socket")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Emit("direct"))
	must(e.srv.Emit("broadcast", []byte("xy")))
	c.expect(`2["direct"]`)
	c.recv()
	c.next()
	off()
	must(e.srv.Emit("after"))
	c.expect(`2["after"]`)
	if got, want := r.snapshot(), []string{"direct", "broadcast:bytes:xy"}; !slices.Equal(got, want) {
		t.Errorf("outgoing listener saw %q, want %q", got, want)
	}
}

// TestSocketUse: a middleware per event runs before the handlers; its error stops the event,
// reaches OnError, and reaches the client as an "error" event with the message and data.
func TestSocketUse(t *testing.T) {
	e := newSIOEnv(t, Config{})
	var r record
	e.srv.OnConnection(func(s *Socket) {
		s.Use(func(ev *Event) error {
			if ev.Name == "forbidden" {
				return &EventError{Message: "not allowed", Data: map[string]any{"event": ev.Name}}
			}
			return nil
		})
		s.OnError(func(err error) { r.add("error:" + err.Error()) })
		s.On("forbidden", func(*Event) { r.add("handler ran") })
		s.On("allowed", func(*Event) { r.add("allowed") })
	})
	c := e.dial(t)
	c.connect("/", "")
	c.send(`2["forbidden"]`)
	c.expect(`2["error",{"data":{"event":"forbidden"},"message":"not allowed"}]`)
	c.send(`2["allowed"]`)
	sioWaitFor(t, "the allowed event", func() bool { return slices.Contains(r.snapshot(), "allowed") })
	if got, want := r.snapshot(), []string{"error:not allowed", "allowed"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestDisconnectingAndContext: the disconnecting handlers run while the socket is still in its
// rooms, before the disconnect handlers; the socket's context ends with it.
func TestDisconnectingAndContext(t *testing.T) {
	e := newSIOEnv(t, Config{})
	var r record
	ctxs := make(chan context.Context, 1)
	e.srv.OnConnection(func(s *Socket) {
		s.Join("lobby")
		ctxs <- s.Context()
		s.OnDisconnecting(func(reason string) {
			rooms := s.Rooms()
			slices.Sort(rooms)
			r.add("disconnecting " + reason + " in lobby:" + boolString(slices.Contains(rooms, "lobby")))
			_ = e.srv.To("lobby").Except(s.ID()).Emit("left", s.ID())
		})
		s.OnDisconnect(func(reason string) {
			r.add("disconnect " + reason + " in rooms:" + boolString(len(s.Rooms()) > 0))
		})
	})
	c := e.dial(t)
	c.connect("/", "")
	ctx := recvTimeout(t, ctxs, "the socket's context")
	if ctx.Err() != nil {
		t.Fatal("the context ended while the socket is connected")
	}
	c.send(`1`)
	select {
	case <-ctx.Done():
	case <-time.After(sioWait):
		t.Fatal("the context did not end with the socket")
	}
	sioWaitFor(t, "both handlers", func() bool { return len(r.snapshot()) == 2 })
	want := []string{"disconnecting client namespace disconnect in lobby:true", "disconnect client namespace disconnect in rooms:false"}
	if got := r.snapshot(); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
