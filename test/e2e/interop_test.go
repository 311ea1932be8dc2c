package e2e_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// Transport choices for peer sockets: polling only, WebSocket only, and the default (polling,
// then the upgrade to WebSocket).
var (
	pollingOnly   = map[string]any{"transports": []string{"polling"}}
	websocketOnly = map[string]any{"transports": []string{"websocket"}}
	defaultOpts   = map[string]any(nil)
)

// userEventData is the payload of "user".
type userEventData struct {
	Username     string `json:"username"`
	CurrentUsers int    `json:"currentUsers"`
	Connected    bool   `json:"connected"`
}

// chatMessage is the payload of "chat message" and the elements of "history".
type chatMessage struct {
	Username string    `json:"username"`
	Message  string    `json:"message"`
	ID       int64     `json:"id"`
	Time     time.Time `json:"time"`
}

// ackData is the reply to a "chat message" ack callback.
type ackData struct {
	OK    bool   `json:"ok"`
	ID    int64  `json:"id"`
	Error string `json:"error"`
}

func decode[T any](t *testing.T, e event) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(e.Data, &v); err != nil {
		t.Fatalf("decoding %s: %v", e.raw, err)
	}
	return v
}

// admitted reports whether e shows its socket admitted into the room: connected, or receiving
// the room's events. (A refused socket's Engine.IO connection may still open, and even upgrade,
// until the server's connect timeout ends it, as with a Node server: that is not admission.)
func admitted(e event) bool {
	switch e.Ev {
	case "connect", "user count", "user", "chat message", "history":
		return true
	}
	return false
}

// TestInteropUserCount: "user count" counts distinct signed-in users, on both transports, and a
// user with three sockets counts once; "user" announces only a user's first socket and last.
func TestInteropUserCount(t *testing.T) {
	srv := startServer(t)
	alice := register(t, srv.url, "alice")
	bob := register(t, srv.url, "bob")
	carol := register(t, srv.url, "carol")
	p := startPeer(t, srv.url)

	// One socket per user, each over a different transport.
	if e := p.mustConnect("alice1", alice, pollingOnly); e.Transport != "polling" {
		t.Errorf("alice1 connected over %q, want polling", e.Transport)
	}
	p.waitCounts(1, "alice1")
	if e := p.mustConnect("bob1", bob, websocketOnly); e.Transport != "websocket" {
		t.Errorf("bob1 connected over %q, want websocket", e.Transport)
	}
	p.waitCounts(2, "alice1", "bob1")
	p.mustConnect("carol1", carol, defaultOpts)
	p.wait("carol1 upgraded to websocket", func(e event) bool {
		return e.Name == "carol1" && e.Ev == "upgrade" && e.Transport == "websocket"
	})
	p.waitCounts(3, "alice1", "bob1", "carol1")

	// Two more sockets of alice: still three users.
	p.mustConnect("alice2", alice, websocketOnly)
	p.mustConnect("alice3", alice, defaultOpts)
	p.waitCounts(3, "alice1", "alice2", "alice3", "bob1", "carol1")

	// Closing two of alice's three sockets changes nothing; closing the last one does.
	p.close("alice2")
	p.close("alice3")
	p.close("alice1")
	p.wait("alice's departure announced", func(e event) bool {
		return e.Name == "bob1" && e.Ev == "user" && strings.Contains(string(e.Data), `"connected":false`)
	})
	p.waitCounts(2, "bob1", "carol1")
	evs := p.snapshot()

	// Every count anyone saw was a true count of the moment: never 4 or more (alice's extra
	// sockets did not count), never 0.
	for _, e := range evs {
		if e.Ev != "user count" {
			continue
		}
		if n := decode[int](t, e); n < 1 || n > 3 {
			t.Errorf("%s got user count %d, want 1…3", e.Name, n)
		}
	}
	// "user" announcements: carol's arrival reached alice and bob; alice's extra sockets were not
	// announced; alice's departure (her last socket) was, with the new count.
	var announced []string
	for _, e := range evs {
		if e.Ev != "user" {
			continue
		}
		u := decode[userEventData](t, e)
		announced = append(announced, fmt.Sprintf("%s<-%s/%d/%v", e.Name, u.Username, u.CurrentUsers, u.Connected))
	}
	for _, want := range []string{"alice1<-bob/2/true", "alice1<-carol/3/true", "bob1<-carol/3/true", "bob1<-alice/2/false", "carol1<-alice/2/false"} {
		if !slices.Contains(announced, want) {
			t.Errorf("missing announcement %s; got %v", want, announced)
		}
	}
	departures := 0
	for _, a := range announced {
		if strings.Contains(a, "<-alice/") && strings.HasSuffix(a, "/true") {
			t.Errorf("alice's extra socket was announced as a join: %s (all: %v)", a, announced)
		}
		if strings.HasPrefix(a, "bob1<-alice/") && strings.HasSuffix(a, "/false") {
			departures++
		}
	}
	if departures != 1 {
		t.Errorf("bob was told %d times that alice left, want once (on her last socket): %v", departures, announced)
	}
	// Every socket got the count and the history right after connecting.
	for _, name := range []string{"alice1", "alice2", "alice3", "bob1", "carol1"} {
		if !slices.ContainsFunc(evs, func(e event) bool { return e.Name == name && e.Ev == "history" }) {
			t.Errorf("%s received no history", name)
		}
	}
}

