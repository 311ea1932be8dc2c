package chatredis_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/herald-chat/herald/internal/chat"
	"github.com/herald-chat/herald/internal/chat/chatredis"
	"github.com/herald-chat/herald/internal/chat/ratelimittest"
	"github.com/herald-chat/herald/internal/redistest"
	"github.com/herald-chat/herald/internal/sioclient"
	"github.com/herald-chat/herald/internal/store"
	"github.com/herald-chat/herald/internal/store/sqlite"
	"github.com/herald-chat/herald/socketio"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestRateLimiterContract(t *testing.T) {
	redis := redistest.Start(t)
	client := newClient(t, redis.URL())
	ratelimittest.Run(t, func(t *testing.T, burst int, interval time.Duration) chat.RateLimiter {
		return chatredis.NewRateLimiter(client, chatredis.RateLimiterConfig{Prefix: t.Name() + ":", Burst: burst, Interval: interval, Logger: quiet()})
	})
}

// chatServer is one server of a test cluster: a chat room on its own Socket.IO server, with the
// shared rate limiter. Its users are the "token" cookie's value ("alice" is user 1).
type chatServer struct {
	url string
}

func startChatServer(t *testing.T, db *sqlite.DB, limiter chat.RateLimiter) *chatServer {
	t.Helper()
	io := socketio.NewServer(socketio.Config{})
	users := map[string]chat.Identity{"alice": {UserID: 1, Username: "alice", SessionID: "s1"}}
	auth := chat.AuthenticatorFunc(func(r *http.Request) (chat.Identity, bool) {
		c, err := r.Cookie("token")
		if err != nil {
			return chat.Identity{}, false
		}
		id, ok := users[c.Value]
		return id, ok
	})
	room, err := chat.New(context.Background(), chat.Config{RateLimiter: limiter, Logger: quiet()}, io.Of("/"), db.Messages(), auth, nil)
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
	})
	return &chatServer{url: srv.URL}
}

// send connects as alice, sends one chat message and returns whether its ack said ok, then
// disconnects: every message comes from a fresh connection.
func (s *chatServer) send(t *testing.T, text string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := sioclient.Dial(ctx, s.url, sioclient.Options{Header: http.Header{"Cookie": {"token=alice"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	reply, err := c.EmitWithAck(ctx, chat.EventChatMessage, text)
	if err != nil || len(reply) != 1 {
		t.Fatalf("sending %q: %v, %v", text, reply, err)
	}
	m, _ := reply[0].(map[string]any)
	return m["ok"] == true
}

func openDB(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Users().Create(context.Background(), "alice", "x"); err != nil && !errors.Is(err, store.ErrUsernameTaken) {
		t.Fatal(err)
	}
	return db
}

// TestRateLimitAcrossServersAndReconnects: two chat servers on one Redis share each user's
// bucket: the burst used on one is used on the other, and reconnecting gives nothing back.
func TestRateLimitAcrossServersAndReconnects(t *testing.T) {
	redis := redistest.Start(t)
	client := newClient(t, redis.URL())
	db := openDB(t)
	cfg := chatredis.RateLimiterConfig{Prefix: "t:", Burst: 4, Interval: time.Hour, Logger: quiet()}
	a := startChatServer(t, db, chatredis.NewRateLimiter(client, cfg))
	b := startChatServer(t, db, chatredis.NewRateLimiter(client, cfg))
	for i, s := range []*chatServer{a, b, a, b} { // the burst of 4, alternating servers and connections
		if !s.send(t, fmt.Sprint("message ", i)) {
			t.Fatalf("message %d of the burst of 4 refused", i+1)
		}
	}
	for i, s := range []*chatServer{a, b} {
		if s.send(t, "one too many") {
			t.Errorf("server %d accepted a message past the cluster-wide burst", i)
		}
	}
}

// TestRateLimitRedisDown: with Redis gone each server limits on its own (it fails open to the
// local limit, not to none), and once Redis is back the shared limit holds again.
func TestRateLimitRedisDown(t *testing.T) {
	redis := redistest.Start(t)
	client := newClient(t, redis.URL())
	cfg := chatredis.RateLimiterConfig{Prefix: "t:", Burst: 2, Interval: time.Hour, Timeout: 200 * time.Millisecond, Logger: quiet()}
	l := chatredis.NewRateLimiter(client, cfg)
	other := chatredis.NewRateLimiter(client, cfg) // another server
	ctx := context.Background()
	redis.Kill()
	for i := range 2 {
		if !l.Allow(ctx, 1) {
			t.Fatalf("Redis down: message %d of the local burst of 2 refused", i+1)
		}
	}
	if l.Allow(ctx, 1) {
		t.Fatal("Redis down: a message past the local burst allowed (failed open to no limit)")
	}
	if l.FellBack() != 3 {
		t.Errorf("FellBack = %d, want 3", l.FellBack())
	}
	rctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	redis.Restart(rctx)
	// Back on Redis (empty after its restart): wait for a decision taken there (user 3's), then
	// the shared bucket counts again, across servers.
	for deadline := time.Now().Add(wait); ; time.Sleep(10 * time.Millisecond) {
		n := l.FellBack()
		l.Allow(ctx, 3)
		if l.FellBack() == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no decision from Redis after its restart")
		}
	}
	before := l.FellBack()
	first, second, third := other.Allow(ctx, 2), l.Allow(ctx, 2), other.Allow(ctx, 2)
	if !first || !second || third {
		t.Errorf("after Redis came back, user 2's burst of 2 on two servers: %v %v %v, want true true false", first, second, third)
	}
	if l.FellBack() != before {
		t.Error("decisions still taken locally with Redis back")
	}
}
