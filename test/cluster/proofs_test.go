package cluster_test

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"time"
)

// expectReason checks the reason the client named name gave for its disconnection.
func (m *mixed) expectReason(name, reason string) {
	m.t.Helper()
	m.clients.mu.Lock()
	defer m.clients.mu.Unlock()
	for _, e := range m.clients.events {
		if e.Name == name && e.Ev == "disconnect" {
			if e.Reason != reason {
				m.t.Errorf("%s disconnected with reason %q, want %q", name, e.Reason, reason)
			}
			return
		}
	}
	m.t.Errorf("%s did not disconnect", name)
}

// alive returns the nodes still running.
func (m *mixed) alive() []*clusterNode {
	var out []*clusterNode
	for _, n := range m.nodes {
		if !n.dead() {
			out = append(out, n)
		}
	}
	return out
}

// fenceAll fences from every node still running: what anyone published before has arrived.
func (m *mixed) fenceAll() []line {
	m.t.Helper()
	var evs []line
	for _, n := range m.alive() {
		evs = m.fence(n)
	}
	return evs
}

// checkServerSideEmitWithAck has n emit a server-side event with an ack and checks that every
// other node answered, once, with what it received.
func (m *mixed) checkServerSideEmitWithAck(n *clusterNode, tag string) {
	m.t.Helper()
	res, errText := n.call("serverSideEmitWithAck", map[string]any{"event": "ss", "args": []any{map[string]any{"tag": tag}, "two"}})
	if errText != "" {
		m.t.Fatalf("%s: serverSideEmitWithAck: %s (answers %s)", n.name, errText, res)
	}
	var replies []struct {
		Node  string
		Event string
		Args  []json.RawMessage
	}
	if err := json.Unmarshal(res, &replies); err != nil {
		m.t.Fatalf("%s: serverSideEmitWithAck answers %s: %v", n.name, res, err)
	}
	var got, want []string
	for _, r := range replies {
		got = append(got, r.Node)
		if r.Event != "ss" || len(r.Args) != 2 || string(r.Args[1]) != `"two"` || !jsonEq(r.Args[0], `{"tag":"`+tag+`"}`) {
			m.t.Errorf("%s: serverSideEmitWithAck: %s answered %+v", n.name, r.Node, r)
		}
	}
	for _, other := range m.alive() {
		if other != n {
			want = append(want, other.name)
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		m.t.Errorf("%s: serverSideEmitWithAck answered by %v, want %v", n.name, got, want)
	}
	for _, other := range m.alive() {
		if other != n {
			m.waitServerEvent(other, "ss", tag, true)
		}
	}
}

func jsonEq(a json.RawMessage, b string) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}

// waitServerEvent waits until n has received the server-side event named event tagged tag, with
// an ack or without (or, for a node that must not receive it at all, checks it has not).
func (m *mixed) waitServerEvent(n *clusterNode, event, tag string, ack bool) {
	m.t.Helper()
	for i := 0; ; i++ {
		var evs []struct {
			Event string
			Args  []json.RawMessage
			Ack   bool
		}
		n.must(&evs, "serverEvents", nil)
		count := 0
		for _, e := range evs {
			if e.Event == event && len(e.Args) > 0 && firstTag(e.Args) == tag {
				count++
				if e.Ack != ack {
					m.t.Errorf("%s: server-side event %s %s has ack %v, want %v", n.name, event, tag, e.Ack, ack)
				}
			}
		}
		if count > 1 {
			m.t.Fatalf("%s: server-side event %s %s received %d times", n.name, event, tag, count)
		}
		if count == 1 {
			return
		}
		if i == 100 {
			m.t.Fatalf("%s: server-side event %s %s never came", n.name, event, tag)
		}
		sleep()
	}
}

// binaryBlob is every byte value, the zero byte first.
func binaryBlob() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func bin(b []byte) map[string]any {
	return map[string]any{"$bin": base64.StdEncoding.EncodeToString(b)}
}

// checkBinary has emit broadcast an event with binary arguments, at the top level and nested,
// and checks that every client got them intact, once; fenceFrom is a node to fence from.
func (m *mixed) checkBinary(from string, emit func(cmd map[string]any), fenceFrom *clusterNode) {
	m.t.Helper()
	tag := "bin-from-" + from
	blob := binaryBlob()
	args := []any{map[string]any{"tag": tag, "nested": map[string]any{"blob": bin(blob), "list": []any{1, bin([]byte{0xff, 0})}}}, bin(blob[:3]), "text"}
	emit(map[string]any{"op": "emit", "event": "bin", "args": args})
	evs := m.fenceAll()
	_ = fenceFrom
	m.expectOnce(evs, "bin", tag, m.live)
	want, _ := json.Marshal(args)
	for _, e := range evs {
		if e.Ev == "event" && e.Event == "bin" && tagged([]line{e}, "bin", tag)[e.Name] == 1 && !jsonEq(e.Args, string(want)) {
			m.t.Errorf("binary from %s reached %s as %s, want %s", from, e.Name, e.Args, want)
		}
	}
}