// TestInteropUnauthorized: a handshake without a valid session gets connect_error
// "unauthorized" on either transport, and no count changes.
func TestInteropUnauthorized(t *testing.T) {
	srv := startServer(t)
	alice := register(t, srv.url, "alice")
	bob := register(t, srv.url, "bob")
	p := startPeer(t, srv.url)
	p.mustConnect("alice", alice, defaultOpts)
	p.waitCounts(1, "alice")

	var forged [32]byte
	_, _ = rand.Read(forged[:])
	attempts := []struct {
		name, cookie string
		opts         map[string]any
	}{
		{"nocookie-polling", "", pollingOnly},
		{"nocookie-websocket", "", websocketOnly},
		{"forged-polling", base64.RawURLEncoding.EncodeToString(forged[:]), pollingOnly},
		{"forged-websocket", base64.RawURLEncoding.EncodeToString(forged[:]), websocketOnly},
		{"garbage-default", "not-a-session", defaultOpts},
	}
	for _, a := range attempts {
		p.connect(a.name, a.cookie, a.opts)
	}
	for _, a := range attempts {
		e := p.wait(a.name+" refused", func(e event) bool {
			return e.Name == a.name && (e.Ev == "connect_error" || e.Ev == "connect")
		})
		if e.Ev != "connect_error" || e.Message != "unauthorized" {
			t.Errorf("%s: got %s, want connect_error with message \"unauthorized\"", a.name, e.raw)
		}
	}

	// A marker: bob arrives and leaves. Had a refused handshake been counted, alice would see
	// more than 2 on bob's arrival.
	p.mustConnect("bob", bob, defaultOpts)
	p.waitCounts(2, "alice", "bob")
	p.close("bob")
	p.waitCounts(1, "alice")
	for _, e := range p.snapshot() {
		if e.Ev == "user count" && e.Name == "alice" {
			if n := decode[int](t, e); n != 1 && n != 2 {
				t.Errorf("alice saw user count %d; want only 1 and 2", n)
			}
		}
		for _, a := range attempts {
			if e.Name == a.name && admitted(e) {
				t.Errorf("refused socket %s got %s", a.name, e.raw)
			}
		}
	}
}

