package socketio

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/herald-chat/herald/engineio"
)

// Server is a Socket.IO v5 server (for socket.io-client 3.x and 4.x). Mount it as an http.Handler
// at "/socket.io/". The methods it shares with Namespace act on the main namespace "/". It is safe
// for concurrent use.
type Server struct {
	cfg    Config
	log    *slog.Logger
	engine *engineio.Server

	mu         sync.RWMutex
	namespaces map[string]*Namespace
	parents    []*ParentNamespace // in the order they were made; the first match wins
	main       *Namespace
	started    time.Time // served as the client files' Last-Modified

	clients sync.WaitGroup // one per connection, until its sockets' disconnect handlers have run
}

// NewServer returns a Server with the main namespace "/" ready.
func NewServer(cfg Config) *Server {
	cfg = cfg.withDefaults()
	srv := &Server{cfg: cfg, namespaces: make(map[string]*Namespace), started: time.Now()}
	srv.engine = engineio.NewServer(cfg.Engine, engineio.HandlerFunc(func(s *engineio.Session) engineio.SessionHandler {
		return newClient(srv, s)
	}))
	srv.log = srv.engine.Config().Logger
	srv.main = srv.Of("/")
	return srv
}

// Of returns the namespace with the given name, creating it on first use. Clients can join only
// namespaces that exist.
func (srv *Server) Of(name string) *Namespace {
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	n := srv.namespaces[name]
	if n == nil {
		n = newNamespace(srv, name)
		srv.namespaces[name] = n
	}
	return n
}

func (srv *Server) namespace(name string) *Namespace {
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	return srv.namespaces[name]
}

// ServeHTTP serves the Engine.IO endpoint and, when Config.ClientFiles is set, the browser client.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if srv.cfg.ClientFiles != nil && r.Method == http.MethodGet && srv.serveClientFile(w, r) {
		return
	}
	srv.engine.ServeHTTP(w, r)
}

// Engine returns the underlying Engine.IO server.
func (srv *Server) Engine() *engineio.Server { return srv.engine }

// Use adds a middleware to the main namespace; see Namespace.Use.
func (srv *Server) Use(mw func(s *Socket) error) { srv.main.Use(mw) }

// OnConnection registers a connection handler on the main namespace.
func (srv *Server) OnConnection(f func(s *Socket)) { srv.main.OnConnection(f) }

// Emit sends an event to every socket of the main namespace: io.emit in Node.js.
func (srv *Server) Emit(event string, args ...any) error { return srv.main.Emit(event, args...) }

// EmitWithAck sends an event to every socket of the main namespace and collects their acks.
func (srv *Server) EmitWithAck(ctx context.Context, event string, args ...any) ([][]any, error) {
	return srv.main.EmitWithAck(ctx, event, args...)
}

// To returns a broadcast to rooms of the main namespace.
func (srv *Server) To(rooms ...string) *BroadcastOperator { return srv.main.To(rooms...) }

// In is the same as To.
func (srv *Server) In(rooms ...string) *BroadcastOperator { return srv.main.In(rooms...) }

// Except returns a broadcast to every socket of the main namespace but those in rooms.
func (srv *Server) Except(rooms ...string) *BroadcastOperator { return srv.main.Except(rooms...) }

// Volatile returns a volatile broadcast on the main namespace.
func (srv *Server) Volatile() *BroadcastOperator { return srv.main.Volatile() }

// Local returns a broadcast to the sockets of the main namespace on this server only.
func (srv *Server) Local() *BroadcastOperator { return srv.main.Local() }

// DisconnectSockets disconnects every socket of the main namespace, on every server.
func (srv *Server) DisconnectSockets(closeConn bool) { srv.main.DisconnectSockets(closeConn) }

// SocketsJoin makes every socket of the main namespace, on every server, join rooms.
func (srv *Server) SocketsJoin(rooms ...string) { srv.main.SocketsJoin(rooms...) }

// SocketsLeave makes every socket of the main namespace, on every server, leave rooms.
func (srv *Server) SocketsLeave(rooms ...string) { srv.main.SocketsLeave(rooms...) }

// FetchSockets returns every socket of the main namespace, on every server.
func (srv *Server) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return srv.main.FetchSockets(ctx)
}

// ServerSideEmit sends an event to the other servers of the cluster; see
// Namespace.ServerSideEmit.
func (srv *Server) ServerSideEmit(event string, args ...any) error {
	return srv.main.ServerSideEmit(event, args...)
}

// ServerSideEmitWithAck sends an event to the other servers and waits for their answers; see
// Namespace.ServerSideEmitWithAck.
func (srv *Server) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]any, error) {
	return srv.main.ServerSideEmitWithAck(ctx, event, args...)
}

// OnServerSideEmit registers a handler for an event other servers send to the main namespace.
func (srv *Server) OnServerSideEmit(event string, f func(*ServerSideEvent)) {
	srv.main.OnServerSideEmit(event, f)
}

// ServerCount returns the number of servers of the main namespace's cluster.
func (srv *Server) ServerCount(ctx context.Context) (int, error) { return srv.main.ServerCount(ctx) }

// Sockets returns the connected sockets of the main namespace on this server.
func (srv *Server) Sockets() []*Socket { return srv.main.Sockets() }

// Close shuts the server down gracefully: every connection is closed after what is queued for it
// has been written (clients see a transport close and reconnect elsewhere), disconnect handlers
// run with ReasonServerShutdown, and Close waits for all that until ctx ends, then cuts what
// remains.
func (srv *Server) Close(ctx context.Context) error {
	err := srv.engine.Close(ctx)
	// The engine is done once every session has ended; the disconnect handlers run after that,
	// in each connection's mailbox.
	done := make(chan struct{})
	go func() {
		srv.clients.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	srv.mu.RLock()
	nsps := slices.Collect(maps.Values(srv.namespaces))
	srv.mu.RUnlock()
	for _, n := range nsps {
		if cerr := n.adapter.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	return err
}
