//go:build linux

package main

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestTickFrame(t *testing.T) {
	for in, want := range map[string]string{
		`42["fanout",{"seq":1,"sentAt":17}]`:      `42["tick",{"seq":1,"sentAt":17}]`,
		`427["fanout", {"seq": 2}]`:               `42["tick",{"seq": 2}]`,
		`42["other",{"seq":1}]`:                   "",
		`42/ns,["fanout",{"seq":1}]`:              "",
		`42["fanout"]`:                            "",
		`3`:                                       "",
		`42["fanout",{"seq":1}`:                   "",
		`42["fanout",{"seq":1,"sentAt":1.7e+18}]`: `42["tick",{"seq":1,"sentAt":1.7e+18}]`,
	} {
		f, ok := tickFrame([]byte(in))
		if want == "" {
			if ok {
				t.Errorf("%s: broadcast %q", in, f)
			}
			continue
		}
		if !ok || string(f) != string(appendTextFrame(nil, []byte(want))) {
			t.Errorf("%s: frame %q, %v; want %q", in, f, ok, want)
		}
	}
}

// TestFanout runs the floor in-process against two WebSocket clients.
func TestFanout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	set := &broadcastSet{}
	defer set.closeAll()
	defer ln.Close()
	go accept(ln, set, openPacket{pingInterval: 25000, pingTimeout: 20000})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws://" + ln.Addr().String() + "/socket.io/?EIO=4&transport=websocket"
	read := func(c *websocket.Conn) string {
		t.Helper()
		typ, p, err := c.Read(ctx)
		if err != nil || typ != websocket.MessageText {
			t.Fatalf("read: %v, %v", typ, err)
		}
		return string(p)
	}
	var clients []*websocket.Conn
	for range 2 {
		c, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		if p := read(c); !strings.HasPrefix(p, `0{"sid":"`) || !strings.Contains(p, `"pingInterval":25000,"pingTimeout":20000`) {
			t.Fatalf("open packet %s", p)
		}
		if err := c.Write(ctx, websocket.MessageText, []byte("40")); err != nil {
			t.Fatal(err)
		}
		if p := read(c); !strings.HasPrefix(p, `40{"sid":"`) {
			t.Fatalf("CONNECT reply %s", p)
		}
		clients = append(clients, c)
	}
	if err := clients[0].Write(ctx, websocket.MessageText, []byte(`42["fanout",{"seq":7}]`)); err != nil {
		t.Fatal(err)
	}
	for i, c := range clients {
		if p := read(c); p != `42["tick",{"seq":7}]` {
			t.Errorf("client %d got %s", i, p)
		}
	}

	// A client that goes away leaves the set.
	clients[1].CloseNow()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		set.mu.Lock()
		n := len(set.fds)
		set.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections in the set, want 1", n)
		}
	}

	// A request for long-polling is refused.
	nc, err := (&net.Dialer{}).DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_, _ = nc.Write([]byte("GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n"))
	b := make([]byte, 64)
	n, _ := nc.Read(b)
	if !strings.HasPrefix(string(b[:n]), "HTTP/1.1 400 ") {
		t.Errorf("polling request answered %q", b[:n])
	}
}

// TestFanoutReachesAClientThatHasItsReply proves that a client which has read
// its CONNECT reply is already in the broadcast set: its connection's
// goroutine is held just after joining, and a broadcast sent then reaches it.
func TestFanoutReachesAClientThatHasItsReply(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	joined := make(chan struct{})
	release := make(chan struct{})
	var joins atomic.Int32
	set := &broadcastSet{onJoin: func() {
		if joins.Add(1) == 2 { // the second client: hold its goroutine
			joined <- struct{}{}
			<-release
		}
	}}
	defer set.closeAll()
	defer ln.Close()
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	go accept(ln, set, openPacket{pingInterval: 25000, pingTimeout: 20000})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws://" + ln.Addr().String() + "/socket.io/?EIO=4&transport=websocket"
	connect := func() *websocket.Conn {
		t.Helper()
		c, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.CloseNow() })
		if _, _, err := c.Read(ctx); err != nil { // the open packet
			t.Fatal(err)
		}
		if err := c.Write(ctx, websocket.MessageText, []byte("40")); err != nil {
			t.Fatal(err)
		}
		if _, p, err := c.Read(ctx); err != nil || !strings.HasPrefix(string(p), `40{"sid":"`) {
			t.Fatalf("CONNECT reply %q, %v", p, err)
		}
		return c
	}
	sender := connect()
	receiver := connect()
	select {
	case <-joined:
	case <-ctx.Done():
		t.Fatal("the second connection never reached the join hook")
	}
	if err := sender.Write(ctx, websocket.MessageText, []byte(`42["fanout",{"seq":1}]`)); err != nil {
		t.Fatal(err)
	}
	// Without the fix the receiver is not in the set yet and this read waits
	// for a frame that never comes, until the context ends.
	typ, p, err := receiver.Read(ctx)
	if err != nil || typ != websocket.MessageText || string(p) != `42["tick",{"seq":1}]` {
		t.Fatalf("receiver got %q, %v: the broadcast missed a client that had its CONNECT reply", p, err)
	}
	close(release)
	released = true
}
