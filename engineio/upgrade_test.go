package engineio

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// upgrade runs the client side of the upgrade of the polling session sid: probe, the pending GET
// ended with a noop, then "5". It returns the WebSocket, now the session's transport.
func (e *env) upgrade(t testing.TB, sid string) *websocket.Conn {
	t.Helper()
	get := e.asyncGet(sid)
	e.waitGetPending(t, sid)
	c := e.dialWS(t, "EIO=4&transport=websocket&sid="+sid)
	writeText(t, c, "2probe")
	if got := readText(t, c); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	if r := await(t, get); r.status != http.StatusOK || r.body != "6" {
		t.Fatalf("pending GET during the upgrade: %d %q, want 200 \"6\"", r.status, r.body)
	}
	writeText(t, c, "5")
	return c
}

// waitUpgradeOver waits until the server has given up an upgrade of sid: the client can see the
// WebSocket closed a moment before the session is back to plain long-polling.
func (e *env) waitUpgradeOver(t testing.TB, sid string) {
	t.Helper()
	s := e.srv.session(sid)
	waitFor(t, "the upgrade to be abandoned", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return !s.upgrading && !s.probed
	})
}

// TestUpgrade checks the polling-to-WebSocket upgrade: probe, noop to the pending GET, then
// messages over the WebSocket, and long-polling refused from then on.
func TestUpgrade(t *testing.T) {
	e := newEnv(t, Config{})
	h := e.openHealthy(t)
	sid := e.handshake(t).SID
	e.post(t, sid, "4before")
	if got := e.get(t, sid); got != "4before" {
		t.Fatalf("GET = %q", got)
	}
	c := e.upgrade(t, sid)
	writeText(t, c, "4after")
	if got := readText(t, c); got != "4after" {
		t.Errorf("echo over WebSocket: %q", got)
	}
	s := e.srv.session(sid)
	if tr := s.Transport(); tr != "websocket" {
		t.Errorf("Transport() = %q", tr)
	}
	if err := s.Send(BinaryMessage([]byte{9})); err != nil {
		t.Fatal(err)
	}
	if typ, got := readMsg(t, c); typ != websocket.MessageBinary || got != "\x09" {
		t.Errorf("binary over WebSocket: %v %q", typ, got)
	}

	// Long-polling is over for this session.
	if r := e.mustDo(t, http.MethodGet, pollQuery(sid), nil, nil); r.status != http.StatusBadRequest {
		t.Errorf("GET after the upgrade: %d %q", r.status, r.body)
	}
	if r := e.mustDo(t, http.MethodPost, pollQuery(sid), strings.NewReader("4x"), nil); r.status != http.StatusBadRequest {
		t.Errorf("POST after the upgrade: %d %q", r.status, r.body)
	}

	// A second WebSocket for the same session is accepted and closed at once.
	c2 := e.dialWS(t, "EIO=4&transport=websocket&sid="+sid)
	if err := expectWSClosed(t, c2, false); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Errorf("second WebSocket: %v", err)
	}
	// Nothing of that disturbed the session.
	writeText(t, c, "4still")
	if got := readText(t, c); got != "4still" {
		t.Errorf("echo after the refused WebSocket: %q", got)
	}
	if e.rec.isClosed(t, sid) {
		t.Error("session closed")
	}
	h.check(t)
}

