package cluster_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestMixedCluster runs one Node.js node and two Herald nodes on one Redis, with official clients
// on each, and proves one cluster of them, step by step on the same cluster.
func TestMixedCluster(t *testing.T) {
	m := startMixed(t)

	t.Run("broadcast from any node reaches every client once", func(t *testing.T) {
		m.use(t)
		for _, n := range m.nodes {
			m.broadcastFrom(n, "all-from-"+n.name, nil, m.live)
		}
	})
	t.Run("local broadcasts stay on their node", func(t *testing.T) {
		m.use(t)
		for _, n := range m.nodes {
			mine := m.liveWith(func(c *client) bool { return c.node == n })
			m.broadcastFrom(n, "local-from-"+n.name, map[string]any{"local": true}, mine)
			var fetched []json.RawMessage
			n.must(&fetched, "fetch", map[string]any{"local": true})
			if len(fetched) != len(mine) {
				t.Errorf("%s: local fetch found %d sockets, want %d", n.name, len(fetched), len(mine))
			}
		}
	})
	t.Run("rooms and except cross nodes", func(t *testing.T) {
		m.use(t)
		for _, n := range m.nodes {
			m.broadcastFrom(n, "red-from-"+n.name, map[string]any{"rooms": []string{"red"}}, m.in("-red"))
			m.broadcastFrom(n, "red+blue-from-"+n.name, map[string]any{"rooms": []string{"red", "blue"}}, m.live)
			m.broadcastFrom(n, "not-red-from-"+n.name, map[string]any{"except": []string{"red"}}, m.in("-blue"))
			m.broadcastFrom(n, "blue-not-red-from-"+n.name, map[string]any{"rooms": []string{"blue", "red"}, "except": []string{"red"}}, m.in("-blue"))
			for _, target := range []string{"node-blue", "h1-blue", "h2-red"} {
				sid := m.by[target].sid
				m.broadcastFrom(n, "to-"+target+"-from-"+n.name, map[string]any{"rooms": []string{sid}}, []string{target})
			}
		}
	})
	t.Run("fetchSockets sees every socket of every node", func(t *testing.T) {
		m.use(t)
		for _, n := range m.nodes {
			m.checkFetch(n, nil, m.live)
			m.checkFetch(n, map[string]any{"rooms": []string{"red"}}, m.in("-red"))
			m.checkFetch(n, map[string]any{"except": []string{"red"}}, m.in("-blue"))
		}
		// allRooms (the ALL_ROOMS request) exists in the Node.js adapter only.
		var rooms []string
		m.node("node").must(&rooms, "allRooms", nil)
		want := []string{"red", "blue"}
		for _, name := range m.live {
			want = append(want, m.by[name].sid)
		}
		slices.Sort(rooms)
		slices.Sort(want)
		if !slices.Equal(rooms, want) {
			t.Errorf("node: allRooms = %v, want %v", rooms, want)
		}
	})
	t.Run("another namespace is a cluster of its own", func(t *testing.T) {
		m.use(t)
		for _, n := range m.nodes {
			m.connectTo(n.name+"-admin", n, "/admin", "admin", "red")
		}
		everyone := append(slices.Clone(m.live), m.admin...)
		for _, n := range m.nodes {
			tag := "admin-from-" + n.name
			n.must(nil, "emit", map[string]any{"nsp": "/admin", "event": "news", "args": []any{map[string]any{"tag": tag}}})
			tagRed := "red-of-slash-from-" + n.name
			n.must(nil, "emit", map[string]any{"rooms": []string{"red"}, "event": "news", "args": []any{map[string]any{"tag": tagRed}}})
			m.fence(n)
			evs := m.fenceIn(n, "/admin", m.admin)
			m.expectOnceOf(evs, "news", tag, m.admin, everyone)
			m.expectOnceOf(evs, "news", tagRed, m.in("-red"), everyone)
			m.checkFetch(n, map[string]any{"nsp": "/admin"}, m.admin)
			m.checkFetch(n, map[string]any{"nsp": "/admin", "rooms": []string{"red"}}, m.admin)
			m.checkEmitWithAck(n, map[string]any{"nsp": "/admin"}, m.admin)
		}
	})
	t.Run("remote join and leave act on sockets of the other kind", func(t *testing.T) {
		m.use(t)
		node, h1, h2 := m.node("node"), m.node("h1"), m.node("h2")
		node.must(nil, "join", map[string]any{"rooms": []string{"blue"}, "add": []string{"green"}})
		m.fence(node)
		m.broadcastFrom(h1, "green-1", map[string]any{"rooms": []string{"green"}}, m.in("-blue"))
		m.checkFetch(h2, map[string]any{"rooms": []string{"green"}}, m.in("-blue"))
		h1.must(nil, "leave", map[string]any{"rooms": []string{"green"}, "except": []string{m.by["node-blue"].sid}, "remove": []string{"green"}})
		m.fence(h1)
		m.broadcastFrom(node, "green-2", map[string]any{"rooms": []string{"green"}}, []string{"node-blue"})
		m.checkFetch(node, map[string]any{"rooms": []string{"green"}}, []string{"node-blue"})
		h2.must(nil, "join", map[string]any{"rooms": []string{m.by["node-red"].sid}, "add": []string{"purple"}})
		node.must(nil, "join", map[string]any{"rooms": []string{m.by["h2-red"].sid}, "add": []string{"purple"}})
		m.fence(h2)
		m.fence(node)
		m.broadcastFrom(h1, "purple-1", map[string]any{"rooms": []string{"purple"}}, []string{"node-red", "h2-red"})
		node.must(nil, "leave", map[string]any{"rooms": []string{"purple", "green"}, "remove": []string{"purple", "green"}})
		m.fence(node)
		m.broadcastFrom(h2, "purple-2", map[string]any{"rooms": []string{"purple", "green"}}, nil)
		m.checkFetch(h1, map[string]any{"rooms": []string{"purple", "green"}}, nil)
	})
	t.Run("remote disconnect acts on sockets of the other kind", func(t *testing.T) {
		m.use(t)
		for _, n := range m.nodes {
			m.connect(n.name+"-doomed", n, "doomed")
		}
		m.node("h2").must(nil, "disconnect", map[string]any{"rooms": []string{"doomed"}, "except": []string{m.by["h2-doomed"].sid}})
		m.gone("node-doomed", "h1-doomed")
		m.node("node").must(nil, "disconnect", map[string]any{"rooms": []string{m.by["h2-doomed"].sid}, "close": true})
		m.gone("h2-doomed")
		m.expectReason("node-doomed", "io server disconnect")
		m.expectReason("h1-doomed", "io server disconnect")
		for _, n := range m.nodes {
			m.broadcastFrom(n, "after-disconnect-from-"+n.name, nil, m.live)
			m.checkFetch(n, map[string]any{"rooms": []string{"doomed"}}, nil)
		}
	})
	t.Run("serverSideEmit with and without acks, both ways", func(t *testing.T) {
		m.use(t)
		for _, n := range m.nodes {
			m.checkServerSideEmitWithAck(n, "ssa-from-"+n.name)
		}
		for _, n := range m.nodes {
			tag := "ss-from-" + n.name
			n.must(nil, "serverSideEmit", map[string]any{"event": "ss2", "args": []any{map[string]any{"tag": tag}, 42}})
			for _, other := range m.nodes {
				if other != n {
					m.waitServerEvent(other, "ss2", tag, false)
				}
			}
		}
	})
	t.Run("binary is intact both ways", func(t *testing.T) {
		m.use(t)
		for _, n := range m.nodes {
			m.checkBinary(n.name, func(cmd map[string]any) { n.must(nil, "emit", cmd) }, n)
		}
	})
	t.Run("a date arrives as the same string from both kinds", func(t *testing.T) {
		m.use(t)
		const when = "2026-12-06T21:10:00.123Z"
		for _, n := range m.nodes {
			tag := "date-from-" + n.name
			n.must(nil, "emit", map[string]any{"event": "date", "args": []any{map[string]any{"tag": tag, "when": map[string]any{"$date": when}}}})
			evs := m.fence(n)
			m.expectOnce(evs, "date", tag, m.live)
			for _, e := range evs {
				if e.Ev == "event" && e.Event == "date" && tagged([]line{e}, "date", tag)[e.Name] == 1 && !jsonEq(e.Args, `[{"tag":"`+tag+`","when":"`+when+`"}]`) {
					t.Errorf("a date from %s reached %s as %s", n.name, e.Name, e.Args)
				}
			}
		}
	})
	t.Run("emitWithAck from both kinds collects every client's ack", func(t *testing.T) {
		m.use(t)
		for _, n := range m.nodes {
			m.checkEmitWithAck(n, nil, m.live)
			m.checkEmitWithAck(n, map[string]any{"rooms": []string{"red"}}, m.in("-red"))
		}
	})
	t.Run("redis-emitter reaches every client and node", func(t *testing.T) {
		m.use(t)
		m.emitterBroadcast("emitter-all", nil, m.live)
		m.emitterBroadcast("emitter-red", map[string]any{"rooms": []string{"red"}}, m.in("-red"))
		m.emitterBroadcast("emitter-not-red", map[string]any{"except": []string{"red"}}, m.in("-blue"))
		m.checkBinary("emitter", m.emitter, m.node("h1"))
		m.emitter(map[string]any{"op": "join", "rooms": []string{"blue"}, "add": []string{"orange"}})
		m.fenceAll()
		for _, n := range m.nodes {
			m.checkFetch(n, map[string]any{"rooms": []string{"orange"}}, m.in("-blue"))
		}
		m.emitter(map[string]any{"op": "leave", "rooms": []string{"orange"}, "remove": []string{"orange"}})
		m.fenceAll()
		for _, n := range m.nodes {
			m.checkFetch(n, map[string]any{"rooms": []string{"orange"}}, nil)
		}
		m.emitter(map[string]any{"op": "serverSideEmit", "event": "ss2", "args": []any{map[string]any{"tag": "emitter-ss"}}})
		for _, n := range m.nodes {
			m.waitServerEvent(n, "ss2", "emitter-ss", false)
		}
		for _, n := range m.nodes {
			m.connect(n.name+"-emitted", n, "emitted")
		}
		m.emitter(map[string]any{"op": "disconnect", "rooms": []string{"emitted"}})
		m.gone("node-emitted", "h1-emitted", "h2-emitted")
		m.expectReason("h1-emitted", "io server disconnect")
	})
	t.Run("a frozen node makes requests time out cleanly, then answers again", func(t *testing.T) {
		m.use(t)
		node, h1, h2 := m.node("node"), m.node("h1"), m.node("h2")
		h2.signal(syscall.SIGSTOP)
		stopped := true
		defer func() {
			if stopped {
				h2.signal(syscall.SIGCONT)
			}
		}()
		for _, n := range []*clusterNode{node, h1} {
			res, errText := n.call("fetch", nil)
			if !timedOut(errText) {
				t.Errorf("%s: fetchSockets with a frozen node: error %q, result %s", n.name, errText, res)
			}
		}
		res, errText := h1.call("serverSideEmitWithAck", map[string]any{"event": "ss", "args": []any{map[string]any{"tag": "frozen"}}})
		if !timedOut(errText) || !strings.Contains(string(res), `"node":"node"`) || strings.Contains(string(res), `"node":"h2"`) {
			t.Errorf("h1: serverSideEmitWithAck with a frozen node: error %q, answers %s", errText, res)
		}
		h2.signal(syscall.SIGCONT)
		stopped = false
		for _, n := range m.nodes {
			m.broadcastFrom(n, "thawed-from-"+n.name, nil, m.live)
			m.checkFetch(n, nil, m.live)
		}
	})
	t.Run("Redis restarted: cross-node traffic resumes by itself", func(t *testing.T) {
		m.use(t)
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		m.redis.Restart(ctx)
		for _, n := range m.nodes {
			m.waitDelivery(n, "after-restart-from-"+n.name)
		}
		m.waitServers(3)
		for _, n := range m.nodes {
			m.broadcastFrom(n, "once-after-restart-from-"+n.name, map[string]any{"except": []string{"blue"}}, m.in("-red"))
			m.checkFetch(n, nil, m.live)
			m.checkServerSideEmitWithAck(n, "ssa-after-restart-from-"+n.name)
			m.checkEmitWithAck(n, nil, m.live)
		}
		m.emitterBroadcast("emitter-after-restart", nil, m.live)
		m.noDisconnections()
	})
	t.Run("a Node.js node killed: the others keep working", func(t *testing.T) {
		m.use(t)
		m.killNode(m.node("node"))
	})
	t.Run("then a Herald node killed: the last keeps working", func(t *testing.T) {
		m.use(t)
		m.killNode(m.node("h2"))
		h1 := m.node("h1")
		res, errText := h1.call("serverSideEmitWithAck", map[string]any{"event": "ss", "args": []any{map[string]any{"tag": "alone"}}})
		if errText != "" || string(res) != "[]" {
			t.Errorf("h1 alone: serverSideEmitWithAck: error %q, answers %s", errText, res)
		}
	})
}

// timedOut reports whether a request's error text, from a Node.js node ("timeout reached: …")
// or a Herald node ("… timed out waiting for other servers …"), says it ran out of time.
func timedOut(errText string) bool {
	return strings.Contains(errText, "timeout") || strings.Contains(errText, "timed out")
}
