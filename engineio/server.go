package engineio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Handler is the application on top of a Server: it is told of each new session and returns
// what receives that session's messages.
type Handler interface {
	// Open is called once a handshake has succeeded, before the open packet is sent.
	Open(s *Session) SessionHandler
}

// HandlerFunc adapts a function to the Handler interface.
type HandlerFunc func(s *Session) SessionHandler

// Open calls f(s).
func (f HandlerFunc) Open(s *Session) SessionHandler { return f(s) }

// SessionHandler receives one session's messages. Its methods are called one at a time and in
// order: OnMessage never runs concurrently with itself or with OnClose.
type SessionHandler interface {
	// OnMessage is called for every message packet the client sends. data belongs to the
	// callee from then on.
	OnMessage(data []byte, binary bool)
	// OnClose is called exactly once, when the session ends, with the reason (one of the
	// Reason* constants).
	OnClose(reason string)
}

// Server is an Engine.IO v4 server: mount it as an http.Handler at its path (e.g. "/engine.io/").
// It is safe for concurrent use.
type Server struct {
	cfg     Config
	handler Handler

	mu       sync.RWMutex
	sessions map[string]*Session // guarded by mu
	closing  bool                // guarded by mu: refuses new sessions once Close has begun
	// tombstones, guarded by mu, holds sessions their client closed over long-polling a moment
	// ago, so that a GET racing the close packet ends cleanly (see tombstone).
	tombstones map[string]time.Time

	writers *writers // write WebSocket sessions' queues

	pollerOnce sync.Once
	poller     *poller // waits for idle WebSocket connections; nil where unavailable

	count   atomic.Int64
	wg      sync.WaitGroup // one per live session, so Close can wait for them
	closers sync.WaitGroup // goroutines sending a last close frame, which Close also waits for
}

// NewServer returns a Server that hands its sessions to h.
func NewServer(cfg Config, h Handler) *Server {
	return &Server{cfg: cfg.withDefaults(), handler: h, sessions: make(map[string]*Session), writers: newWriters()}
}

// Config returns the server's configuration with its defaults filled in.
func (srv *Server) Config() Config { return srv.cfg }

// Count returns the number of open sessions.
func (srv *Server) Count() int { return int(srv.count.Load()) }

// ServeHTTP answers the Engine.IO requests: the handshake, long-polling GETs and POSTs, and
// WebSocket connections (new ones and upgrades).
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := parseParams(r.URL.RawQuery)
	if !srv.originAllowed(r) {
		errForbidden.write(w)
		return
	}
	srv.writeCORS(w, r)
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if q.eio != "4" {
		errUnsupportedVersion.write(w)
		return
	}
	transport := q.transport
	if transport != "polling" && transport != "websocket" {
		errTransportUnknown.write(w)
		return
	}
	isUpgrade := isWebSocketRequest(r)
	if transport == "websocket" && !isUpgrade {
		errBadRequest.write(w)
		return
	}
	if transport == "polling" && isUpgrade {
		errBadRequest.write(w)
		return
	}
	sid := q.sid
	if sid == "" {
		if transport == "polling" && r.Method != http.MethodGet {
			errBadHandshakeMethod.write(w)
			return
		}
		srv.handshake(w, r, transport)
		return
	}
	s := srv.session(sid)
	if s == nil {
		if transport == "polling" && r.Method == http.MethodGet && srv.takeTombstone(sid) {
			writeNoop(w)
			return
		}
		errSessionUnknown.write(w)
		return
	}
	if transport == "websocket" {
		s.serveUpgrade(w, r)
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.servePollGet(w, r)
	case http.MethodPost:
		s.servePollPost(w, r)
	default:
		errBadRequest.write(w)
	}
}

// handshake opens a new session on the given transport.
func (srv *Server) handshake(w http.ResponseWriter, r *http.Request, transport string) {
	if transport == "websocket" {
		c, early, err := srv.acceptWebSocket(w, r)
		if err != nil {
			return // the handshake has been answered
		}
		s := srv.newSession(r, transportWebSocket)
		if s == nil {
			c.close()
			return
		}
		s.attachWebSocket(c, true, early)
		return
	}
	s := srv.newSession(r, transportPolling)
	if s == nil {
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	// The open packet is the body of the handshake response itself, ahead of anything the
	// handler queued in OnOpen.
	open := s.openPacket(true)
	if srv.cfg.Cookie != nil {
		http.SetCookie(w, srv.cfg.Cookie.forSession(s.ID(), r))
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(open)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(open)
}

// newSession registers a session and runs the handler's OnOpen; nil while the server is closing.
func (srv *Server) newSession(r *http.Request, t transportKind) *Session {
	s := newSession(srv, randomID(), r, t)
	srv.mu.Lock()
	if srv.closing {
		srv.mu.Unlock()
		return nil
	}
	srv.sessions[s.id] = s
	srv.wg.Add(1)
	srv.mu.Unlock()
	srv.count.Add(1)
	// Open may end the session itself (Close, or a Send past the queue bound); dispatchMu makes
	// the OnClose that follows wait until Open has returned the handler to call it on.
	s.dispatchMu.Lock()
	s.startHeartbeat()
	s.handler = srv.handler.Open(s)
	s.dispatchMu.Unlock()
	return s
}

func (srv *Server) session(id string) *Session {
	srv.mu.RLock()
	s := srv.sessions[id]
	srv.mu.RUnlock()
	return s
}

// forget removes a closed session from the table.
func (srv *Server) forget(s *Session) {
	srv.mu.Lock()
	if srv.sessions[s.id] == s {
		delete(srv.sessions, s.id)
	}
	srv.mu.Unlock()
	srv.count.Add(-1)
}

// Close stops accepting sessions, closes every session (queued packets are still written), and
// waits until they are gone or ctx ends; then it cuts whatever remains. The layer above should
// queue its goodbyes (e.g. Socket.IO disconnect packets) before calling Close.
func (srv *Server) Close(ctx context.Context) error {
	srv.mu.Lock()
	srv.closing = true
	all := make([]*Session, 0, len(srv.sessions))
	for _, s := range srv.sessions {
		all = append(all, s)
	}
	srv.mu.Unlock()
	for _, s := range all {
		s.Close(ReasonServerShutdown)
	}
	done := make(chan struct{})
	go func() {
		srv.wg.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		for _, s := range all {
			s.cut()
		}
		<-done
		err = ctx.Err()
	}
	closed := make(chan struct{})
	go func() {
		srv.closers.Wait()
		close(closed)
	}()
	select {
	case <-closed:
	case <-ctx.Done():
		err = ctx.Err() // they end by themselves within WriteTimeout
	}
	srv.pollerOnce.Do(func() {}) // no poller starts after Close
	if srv.poller != nil {
		srv.poller.close()
	}
	return err
}

// netPoller returns the server's poller, started on first use; nil if the platform has none.
func (srv *Server) netPoller() *poller {
	srv.pollerOnce.Do(func() {
		if p, err := newPoller(); err == nil {
			srv.poller = p
		}
	})
	return srv.poller
}

// randomID returns a fresh unguessable session id (120 bits, URL-safe).
func randomID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ErrSessionClosed is returned when sending to a session that has ended.
var ErrSessionClosed = errors.New("engineio: session closed")
