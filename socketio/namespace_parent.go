package socketio

import (
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"sync"
)

// ParentNamespace makes namespaces on demand: the first client to connect to a name it matches
// creates a child namespace of that name (io.of(regexp) or io.of(func) in Node.js). Middleware,
// connection handlers and event handlers registered on the parent apply to every child, present
// and future. It is safe for concurrent use.
type ParentNamespace struct {
	srv   *Server
	match func(name string, auth json.RawMessage) bool

	mu         sync.RWMutex
	middleware []func(*Socket) error
	onConnect  []func(*Socket)
	handlers   map[string][]func(*Event)
	children   map[string]*Namespace
}

// OfFunc returns a parent namespace whose children are the names allow accepts, given the name
// and the client's auth payload.
func (srv *Server) OfFunc(allow func(name string, auth json.RawMessage) bool) *ParentNamespace {
	p := &ParentNamespace{srv: srv, match: allow, children: map[string]*Namespace{}}
	srv.mu.Lock()
	srv.parents = append(srv.parents, p)
	srv.mu.Unlock()
	return p
}

// OfRegexp returns a parent namespace whose children are the names re matches.
func (srv *Server) OfRegexp(re *regexp.Regexp) *ParentNamespace {
	return srv.OfFunc(func(name string, _ json.RawMessage) bool { return re.MatchString(name) })
}

// Use adds a middleware that runs for every socket connecting to a child, before the child's own.
func (p *ParentNamespace) Use(mw func(*Socket) error) {
	p.mu.Lock()
	p.middleware = append(p.middleware, mw)
	p.mu.Unlock()
}

// OnConnection registers a function called for every socket that joins a child.
func (p *ParentNamespace) OnConnection(f func(*Socket)) {
	p.mu.Lock()
	p.onConnect = append(p.onConnect, f)
	p.mu.Unlock()
}

// On registers an event handler for every socket of every child; see Namespace.On.
func (p *ParentNamespace) On(event string, h func(*Event)) {
	p.mu.Lock()
	if p.handlers == nil {
		p.handlers = map[string][]func(*Event){}
	}
	p.handlers[event] = append(p.handlers[event], h)
	p.mu.Unlock()
}

// Children returns the child namespaces that exist now.
func (p *ParentNamespace) Children() []*Namespace {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return slices.Collect(maps.Values(p.children))
}

// Emit sends an event to every socket of every child.
func (p *ParentNamespace) Emit(event string, args ...any) error {
	for _, n := range p.Children() {
		if err := n.Emit(event, args...); err != nil {
			return err
		}
	}
	return nil
}

func (p *ParentNamespace) hooks() (mws []func(*Socket) error, connects []func(*Socket)) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.middleware, p.onConnect
}

func (p *ParentNamespace) eventHandlers(event string) []func(*Event) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.handlers[event]
}

// joinNamespace returns the namespace a client asks to join, creating a parent's child on first
// use, or nil if none exists or matches. The namespace counts the join as pending until admit
// ends, so that an empty child is not cleaned up under a client that is joining it.
func (srv *Server) joinNamespace(name string, auth json.RawMessage) *Namespace {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	n := srv.namespaces[name]
	if n == nil {
		for _, p := range srv.parents {
			if p.match(name, auth) {
				n = newNamespace(srv, name)
				n.parent = p
				srv.namespaces[name] = n
				p.mu.Lock()
				p.children[name] = n
				p.mu.Unlock()
				break
			}
		}
	}
	if n != nil {
		n.joining++
	}
	return n
}

// joined ends a pending join of n, and removes n if it is an empty child to clean up.
func (srv *Server) joined(n *Namespace) {
	srv.mu.Lock()
	n.joining--
	srv.mu.Unlock()
	srv.cleanup(n)
}

// cleanup removes a child namespace that has no socket and no pending join, when
// Config.CleanupEmptyChildNamespaces is set.
func (srv *Server) cleanup(n *Namespace) {
	if n.parent == nil || !srv.cfg.CleanupEmptyChildNamespaces {
		return
	}
	srv.mu.Lock()
	if n.joining > 0 || n.Count() > 0 || srv.namespaces[n.name] != n {
		srv.mu.Unlock()
		return
	}
	delete(srv.namespaces, n.name)
	srv.mu.Unlock()
	n.parent.mu.Lock()
	if n.parent.children[n.name] == n {
		delete(n.parent.children, n.name)
	}
	n.parent.mu.Unlock()
	_ = n.adapter.Close()
}
