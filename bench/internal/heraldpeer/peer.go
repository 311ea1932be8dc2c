// Package heraldpeer is the bench protocol (bench/PROTOCOL.md) on Herald's
// socketio package: the server of the Herald peer, importable so that the
// load generator's tests can run it in-process.
package heraldpeer

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"sync"
	"time"

	"github.com/herald-chat/herald/socketio"
)

// Modes of the 'user count' emission.
const (
	ModeNone     = "none"     // never emitted
	ModeTutorial = "tutorial" // emitted to everyone on every change
	ModeMerged   = "merged"   // the latest value, once per 50 ms window
)

// mergeWindow is how long merged mode collects changes before emitting.
const mergeWindow = 50 * time.Millisecond

// Peer is a bench protocol server. Mount it at "/socket.io/". It is safe
// for concurrent use.
type Peer struct {
	srv  *socketio.Server
	mode string

	mu      sync.Mutex // guards the fields below
	n       int        // connected sockets
	pending bool       // merged mode: an emission is scheduled
	timer   *time.Timer
}

// New returns a peer in the given mode ("" means ModeNone) on a socketio
// server made with cfg.
func New(mode string, cfg socketio.Config) (*Peer, error) {
	if mode == "" {
		mode = ModeNone
	}
	switch mode {
	case ModeNone, ModeTutorial, ModeMerged:
	default:
		return nil, fmt.Errorf("heraldpeer: mode %q: want none, tutorial or merged", mode)
	}
	p := &Peer{srv: socketio.NewServer(cfg), mode: mode}
	p.srv.OnConnection(func(s *socketio.Socket) {
		s.On("fanout", func(e *socketio.Event) {
			var payload json.RawMessage
			if err := e.Bind(&payload); err != nil {
				return
			}
			if err := p.srv.Emit("tick", payload); err != nil {
				log.Printf("heraldpeer: emit tick: %v", err)
			}
		})
		s.OnDisconnect(func(string) { p.changed(-1) })
		p.changed(+1)
	})
	return p, nil
}

func (p *Peer) emitCount(n int) {
	if err := p.srv.Emit("user count", n); err != nil {
		log.Printf("heraldpeer: emit user count: %v", err)
	}
}

// changed applies a change of the socket count and emits per the mode.
func (p *Peer) changed(delta int) {
	p.mu.Lock()
	p.n += delta
	n := p.n
	switch p.mode {
	case ModeTutorial:
		p.mu.Unlock()
		p.emitCount(n)
		return
	case ModeMerged:
		if !p.pending {
			p.pending = true
			p.timer = time.AfterFunc(mergeWindow, func() {
				p.mu.Lock()
				p.pending = false
				latest := p.n
				p.mu.Unlock()
				p.emitCount(latest)
			})
		}
	}
	p.mu.Unlock()
}

// Count returns the number of connected sockets.
func (p *Peer) Count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

// ServeHTTP serves the Engine.IO endpoint.
func (p *Peer) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.srv.ServeHTTP(w, r) }

// Close stops a pending count emission and closes the server.
func (p *Peer) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.timer != nil {
		p.timer.Stop()
	}
	p.mu.Unlock()
	return p.srv.Close(ctx)
}
