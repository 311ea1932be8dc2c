package cluster_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/engineio"
	"github.com/herald-chat/herald/internal/redistest"
	"github.com/herald-chat/herald/socketio"
	"github.com/herald-chat/herald/socketio/redisadapter"
)

// TestShardedCluster: a Node.js node on the sharded adapter (createShardedAdapter) and a Herald
// node in sharded mode (redisadapter.Config.Sharded) form one cluster over Redis 7's sharded
// pub/sub, with official clients on both, in the static and in the dynamic subscription mode
// (Node's default: one channel per room): broadcasts with rooms and binary cross both ways,
// fetchSockets and FetchSockets see every socket, server-side emits and broadcasts with acks are
// answered both ways.
func TestShardedCluster(t *testing.T) {
	for _, mode := range []string{redisadapter.SubscriptionStatic, redisadapter.SubscriptionDynamic} {
		t.Run(mode, func(t *testing.T) { testShardedCluster(t, mode) })
	}
}

func testShardedCluster(t *testing.T, mode string) {
	redis := redistest.Start(t)
	p := startProc(t, "snode", []string{"SUBSCRIPTION_MODE=" + mode}, nodeBinary(t), "sharded-node.mjs", redis.URL(), "snode")
	evs := p.untilWithin("ready", startTimeout, func(evs []line) bool { return len(evs) > 0 && evs[0].Ev == "ready" })
	nodeNode := &clusterNode{proc: p, kind: "node", port: evs[0].Port, url: "http://127.0.0.1:" + strconv.Itoa(evs[0].Port)}
	io := startShardedHerald(t, redis.URL(), mode)
	heraldNode := &clusterNode{kind: "herald", url: io.url}

	m := &mixed{t: t, top: t, redis: redis, by: map[string]*client{}}
	m.clients = startProc(t, "clients", nil, nodeBinary(t), "clients.mjs")
	m.clients.untilWithin("clients ready", startTimeout, func(evs []line) bool { return len(evs) > 0 && evs[0].Ev == "ready" })
	m.connect("n-red", nodeNode, "red")
	m.connect("h-red", heraldNode, "red")
	m.connect("h-blue", heraldNode, "blue")
	all := []string{"n-red", "h-red", "h-blue"}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	waitUntil(t, "both nodes to count 2 servers", func() bool {
		var n int
		nodeNode.must(&n, "serverCount", nil)
		h, err := io.srv.ServerCount(ctx)
		return n == 2 && err == nil && h == 2
	})
	if mode == redisadapter.SubscriptionDynamic {
		waitUntil(t, "both nodes to subscribe to room red's channel", func() bool {
			return shardNumSub(t, redis.Addr(), "socket.io#/#red#") == 2
		})
	}

	blob := []byte{0, 1, 254, 255}
	wireBlob := map[string]any{"$bin": base64.StdEncoding.EncodeToString(blob)}

	// Broadcasts to a room, from each kind; a broadcast to all after each is the fence (one
	// channel, so in order): the client outside the room has not received the first.
	nodeNode.must(nil, "emit", map[string]any{"event": "from-node", "args": []any{"x", wireBlob}, "rooms": []string{"red"}})
	nodeNode.must(nil, "emit", map[string]any{"event": "fence1", "args": []any{}})
	if err := io.srv.To("red").Emit("from-herald", "y", blob); err != nil {
		t.Fatal(err)
	}
	if err := io.srv.Emit("fence2"); err != nil {
		t.Fatal(err)
	}
	got := m.clients.until("both fences", func(evs []line) bool {
		return len(receivers(evs, "fence1")) == 3 && len(receivers(evs, "fence2")) == 3
	})
	for _, event := range []string{"from-node", "from-herald"} {
		if r := receivers(got, event); !slices.Equal(r, []string{"h-red", "n-red"}) {
			t.Errorf("%s reached %v, want the clients in red", event, r)
		}
		for _, e := range got {
			if e.Event == event {
				var args []any
				_ = json.Unmarshal(e.Args, &args)
				if len(args) != 2 || !jsonEqual(args[1], wireBlob) {
					t.Errorf("%s reached %s with %s: the binary did not come through", event, e.Name, e.Args)
				}
			}
		}
	}

	// fetchSockets on the Node.js node and FetchSockets on Herald each see every socket.
	var fetched []struct {
		ID   string         `json:"id"`
		Data map[string]any `json:"data"`
	}
	nodeNode.must(&fetched, "fetch", nil)
	var ids []string
	for _, s := range fetched {
		ids = append(ids, s.ID)
	}
	if want := sids(m, all); !sameSet(ids, want) {
		t.Errorf("Node.js fetchSockets: %v, want %v", ids, want)
	}
	sockets, err := io.srv.FetchSockets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids = ids[:0]
	for _, s := range sockets {
		ids = append(ids, s.ID)
	}
	if want := sids(m, all); !sameSet(ids, want) {
		t.Errorf("Herald FetchSockets: %v, want %v", ids, want)
	}

	// Server-side emits with acks, both ways.
	var replies []map[string]any
	nodeNode.must(&replies, "serverSideEmitWithAck", map[string]any{"event": "ss", "args": []any{1}})
	if len(replies) != 1 || replies[0]["node"] != "herald" {
		t.Errorf("Node.js serverSideEmitWithAck: %v", replies)
	}
	answers, err := io.srv.ServerSideEmitWithAck(ctx, "ss", 2)
	if err != nil || len(answers) != 1 || !jsonEqual(answers[0], map[string]any{"node": "snode", "args": []any{2}}) {
		t.Errorf("Herald ServerSideEmitWithAck: %v, %v", answers, err)
	}

	// Broadcasts with acks, both ways: every client answers, the blob in each answer intact.
	var acks []map[string]any
	nodeNode.must(&acks, "emitWithAck", map[string]any{"event": "q-node", "timeoutMs": 5000})
	if len(acks) != 3 {
		t.Errorf("Node.js emitWithAck: %d answers (%v)", len(acks), acks)
	}
	for _, a := range acks {
		if !jsonEqual(a["blob"], wireBlob) {
			t.Errorf("Node.js emitWithAck answer %v: the blob did not come through", a)
		}
	}
	ackCtx, ackCancel := context.WithTimeout(ctx, 5*time.Second)
	defer ackCancel()
	hacks, err := io.srv.EmitWithAck(ackCtx, "q-herald")
	if err != nil || len(hacks) != 3 {
		t.Errorf("Herald EmitWithAck: %d answers, %v", len(hacks), err)
	}
}

