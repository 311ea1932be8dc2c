package e2e_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/internal/redistest"
)

// startCluster starts n herald servers that share one SQLite file and one throwaway Redis.
func startCluster(t *testing.T, n int) (*redistest.Server, []*server) {
	t.Helper()
	redis := redistest.Start(t)
	db := filepath.Join(t.TempDir(), "herald.db")
	servers := make([]*server, n)
	for i := range servers {
		servers[i] = startServerWithDB(t, db, "REDIS_URL="+redis.URL())
	}
	return redis, servers
}

// at returns connect options for a socket on server s, over the default transports.
func at(s *server) map[string]any { return map[string]any{"url": s.url} }

// since returns the events after the first n.
func since(evs []event, n int) []event {
	if n > len(evs) {
		return nil
	}
	return evs[n:]
}

// countEvents counts, per socket, the events named ev (and matching data, when not empty).
func countEvents(evs []event, ev, data string) map[string]int {
	out := map[string]int{}
	for _, e := range evs {
		if e.Ev == ev && (data == "" || strings.Contains(string(e.Data), data)) {
			out[e.Name]++
		}
	}
	return out
}

// TestClusterChat: three servers behind no balancer, sockets of three users spread over them
// (one user on all three). Everyone sees one distinct-user count, each client gets one "user
// count" per change whatever the number of servers, join lines go out once, a message reaches
// every socket once and joins every server's history, and a server killed with kill -9 has its
// users leave the count, with their "left" lines, within seconds.
func TestClusterChat(t *testing.T) {
	_, nodes := startCluster(t, 3)
	alice := register(t, nodes[0].url, "alice")
	bob := register(t, nodes[1].url, "bob")
	carol := register(t, nodes[2].url, "carol")
	dave := register(t, nodes[0].url, "dave")
	p := startPeer(t, nodes[0].url)

	p.mustConnect("alice0", alice, at(nodes[0]))
	p.mustConnect("alice1", alice, at(nodes[1]))
	p.mustConnect("alice2", alice, at(nodes[2]))
	p.mustConnect("bob1", bob, at(nodes[1]))
	p.mustConnect("carol2", carol, at(nodes[2]))
	everyone := []string{"alice0", "alice1", "alice2", "bob1", "carol2"}
	p.waitCounts(3, everyone...)
	// A socket gets the current count when it connects, and may then get the merged broadcast of
	// the same value still pending on its server (on a loaded machine, after waitCounts has seen
	// the first): let the arrivals settle before counting what one change costs.
	time.Sleep(1500 * time.Millisecond)

	// One more user on server 0: one count change, so one "user count" per socket, and one join
	// line, on every server.
	before := len(p.snapshot())
	p.mustConnect("dave0", dave, at(nodes[0]))
	p.waitCounts(4, append(everyone, "dave0")...)
	p.wait("dave's arrival announced on server 2", func(e event) bool {
		return e.Name == "carol2" && e.Ev == "user" && strings.Contains(string(e.Data), `"username":"dave"`)
	})
	// Let any duplicate arrive before counting: the count window is 50 ms, a renewal 1 s.
	time.Sleep(1500 * time.Millisecond)
	evs := since(p.snapshot(), before)
	counts := countEvents(evs, "user count", "")
	joins := countEvents(evs, "user", `"username":"dave"`)
	for _, name := range everyone {
		if counts[name] != 1 {
			t.Errorf("%s received %d \"user count\" for one change, want 1 (%s)", name, counts[name], dump(evs))
		}
		if joins[name] != 1 {
			t.Errorf("%s was told %d times that dave joined, want once", name, joins[name])
		}
	}

	// A message from server 0 reaches every socket once, and a socket opened afterwards on
	// server 2 finds it in its history.
	before = len(p.snapshot())
	p.emitAck("alice0", "hello", 1, "hello from server 0")
	if a := decode[ackData](t, p.acks("hello", 1)[0]); !a.OK || a.ID <= 0 {
		t.Fatalf("ack %+v", a)
	}
	all := append(everyone, "dave0")
	p.until("the message everywhere", func(evs []event) bool {
		got := countEvents(since(evs, before), "chat message", "hello from server 0")
		for _, name := range all {
			if got[name] == 0 {
				return false
			}
		}
		return true
	})
	time.Sleep(300 * time.Millisecond)
	if got := countEvents(since(p.snapshot(), before), "chat message", "hello from server 0"); !allEqual(got, all, 1) {
		t.Errorf("the message arrived %v times per socket, want once each", got)
	}
	p.mustConnect("bob2", bob, at(nodes[2]))
	h := p.wait("bob2's history", func(e event) bool { return e.Name == "bob2" && e.Ev == "history" })
	if !strings.Contains(string(h.Data), "hello from server 0") {
		t.Errorf("history on server 2 lacks the message stored on server 0: %s", h.Data)
	}

	// kill -9 server 2: carol (only there) leaves, with her line; alice and bob stay (they have
	// sockets elsewhere).
	before = len(p.snapshot())
	killed := time.Now()
	nodes[2].kill9()
	p.waitCounts(3, "alice0", "alice1", "bob1", "dave0")
	t.Logf("the count was corrected %v after kill -9 (bound: 5 s)", time.Since(killed).Round(10*time.Millisecond))
	p.wait("carol's departure announced", func(e event) bool {
		return e.Name == "dave0" && e.Ev == "user" && strings.Contains(string(e.Data), `"username":"carol"`) &&
			strings.Contains(string(e.Data), `"connected":false`)
	})
	for _, e := range since(p.snapshot(), before) {
		if e.Ev == "user" && strings.Contains(string(e.Data), `"connected":false`) && !strings.Contains(string(e.Data), `"username":"carol"`) {
			t.Errorf("only carol left, but %s was told %s", e.Name, e.Data)
		}
	}

	// Logout on server 1 ends that session's sockets on every server.
	logout(t, nodes[1].url, alice)
	for _, name := range []string{"alice0", "alice1"} {
		p.wait(name+" disconnected by logout", func(e event) bool { return e.Name == name && e.Ev == "disconnect" })
	}
	p.waitCounts(2, "bob1", "dave0")
}

