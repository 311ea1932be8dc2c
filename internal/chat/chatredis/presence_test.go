package chatredis_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/herald-chat/herald/internal/chat"
	"github.com/herald-chat/herald/internal/chat/chatredis"
	"github.com/herald-chat/herald/internal/redistest"
	"github.com/herald-chat/herald/socketio"
)

const wait = 10 * time.Second

func newClient(t *testing.T, url string) rueidis.Client {
	t.Helper()
	opt, err := rueidis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	opt.DisableCache = true
	c, err := rueidis.NewClient(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// newPresence makes the presence of one more server of a test cluster. The servers' namespaces
// are in-memory (their notices go nowhere): these tests look at the state in Redis.
func newPresence(t *testing.T, client rueidis.Client, prefix string, cfg chatredis.PresenceConfig) *chatredis.Presence {
	t.Helper()
	cfg.Prefix = prefix
	cfg.Logger = slog.New(slog.DiscardHandler)
	io := socketio.NewServer(socketio.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	p, err := chatredis.NewPresence(ctx, client, io.Of("/"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return c
}

func TestPresenceFirstAndLastAcrossServers(t *testing.T) {
	redis := redistest.Start(t)
	client := newClient(t, redis.URL())
	a := newPresence(t, client, "t1:", chatredis.PresenceConfig{})
	b := newPresence(t, client, "t1:", chatredis.PresenceConfig{})
	defer a.Close()
	defer b.Close()
	alice := chat.User{ID: 1, Name: "alice"}
	if first, err := a.Connect(ctx(t), "a1", alice); err != nil || !first {
		t.Fatalf("alice's first socket: first=%v err=%v", first, err)
	}
	if first, err := b.Connect(ctx(t), "b1", alice); err != nil || first {
		t.Fatalf("alice's socket on another server: first=%v err=%v", first, err)
	}
	if first, _ := a.Connect(ctx(t), "a2", alice); first {
		t.Fatal("a second tab on the same server counted as first")
	}
	if first, _ := b.Connect(ctx(t), "b2", chat.User{ID: 2, Name: "bob"}); !first {
		t.Fatal("bob's first socket not first")
	}
	if err := a.Refresh(ctx(t)); err != nil || a.Online() != 2 {
		t.Fatalf("online %d (%v), want 2", a.Online(), err)
	}
	for _, sid := range []string{"a1", "a2"} {
		if last, _, _ := a.Disconnect(ctx(t), sid); last {
			t.Fatalf("closing %s: alice is still on server b", sid)
		}
	}
	if last, u, err := b.Disconnect(ctx(t), "b1"); err != nil || !last || u != alice {
		t.Fatalf("alice's last socket: last=%v user=%v err=%v", last, u, err)
	}
	if last, _, _ := b.Disconnect(ctx(t), "b1"); last {
		t.Fatal("a disconnect reported twice changed something")
	}
	if err := b.Refresh(ctx(t)); err != nil || b.Online() != 1 {
		t.Fatalf("online %d (%v), want 1", b.Online(), err)
	}
}

// TestPresenceReapsADeadServer: the users of a server that stops renewing leave the count once
// its lease expires, are reported as left exactly once among the reapers, and users who are also
// elsewhere stay.
func TestPresenceReapsADeadServer(t *testing.T) {
	redis := redistest.Start(t)
	client := newClient(t, redis.URL())
	cfg := chatredis.PresenceConfig{Lease: 300 * time.Millisecond, RenewEvery: time.Hour} // renewals by hand
	dead := newPresence(t, client, "t2:", cfg)
	live1 := newPresence(t, client, "t2:", cfg)
	live2 := newPresence(t, client, "t2:", cfg)
	defer live1.Close()
	defer live2.Close()
	var mu sync.Mutex
	var left []chat.User
	for _, p := range []*chatredis.Presence{live1, live2} {
		p.Watch(func() {}, func(us []chat.User) {
			mu.Lock()
			left = append(left, us...)
			mu.Unlock()
		})
	}
	_, _ = dead.Connect(ctx(t), "d1", chat.User{ID: 1, Name: "alice"})
	_, _ = dead.Connect(ctx(t), "d2", chat.User{ID: 2, Name: "bob"})
	_, _ = live1.Connect(ctx(t), "l1", chat.User{ID: 2, Name: "bob"})
	dead.Crash()
	deadline := time.Now().Add(wait)
	for {
		var wg sync.WaitGroup
		for _, p := range []*chatredis.Presence{live1, live2} {
			wg.Add(1)
			go func() { defer wg.Done(); p.Tick() }() // two reapers at once
		}
		wg.Wait()
		if live1.Online() == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("online %d after the dead server's lease expired, want 1", live1.Online())
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(left) != 1 || left[0] != (chat.User{ID: 1, Name: "alice"}) {
		t.Errorf("left %v, want alice once (bob is still on a live server)", left)
	}
}

// TestPresenceRebuildsAfterRedisLosesItsData: after a restart that empties Redis, every server
// registers its users again at its next renewal and the count is exact.
func TestPresenceRebuildsAfterRedisLosesItsData(t *testing.T) {
	redis := redistest.Start(t)
	client := newClient(t, redis.URL())
	cfg := chatredis.PresenceConfig{RenewEvery: time.Hour}
	a := newPresence(t, client, "t3:", cfg)
	b := newPresence(t, client, "t3:", cfg)
	defer a.Close()
	defer b.Close()
	_, _ = a.Connect(ctx(t), "a1", chat.User{ID: 1, Name: "alice"})
	_, _ = b.Connect(ctx(t), "b1", chat.User{ID: 2, Name: "bob"})
	_, _ = b.Connect(ctx(t), "b2", chat.User{ID: 1, Name: "alice"})
	redis.Restart(ctx(t))
	// While Redis is away, a user leaves server a (it cannot say so).
	if last, _, err := a.Disconnect(ctx(t), "a1"); err == nil {
		t.Logf("disconnect during the restart reached Redis (last=%v)", last)
	}
	deadline := time.Now().Add(wait)
	for {
		a.Tick()
		b.Tick()
		if a.Refresh(ctx(t)) == nil && a.Online() == 2 && b.Refresh(ctx(t)) == nil && b.Online() == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("online a=%d b=%d after Redis came back, want 2", a.Online(), b.Online())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if last, _, err := b.Disconnect(ctx(t), "b2"); err != nil || !last {
		t.Errorf("alice's last socket after the rebuild: last=%v err=%v", last, err)
	}
}

// TestPresenceConcurrentServers plays random connects and disconnects on three servers at once
// and compares the count with a model once they are done.
func TestPresenceConcurrentServers(t *testing.T) {
	redis := redistest.Start(t)
	client := newClient(t, redis.URL())
	servers := make([]*chatredis.Presence, 3)
	for i := range servers {
		servers[i] = newPresence(t, client, "t4:", chatredis.PresenceConfig{})
		defer servers[i].Close()
	}
	var wg sync.WaitGroup
	online := make([]map[string]int64, len(servers)) // per server: socket → user, at the end
	for i, p := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			mine := map[string]int64{}
			for range 400 {
				sid := fmt.Sprintf("s%d-%d", i, rng.IntN(40))
				if _, on := mine[sid]; on {
					_, _, _ = p.Disconnect(context.Background(), sid)
					delete(mine, sid)
				} else {
					uid := int64(rng.IntN(25))
					_, _ = p.Connect(context.Background(), sid, chat.User{ID: uid, Name: fmt.Sprint("u", uid)})
					mine[sid] = uid
				}
			}
			online[i] = mine
		}()
	}
	wg.Wait()
	users := map[int64]bool{}
	for _, m := range online {
		for _, uid := range m {
			users[uid] = true
		}
	}
	if err := servers[0].Refresh(ctx(t)); err != nil || servers[0].Online() != len(users) {
		t.Fatalf("online %d (%v), model %d", servers[0].Online(), err, len(users))
	}
}