// shardedHerald is the Herald node of TestShardedCluster, in this process.
type shardedHerald struct {
	srv *socketio.Server
	url string
}

func startShardedHerald(t *testing.T, redisURL, mode string) *shardedHerald {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	quiet := slog.New(slog.DiscardHandler)
	cluster, err := redisadapter.New(ctx, redisadapter.Config{URL: redisURL, Sharded: true, ShardedSubscription: mode, Logger: quiet,
		RequestsTimeout: requestsTimeoutMs * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := socketio.NewServer(socketio.Config{AdapterFactory: cluster.AdapterFactory, Engine: engineio.Config{Logger: quiet}})
	srv.OnConnection(func(s *socketio.Socket) {
		var auth struct {
			Name  string   `json:"name"`
			Rooms []string `json:"rooms"`
		}
		_ = json.Unmarshal(s.Handshake().Auth, &auth)
		s.SetData(map[string]any{"name": auth.Name, "node": "herald", "kind": "herald"})
		s.Join(auth.Rooms...)
	})
	srv.OnServerSideEmit("ss", func(e *socketio.ServerSideEvent) {
		args, _ := e.Args()
		_ = e.Ack(map[string]any{"node": "herald", "args": args})
	})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
		ts.Close()
		_ = cluster.Close()
	})
	return &shardedHerald{srv: srv, url: ts.URL}
}

// receivers lists, sorted, the clients that received event.
func receivers(evs []line, event string) []string {
	var out []string
	for _, e := range evs {
		if e.Ev == "event" && e.Event == event {
			out = append(out, e.Name)
		}
	}
	sort.Strings(out)
	return out
}

func sids(m *mixed, names []string) []string {
	var out []string
	for _, n := range names {
		out = append(out, m.by[n].sid)
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(a, b)
}

// jsonEqual compares two values by their JSON forms.
func jsonEqual(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		return false
	}
	var va, vb any
	_ = json.Unmarshal(ja, &va)
	_ = json.Unmarshal(jb, &vb)
	x, _ := json.Marshal(va)
	y, _ := json.Marshal(vb)
	return string(x) == string(y)
}

// waitUntil polls cond until it holds, failing after waitTimeout.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// shardNumSub asks Redis at addr for PUBSUB SHARDNUMSUB channel.
func shardNumSub(t *testing.T, addr, channel string) int {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "*3\r\n$6\r\nPUBSUB\r\n$11\r\nSHARDNUMSUB\r\n$%d\r\n%s\r\n", len(channel), channel)
	r := bufio.NewReader(conn)
	var lines []string
	for range 4 { // *2, $len, channel, :count
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.TrimSpace(l))
	}
	n, err := strconv.Atoi(strings.TrimPrefix(lines[3], ":"))
	if err != nil {
		t.Fatalf("PUBSUB SHARDNUMSUB: %q", lines)
	}
	return n
}
