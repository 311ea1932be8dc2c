package cluster_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/herald-chat/herald/internal/redistest"
)

// clusterNode is one node of the mixed cluster: a Node.js or a Herald server.
type clusterNode struct {
	*proc
	kind string // "node" or "herald"
	url  string // http://127.0.0.1:port
	port int
}

// startNode starts a node of kind on redisURL and waits until it listens.
func startNode(t *testing.T, kind, name, redisURL string, env ...string) *clusterNode {
	t.Helper()
	env = append(env, "REQUESTS_TIMEOUT_MS="+strconv.Itoa(requestsTimeoutMs))
	var p *proc
	switch kind {
	case "node":
		p = startProc(t, name, env, nodeBinary(t), "node-node.mjs", redisURL, name)
	case "herald":
		p = startProc(t, name, env, heraldNodeBin, redisURL, name)
	default:
		t.Fatalf("no node kind %q", kind)
	}
	evs := p.until("ready", func(evs []line) bool { return len(evs) > 0 && evs[0].Ev == "ready" })
	port := evs[0].Port
	return &clusterNode{proc: p, kind: kind, port: port, url: "http://127.0.0.1:" + strconv.Itoa(port)}
}

// client is one socket.io-client socket of the test.
type client struct {
	name string
	node *clusterNode
	sid  string
}

// mixed is the cluster under test: one Redis, its nodes, and the clients connected to them.
type mixed struct {
	t       *testing.T
	redis   *redistest.Server
	nodes   []*clusterNode
	clients *proc
	by      map[string]*client // by name
	live    []string           // names of the clients of "/" still connected, in connection order
	admin   []string           // names of the clients of "/admin"
	fences  int

	top         *testing.T // the test that owns the processes
	emitterProc *proc      // emitter.mjs, once started
}

// startMixed starts Redis, a Node.js node "node" and two Herald nodes "h1" and "h2", and on each
// node two clients of namespace "/", "<node>-red" in room red and "<node>-blue" in room blue.
func startMixed(t *testing.T) *mixed {
	t.Helper()
	m := &mixed{t: t, top: t, redis: redistest.Start(t), by: map[string]*client{}}
	// One node of each kind answers on the requester's own response channel, the others on the
	// shared one: both forms cross between the kinds.
	for _, n := range []struct{ kind, name, specific string }{{"node", "node", "1"}, {"herald", "h1", ""}, {"herald", "h2", "1"}} {
		m.nodes = append(m.nodes, startNode(t, n.kind, n.name, m.redis.URL(), "SPECIFIC_RESPONSE_CHANNEL="+n.specific))
	}
	m.clients = startProc(t, "clients", nil, nodeBinary(t), "clients.mjs")
	m.clients.until("clients ready", func(evs []line) bool { return len(evs) > 0 && evs[0].Ev == "ready" })
	for _, n := range m.nodes {
		for _, room := range []string{"red", "blue"} {
			m.connect(n.name+"-"+room, n, room)
		}
	}
	m.waitServers(3)
	return m
}

func (m *mixed) node(name string) *clusterNode {
	for _, n := range m.nodes {
		if n.name == name {
			return n
		}
	}
	m.t.Fatalf("no node %s", name)
	return nil
}

// connect opens a client of namespace "/" named name on n, in rooms, and waits until it is
// connected.
func (m *mixed) connect(name string, n *clusterNode, rooms ...string) *client {
	m.t.Helper()
	return m.connectTo(name, n, "/", rooms...)
}

// connectTo is connect for namespace nsp: "/", or "/admin" (its clients are listed apart, in
// m.admin).
func (m *mixed) connectTo(name string, n *clusterNode, nsp string, rooms ...string) *client {
	m.t.Helper()
	u := n.url
	if nsp != "/" {
		u += nsp
	}
	m.clients.send(map[string]any{"op": "connect", "name": name, "url": u, "rooms": rooms})
	evs := m.clients.until(name+" connected", func(evs []line) bool {
		return slices.ContainsFunc(evs, func(e line) bool { return e.Name == name && (e.Ev == "connect" || e.Ev == "connect_error") })
	})
	i := slices.IndexFunc(evs, func(e line) bool { return e.Name == name && (e.Ev == "connect" || e.Ev == "connect_error") })
	if evs[i].Ev != "connect" {
		m.t.Fatalf("%s could not connect to %s: %s", name, n.name, evs[i].Message)
	}
	c := &client{name: name, node: n, sid: evs[i].SID}
	m.by[name] = c
	if nsp == "/" {
		m.live = append(m.live, name)
	} else {
		m.admin = append(m.admin, name)
	}
	return c
}

// gone forgets clients that were disconnected, once each has seen its disconnection.
func (m *mixed) gone(names ...string) {
	m.t.Helper()
	m.clients.until(fmt.Sprintf("disconnection of %v", names), func(evs []line) bool {
		for _, name := range names {
			if !slices.ContainsFunc(evs, func(e line) bool { return e.Name == name && e.Ev == "disconnect" }) {
				return false
			}
		}
		return true
	})
	m.live = slices.DeleteFunc(m.live, func(n string) bool { return slices.Contains(names, n) })
}

