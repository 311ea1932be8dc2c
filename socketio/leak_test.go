package socketio

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The leak test opens and closes many connections, every way a connection can end, and checks
// that the server gives everything back: sessions, sockets, goroutines and file descriptors.

// goroutineSlack is how many goroutines above the baseline the settled count may be: the runtime
// and net/http keep a few on their own schedule.
const goroutineSlack = 5

// fdSlack is the same for open file descriptors.
const fdSlack = 3

// openFDs counts this process's open file descriptors, or returns -1 where /proc is missing.
func openFDs() int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(entries)
}

// settle waits (bounded) until measure() is at most limit, and returns the last value.
func settle(limit int, measure func() int) int {
	deadline := time.Now().Add(sioWait)
	n := measure()
	for n > limit && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(5 * time.Millisecond)
		n = measure()
	}
	return n
}

// steady returns measure() once it has stopped changing for a few samples (bounded): the
// baseline, taken when the warm-up's goroutines have wound down.
func steady(measure func() int) int {
	deadline := time.Now().Add(2 * time.Second)
	n, same := measure(), 0
	for same < 5 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		if m := measure(); m == n {
			same++
		} else {
			n, same = m, 0
		}
	}
	return n
}

// nextErr waits for a message, reporting instead of failing (leak cycles run on worker goroutines).
func (c *sioClient) nextErr() (sioMsg, error) {
	select {
	case m := <-c.msgs:
		return m, nil
	case <-c.done:
		select {
		case m := <-c.msgs:
			return m, nil
		default:
		}
		return sioMsg{}, fmt.Errorf("connection closed: %v", c.err)
	case <-time.After(sioWait):
		return sioMsg{}, errors.New("no message")
	}
}

// awaitClosed waits for the connection to end, reporting instead of failing.
func (c *sioClient) awaitClosed() error {
	select {
	case <-c.done:
		return nil
	case <-time.After(sioWait):
		return errors.New("connection not closed")
	}
}

// wsCycle opens a WebSocket connection, joins "/", then ends it the way kind says.
func wsCycle(t testing.TB, e *sioEnv, kind int) error {
	c, err := e.tryDial(t)
	if err != nil {
		return err
	}
	defer c.conn.CloseNow()
	ctx, cancel := context.WithTimeout(context.Background(), sioWait)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, []byte("40")); err != nil {
		return err
	}
	m, err := c.nextErr()
	if err != nil {
		return err
	}
	if !strings.HasPrefix(m.data, `40{"sid":"`) {
		return fmt.Errorf("connect reply %q", m.data)
	}
	switch kind {
	case 0: // the client vanishes
		_ = c.conn.CloseNow()
	case 1: // the client leaves the namespace, then closes the session
		if err := c.conn.Write(ctx, websocket.MessageText, []byte("41")); err != nil {
			return err
		}
		if err := c.conn.Write(ctx, websocket.MessageText, []byte("1")); err != nil {
			return err
		}
	case 2: // a proper WebSocket close handshake
		_ = c.conn.Close(websocket.StatusNormalClosure, "")
	case 3: // the server disconnects the socket and closes the connection
		id := m.data[len(`40{"sid":"`) : len(m.data)-2]
		s := e.srv.Of("/").Socket(id)
		if s == nil {
			return fmt.Errorf("no socket %q", id)
		}
		s.Disconnect(true)
	case 4: // an event with an ack the client never answers, then a bad packet
		if err := c.conn.Write(ctx, websocket.MessageText, []byte(`42["ask"]`)); err != nil {
			return err
		}
		if _, err := c.nextErr(); err != nil { // the server's question
			return err
		}
		if err := c.conn.Write(ctx, websocket.MessageText, []byte(`42{}`)); err != nil {
			return err
		}
	}
	return c.awaitClosed()
}

// pollingCycle opens a long-polling connection, joins "/" and closes it.
func pollingCycle(e *sioEnv) error {
	p, err := e.dialPolling()
	if err != nil {
		return err
	}
	if err := p.post("40"); err != nil {
		return err
	}
	got, err := p.get()
	if err != nil {
		return err
	}
	if !strings.HasPrefix(got, `40{"sid":"`) {
		return fmt.Errorf("connect reply %q", got)
	}
	return p.post("41\x1e1")
}

// TestNoLeaks runs 1,000 connect/disconnect cycles (WebSocket, every tenth over long-polling) and
// checks that sessions, sockets, goroutines and file descriptors all return to their baseline.
func TestNoLeaks(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	e := newSIOEnv(t, Config{})
	e.srv.Of("/").On("ask", func(ev *Event) {
		ctx, cancel := context.WithTimeout(context.Background(), sioWait)
		defer cancel()
		_, _ = ev.Socket.EmitWithAck(ctx, "question") // ends with ErrDisconnected
	})
	var disconnects sync.WaitGroup
	e.srv.OnConnection(func(s *Socket) {
		disconnects.Add(1)
		s.OnDisconnect(func(string) { disconnects.Done() })
	})

	// Warm up (first connections start pools and lazily created goroutines), then measure.
	for kind := range 5 {
		if err := wsCycle(t, e, kind); err != nil {
			t.Fatal(err)
		}
	}
	if err := pollingCycle(e); err != nil {
		t.Fatal(err)
	}
	e.client.CloseIdleConnections()
	sioWaitFor(t, "the warm-up sessions to end", func() bool { return e.srv.Engine().Count() == 0 })
	baseG := steady(runtime.NumGoroutine)
	baseFD := steady(openFDs)

	const cycles, workers = 1000, 4
	errs := make(chan error, cycles)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < cycles; i += workers {
				var err error
				if i%10 == 9 {
					err = pollingCycle(e)
				} else {
					err = wsCycle(t, e, i%5)
				}
				if err != nil {
					errs <- fmt.Errorf("cycle %d: %w", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}

	e.client.CloseIdleConnections()
	sioWaitFor(t, "every session to end", func() bool { return e.srv.Engine().Count() == 0 })
	sioWaitFor(t, "every socket to leave", func() bool { return e.srv.Of("/").Count() == 0 && len(e.srv.Sockets()) == 0 })
	done := make(chan struct{})
	go func() { disconnects.Wait(); close(done) }()
	recvTimeout(t, done, "every disconnect handler")
	adapter := e.srv.Of("/").Adapter().(*MemoryAdapter)
	adapter.mu.RLock()
	rooms, members := len(adapter.rooms), adapter.all.len()
	adapter.mu.RUnlock()
	if rooms != 0 || members != 0 {
		t.Errorf("adapter keeps %d rooms and %d sockets", rooms, members)
	}

	if n := settle(baseG+goroutineSlack, runtime.NumGoroutine); n > baseG+goroutineSlack {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: %d after the cycles, baseline %d\n%s", n, baseG, buf[:runtime.Stack(buf, true)])
	}
	if baseFD >= 0 {
		if n := settle(baseFD+fdSlack, openFDs); n > baseFD+fdSlack {
			t.Errorf("open file descriptors: %d after the cycles, baseline %d", n, baseFD)
		}
	}
}