// TestUpgradeQueuedDuringProbe checks that what the application sends while the upgrade is under
// way is neither lost nor sent over polling: it follows over the WebSocket once the client has
// sent "5", in order.
func TestUpgradeQueuedDuringProbe(t *testing.T) {
	e := newEnv(t, Config{})
	sid := e.handshake(t).SID
	s := e.srv.session(sid)
	get := e.asyncGet(sid)
	e.waitGetPending(t, sid)
	c := e.dialWS(t, "EIO=4&transport=websocket&sid="+sid)
	writeText(t, c, "2probe")
	if got := readText(t, c); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	for _, m := range []string{"m1", "m2", "m3"} {
		if err := s.Send(TextMessage([]byte(m))); err != nil {
			t.Fatal(err)
		}
	}
	if r := await(t, get); r.body != "6" {
		t.Errorf("pending GET: %q, want \"6\"", r.body)
	}
	// A GET sent after the probe (a client that did not pause polling) gets a noop too.
	if got := e.get(t, sid); got != "6" {
		t.Errorf("GET during the upgrade: %q", got)
	}
	// Client messages posted during the upgrade still count.
	e.post(t, sid, "4posted")
	writeText(t, c, "5")
	for _, want := range []string{"4m1", "4m2", "4m3", "4posted"} {
		if got := readText(t, c); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

// TestUpgradeBadProbe checks that a failed upgrade (wrong probe, or no "5") leaves the session
// on long-polling, where it keeps working and may try again.
func TestUpgradeBadProbe(t *testing.T) {
	e := newEnv(t, Config{})
	sid := e.handshake(t).SID
	for _, script := range [][]string{{"2nope"}, {"4hello"}, {"2probe", "4hi"}} {
		c := e.dialWS(t, "EIO=4&transport=websocket&sid="+sid)
		for _, m := range script {
			writeText(t, c, m)
		}
		expectWSClosed(t, c, true)
		e.waitUpgradeOver(t, sid)
		e.post(t, sid, "4polling")
		if got := e.get(t, sid); got != "4polling" {
			t.Fatalf("after %q: GET = %q", script, got)
		}
		if tr := e.srv.session(sid).Transport(); tr != "polling" {
			t.Fatalf("after %q: Transport() = %q", script, tr)
		}
	}
	c := e.upgrade(t, sid)
	writeText(t, c, "4ws")
	if got := readText(t, c); got != "4ws" {
		t.Errorf("got %q", got)
	}
	if e.rec.isClosed(t, sid) {
		t.Error("session closed")
	}
}

// TestUpgradeTimeout checks that an upgrade the client never completes is abandoned after
// UpgradeTimeout, and the session stays on long-polling.
func TestUpgradeTimeout(t *testing.T) {
	e := newEnv(t, Config{UpgradeTimeout: 300 * time.Millisecond})
	sid := e.handshake(t).SID
	c := e.dialWS(t, "EIO=4&transport=websocket&sid="+sid)
	expectWSClosed(t, c, false) // no probe
	e.waitUpgradeOver(t, sid)
	c = e.dialWS(t, "EIO=4&transport=websocket&sid="+sid)
	writeText(t, c, "2probe")
	if got := readText(t, c); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	expectWSClosed(t, c, false) // no "5"
	e.waitUpgradeOver(t, sid)
	e.post(t, sid, "4polling")
	if got := e.get(t, sid); got != "4polling" {
		t.Errorf("GET = %q", got)
	}
}

// TestUpgradeWebSocketSession checks that a session opened over WebSocket cannot be "upgraded"
// again: the extra WebSocket is closed and the first one keeps working.
func TestUpgradeWebSocketSession(t *testing.T) {
	e := newEnv(t, Config{})
	c, o := e.openWS(t)
	c2 := e.dialWS(t, "EIO=4&transport=websocket&sid="+o.SID)
	expectWSClosed(t, c2, false)
	writeText(t, c, "4ok")
	if got := readText(t, c); got != "4ok" {
		t.Errorf("got %q", got)
	}
	// Long-polling requests on a WebSocket session are refused without harming it.
	if r := e.mustDo(t, http.MethodGet, pollQuery(o.SID), nil, nil); r.status != http.StatusBadRequest {
		t.Errorf("GET on a WebSocket session: %d %q", r.status, r.body)
	}
	writeText(t, c, "4ok")
	if got := readText(t, c); got != "4ok" {
		t.Errorf("got %q", got)
	}
}

// TestUpgradeClosedByClient checks the close packet sent over the new WebSocket.
func TestUpgradeClosedByClient(t *testing.T) {
	e := newEnv(t, Config{})
	sid := e.handshake(t).SID
	c := e.upgrade(t, sid)
	writeText(t, c, "1")
	expectWSClosed(t, c, false)
	if reason := e.rec.waitClosed(t, sid); reason != ReasonTransportClose {
		t.Errorf("reason %q", reason)
	}
}

// TestWebSocketEarlyFrames checks frames a client sends in the same packet as its handshake, on a
// new session and on an upgrade: they are processed, not lost.
func TestWebSocketEarlyFrames(t *testing.T) {
	e := newEnv(t, Config{})
	early := appendFrame(appendFrame(nil, wsFin|wsOpText, []byte("4early")), wsFin|wsOpText, []byte("4bird"))
	raw := dialRawWSEarly(t, e.url("EIO=4&transport=websocket"), early)
	if _, err := parseOpen(raw.readText(t)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"4early", "4bird"} {
		if got := raw.readText(t); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}

	sid := e.handshake(t).SID
	get := e.asyncGet(sid)
	e.waitGetPending(t, sid)
	up := dialRawWSEarly(t, e.url("EIO=4&transport=websocket&sid="+sid), appendFrame(nil, wsFin|wsOpText, []byte("2probe")))
	if got := up.readText(t); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	if r := await(t, get); r.body != "6" {
		t.Errorf("pending GET: %q", r.body)
	}
	if err := up.write(appendFrame(appendFrame(nil, wsFin|wsOpText, []byte("5")), wsFin|wsOpText, []byte("4up"))); err != nil {
		t.Fatal(err)
	}
	if got := up.readText(t); got != "4up" {
		t.Errorf("got %q", got)
	}
}
