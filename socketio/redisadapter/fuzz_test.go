package redisadapter

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/herald-chat/herald/socketio"
)

// The fuzz targets feed what may arrive from Redis to the decoders and handlers that read it:
// whatever the bytes, nothing panics, nothing decoded is bigger than the message that carried it,
// and what is refused is counted. Their seeds are messages as this adapter publishes them (which
// are the Node.js adapter's), from realMessages, plus the hand-made edge cases in testdata/fuzz.

// offlineCluster is a Cluster with no Redis behind it: its publisher is never started, so what
// the handlers publish fills a small queue and is then dropped, and its subscriber never
// connects. It is enough to run everything that handles a received message.
func offlineCluster(cfg Config) *Cluster {
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg = cfg.withDefaults()
	c := &Cluster{cfg: cfg, log: cfg.Logger}
	c.pub = newPublisher(c, 8)
	c.sub = newSubscriber(c)
	c.stop = func() {}
	return c
}

// offlineAdapter returns the adapter of namespace "/" of a server on an offline cluster.
func offlineAdapter(tb testing.TB) (*adapter, *Cluster) {
	tb.Helper()
	c := offlineCluster(Config{MaxPendingRequests: 16})
	srv := socketio.NewServer(socketio.Config{AdapterFactory: func(nsp *socketio.Namespace) socketio.Adapter { return newAdapter(c, nsp) }})
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
	})
	return srv.Of("/").Adapter().(*adapter), c
}

// sampleHandshake is a handshake as a browser's connection makes it.
func sampleHandshake() socketio.Handshake {
	h := http.Header{}
	h.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64)")
	h.Set("Origin", "http://localhost:3000")
	h.Add("Cookie", "io=abc")
	h.Add("Cookie", "sid=1")
	return socketio.Handshake{
		Headers: h, Query: map[string][]string{"EIO": {"4"}, "transport": {"websocket"}, "t": {"a", "b"}},
		Auth: json.RawMessage(`{"token":"x"}`), Address: "127.0.0.1:4242",
		Time: time.UnixMilli(1765000000000), URL: "/socket.io/?EIO=4&transport=websocket",
	}
}

