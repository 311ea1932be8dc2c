//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/bench/internal/result"
	"github.com/herald-chat/herald/internal/auth"
	"github.com/herald-chat/herald/internal/chat"
	"github.com/herald-chat/herald/internal/store/dburl"
	"github.com/herald-chat/herald/socketio"
)

func TestChatText(t *testing.T) {
	pkt := appendChatPacket(nil, 7, 12, 1732540000123456789)
	if want := `4212["chat message","7:12:1732540000123456789"]`; string(pkt) != want {
		t.Fatalf("packet %s, want %s", pkt, want)
	}
	// What the app sends back.
	payload := `{"username":"bench00007","message":"7:12:1732540000123456789","id":99,"time":"2026-01-01T00:00:00Z"}`
	k, seq, at, ok := parseChatText([]byte(payload))
	if !ok || k != 7 || seq != 12 || at != 1732540000123456789 {
		t.Errorf("parseChatText = %d %d %d %v", k, seq, at, ok)
	}
	for _, bad := range []string{
		`{"username":"x","message":"hello","id":1}`,
		`{"username":"x","message":"1:2","id":1}`,
		`{"username":"x","message":"1:2:3:4","id":1}`,
		`{"username":"x","id":1}`,
		`{"message":"1:2:`,
	} {
		if _, _, _, ok := parseChatText([]byte(bad)); ok {
			t.Errorf("parseChatText(%s) accepted", bad)
		}
	}
}

type ackRecorder struct {
	recorder
	acks []string
}

func (r *ackRecorder) ack(id int64, arg []byte, _ int64) {
	r.acks = append(r.acks, fmt.Sprintf("%d %s", id, arg))
}

func TestDispatchAck(t *testing.T) {
	var h ackRecorder
	for _, p := range []string{`4312[{"ok":true,"id":5}]`, `430[{"ok":false,"error":"too fast"}]`, `43[1]`, `43x[1]`, `4312`} {
		dispatch([]byte(p), 1, &h)
	}
	want := []string{`12 {"ok":true,"id":5}`, `0 {"ok":false,"error":"too fast"}`}
	if strings.Join(h.acks, "|") != strings.Join(want, "|") {
		t.Errorf("acks %q, want %q", h.acks, want)
	}
	// A handler without ack is left alone.
	dispatch([]byte(`431[2]`), 1, &recorder{})
}

// TestMergeChat: losses count, per message acked ok, the clients alive that
// did not receive it; a message delivered without an ok ack is noted.
func TestMergeChat(t *testing.T) {
	cfg := &chatConfig{Clients: 4, Senders: 2, Messages: 3, Rate: 1}
	// Slots: sender 0 → 0,1,2; sender 1 → 3,4,5. Acked ok: 0, 1, 3, 4 (slot 2 rejected, 5 unacked).
	reports := []workerMsg{
		{Alive: 2, ChatSent: 3, ChatAckOK: 2, ChatRejected: 1, Delivered: 5, ChatOK: []uint64{0b000011},
			ChatCounts: []int32{2, 2, 0, 1, 0, 0}, RejectSample: `{"ok":false}`},
		{Alive: 1, ChatSent: 3, ChatAckOK: 2, Delivered: 4, Dups: 1, ChatOK: []uint64{0b011000},
			ChatCounts: []int32{1, 1, 0, 1, 0, 1}},
	}
	res := &result.Run{ConnectOK: 4}
	mergeChat(res, reports, cfg)
	// Alive 3; ok slots 0 (3/3), 1 (3/3), 3 (2/3: 1 lost), 4 (0/3: 3 lost).
	if res.Lost != 4 || res.LostMessages != 2 || res.Expected != 12 || res.Alive != 3 || res.Disconnects != 1 {
		t.Errorf("lost %d in %d messages, expected %d, alive %d, disconnects %d", res.Lost, res.LostMessages, res.Expected, res.Alive, res.Disconnects)
	}
	if res.MessagesSent != 6 || res.AckedOK != 4 || res.Rejected != 1 || res.Unacked != 1 || res.Delivered != 9 || res.Duplicates != 1 {
		t.Errorf("sent %d ok %d rejected %d unacked %d delivered %d dups %d", res.MessagesSent, res.AckedOK, res.Rejected, res.Unacked, res.Delivered, res.Duplicates)
	}
	if notes := strings.Join(res.Notes, "\n"); !strings.Contains(notes, "1 messages were delivered without an ok ack") ||
		!strings.Contains(notes, `first: {"ok":false}`) {
		t.Errorf("notes: %s", notes)
	}
}

