package redisadapter

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/internal/redistest"
	"github.com/herald-chat/herald/socketio"
)

// These tests check the sharded wire byte for byte against what the Node.js sharded adapter
// sends and expects (socket.io-adapter's ClusterAdapter messages on SSUBSCRIBE/SPUBLISH
// channels), with a raw Redis connection standing for a Node.js server.

// rawPeer is a raw RESP2 connection to Redis.
type rawPeer struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialRaw(t *testing.T, redis *redistest.Server) *rawPeer {
	t.Helper()
	conn, err := net.DialTimeout("tcp", redis.Addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &rawPeer{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// send writes one command.
func (p *rawPeer) send(args ...string) {
	p.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := p.conn.Write([]byte(b.String())); err != nil {
		p.t.Fatal(err)
	}
}

// read reads one reply: an array of bulk strings and integers, as strings, or a single value.
func (p *rawPeer) read() []string {
	p.t.Helper()
	_ = p.conn.SetReadDeadline(time.Now().Add(wait))
	line := p.line()
	if line[0] != '*' {
		return []string{p.value(line)}
	}
	n, _ := strconv.Atoi(line[1:])
	out := make([]string, n)
	for i := range out {
		out[i] = p.value(p.line())
	}
	return out
}

func (p *rawPeer) line() string {
	p.t.Helper()
	s, err := p.r.ReadString('\n')
	if err != nil {
		p.t.Fatal(err)
	}
	return strings.TrimSuffix(s, "\r\n")
}

func (p *rawPeer) value(line string) string {
	p.t.Helper()
	switch line[0] {
	case '$':
		n, _ := strconv.Atoi(line[1:])
		b := make([]byte, n+2)
		if _, err := ioReadFull(p.r, b); err != nil {
			p.t.Fatal(err)
		}
		return string(b[:n])
	case ':', '+':
		return line[1:]
	}
	p.t.Fatalf("unexpected reply %q", line)
	return ""
}

func ioReadFull(r *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// ssubscribe subscribes the peer to a sharded channel and waits for the confirmation.
func (p *rawPeer) ssubscribe(channel string) {
	p.t.Helper()
	p.send("SSUBSCRIBE", channel)
	if r := p.read(); len(r) != 3 || r[0] != "ssubscribe" {
		p.t.Fatalf("SSUBSCRIBE: %q", r)
	}
}

// nextMessage returns the payload of the next smessage.
func (p *rawPeer) nextMessage() []byte {
	p.t.Helper()
	r := p.read()
	if len(r) != 3 || r[0] != "smessage" {
		p.t.Fatalf("expected an smessage, got %q", r)
	}
	return []byte(r[2])
}

// generic decodes a JSON message into generic values.
func generic(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %q: %v", b, err)
	}
	return m
}

func TestShardedWire(t *testing.T) {
	redis := redistest.Start(t)
	key := "sharded-" + randomID(8)
	a := startNode(t, redis.URL(), key, Config{Sharded: true, ShardedSubscription: SubscriptionStatic})
	sa := a.io.Of("/").Adapter().(*shardedAdapter)
	ca := dial(t, a, "ca")
	a.io.Of("/").Socket(ca.ID).Join("room1")
	a.io.Of("/").Socket(ca.ID).SetData(map[string]any{"user": "ada"})

	// The node counts as a server in SHARDNUMSUB, and not at all in the classic channels.
	node := dialRaw(t, redis)
	node.send("PUBSUB", "NUMSUB", key+"-request#/#")
	if r := node.read(); len(r) != 2 || r[1] != "0" {
		t.Fatalf("PUBSUB NUMSUB: %q", r)
	}
	node.send("PUBSUB", "SHARDNUMSUB", key+"#/#")
	if r := node.read(); len(r) != 2 || r[1] != "1" {
		t.Fatalf("PUBSUB SHARDNUMSUB: %q", r)
	}

	// A broadcast, as JSON on the namespace's channel.
	peer := dialRaw(t, redis)
	peer.ssubscribe(key + "#/#")
	must(t, a.io.To("room1").Except("room2").Emit("hello", "x", 1.5))
	got := generic(t, peer.nextMessage())
	want := map[string]any{"uid": sa.uid, "nsp": "/", "type": float64(msgBroadcast), "data": map[string]any{
		"packet": map[string]any{"type": float64(2), "data": []any{"hello", "x", 1.5}, "nsp": "/"},
		"opts":   map[string]any{"rooms": []any{"room1"}, "except": []any{"room2"}, "flags": map[string]any{}},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("broadcast:\n got %v\nwant %v", got, want)
	}
	if len(sa.uid) != 16 {
		t.Fatalf("uid %q is not 16 hex digits", sa.uid)
	}

	// With binary, msgpack, the bytes inside packet.data.
	must(t, a.io.Emit("bin", []byte{1, 2, 3}))
	b := peer.nextMessage()
	if b[0] == '{' {
		t.Fatalf("binary broadcast sent as JSON: %q", b)
	}
	v, err := decodeMsgpack(b)
	if err != nil {
		t.Fatal(err)
	}
	data := v.(map[string]any)["data"].(map[string]any)
	if args := data["packet"].(map[string]any)["data"].([]any); len(args) != 2 || !reflect.DeepEqual(args[1], []byte{1, 2, 3}) {
		t.Fatalf("binary broadcast: %v", args)
	}

	// A Node.js server's broadcast (JSON.stringify of a ClusterMessage) reaches our client.
	publisher := dialRaw(t, redis)
	nodeUID := "0123456789abcdef"
	publisher.send("SPUBLISH", key+"#/#", `{"type":3,"data":{"packet":{"type":2,"data":["from node",{"a":[1,2]}],"nsp":"/"},"opts":{"rooms":["room1"],"except":[],"flags":{}}},"uid":"`+nodeUID+`","nsp":"/"}`)
	publisher.read()
	if e := next(t, ca, "from node"); !reflect.DeepEqual(e.Args, []any{map[string]any{"a": []any{1.0, 2.0}}}) {
		t.Fatalf("node's broadcast arrived as %v", e.Args)
	}

	// A Node.js server's fetchSockets is answered on that server's own channel.
	answers := dialRaw(t, redis)
	answers.ssubscribe(key + "#/#" + nodeUID + "#")
	publisher.send("SPUBLISH", key+"#/#", `{"type":7,"data":{"opts":{"rooms":["room1"],"except":[],"flags":{}},"requestId":"r1"},"uid":"`+nodeUID+`","nsp":"/"}`)
	publisher.read()
	resp := generic(t, answers.nextMessage())
	if resp["type"] != float64(msgFetchSocketsResponse) || resp["uid"] != sa.uid {
		t.Fatalf("fetch answer: %v", resp)
	}
	rd := resp["data"].(map[string]any)
	sockets := rd["sockets"].([]any)
	if rd["requestId"] != "r1" || len(sockets) != 1 {
		t.Fatalf("fetch answer data: %v", rd)
	}
	s := sockets[0].(map[string]any)
	if s["id"] != ca.ID || !reflect.DeepEqual(s["data"], map[string]any{"user": "ada"}) || s["handshake"].(map[string]any)["url"] == "" {
		t.Fatalf("fetched socket: %v", s)
	}

	// A Node.js server's serverSideEmit with an ack is answered there too.
	a.io.OnServerSideEmit("ping", func(e *socketio.ServerSideEvent) { _ = e.Ack("pong") })
	publisher.send("SPUBLISH", key+"#/#", `{"type":9,"data":{"requestId":"r2","packet":["ping",1]},"uid":"`+nodeUID+`","nsp":"/"}`)
	publisher.read()
	resp = generic(t, answers.nextMessage())
	if !reflect.DeepEqual(resp["data"], map[string]any{"requestId": "r2", "packet": "pong"}) || resp["type"] != float64(msgServerSideEmitResponse) {
		t.Fatalf("server-side emit answer: %v", resp)
	}

	// Heartbeats of ClusterAdapterWithHeartbeat servers are understood and ignored; an unknown
	// type is dropped and counted.
	before := a.cluster.Stats()
	publisher.send("SPUBLISH", key+"#/#", `{"type":2,"uid":"`+nodeUID+`","nsp":"/"}`)
	publisher.read()
	publisher.send("SPUBLISH", key+"#/#", `{"type":99,"uid":"`+nodeUID+`","nsp":"/","data":{}}`)
	publisher.read()
	waitFor(t, "the unknown message to be dropped", func() bool {
		return a.cluster.Stats().DroppedBy[DropUnknownType] == before.DroppedBy[DropUnknownType]+1
	})
	if st := a.cluster.Stats(); st.Dropped != before.Dropped+1 {
		t.Fatalf("dropped %d → %d: the heartbeat was dropped too", before.Dropped, st.Dropped)
	}
}

// shardNumSub returns PUBSUB SHARDNUMSUB's count for channel.
func shardNumSub(t *testing.T, redis *redistest.Server, channel string) string {
	t.Helper()
	p := dialRaw(t, redis)
	p.send("PUBSUB", "SHARDNUMSUB", channel)
	r := p.read()
	if len(r) != 2 {
		t.Fatalf("PUBSUB SHARDNUMSUB: %q", r)
	}
	return r[1]
}

// TestShardedDynamicRooms: in the dynamic mode (the default) a server subscribes to the channel
// of each public room with a member here and leaves it when the room empties; a broadcast to one
// public room goes on that room's channel, one to a private room (20 characters) on the
// namespace's; a Node.js server's broadcast on a room channel reaches the room's members here.
func TestShardedDynamicRooms(t *testing.T) {
	redis := redistest.Start(t)
	key := "sharded-" + randomID(8)
	a := startNode(t, redis.URL(), key, Config{Sharded: true})
	ca := dial(t, a, "ca")
	roomChannel := key + "#/#room1#"
	if n := shardNumSub(t, redis, roomChannel); n != "0" {
		t.Fatalf("subscribed to %s before anyone joined: %s", roomChannel, n)
	}
	if n := shardNumSub(t, redis, key+"#/#"+ca.ID+"#"); n != "0" {
		t.Fatalf("a private room has a channel: %s", n)
	}
	a.io.Of("/").Socket(ca.ID).Join("room1")
	waitFor(t, "the room's channel to be subscribed", func() bool { return shardNumSub(t, redis, roomChannel) == "1" })

	peer := dialRaw(t, redis)
	peer.ssubscribe(roomChannel)
	must(t, a.io.To("room1").Emit("to-room", 1))
	if m := generic(t, peer.nextMessage()); m["type"] != float64(msgBroadcast) {
		t.Fatalf("on the room's channel: %v", m)
	}
	main := dialRaw(t, redis)
	main.ssubscribe(key + "#/#")
	must(t, a.io.To(ca.ID).Emit("to-socket", 1))
	if m := generic(t, main.nextMessage()); m["data"].(map[string]any)["opts"].(map[string]any)["rooms"].([]any)[0] != ca.ID {
		t.Fatalf("a broadcast to a socket id did not go on the namespace's channel: %v", m)
	}

	publisher := dialRaw(t, redis)
	publisher.send("SPUBLISH", roomChannel, `{"type":3,"data":{"packet":{"type":2,"data":["node to room"],"nsp":"/"},"opts":{"rooms":["room1"],"except":[],"flags":{}}},"uid":"0123456789abcdef","nsp":"/"}`)
	if r := publisher.read(); r[0] != "2" {
		t.Fatalf("SPUBLISH reached %s subscribers, want 2 (the server and the peer)", r[0])
	}
	next(t, ca, "node to room")

	a.io.Of("/").Socket(ca.ID).Leave("room1")
	waitFor(t, "the room's channel to be left", func() bool { return shardNumSub(t, redis, roomChannel) == "1" }) // the peer only
	a.io.Of("/").Socket(ca.ID).Join("room2")
	waitFor(t, "room2's channel", func() bool { return shardNumSub(t, redis, key+"#/#room2#") == "1" })
	_ = ca.Close()
	waitFor(t, "room2's channel to be left when its last member went", func() bool { return shardNumSub(t, redis, key+"#/#room2#") == "0" })
}
