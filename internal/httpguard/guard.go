// Package httpguard keeps slow clients from exhausting an HTTP server: request bodies get a read
// deadline, and the connections that are mid-request (still sending their request's headers or
// body) are bounded, the oldest of them closed to make room, so that a flood of connections that
// trickle a byte at a time holds a bounded number of descriptors and little memory, and new
// connections (a health check, a real user, a reconnecting socket) are still served.
package httpguard

import (
	"container/list"
	"context"
	"net"
	"net/http"
	"sync"
	"time"
)

// Defaults used when the corresponding Config field is zero.
const (
	DefaultBodyTimeout = 10 * time.Second
	DefaultMaxPending  = 2048
)

// Config configures a Guard; zero fields take the defaults.
type Config struct {
	// BodyTimeout bounds reading a request's body, from the handler's start: a client that
	// sends its body slower is cut off (the handler's read fails). DefaultBodyTimeout when zero.
	BodyTimeout time.Duration
	// MaxPending bounds the connections that are mid-request: accepted or reading a request's
	// headers, or whose handler has not read the whole body yet. Past it, the one that has been
	// pending longest is closed: real clients send their request at once, so what is closed is
	// the slowest trickler, and a new connection always gets in. Connections serving a
	// response, idle between requests or taken over (WebSocket) do not count.
	// DefaultMaxPending when zero.
	MaxPending int
}

// Guard holds the state of the pending connections of one http.Server. Install it with
// Install. It is safe for concurrent use; mu guards the fields below it.
type Guard struct {
	cfg Config

	mu      sync.Mutex
	conns   map[net.Conn]*conn // every open connection: ConnState sees only the net.Conn
	pending *list.List         // of *conn, oldest at the front
	evicted int                // connections closed at the bound, for tests and logs
}

// conn is one connection as the guard sees it.
type conn struct {
	nc net.Conn
	el *list.Element // in pending, or nil; guarded by the Guard's mu
}

type connKey struct{}

// New returns a Guard.
func New(cfg Config) *Guard {
	if cfg.BodyTimeout <= 0 {
		cfg.BodyTimeout = DefaultBodyTimeout
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = DefaultMaxPending
	}
	return &Guard{cfg: cfg, conns: make(map[net.Conn]*conn), pending: list.New()}
}

// Install sets srv's ConnContext and ConnState hooks (chaining any already set) and wraps its
// Handler with the body deadline. Call it before srv serves.
func (g *Guard) Install(srv *http.Server) {
	prevContext, prevState := srv.ConnContext, srv.ConnState
	srv.ConnContext = func(ctx context.Context, nc net.Conn) context.Context {
		if prevContext != nil {
			ctx = prevContext(ctx, nc)
		}
		// Called before StateNew, on the accepting goroutine: the record exists from the start.
		c := &conn{nc: nc}
		g.mu.Lock()
		g.conns[nc] = c
		g.mu.Unlock()
		return context.WithValue(ctx, connKey{}, c)
	}
	srv.ConnState = func(nc net.Conn, state http.ConnState) {
		g.connState(nc, state)
		if prevState != nil {
			prevState(nc, state)
		}
	}
	next := srv.Handler
	if next == nil {
		next = http.DefaultServeMux
	}
	srv.Handler = g.handler(next)
}

func (g *Guard) connState(nc net.Conn, state http.ConnState) {
	g.mu.Lock()
	c := g.conns[nc]
	if state == http.StateHijacked || state == http.StateClosed {
		delete(g.conns, nc)
	}
	g.mu.Unlock()
	if c == nil {
		return // a connection accepted before Install, or closed already
	}
	switch state {
	case http.StateNew, http.StateActive:
		// Accepted, or another request on a kept-alive connection: mid-request until its
		// handler has the request in hand.
		g.add(c)
	case http.StateIdle, http.StateHijacked, http.StateClosed:
		g.remove(c)
	}
}

// add counts c as pending (if it is not already), closing the oldest pending connection when
// that makes one too many.
func (g *Guard) add(c *conn) {
	g.mu.Lock()
	if c.el != nil {
		g.mu.Unlock()
		return
	}
	c.el = g.pending.PushBack(c)
	var victim *conn
	if g.pending.Len() > g.cfg.MaxPending {
		victim = g.pending.Remove(g.pending.Front()).(*conn)
		victim.el = nil
		g.evicted++
	}
	g.mu.Unlock()
	if victim != nil {
		_ = victim.nc.Close() // its goroutine sees the error and ends; ConnState says Closed
	}
}

// remove stops counting c as pending.
func (g *Guard) remove(c *conn) {
	g.mu.Lock()
	if c.el != nil {
		g.pending.Remove(c.el)
		c.el = nil
	}
	g.mu.Unlock()
}

// Pending returns how many connections are mid-request.
func (g *Guard) Pending() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.pending.Len()
}

// Evicted returns how many pending connections were closed at the bound.
func (g *Guard) Evicted() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.evicted
}