// samplePacket is a typical chat event, with a binary argument when binary is set.
func samplePacket(tb testing.TB, binary bool) *socketio.Packet {
	args := []any{map[string]any{"user": "ada", "text": "hello", "at": 1765000000000, "n": 1.5, "tags": []any{"a", nil, true}}}
	if binary {
		args = append(args, []byte{0, 1, 2, 255})
	}
	p, err := socketio.NewPacket("/", "chat message", args)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// wireMessages holds encoded messages by the channel kind they arrive on.
type wireMessages struct {
	broadcasts, requests, responses [][]byte
}

// realMessages encodes the messages this adapter publishes, of every kind, as it encodes them.
func realMessages(tb testing.TB) wireMessages {
	tb.Helper()
	var m wireMessages
	mp := func(v any) []byte {
		b, err := marshalMsgpack(v)
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	opts := func(rooms, except []string, flags map[string]any) map[string]any {
		return map[string]any{"rooms": nonNil(rooms), "except": nonNil(except), "flags": flags}
	}
	for _, binary := range []bool{false, true} {
		pkt, err := packetToWire(samplePacket(tb, binary))
		if err != nil {
			tb.Fatal(err)
		}
		m.broadcasts = append(m.broadcasts,
			mp([]any{"AbCdEf", pkt, opts(nil, nil, map[string]any{})}),
			mp([]any{"AbCdEf", pkt, opts([]string{"room1"}, []string{"room2"}, map[string]any{"volatile": true})}),
			mp([]any{"emitter", pkt, opts(nil, nil, map[string]any{})}),
			mp([]any{"emitter", pkt}),
		)
		m.requests = append(m.requests, mp(map[string]any{"uid": "AbCdEf", "requestId": "req123", "type": reqBroadcast,
			"packet": pkt, "opts": opts([]string{"room1"}, nil, map[string]any{"timeout": 5000})}))
		m.responses = append(m.responses, mp(map[string]any{"type": respBroadcastAck, "requestId": "ack1", "packet": pkt["data"]}))
	}
	sel := toWireOpts(socketio.BroadcastOptions{Rooms: []string{"room1"}, Except: []string{"room2"}})
	for _, r := range []request{
		{UID: "AbCdEf", RequestID: "req123", Type: reqSockets, Rooms: []string{"room1"}},
		{UID: "AbCdEf", RequestID: "req123", Type: reqAllRooms},
		{UID: "AbCdEf", Type: reqRemoteJoin, Opts: sel, Rooms: []string{"room3"}},
		{UID: "AbCdEf", Type: reqRemoteLeave, Opts: sel, Rooms: []string{"room3"}},
		{UID: "AbCdEf", Type: reqRemoteDisconnect, Opts: sel, Close: true},
		{Type: reqRemoteJoin, Opts: sel, Rooms: []string{"room3"}}, // the emitter's, without uid
		{RequestID: "req123", Type: reqRemoteJoin, SID: "abcdefghijklmnopqrst", Room: "room3"},
		{UID: "AbCdEf", RequestID: "req123", Type: reqRemoteFetch, Opts: sel},
		{UID: "AbCdEf", RequestID: "req123", Type: reqServerSideEmit, Data: json.RawMessage(`["hello",1,{"a":[]}]`)},
		{UID: "emitter", Type: reqServerSideEmit, Data: json.RawMessage(`["hello"]`)},
	} {
		m.requests = append(m.requests, mustJSON(r))
	}
	n := 3
	sockets := []wireSocket{{ID: "abcdefghijklmnopqrst", Handshake: toWireHandshake(sampleHandshake()), Rooms: []string{"abcdefghijklmnopqrst", "room1"}, Data: json.RawMessage(`{"user":"ada"}`)}}
	m.responses = append(m.responses,
		mustJSON(response{RequestID: "fetch1", Sockets: mustJSON(sockets)}),
		mustJSON(response{RequestID: "fetch1", Sockets: mustJSON([]string{"abcdefghijklmnopqrst"})}),
		mustJSON(response{RequestID: "fetch1", Rooms: []string{"room1"}}),
		mustJSON(response{Type: reqServerSideEmit, RequestID: "emit1", Data: json.RawMessage(`["pong",2]`)}),
		mustJSON(response{Type: respBroadcastClientCnt, RequestID: "ack1", ClientCount: &n}),
	)
	return m
}

// treeSize measures a decoded value: its number of nodes, the bytes of its strings and binaries,
// and its depth.
func treeSize(v any) (nodes, bytes, depth int) {
	nodes = 1
	switch v := v.(type) {
	case string:
		bytes = len(v)
	case []byte:
		bytes = len(v)
	case []any:
		for _, x := range v {
			n, b, d := treeSize(x)
			nodes, bytes, depth = nodes+n, bytes+b, max(depth, d)
		}
		depth++
	case map[string]any:
		for k, x := range v {
			n, b, d := treeSize(x)
			nodes, bytes, depth = nodes+n, bytes+b+len(k), max(depth, d)
		}
		depth++
	}
	return nodes, bytes, depth
}

// sameValue compares decoded values, taking numbers of equal value as equal whatever their type
// (an integral float is written as an integer, as notepack does).
func sameValue(a, b any) bool {
	if fa, ok := number(a); ok {
		fb, ok := number(b)
		return ok && (fa == fb || math.IsNaN(fa) && math.IsNaN(fb))
	}
	switch a := a.(type) {
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !sameValue(a[i], b[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, x := range a {
			y, present := b[k]
			if !present || !sameValue(x, y) {
				return false
			}
		}
		return true
	case time.Time:
		b, ok := b.(time.Time)
		return ok && a.Equal(b)
	}
	return reflect.DeepEqual(a, b)
}

func number(v any) (float64, bool) {
	switch v := v.(type) {
	case int64:
		return float64(v), true
	case uint64:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

// FuzzDecodeMsgpack: any bytes decode to a value no bigger than they are, or to an error; a
// decoded value encodes again and decodes to the same value.
func FuzzDecodeMsgpack(f *testing.F) {
	m := realMessages(f)
	for _, b := range append(append(m.broadcasts, m.requests...), m.responses...) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decodeMsgpack(b)
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error %v is not errMalformed", err)
			}
			return
		}
		nodes, size, depth := treeSize(v)
		if nodes > len(b) || size > len(b) || depth > maxDepth+1 {
			t.Fatalf("%d bytes decoded to %d nodes, %d bytes of strings, depth %d", len(b), nodes, size, depth)
		}
		again, err := marshalMsgpack(v)
		if err != nil {
			t.Fatalf("re-encoding %#v: %v", v, err)
		}
		w, err := decodeMsgpack(again)
		if err != nil {
			t.Fatalf("decoding the re-encoded value: %v", err)
		}
		if !sameValue(v, w) {
			t.Fatalf("round trip changed %#v into %#v", v, w)
		}
	})
}

// FuzzPacketConversion: an event as JSON with attachments goes to the msgpack form and back, as
// between two servers, and arrives as it left.
func FuzzPacketConversion(f *testing.F) {
	f.Add([]byte(samplePacket(f, false).Data), uint8(0))
	f.Add([]byte(samplePacket(f, true).Data), uint8(1))
	f.Add([]byte(`["e",{"_placeholder":true,"num":0},[{"_placeholder":true,"num":1}]]`), uint8(2))
	f.Add([]byte(`["e",{"_placeholder":true,"num":5}]`), uint8(1))
	f.Add([]byte(`["e",12345678901234567890,-0,1e308,0.1,"\u00e9\ud83d\ude00"]`), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, attachments uint8) {
		in := &socketio.Packet{Namespace: "/", Data: data}
		for i := range int(attachments % 4) {
			in.Attachments = append(in.Attachments, []byte{byte(i), 0xff})
		}
		name, args, err := in.Event()
		if err != nil {
			return // not an event: no server would publish it
		}
		pkt, err := packetToWire(in)
		if err != nil {
			return
		}
		b, err := marshalMsgpack([]any{"AbCdEf", pkt, map[string]any{}})
		if err != nil {
			t.Fatalf("encoding %s: %v", data, err)
		}
		v, err := decodeMsgpack(b)
		if err != nil {
			if _, _, depth := treeSize(pkt); depth > maxDepth-2 {
				return // deeper than any server accepts
			}
			t.Fatalf("decoding what was encoded from %s: %v", data, err)
		}
		out, err := packetFromWire(v.([]any)[1], "/")
		if err != nil {
			if errors.Is(err, socketio.ErrReservedEvent) {
				return
			}
			t.Fatalf("packet %s did not come back: %v", data, err)
		}
		name2, args2, err := out.Event()
		if err != nil {
			t.Fatalf("the packet that came back from %s does not decode: %v", data, err)
		}
		if name != name2 || !sameValue(args, args2) {
			t.Fatalf("%s came back as %s", data, out.Data)
		}
	})
}

// FuzzBroadcastMessage: whatever arrives on the broadcast channels, the adapter delivers it or
// drops and counts it, and never panics.
func FuzzBroadcastMessage(f *testing.F) {
	for _, b := range realMessages(f).broadcasts {
		f.Add("", b)
		f.Add("room1#", b)
	}
	a, _ := offlineAdapter(f)
	f.Fuzz(func(t *testing.T, room string, msg []byte) {
		a.onBroadcast(a.broadcastChannel+room, msg)
	})
}

// FuzzRequest: every request is answered or dropped; one of an unknown type is dropped and
// counted.
func FuzzRequest(f *testing.F) {
	for _, b := range realMessages(f).requests {
		f.Add(b)
	}
	a, c := offlineAdapter(f)
	f.Fuzz(func(t *testing.T, msg []byte) {
		before := c.stats.dropped.Load()
		a.onRequest(msg)
		dropped := c.stats.dropped.Load() > before
		var probe struct {
			Type *float64 `json:"type"`
		}
		if len(msg) > 0 && msg[0] == '{' && json.Unmarshal(msg, &probe) == nil && probe.Type != nil {
			if known := *probe.Type >= reqSockets && *probe.Type <= reqServerSideEmit && *probe.Type == math.Trunc(*probe.Type); !known && !dropped {
				t.Fatalf("request of unknown type %v not counted as dropped", *probe.Type)
			}
		}
	})
}

// FuzzResponse: answers to this server's requests are recorded within bounds, or dropped.
func FuzzResponse(f *testing.F) {
	for _, b := range realMessages(f).responses {
		f.Add(b)
	}
	a, _ := offlineAdapter(f)
	f.Fuzz(func(t *testing.T, msg []byte) {
		fetch, err := a.pending.add("fetch1", pendingFetch, 2)
		if err != nil {
			t.Fatal(err)
		}
		emit, err := a.pending.add("emit1", pendingServerSideEmit, 2)
		if err != nil {
			t.Fatal(err)
		}
		acks := 0
		err = a.pending.addAck("ack1", &ackRequest{
			onCount: func(n int) {
				if n < 0 {
					t.Fatalf("negative client count %d", n)
				}
			},
			onAck: func([]any, error) { acks++ },
		})
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			a.pending.remove("fetch1")
			a.pending.remove("emit1")
			a.pending.remove("ack1")
		}()
		a.onResponse(msg)
		sockets, _, _, _ := a.pending.result(fetch)
		_, replies, _, _ := a.pending.result(emit)
		if len(sockets) > len(msg) || len(replies) > 1 || acks > 1 {
			t.Fatalf("%d bytes recorded %d sockets, %d replies, %d acks", len(msg), len(sockets), len(replies), acks)
		}
		for _, s := range sockets {
			if _, err := json.Marshal(toWireHandshake(s.Handshake)); err != nil {
				t.Fatalf("a received handshake does not encode again: %v", err)
			}
		}
	})
}

// FuzzHandshake: a handshake described by another server becomes one of ours and can be
// described again.
func FuzzHandshake(f *testing.F) {
	f.Add(mustJSON(toWireHandshake(sampleHandshake())))
	f.Add([]byte(`{"headers":{"a":["x",1,null]},"query":{"q":[[]]},"issued":1e300,"time":"Mon Jan 02 2006 15:04:05 GMT+0000 (UTC)","auth":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var w wireHandshake
		if json.Unmarshal(b, &w) != nil {
			return
		}
		h := w.handshake()
		if !json.Valid(h.Auth) {
			t.Fatalf("auth %q is not JSON", h.Auth)
		}
		if _, err := json.Marshal(toWireHandshake(h)); err != nil {
			t.Fatalf("handshake does not encode again: %v", err)
		}
	})
}
