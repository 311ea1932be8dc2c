package cluster_test

import (
	"testing"
)

// TestMixedCluster runs one Node.js node and two Herald nodes on one Redis, with official clients
// on each, and proves one cluster of them, step by step on the same cluster.
func TestMixedCluster(t *testing.T) {
	m := startMixed(t)

	t.Run("broadcast from any node reaches every client once", func(t *testing.T) {
		m.t = t
		for _, n := range m.nodes {
			m.broadcastFrom(n, "all-from-"+n.name, nil, m.live)
		}
	})
	t.Run("rooms and except cross nodes", func(t *testing.T) {
		m.t = t
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
		m.t = t
		for _, n := range m.nodes {
			m.checkFetch(n, nil, m.live)
			m.checkFetch(n, map[string]any{"rooms": []string{"red"}}, m.in("-red"))
			m.checkFetch(n, map[string]any{"except": []string{"red"}}, m.in("-blue"))
		}
	})
}
