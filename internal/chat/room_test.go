package chat

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/herald-chat/herald/internal/store"
	"github.com/herald-chat/herald/internal/store/sqlite"
	"github.com/herald-chat/herald/socketio"
)

// testUsers maps a "token" cookie to the identity behind it: these tests are about the room, so
// the authenticator is a table (package auth and the end-to-end tests cover real sessions).
var testUsers = map[string]Identity{
	"alice-1": {UserID: 1, Username: "alice", SessionID: "sa1"},
	"alice-2": {UserID: 1, Username: "alice", SessionID: "sa2"},
	"bob":     {UserID: 2, Username: "bob", SessionID: "sb"},
	"carol":   {UserID: 3, Username: "<b>carol</b>", SessionID: "sc"},
}

func tableAuth(r *http.Request) (Identity, bool) {
	c, err := r.Cookie("token")
	if err != nil {
		return Identity{}, false
	}
	id, ok := testUsers[c.Value]
	return id, ok
}

type roomFixture struct {
	url  string
	room *Room
	db   *sqlite.DB
}

func newRoomFixture(t *testing.T, dbPath string, cfg Config) *roomFixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	// The store keeps messages' authors as real accounts: create the table's users (ids 1, 2, 3
	// in order) on a fresh file.
	for _, name := range []string{"alice", "bob", "<b>carol</b>"} {
		if _, err := db.Users().Create(ctx, name, "x"); err != nil && !errors.Is(err, store.ErrUsernameTaken) {
			t.Fatal(err)
		}
	}
	io := socketio.NewServer(socketio.Config{})
	room, err := New(ctx, cfg, io.Of("/"), db.Messages(), AuthenticatorFunc(tableAuth), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(io)
	t.Cleanup(func() {
		room.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = io.Close(ctx)
		srv.Close()
		_ = db.Close()
	})
	return &roomFixture{url: srv.URL, room: room, db: db}
}

// wsClient is a minimal Socket.IO client over WebSocket: enough to read what the room sends.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
	in   chan string // Socket.IO packets (the Engine.IO "4" stripped); pings are answered
}

func dial(t *testing.T, base, token string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h := http.Header{}
	if token != "" {
		h.Set("Cookie", "token="+token)
	}
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/socket.io/?EIO=4&transport=websocket", &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		t.Fatal(err)
	}
	c := &wsClient{t: t, conn: conn, in: make(chan string, 1024)}
	go func() {
		defer close(c.in)
		for {
			_, data, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			switch {
			case string(data) == "2":
				_ = conn.Write(context.Background(), websocket.MessageText, []byte("3"))
			case len(data) > 0 && data[0] == '4':
				c.in <- string(data[1:])
			}
		}
	}()
	t.Cleanup(func() { _ = conn.CloseNow() })
	c.send("0")
	return c
}

func (c *wsClient) send(sio string) {
	if err := c.conn.Write(context.Background(), websocket.MessageText, []byte("4"+sio)); err != nil {
		c.t.Fatal(err)
	}
}

// next returns the next packet that starts with prefix, skipping others, within 5 s.
func (c *wsClient) next(prefix string) string {
	c.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case p, ok := <-c.in:
			if !ok {
				c.t.Fatalf("connection closed while waiting for %q", prefix)
			}
			if strings.HasPrefix(p, prefix) {
				return p
			}
		case <-timeout:
			c.t.Fatalf("no packet starting with %q within 5s", prefix)
		}
	}
}

// event returns the argument of the next event with the given name.
func (c *wsClient) event(name string) json.RawMessage {
	c.t.Helper()
	p := c.next(`2["` + name + `",`)
	var arr []json.RawMessage
	if err := json.Unmarshal([]byte(p[1:]), &arr); err != nil || len(arr) != 2 {
		c.t.Fatalf("bad event packet %q", p)
	}
	return arr[1]
}

// countBecomes waits until a "user count" of want arrives.
func (c *wsClient) countBecomes(want int) {
	c.t.Helper()
	for {
		var n int
		if err := json.Unmarshal(c.event(EventUserCount), &n); err != nil {
			c.t.Fatal(err)
		}
		if n == want {
			return
		}
	}
}

func TestRoomRefusesUnauthenticated(t *testing.T) {
	f := newRoomFixture(t, filepath.Join(t.TempDir(), "h.db"), Config{})
	c := dial(t, f.url, "")
	if p := c.next("4"); p != `4{"message":"unauthorized"}` {
		t.Fatalf("got %q, want connect_error unauthorized", p)
	}
	forged := dial(t, f.url, "forged")
	forged.next("4")
	if n := f.room.UsersOnline(); n != 0 {
		t.Fatalf("users online = %d after refused connections", n)
	}
}