// startChatApp runs the real chat room (internal/chat on socketio, sessions
// checked by internal/auth, an in-memory SQLite store) in-process, with n
// signed-in users, and returns its URL and a file of their session cookies.
func startChatApp(t *testing.T, n int) (string, string) {
	t.Helper()
	ctx := context.Background()
	db, err := dburl.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	a, err := auth.New(auth.Config{Users: db.Users(), Sessions: db.Sessions(), Secret: []byte("a test secret of enough bytes")})
	if err != nil {
		t.Fatal(err)
	}
	cookies := filepath.Join(t.TempDir(), "cookies.txt")
	f, err := os.Create(cookies)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := range n {
		u, err := db.Users().Create(ctx, fmt.Sprintf("user%03d", i), "x")
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		if _, err := a.StartSession(ctx, rec, httptest.NewRequest(http.MethodPost, "/login", nil), u); err != nil {
			t.Fatal(err)
		}
		for _, c := range rec.Result().Cookies() {
			if c.Name == auth.SessionCookie {
				fmt.Fprintf(w, "%s=%s\n", c.Name, c.Value)
			}
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	io := socketio.NewServer(socketio.Config{})
	room, err := chat.New(ctx, chat.Config{}, io.Of("/"), db.Messages(), chat.AuthenticatorFunc(func(r *http.Request) (chat.Identity, bool) {
		s, u, ok := a.SessionFromRequest(r)
		return chat.Identity{UserID: u.ID, Username: u.Username, SessionID: s.ID}, ok
	}), nil)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		room.Close()
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = io.Close(cctx)
		ts.Close()
	})
	return ts.URL, cookies
}

func TestChat(t *testing.T) {
	t.Parallel()
	for _, client := range []string{"epoll", "goroutine"} {
		t.Run(client, func(t *testing.T) {
			url, cookies := startChatApp(t, 30)
			o := baseOptions(url, result.ScenarioChat)
			o.client, o.cookies, o.senders, o.msgRate, o.duration = client, cookies, 4, 5, time.Second
			r := run(t, o)
			if r.Senders != 4 || r.MessagesSent != 20 || r.AckedOK != 20 || r.Rejected != 0 || r.Unacked != 0 {
				t.Errorf("senders %d, sent %d, acked ok %d, rejected %d (%s), unacked %d", r.Senders, r.MessagesSent, r.AckedOK, r.Rejected, r.RejectSample, r.Unacked)
			}
			if r.Expected != 600 || r.Delivered != 600 || r.Lost != 0 || r.Duplicates != 0 || r.Alive != 30 {
				t.Errorf("expected %d, delivered %d, lost %d, dups %d, alive %d", r.Expected, r.Delivered, r.Lost, r.Duplicates, r.Alive)
			}
			if r.LatencyP50MS <= 0 || r.LatencyMaxMS < r.LatencyP99MS || r.AckP50MS <= 0 || r.AckMaxMS < r.AckP99MS {
				t.Errorf("latencies: delivery p50 %v p99 %v max %v; ack p50 %v p99 %v max %v",
					r.LatencyP50MS, r.LatencyP99MS, r.LatencyMaxMS, r.AckP50MS, r.AckP99MS, r.AckMaxMS)
			}
			// r.Notes is not checked: its "may measure the client" advice compares CPU
			// timings, which a loaded machine (and the race detector) skews at random.
		})
	}
}

// TestChatWithoutCookies: the app refuses clients that are not signed in.
func TestChatWithoutCookies(t *testing.T) {
	t.Parallel()
	url, _ := startChatApp(t, 1)
	o := baseOptions(url, result.ScenarioChat)
	o.clients, o.senders, o.dialTimeout = 3, 1, 2*time.Second
	_, err := coordinate(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "unauthorized") {
		t.Errorf("coordinate without cookies: %v, want an unauthorized connect error", err)
	}
}
