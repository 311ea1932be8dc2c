package engineio

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The server's heartbeat (Engine.IO v4): it sends "2" every pingInterval and ends the session
// when no "3" comes back within pingTimeout. Tests that need the session to survive give the
// client a generous pingTimeout, so that a loaded machine cannot make them flaky.

// TestHeartbeatWebSocket checks that pings keep coming, one per interval, as long as the client
// answers them.
func TestHeartbeatWebSocket(t *testing.T) {
	e := newEnv(t, Config{PingInterval: 30 * time.Millisecond, PingTimeout: waitLimit})
	c, o := e.openWS(t)
	var start time.Time
	for i := range 3 {
		if got := readText(t, c); got != "2" {
			t.Fatalf("ping %d: got %q", i, got)
		}
		if i == 0 {
			start = time.Now()
		}
		writeText(t, c, "3")
	}
	// Each ping comes an interval after the previous pong: at least two intervals from the
	// first ping to the third.
	if d := time.Since(start); d < 2*30*time.Millisecond {
		t.Errorf("3 pings within %v: the interval is not respected", d)
	}
	if e.rec.isClosed(t, o.SID) {
		t.Error("session closed although every ping was answered")
	}
}

// TestHeartbeatDuringTraffic checks that pings continue while the client sends messages: only a
// pong answers a ping, and the client's own watchdog resets only on pings.
func TestHeartbeatDuringTraffic(t *testing.T) {
	e := newEnv(t, Config{PingInterval: 30 * time.Millisecond, PingTimeout: waitLimit})
	c, o := e.openWS(t)
	stop := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := c.Write(context.Background(), websocket.MessageText, []byte("4traffic")); err != nil {
				return
			}
			time.Sleep(2 * time.Millisecond) // pacing a load, not synchronization
		}
	}()
	pings, echoes := 0, 0
	for pings < 3 {
		switch got := readText(t, c); got {
		case "2":
			pings++
			writeText(t, c, "3")
		case "4traffic":
			echoes++
		default:
			t.Fatalf("unexpected %q", got)
		}
	}
	close(stop)
	<-writerDone
	if echoes == 0 {
		t.Error("no traffic between the pings")
	}
	if e.rec.isClosed(t, o.SID) {
		t.Error("session closed")
	}
}

// TestPingTimeoutWebSocket checks that a client that stops answering pings loses its session.
func TestPingTimeoutWebSocket(t *testing.T) {
	e := newEnv(t, Config{PingInterval: 30 * time.Millisecond, PingTimeout: 60 * time.Millisecond})
	c, o := e.openWS(t)
	if got := readText(t, c); got != "2" {
		t.Fatalf("got %q, want a ping", got)
	}
	// No pong: the server must give up.
	expectWSClosed(t, c, true)
	if reason := e.rec.waitClosed(t, o.SID); reason != ReasonPingTimeout {
		t.Errorf("reason %q", reason)
	}
	if n := e.srv.Count(); n != 0 {
		t.Errorf("Count() = %d", n)
	}
}

// TestHeartbeatPolling checks pings and pongs over long-polling.
func TestHeartbeatPolling(t *testing.T) {
	e := newEnv(t, Config{PingInterval: 30 * time.Millisecond, PingTimeout: waitLimit})
	sid := e.handshake(t).SID
	for i := range 3 {
		if got := e.get(t, sid); got != "2" {
			t.Fatalf("GET %d = %q, want a ping", i, got)
		}
		e.post(t, sid, "3")
	}
	if e.rec.isClosed(t, sid) {
		t.Error("session closed although every ping was answered")
	}
}

// TestPingTimeoutPolling checks that a polling client that does not answer the ping loses its
// session: the GET it has waiting receives the close packet, later requests an error.
func TestPingTimeoutPolling(t *testing.T) {
	e := newEnv(t, Config{PingInterval: 30 * time.Millisecond, PingTimeout: 60 * time.Millisecond})
	sid := e.handshake(t).SID
	if got := e.get(t, sid); got != "2" {
		t.Fatalf("GET = %q, want a ping", got)
	}
	r := e.mustDo(t, http.MethodGet, pollQuery(sid), nil, nil)
	// The GET either waits for the timeout and gets the close packet, or arrives after it.
	if !(r.status == http.StatusOK && r.body == "1") && r.status != http.StatusBadRequest {
		t.Errorf("GET after the missed pong: %d %q", r.status, r.body)
	}
	if reason := e.rec.waitClosed(t, sid); reason != ReasonPingTimeout {
		t.Errorf("reason %q", reason)
	}
	if r := e.mustDo(t, http.MethodPost, pollQuery(sid), nil, nil); r.status != http.StatusBadRequest {
		t.Errorf("POST after timeout: %d %q", r.status, r.body)
	}
}

// TestPingTimeoutCountsFromQueueing checks that pingTimeout runs from the moment the ping is
// queued, not from when a GET collects it: a client that polls only after pingInterval +
// pingTimeout finds its session gone.
func TestPingTimeoutCountsFromQueueing(t *testing.T) {
	e := newEnv(t, Config{PingInterval: 30 * time.Millisecond, PingTimeout: 30 * time.Millisecond})
	sid := e.handshake(t).SID
	if reason := e.rec.waitClosed(t, sid); reason != ReasonPingTimeout {
		t.Errorf("reason %q", reason)
	}
	r := e.mustDo(t, http.MethodGet, pollQuery(sid), nil, nil)
	if r.status != http.StatusBadRequest || r.body != `{"code":1,"message":"Session ID unknown"}` {
		t.Errorf("GET: %d %q", r.status, r.body)
	}
}