// TestInteropOrigin: a handshake from a foreign Origin is refused on both transports even with
// a valid session (cross-site WebSocket hijacking), while the server's own origin and no Origin
// at all are accepted.
func TestInteropOrigin(t *testing.T) {
	srv := startServer(t)
	alice := register(t, srv.url, "alice")

	// The raw handshake first: refused before any session is created. The server's own host
	// and port under https is another origin than this http server's.
	for _, origin := range []string{"http://evil.example", "https" + strings.TrimPrefix(srv.url, "http")} {
		for _, transport := range []string{"polling", "websocket"} {
			req, err := http.NewRequest(http.MethodGet, srv.url+"/socket.io/?EIO=4&transport="+transport, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Origin", origin)
			req.AddCookie(&http.Cookie{Name: sessionCookie, Value: alice})
			if transport == "websocket" {
				req.Header.Set("Connection", "Upgrade")
				req.Header.Set("Upgrade", "websocket")
				req.Header.Set("Sec-WebSocket-Version", "13")
				req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
			}
			resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
			if err != nil {
				t.Fatalf("%s handshake: %v", transport, err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s handshake from Origin %s: status %d, want 403", transport, origin, resp.StatusCode)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
				t.Errorf("%s handshake from a foreign Origin: Access-Control-Allow-Origin %q", transport, got)
			}
		}
	}

	p := startPeer(t, srv.url)
	evil := map[string]any{"origin": "http://evil.example"}
	p.connect("evil-polling", alice, map[string]any{"origin": "http://evil.example", "transports": []string{"polling"}})
	p.connect("evil-websocket", alice, map[string]any{"origin": "http://evil.example", "transports": []string{"websocket"}})
	p.connect("evil-default", alice, evil)
	for _, name := range []string{"evil-polling", "evil-websocket", "evil-default"} {
		e := p.wait(name+" refused", func(e event) bool {
			return e.Name == name && (e.Ev == "connect_error" || e.Ev == "connect")
		})
		if e.Ev != "connect_error" {
			t.Errorf("%s: got %s, want connect_error", name, e.raw)
		}
	}
	// The same session from the server's own origin, and with no Origin: accepted, and the
	// refused attempts never counted.
	p.mustConnect("own-polling", alice, map[string]any{"origin": srv.url, "transports": []string{"polling"}})
	p.mustConnect("own-websocket", alice, map[string]any{"origin": srv.url, "transports": []string{"websocket"}})
	p.mustConnect("no-origin", alice, defaultOpts)
	p.waitCounts(1, "own-polling", "own-websocket", "no-origin")
	for _, e := range p.snapshot() {
		if strings.HasPrefix(e.Name, "evil-") && admitted(e) {
			t.Errorf("refused socket %s got %s", e.Name, e.raw)
		}
	}
}

// TestInteropMessagesAndRestart: "chat message" acks, delivery to everyone, validation, the
// per-user rate limit, and durability: after kill -9 and a restart on the same database file a
// new socket's history holds every acknowledged message, oldest first.
func TestInteropMessagesAndRestart(t *testing.T) { messagesAndRestart(t, startServer(t)) }

// messagesAndRestart is TestInteropMessagesAndRestart on a server the caller started (SQLite or
// PostgreSQL): its kill -9 and restart keep the database.
func messagesAndRestart(t *testing.T, srv *server) {
	alice := register(t, srv.url, "alice")
	bob := register(t, srv.url, "bob")
	p := startPeer(t, srv.url)
	p.mustConnect("alice", alice, pollingOnly)
	p.mustConnect("bob", bob, websocketOnly)
	p.waitCounts(2, "alice", "bob")

	var acked []chatMessage // every message the server acknowledged, in ack order per sender

	p.emitAck("alice", "hello", 1, "hello bob")
	a := decode[ackData](t, p.acks("hello", 1)[0])
	if !a.OK || a.ID <= 0 || a.Error != "" {
		t.Fatalf("ack of a good message: %+v, want {ok:true, id>0}", a)
	}
	for _, name := range []string{"alice", "bob"} {
		e := p.wait(name+" receives hello", func(e event) bool {
			return e.Name == name && e.Ev == "chat message" && strings.Contains(string(e.Data), "hello bob")
		})
		m := decode[chatMessage](t, e)
		if m.Username != "alice" || m.Message != "hello bob" || m.ID != a.ID || time.Since(m.Time).Abs() > time.Minute {
			t.Errorf("%s received %+v, want alice's \"hello bob\" with id %d and a current time", name, m, a.ID)
		}
		var keys map[string]any
		_ = json.Unmarshal(e.Data, &keys)
		for _, k := range []string{"username", "message", "id", "time"} {
			if _, ok := keys[k]; !ok {
				t.Errorf("chat message lacks key %q: %s", k, e.Data)
			}
		}
	}
	acked = append(acked, chatMessage{Username: "alice", Message: "hello bob", ID: a.ID})

	// Refused: empty, blank, over 1,000 characters. Exactly 1,000 (multi-byte) characters is fine.
	long := strings.Repeat("é", 1000)
	for i, c := range []struct {
		text string
		ok   bool
	}{{"", false}, {"   ", false}, {long + "x", false}, {long, true}} {
		tag := fmt.Sprintf("check%d", i)
		p.emitAck("alice", tag, 1, c.text)
		got := decode[ackData](t, p.acks(tag, 1)[0])
		if got.OK != c.ok || (!got.OK && got.Error == "") || (got.OK && got.ID <= 0) {
			t.Errorf("ack of a %d-character message: %+v, want ok=%v (with an error when refused)", len([]rune(c.text)), got, c.ok)
		}
		if got.OK {
			acked = append(acked, chatMessage{Username: "alice", Message: c.text, ID: got.ID})
		}
	}

	// A flood from bob: the rate limit answers "too fast"; what got through is acknowledged.
	const flood = 25
	p.emitAck("bob", "flood", flood, "spam")
	tooFast := 0
	for _, e := range p.acks("flood", flood) {
		got := decode[ackData](t, e)
		switch {
		case got.OK:
			acked = append(acked, chatMessage{Username: "bob", Message: "spam", ID: got.ID})
		case strings.Contains(got.Error, "too fast"):
			tooFast++
		default:
			t.Errorf("flood ack %d: %+v", e.I, got)
		}
	}
	if tooFast == 0 {
		t.Errorf("a flood of %d messages got no \"too fast\" ack", flood)
	}
	t.Logf("flood of %d: %d accepted, %d refused as too fast", flood, flood-tooFast, tooFast)
	if len(acked) > 50 {
		t.Fatalf("test bug: %d acknowledged messages do not fit the 50-message history", len(acked))
	}

	// Crash right after the last ack, restart on the same file: history has them all.
	srv.kill9()
	p.until("both sockets dropped", func(evs []event) bool {
		n := 0
		for _, e := range evs {
			if e.Ev == "disconnect" {
				n++
			}
		}
		return n >= 2
	})
	srv.restart()
	p.mustConnect("after", alice, defaultOpts)
	h := decode[[]chatMessage](t, p.wait("history after restart", func(e event) bool { return e.Name == "after" && e.Ev == "history" }))
	slices.SortFunc(acked, func(a, b chatMessage) int { return int(a.ID - b.ID) })
	same := func(a, b chatMessage) bool { return a.ID == b.ID && a.Username == b.Username && a.Message == b.Message }
	if !slices.EqualFunc(h, acked, same) {
		short := func(ms []chatMessage) (out []string) {
			for _, m := range ms {
				out = append(out, fmt.Sprintf("%d %s: %.20s", m.ID, m.Username, m.Message))
			}
			return out
		}
		t.Errorf("history after kill -9 and restart:\n got %q\nwant %q", short(h), short(acked))
	}
	if !slices.IsSortedFunc(h, func(a, b chatMessage) int { return int(a.ID - b.ID) }) {
		t.Errorf("history is not oldest first: %+v", h)
	}
}

// TestInteropLogout: GET /logout disconnects every socket of that session, on both transports,
// and only that session's; the cookie then no longer opens sockets.
func TestInteropLogout(t *testing.T) {
	srv := startServer(t)
	alice1 := register(t, srv.url, "alice")
	alice2 := login(t, srv.url, "alice") // a second session of the same user
	bob := register(t, srv.url, "bob")
	p := startPeer(t, srv.url)
	p.mustConnect("s1-polling", alice1, pollingOnly)
	p.mustConnect("s1-websocket", alice1, websocketOnly)
	p.mustConnect("s2", alice2, defaultOpts)
	p.mustConnect("bob", bob, defaultOpts)
	p.waitCounts(2, "s1-polling", "s1-websocket", "s2", "bob")

	logout(t, srv.url, alice1)
	for _, name := range []string{"s1-polling", "s1-websocket"} {
		e := p.wait(name+" disconnected", func(e event) bool { return e.Name == name && e.Ev == "disconnect" })
		if e.Reason != "io server disconnect" && e.Reason != "transport close" {
			t.Errorf("%s: disconnect reason %q, want \"io server disconnect\" or \"transport close\"", name, e.Reason)
		}
	}
	// The other session stays: it still talks, and alice is still online.
	p.emitAck("s2", "alive", 1, "still here")
	if a := decode[ackData](t, p.acks("alive", 1)[0]); !a.OK {
		t.Errorf("the other session's socket after logout: ack %+v", a)
	}
	p.waitCounts(2, "s2", "bob")
	for _, e := range p.snapshot() {
		if e.Name == "s2" && e.Ev == "disconnect" {
			t.Errorf("the other session's socket was disconnected by the first logout: %s", e.raw)
		}
	}
	// The logged-out cookie opens nothing any more.
	p.connect("s1-again", alice1, defaultOpts)
	if e := p.wait("s1-again refused", func(e event) bool {
		return e.Name == "s1-again" && (e.Ev == "connect" || e.Ev == "connect_error")
	}); e.Ev != "connect_error" || e.Message != "unauthorized" {
		t.Errorf("socket with a logged-out cookie: %s, want connect_error \"unauthorized\"", e.raw)
	}

	// Logging out the last session takes alice offline.
	logout(t, srv.url, alice2)
	p.wait("s2 disconnected", func(e event) bool { return e.Name == "s2" && e.Ev == "disconnect" })
	p.waitCounts(1, "bob")
	p.wait("bob told alice left", func(e event) bool {
		return e.Name == "bob" && e.Ev == "user" && strings.Contains(string(e.Data), `"username":"alice"`) &&
			strings.Contains(string(e.Data), `"connected":false`)
	})
}