func allEqual(got map[string]int, names []string, want int) bool {
	for _, n := range names {
		if got[n] != want {
			return false
		}
	}
	return true
}

// TestClusterRedisOutage: with Redis down, each server keeps serving its own clients (messages
// are stored, acknowledged and reach that server's sockets); users come and go meanwhile; once
// Redis is back the count is exact again everywhere, without anyone reconnecting.
func TestClusterRedisOutage(t *testing.T) {
	redis, nodes := startCluster(t, 2)
	alice := register(t, nodes[0].url, "alice")
	bob := register(t, nodes[1].url, "bob")
	carol := register(t, nodes[1].url, "carol")
	p := startPeer(t, nodes[0].url)
	p.mustConnect("alice0", alice, at(nodes[0]))
	p.mustConnect("bob1", bob, at(nodes[1]))
	p.mustConnect("carol1", carol, at(nodes[1]))
	p.waitCounts(3, "alice0", "bob1", "carol1")

	redis.Kill()
	before := len(p.snapshot())
	p.emitAck("bob1", "during", 1, "said while redis is down")
	if a := decode[ackData](t, p.acks("during", 1)[0]); !a.OK {
		t.Fatalf("a message during the outage: ack %+v", a)
	}
	p.until("carol1 gets bob's message from their own server", func(evs []event) bool {
		return countEvents(since(evs, before), "chat message", "said while redis is down")["carol1"] == 1
	})
	p.close("carol1") // leaves while the servers cannot tell each other

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	redis.Restart(ctx)
	p.waitCounts(2, "alice0", "bob1")

	// Cross-server delivery is back too.
	before = len(p.snapshot())
	p.emitAck("alice0", "after", 1, "said after the outage")
	p.until("bob1 gets alice's message from the other server", func(evs []event) bool {
		return countEvents(since(evs, before), "chat message", "said after the outage")["bob1"] == 1
	})
}
