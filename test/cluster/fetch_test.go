package cluster_test

import (
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strings"
)

// nodeFetched is a socket in a Node.js node's fetchSockets answer.
type nodeFetched struct {
	ID        string   `json:"id"`
	Rooms     []string `json:"rooms"`
	Data      struct{ Name, Node, Kind string }
	Handshake struct {
		Headers map[string]any        `json:"headers"`
		Time    string                `json:"time"`
		Address string                `json:"address"`
		XDomain bool                  `json:"xdomain"`
		Secure  bool                  `json:"secure"`
		Issued  float64               `json:"issued"`
		URL     string                `json:"url"`
		Query   map[string]any        `json:"query"`
		Auth    struct{ Name string } `json:"auth"`
	} `json:"handshake"`
}

// heraldFetched is a socket in a Herald node's FetchSockets answer (socketio.RemoteSocket).
type heraldFetched struct {
	ID        string   `json:"id"`
	Rooms     []string `json:"rooms"`
	Data      struct{ Name, Node, Kind string }
	Local     bool `json:"local"`
	Handshake struct {
		Headers map[string][]string
		Query   map[string][]string
		Auth    struct{ Name string }
		Address string
		Time    string
		Secure  bool
		URL     string
	} `json:"handshake"`
}

// checkFetch has node n fetch the sockets that selector selects and checks that it sees exactly
// the clients want, each with its id, rooms, data and handshake.
func (m *mixed) checkFetch(n *clusterNode, selector map[string]any, want []string) {
	m.t.Helper()
	res, errText := n.call("fetch", selector)
	if errText != "" {
		m.t.Fatalf("%s: fetch %v: %s", n.name, selector, errText)
	}
	type seen struct {
		id, name, node, kind, host, address, authName, url, eio string
		rooms                                                   []string
		local                                                   bool
	}
	var got []seen
	if n.kind == "node" {
		var list []nodeFetched
		if err := json.Unmarshal(res, &list); err != nil {
			m.t.Fatalf("%s: fetch: %s: %v", n.name, res, err)
		}
		// Every socket's handshake, of whichever kind of node, has the fields of Node.js's.
		var shapes []struct{ Handshake map[string]json.RawMessage }
		_ = json.Unmarshal(res, &shapes)
		for i, s := range shapes {
			keys := slices.Sorted(maps.Keys(s.Handshake))
			if want := []string{"address", "auth", "headers", "issued", "query", "secure", "time", "url", "xdomain"}; !slices.Equal(keys, want) {
				m.t.Errorf("%s: fetch: socket %s has handshake fields %v, want %v", n.name, list[i].Data.Name, keys, want)
			}
		}
		for _, s := range list {
			host, _ := s.Handshake.Headers["host"].(string)
			eio, _ := s.Handshake.Query["EIO"].(string)
			got = append(got, seen{id: s.ID, name: s.Data.Name, node: s.Data.Node, kind: s.Data.Kind, host: host,
				address: s.Handshake.Address, authName: s.Handshake.Auth.Name, url: s.Handshake.URL, eio: eio, rooms: s.Rooms})
			if s.Handshake.Issued <= 0 || s.Handshake.Time == "" {
				m.t.Errorf("%s: socket %s: handshake time %q, issued %v", n.name, s.Data.Name, s.Handshake.Time, s.Handshake.Issued)
			}
		}
	} else {
		var list []heraldFetched
		if err := json.Unmarshal(res, &list); err != nil {
			m.t.Fatalf("%s: fetch: %s: %v", n.name, res, err)
		}
		for _, s := range list {
			var host, eio string
			if h := s.Handshake.Headers["Host"]; len(h) == 1 {
				host = h[0]
			}
			if q := s.Handshake.Query["EIO"]; len(q) == 1 {
				eio = q[0]
			}
			got = append(got, seen{id: s.ID, name: s.Data.Name, node: s.Data.Node, kind: s.Data.Kind, host: host,
				address: s.Handshake.Address, authName: s.Handshake.Auth.Name, url: s.Handshake.URL, eio: eio, rooms: s.Rooms, local: s.Local})
			if s.Handshake.Time == "" || strings.HasPrefix(s.Handshake.Time, "0001-") {
				m.t.Errorf("%s: socket %s: handshake time %q", n.name, s.Data.Name, s.Handshake.Time)
			}
		}
	}
	var names []string
	for _, s := range got {
		names = append(names, s.name)
		c := m.by[s.name]
		if c == nil {
			m.t.Errorf("%s: fetch found a socket of no client: %+v", n.name, s)
			continue
		}
		room := s.name[strings.LastIndex(s.name, "-")+1:]
		u, _ := url.Parse(c.node.url)
		if s.id != c.sid || s.node != c.node.name || s.kind != c.node.kind || s.authName != c.name ||
			!slices.Contains(s.rooms, c.sid) || !slices.Contains(s.rooms, room) ||
			s.host != u.Host || s.address != "127.0.0.1" || !strings.HasPrefix(s.url, "/socket.io/") || s.eio != "4" {
			m.t.Errorf("%s: fetch: %s (sid %s on %s) seen as %+v", n.name, c.name, c.sid, c.node.name, s)
		}
		if n.kind == "herald" && s.local != (c.node == n) {
			m.t.Errorf("%s: fetch: %s on %s has IsLocal %v", n.name, c.name, c.node.name, s.local)
		}
	}
	sort.Strings(names)
	want = slices.Clone(want)
	sort.Strings(want)
	if !slices.Equal(names, want) {
		m.t.Errorf("%s: fetch %v found %v, want %v", n.name, selector, names, want)
	}
}