// checkEmitWithAck has n broadcast with acks to what selector selects and checks that it got
// the ack of every client of want, once.
func (m *mixed) checkEmitWithAck(n *clusterNode, selector map[string]any, want []string) {
	m.t.Helper()
	cmd := map[string]any{"event": "ask", "args": []any{map[string]any{"tag": "ask-" + n.name}}, "timeoutMs": 5000}
	for k, v := range selector {
		cmd[k] = v
	}
	res, errText := n.call("emitWithAck", cmd)
	if errText != "" {
		m.t.Fatalf("%s: emitWithAck %v: %s (answers %s)", n.name, selector, errText, res)
	}
	var replies []struct {
		Client, Event string
		Blob          struct {
			Bin string `json:"$bin"`
		}
	}
	if err := json.Unmarshal(res, &replies); err != nil {
		m.t.Fatalf("%s: emitWithAck answers %s: %v", n.name, res, err)
	}
	var got []string
	for _, r := range replies {
		got = append(got, r.Client)
		if r.Event != "ask" || r.Blob.Bin != base64.StdEncoding.EncodeToString([]byte{0, 1, 254, 255}) {
			m.t.Errorf("%s: emitWithAck: %s answered %+v", n.name, r.Client, r)
		}
	}
	sort.Strings(got)
	want = slices.Clone(want)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		m.t.Errorf("%s: emitWithAck %v answered by %v, want %v", n.name, selector, got, want)
	}
}

// emitterBroadcast has @socket.io/redis-emitter broadcast and checks that exactly want got it,
// once each.
func (m *mixed) emitterBroadcast(tag string, selector map[string]any, want []string) {
	m.t.Helper()
	cmd := map[string]any{"op": "emit", "event": "news", "args": []any{map[string]any{"tag": tag}}}
	for k, v := range selector {
		cmd[k] = v
	}
	m.emitter(cmd)
	m.expectOnce(m.fenceAll(), "news", tag, want)
}

// waitDelivery broadcasts from n, again and again with fresh tags, until one broadcast reaches
// every live client: after Redis comes back, the nodes resubscribe by themselves.
func (m *mixed) waitDelivery(n *clusterNode, tag string) {
	m.t.Helper()
	for i := 0; i < 60; i++ {
		try := tag + "-" + strconv.Itoa(i)
		n.must(nil, "emit", map[string]any{"event": "probe", "args": []any{map[string]any{"tag": try}}})
		if m.clients.waitFor(250*time.Millisecond, func(evs []line) bool {
			got := tagged(evs, "probe", try)
			for _, name := range m.live {
				if got[name] == 0 {
					return false
				}
			}
			return true
		}) {
			return
		}
	}
	m.t.Fatalf("broadcasts from %s never again reached every client", n.name)
}

// noDisconnections checks that no live client has disconnected.
func (m *mixed) noDisconnections() {
	m.t.Helper()
	m.clients.mu.Lock()
	defer m.clients.mu.Unlock()
	for _, e := range m.clients.events {
		if e.Ev == "disconnect" && slices.Contains(m.live, e.Name) {
			m.t.Errorf("%s disconnected: %s", e.Name, e.Reason)
		}
	}
}

// killNode kills n with SIGKILL and checks that the cluster goes on without it: requests that
// need every node complete (or, until Redis has counted the node out, fail with a timeout), and
// broadcasts, fetches and acks work among the others.
func (m *mixed) killNode(n *clusterNode) {
	m.t.Helper()
	var orphans []string
	for _, name := range m.live {
		if m.by[name].node == n {
			orphans = append(orphans, name)
		}
	}
	n.kill9()
	m.gone(orphans...)
	survivors := m.alive()
	for _, s := range survivors {
		res, errText := s.call("fetch", nil)
		if errText != "" && !timedOut(errText) {
			m.t.Errorf("%s: fetchSockets just after %s was killed: error %q, result %s", s.name, n.name, errText, res)
		}
	}
	m.waitServers(len(survivors))
	for _, s := range survivors {
		m.checkFetch(s, nil, m.live)
		m.broadcastFrom(s, "after-"+n.name+"-killed-from-"+s.name, nil, m.live)
		m.broadcastFrom(s, "red-after-"+n.name+"-killed-from-"+s.name, map[string]any{"rooms": []string{"red"}}, m.in("-red"))
		m.checkEmitWithAck(s, nil, m.live)
		if len(survivors) > 1 {
			m.checkServerSideEmitWithAck(s, "ssa-after-"+n.name+"-killed-from-"+s.name)
		}
	}
	m.emitterBroadcast("emitter-after-"+n.name+"-killed", nil, m.live)
}