func TestRoomCountsDistinctUsersAndAnnounces(t *testing.T) {
	f := newRoomFixture(t, filepath.Join(t.TempDir(), "h.db"), Config{CountWindow: 10 * time.Millisecond})
	alice := dial(t, f.url, "alice-1")
	alice.next("0{")
	alice.countBecomes(1)
	if h := alice.event(EventHistory); string(h) != "[]" {
		t.Fatalf("history = %s, want []", h)
	}

	bob := dial(t, f.url, "bob")
	bob.countBecomes(2)
	var joined userEvent
	if err := json.Unmarshal(alice.event(EventUser), &joined); err != nil {
		t.Fatal(err)
	}
	if joined != (userEvent{Username: "bob", CurrentUsers: 2, Connected: true}) {
		t.Fatalf("join announcement = %+v", joined)
	}
	alice.countBecomes(2)

	// A second tab of alice's does not change the count.
	alice2 := dial(t, f.url, "alice-2")
	alice2.countBecomes(2)
	if n := f.room.UsersOnline(); n != 2 {
		t.Fatalf("users online = %d with three sockets of two users", n)
	}

	// Logging out one of alice's sessions ends its socket but alice stays online; bob leaving
	// is announced.
	f.room.EndSession("sa2")
	alice2.next("1") // the server's DISCONNECT
	_ = bob.conn.CloseNow()
	var left userEvent
	if err := json.Unmarshal(alice.event(EventUser), &left); err != nil {
		t.Fatal(err)
	}
	if left != (userEvent{Username: "bob", CurrentUsers: 1, Connected: false}) {
		t.Fatalf("leave announcement = %+v", left)
	}
	alice.countBecomes(1)
}

func TestRoomChatMessagesAckAndHistory(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "h.db")
	f := newRoomFixture(t, dbPath, Config{RateBurst: 3, RateInterval: time.Hour, MaxMessageLen: 10})
	alice := dial(t, f.url, "alice-1")
	bob := dial(t, f.url, "bob")
	alice.next("0{")
	bob.next("0{")

	alice.send(`21["chat message","  hi <b>  "]`)
	// The sender gets the broadcast like everyone else, then the ack.
	var sent [2]Message
	for i, c := range []*wsClient{alice, bob} {
		if err := json.Unmarshal(c.event(EventChatMessage), &sent[i]); err != nil {
			t.Fatal(err)
		}
		if m := sent[i]; m.Username != "alice" || m.Message != "hi <b>" || m.ID == 0 || m.Time.IsZero() {
			t.Fatalf("chat message = %+v", m)
		}
	}
	ack := alice.next("31[")
	var reply ackReply
	if err := json.Unmarshal([]byte(strings.TrimPrefix(ack, "31")), &[]any{&reply}); err != nil || !reply.OK || reply.ID != sent[0].ID {
		t.Fatalf("ack = %q (%+v, %v), want ok with id %d", ack, reply, err, sent[0].ID)
	}

	for _, bad := range []struct{ packet, want string }{
		{`22["chat message","   "]`, ErrEmpty.Error()},
		{`23["chat message","12345678901"]`, ErrTooLong.Error()},
		{`24["chat message",{"x":1}]`, ErrNotText.Error()},
		{`25["chat message"]`, ErrNotText.Error()},
		{`20["chat message","a\u0000b"]`, ErrNotText.Error()},
	} {
		alice.send(bad.packet)
		id := bad.packet[1:2]
		got := alice.next("3" + id + "[")
		if !strings.Contains(got, `"ok":false`) || !strings.Contains(got, bad.want) {
			t.Fatalf("%s → %s, want an error containing %q", bad.packet, got, bad.want)
		}
	}
	// The burst is 3 and the first message used one token.
	alice.send(`26["chat message","two"]`)
	alice.next("36[")
	alice.send(`27["chat message","three"]`)
	alice.next("37[")
	alice.send(`28["chat message","four"]`)
	if got := alice.next("38["); !strings.Contains(got, ErrTooFast.Error()) {
		t.Fatalf("fourth message in a burst of 3: %s", got)
	}

	// A restarted server (a new room on the same file) sends the stored messages as history.
	g := newRoomFixture(t, dbPath, Config{})
	carol := dial(t, g.url, "carol")
	var hist []Message
	if err := json.Unmarshal(carol.event(EventHistory), &hist); err != nil {
		t.Fatal(err)
	}
	if len(hist) != 3 || hist[0].Message != "hi <b>" || hist[2].Message != "three" {
		t.Fatalf("history after restart = %+v", hist)
	}
}

// TestRoomRateLimitSurvivesReconnecting checks that the message limit belongs to the user: a
// user who used up the burst, went offline and came back gets no new burst.
func TestRoomRateLimitSurvivesReconnecting(t *testing.T) {
	f := newRoomFixture(t, filepath.Join(t.TempDir(), "h.db"), Config{RateBurst: 2, RateInterval: time.Hour})
	alice := dial(t, f.url, "alice-1")
	alice.next("0{")
	alice.send(`21["chat message","one"]`)
	alice.next("31[")
	alice.send(`22["chat message","two"]`)
	alice.next("32[")
	alice.send(`23["chat message","three"]`)
	if got := alice.next("33["); !strings.Contains(got, ErrTooFast.Error()) {
		t.Fatalf("third message in a burst of 2: %s", got)
	}
	_ = alice.conn.CloseNow()
	for deadline := time.Now().Add(5 * time.Second); f.room.UsersOnline() != 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("alice still online 5s after closing her only socket")
		}
	}
	again := dial(t, f.url, "alice-2") // another session of the same user, too
	again.next("0{")
	again.send(`24["chat message","four"]`)
	if got := again.next("34["); !strings.Contains(got, ErrTooFast.Error()) {
		t.Fatalf("after reconnecting, a message beyond the burst was accepted: %s", got)
	}
}