// waitServers waits until every node counts n servers in the cluster.
func (m *mixed) waitServers(n int) {
	m.t.Helper()
	for _, node := range m.nodes {
		if node.dead() {
			continue
		}
		for i := 0; ; i++ {
			var got int
			node.must(&got, "serverCount", nil)
			if got == n {
				break
			}
			if i == 100 {
				m.t.Fatalf("%s counts %d servers, want %d", node.name, got, n)
			}
			sleep()
		}
	}
}

// tagged counts, per client, the events named event whose first argument has "tag": tag.
func tagged(evs []line, event, tag string) map[string]int {
	got := map[string]int{}
	for _, e := range evs {
		if e.Ev != "event" || e.Event != event {
			continue
		}
		var args []json.RawMessage
		if json.Unmarshal(e.Args, &args) == nil && firstTag(args) == tag {
			got[e.Name]++
		}
	}
	return got
}

// firstTag returns the "tag" of the first of args, if it is an object that has one.
func firstTag(args []json.RawMessage) string {
	var first struct{ Tag string }
	if len(args) == 0 || json.Unmarshal(args[0], &first) != nil {
		return ""
	}
	return first.Tag
}

// use makes t the test that the cluster's failures go to, for a subtest.
func (m *mixed) use(t *testing.T) {
	m.t = t
	for _, n := range m.nodes {
		n.setT(t)
	}
	m.clients.setT(t)
}

// fence broadcasts a fence event from node to every client and waits until every live client
// has it. Each node publishes in order and Redis delivers in order, so what that node emitted
// before has arrived, or never will, once the fence has.
func (m *mixed) fence(from *clusterNode) []line {
	m.t.Helper()
	return m.fenceIn(from, "/", m.live)
}

// fenceIn is fence in namespace nsp, whose clients are names.
func (m *mixed) fenceIn(from *clusterNode, nsp string, names []string) []line {
	m.t.Helper()
	m.fences++
	tag := "fence-" + strconv.Itoa(m.fences)
	from.must(nil, "emit", map[string]any{"nsp": nsp, "event": "fence", "args": []any{map[string]any{"tag": tag}}})
	return m.clients.until(tag+" from "+from.name, func(evs []line) bool {
		got := tagged(evs, "fence", tag)
		for _, name := range names {
			if got[name] == 0 {
				return false
			}
		}
		return true
	})
}

// expectOnce checks that exactly the clients want got the event tagged tag, once each.
func (m *mixed) expectOnce(evs []line, event, tag string, want []string) {
	m.t.Helper()
	m.expectOnceOf(evs, event, tag, want, m.live)
}

// expectOnceOf is expectOnce among the clients names.
func (m *mixed) expectOnceOf(evs []line, event, tag string, want, names []string) {
	m.t.Helper()
	got := tagged(evs, event, tag)
	for _, name := range names {
		n := 0
		if slices.Contains(want, name) {
			n = 1
		}
		if got[name] != n {
			m.t.Errorf("%s %q: client %s got it %d times, want %d (all: %v)", event, tag, name, got[name], n, got)
		}
	}
}

// broadcastFrom has node emit event (args starting with {"tag": tag}, selecting with fields'
// rooms and except) and checks that exactly want got it, once each.
func (m *mixed) broadcastFrom(from *clusterNode, tag string, fields map[string]any, want []string) {
	m.t.Helper()
	cmd := map[string]any{"event": "news", "args": []any{map[string]any{"tag": tag, "from": from.name}}}
	for k, v := range fields {
		cmd[k] = v
	}
	from.must(nil, "emit", cmd)
	m.expectOnce(m.fence(from), "news", tag, want)
}

// emitter has emitter.mjs publish cmd, started on first use.
func (m *mixed) emitter(cmd map[string]any) {
	m.t.Helper()
	if m.emitterProc == nil {
		m.emitterProc = startProc(m.top, "emitter", nil, nodeBinary(m.t), "emitter.mjs", m.redis.URL())
		m.emitterProc.until("emitter ready", func(evs []line) bool { return len(evs) > 0 && evs[0].Ev == "ready" })
	}
	m.emitterProc.setT(m.t)
	op, _ := cmd["op"].(string)
	m.emitterProc.must(nil, op, cmd)
}

// liveWith returns the live clients for which keep holds.
func (m *mixed) liveWith(keep func(c *client) bool) []string {
	var out []string
	for _, name := range m.live {
		if keep(m.by[name]) {
			out = append(out, name)
		}
	}
	return out
}

// in reports the live clients whose name ends with one of suffixes ("-red", "-blue").
func (m *mixed) in(suffixes ...string) []string {
	return m.liveWith(func(c *client) bool {
		for _, s := range suffixes {
			if len(c.name) > len(s) && c.name[len(c.name)-len(s):] == s {
				return true
			}
		}
		return false
	})
}
