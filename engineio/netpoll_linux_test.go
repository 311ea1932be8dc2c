//go:build !herald_portable

package engineio

import (
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

// tcpPair returns both ends of a loopback TCP connection, the server's accepted through
// wrap(listener) when wrap is not nil.
func tcpPair(t *testing.T, wrap func(net.Listener) net.Listener) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		ln = wrap(ln)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

// TestTryWritevWritesDirectly: frames written straight to the descriptor reach the peer, one
// frame or several, and nothing is written once the connection is closed, when the descriptor's
// number may already be another connection's.
func TestTryWritevWritesDirectly(t *testing.T) {
	server, client := tcpPair(t, nil)
	c := newWSConn(server, 1<<20, nil)
	if c.fd < 0 {
		t.Fatal("no descriptor for a TCP connection")
	}
	if n, err := c.tryWritev([][]byte{[]byte("one")}); n != 3 || err != nil {
		t.Fatalf("one frame: wrote %d, %v; want 3, nil", n, err)
	}
	if n, err := c.tryWritev([][]byte{[]byte("two"), []byte("+three")}); n != 9 || err != nil {
		t.Fatalf("two frames: wrote %d, %v; want 9, nil", n, err)
	}
	got := make([]byte, 12)
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(client, got); err != nil || string(got) != "onetwo+three" {
		t.Fatalf("the peer read %q, %v; want \"onetwo+three\"", got, err)
	}

	c.close()
	if n, err := c.tryWritev([][]byte{[]byte("late")}); n != 0 || !errors.Is(err, net.ErrClosed) {
		t.Fatalf("after close: wrote %d, %v; want 0, net.ErrClosed", n, err)
	}
}

// TestTryWritevLeavesTheRestWhenFull: on a socket that takes no more, the write returns what it
// took without blocking, and no error: the rest is the flush goroutine's.
func TestTryWritevLeavesTheRestWhenFull(t *testing.T) {
	server, _ := tcpPair(t, nil) // the client never reads
	c := newWSConn(server, 1<<20, nil)
	chunk := make([]byte, 64<<10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 10_000 {
			n, err := c.tryWritev([][]byte{chunk})
			if err != nil {
				t.Errorf("tryWritev: %v", err)
				return
			}
			if n < len(chunk) {
				return // full: the socket took part or none of it
			}
		}
		t.Error("a socket nobody reads took 640 MB")
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("tryWritev blocked on a full socket")
	}
}

// TestPollerParksInTheRuntimePoller: the loop's goroutine waits as a network read does ("IO
// wait"), not in a blocking epoll_wait that holds the process's P, and still ends on close.
func TestPollerParksInTheRuntimePoller(t *testing.T) {
	p, err := newPoller()
	if err != nil {
		t.Fatal(err)
	}
	if p.ep == nil {
		t.Fatal("the epoll set is not in the runtime's poller")
	}
	var state string
	waitFor(t, "the poller's goroutine to wait", func() bool {
		buf := make([]byte, 1<<20)
		dump := string(buf[:runtime.Stack(buf, true)])
		for _, g := range strings.Split(dump, "\n\n") {
			if strings.Contains(g, "engineio.(*poller).loop") {
				state = strings.SplitN(g, "\n", 2)[0]
				return strings.Contains(state, "[IO wait")
			}
		}
		return false
	})
	done := make(chan struct{})
	go func() { p.close(); close(done) }()
	select {
	case <-done:
	case <-time.After(waitLimit):
		t.Fatalf("close did not end the loop (%s)", state)
	}
}
