// Package adaptertest is the contract every socketio.Adapter meets, as one test suite that each
// backend runs: the in-memory adapter on one server, a cluster adapter on several. The suite
// starts real servers on loopback and real clients (package sioclient) spread over them, and
// checks what users see: broadcasts reach every selected client once, rooms and exceptions cross
// servers, binary arrives intact, acks are collected from everyone, sockets join, leave and are
// disconnected by selector wherever they are, FetchSockets lists them all, and servers talk to
// each other with ServerSideEmit.
package adaptertest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/herald-chat/herald/internal/sioclient"
	"github.com/herald-chat/herald/socketio"
)

// Wait bounds every wait of the suite.
const Wait = 10 * time.Second

// Backend describes the adapter under test.
type Backend struct {
	// MaxServers is how many servers one cluster of this backend can have: 1 for an adapter
	// that knows only its own server.
	MaxServers int
	// Config returns the configuration of one more server of the cluster named cluster (a name
	// unique to the test, so that clusters of different tests never see each other). The suite
	// sets the logger when the Config leaves it nil.
	Config func(t *testing.T, cluster string) socketio.Config
	// Settle, when not nil, waits until the servers made so far act on the room memberships
	// they have: an adapter that subscribes to a room's channel after the join, off the
	// caller's goroutine, may miss a broadcast another server sends before. The suite calls it
	// after clients join rooms and before it expects their broadcasts.
	Settle func(t *testing.T)
}

// Run runs the whole contract.
func Run(t *testing.T, b Backend) {
	tests := []struct {
		name string
		f    func(*testing.T, *cluster)
	}{
		{"Broadcast", testBroadcast},
		{"Rooms", testRooms},
		{"Local", testLocal},
		{"EmitWithAck", testEmitWithAck},
		{"SocketsJoinLeave", testSocketsJoinLeave},
		{"DisconnectSockets", testDisconnectSockets},
		{"FetchSockets", testFetchSockets},
		{"RemoteSocket", testRemoteSocket},
		{"ServerSideEmit", testServerSideEmit},
		{"Namespaces", testNamespaces},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.f(t, newCluster(t, b))
		})
	}
}

// cluster is the servers of one test, with clients on them.
type cluster struct {
	t       *testing.T
	servers []*server
	settle  func(t *testing.T) // Backend.Settle
}

type server struct {
	index int
	io    *socketio.Server
	url   string
}

// client is a test client and the server it is on.
type client struct {
	*sioclient.Client
	name   string
	server int
	rooms  []string
}

// auth is what the suite's clients send at CONNECT: the server puts the socket in these rooms.
type auth struct {
	Name  string   `json:"name"`
	Rooms []string `json:"rooms"`
}

// socketData is what each server sets as its sockets' data.
type socketData struct {
	Server int    `json:"server"`
	Name   string `json:"name"`
}

func newCluster(t *testing.T, b Backend) *cluster {
	t.Helper()
	n := min(3, b.MaxServers)
	name := fmt.Sprintf("adaptertest-%s-%d", t.Name(), time.Now().UnixNano())
	c := &cluster{t: t, settle: b.Settle}
	for i := range n {
		cfg := b.Config(t, name)
		if cfg.Engine.Logger == nil {
			cfg.Engine.Logger = slog.New(slog.DiscardHandler)
		}
		io := socketio.NewServer(cfg)
		for _, nsp := range []*socketio.Namespace{io.Of("/"), io.Of("/other")} {
			nsp.OnConnection(func(s *socketio.Socket) {
				var a auth
				_ = decodeAuth(s, &a)
				s.SetData(socketData{Server: i, Name: a.Name})
				s.Join(a.Rooms...)
			})
		}
		mux := http.NewServeMux()
		mux.Handle("/socket.io/", io)
		ts := httptest.NewServer(mux)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = io.Close(ctx)
			ts.Close()
		})
		c.servers = append(c.servers, &server{index: i, io: io, url: ts.URL})
	}
	// A cluster adapter may take a moment to subscribe: wait until every server counts them all.
	for _, s := range c.servers {
		for _, nsp := range []string{"/", "/other"} {
			c.waitFor(fmt.Sprintf("server %d to count %d servers in %s", s.index, n, nsp), func() bool {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				got, err := s.io.Of(nsp).ServerCount(ctx)
				return err == nil && got == n
			})
		}
	}
	return c
}

// waitFor polls cond until it holds, failing the test after Wait.
func (c *cluster) waitFor(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(Wait)
	for !cond() {
		if time.Now().After(deadline) {
			c.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// connect opens a client on server i, in namespace nsp, in rooms.
func (c *cluster) connect(i int, nsp, name string, rooms ...string) *client {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	sc, err := sioclient.Dial(ctx, c.servers[i].url, sioclient.Options{
		Namespace: nsp,
		Auth:      auth{Name: name, Rooms: rooms},
		AutoAck:   func(e *sioclient.Event) []any { return []any{"ack from " + name} },
	})
	if err != nil {
		c.t.Fatalf("client %s on server %d: %v", name, i, err)
	}
	c.t.Cleanup(func() { _ = sc.Close() })
	cl := &client{Client: sc, name: name, server: i, rooms: rooms}
	// The socket's data and rooms are set in the connection handler, which may still be running.
	c.waitFor("the connection handler of "+name, func() bool {
		s := c.servers[i].io.Of(nsp).Socket(sc.ID)
		return s != nil && s.Data() != nil && containsAll(s.Rooms(), rooms)
	})
	if c.settle != nil {
		c.settle(c.t)
	}
	return cl
}

// spread opens one client per entry of rooms, spread over the servers in turn; client k is named
// "c<k>".
func (c *cluster) spread(nsp string, rooms ...[]string) []*client {
	c.t.Helper()
	out := make([]*client, len(rooms))
	for k, r := range rooms {
		out[k] = c.connect(k%len(c.servers), nsp, fmt.Sprintf("c%d", k), r...)
	}
	return out
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}
