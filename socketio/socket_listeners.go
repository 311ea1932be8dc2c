package socketio

import (
	"context"
	"errors"
	"slices"
)

// socketExtras holds the parts of a socket that most applications never use, so that an idle
// socket of those that do not pays one pointer for them. It is guarded by the socket's mutex.
type socketExtras struct {
	anyIn           listenerList[func(*Event)]
	anyOut          listenerList[func(event string, args []any)]
	middleware      []func(*Event) error
	onError         []func(error)
	onDisconnecting []func(reason string)
	ctx             context.Context // made on the first call to Context, ended with the socket
	cancel          context.CancelFunc
}

// extras returns s.ext, allocating it; s.mu must be held.
func (s *Socket) extrasLocked() *socketExtras {
	if s.ext == nil {
		s.ext = &socketExtras{}
	}
	return s.ext
}

// listenerList is an ordered list of listeners with ids, so that one can be removed (Go
// functions cannot be compared). It is guarded by the socket's mutex.
type listenerList[F any] struct {
	next  uint64
	items []listener[F]
}

type listener[F any] struct {
	id   uint64
	f    F
	once bool
}

func (l *listenerList[F]) add(f F, once, prepend bool) uint64 {
	l.next++
	it := listener[F]{id: l.next, f: f, once: once}
	if prepend {
		l.items = append([]listener[F]{it}, l.items...)
	} else {
		l.items = append(l.items, it)
	}
	return it.id
}

func (l *listenerList[F]) remove(id uint64) {
	for i, it := range l.items {
		if it.id == id {
			l.items = append(l.items[:i:i], l.items[i+1:]...)
			return
		}
	}
}

// take returns the listeners to call now, and drops the once listeners among them.
func (l *listenerList[F]) take() []F {
	if len(l.items) == 0 {
		return nil
	}
	out := make([]F, len(l.items))
	kept := l.items[:0:0]
	for i, it := range l.items {
		out[i] = it.f
		if !it.once {
			kept = append(kept, it)
		}
	}
	l.items = kept
	return out
}

// On registers a handler of an event. Several handlers may be registered for one event; they run
// in the order they were registered. It returns a function that removes this handler.
func (s *Socket) On(event string, handler func(*Event)) (off func()) {
	return s.addHandler(event, handler, false)
}

// Once registers a handler that runs for the next such event only.
func (s *Socket) Once(event string, handler func(*Event)) (off func()) {
	return s.addHandler(event, handler, true)
}

// eventListeners are the handlers of one event.
type eventListeners struct {
	event string
	list  listenerList[func(*Event)]
}

// listenersLocked returns the handlers of event, or nil; s.mu must be held. A linear search:
// sockets listen to a handful of events, and a map cost an idle socket ~250 bytes more.
func (s *Socket) listenersLocked(event string) *listenerList[func(*Event)] {
	for i := range s.handlers {
		if s.handlers[i].event == event {
			return &s.handlers[i].list
		}
	}
	return nil
}

func (s *Socket) addHandler(event string, handler func(*Event), once bool) func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.listenersLocked(event)
	if l == nil {
		s.handlers = append(s.handlers, eventListeners{event: event})
		l = &s.handlers[len(s.handlers)-1].list
	}
	id := l.add(handler, once, false)
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if l := s.listenersLocked(event); l != nil {
			l.remove(id)
		}
	}
}

// Off removes every handler of an event (Node's removeAllListeners(event)).
func (s *Socket) Off(event string) {
	s.mu.Lock()
	s.handlers = slices.DeleteFunc(s.handlers, func(e eventListeners) bool { return e.event == event })
	s.mu.Unlock()
}

// OnAny registers a handler called for every event the client sends, before the event's own
// handlers. It returns a function that removes it.
func (s *Socket) OnAny(handler func(*Event)) (off func()) { return s.addAny(handler, false) }

// PrependAny is OnAny, the handler going first.
func (s *Socket) PrependAny(handler func(*Event)) (off func()) { return s.addAny(handler, true) }

func (s *Socket) addAny(handler func(*Event), prepend bool) func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.extrasLocked().anyIn.add(handler, false, prepend)
	return func() {
		s.mu.Lock()
		s.ext.anyIn.remove(id)
		s.mu.Unlock()
	}
}

// OffAny removes every handler registered with OnAny and PrependAny.
func (s *Socket) OffAny() {
	s.mu.Lock()
	if s.ext != nil {
		s.ext.anyIn = listenerList[func(*Event)]{}
	}
	s.mu.Unlock()
}

// OnAnyOutgoing registers a function called for every event sent to the client (by Emit, or a
// broadcast that reaches it), with the event's name and arguments. It returns a function that
// removes it.
func (s *Socket) OnAnyOutgoing(f func(event string, args []any)) (off func()) {
	return s.addAnyOutgoing(f, false)
}

// PrependAnyOutgoing is OnAnyOutgoing, the function going first.
func (s *Socket) PrependAnyOutgoing(f func(event string, args []any)) (off func()) {
	return s.addAnyOutgoing(f, true)
}

func (s *Socket) addAnyOutgoing(f func(string, []any), prepend bool) func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.extrasLocked().anyOut.add(f, false, prepend)
	s.watchOut.Store(true)
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.ext.anyOut.remove(id)
		s.watchOut.Store(len(s.ext.anyOut.items) > 0)
	}
}

// OffAnyOutgoing removes every function registered with OnAnyOutgoing and PrependAnyOutgoing.
func (s *Socket) OffAnyOutgoing() {
	s.mu.Lock()
	if s.ext != nil {
		s.ext.anyOut = listenerList[func(string, []any)]{}
	}
	s.watchOut.Store(false)
	s.mu.Unlock()
}

// notifyOutgoing tells the outgoing listeners about an event sent to the client. Broadcasts pay
// for it only on sockets that have such listeners.
func (s *Socket) notifyOutgoing(p *Packet) {
	if !s.watchOut.Load() {
		return
	}
	s.mu.Lock()
	var fs []func(string, []any)
	if s.ext != nil {
		fs = s.ext.anyOut.take()
	}
	s.mu.Unlock()
	if len(fs) == 0 {
		return
	}
	name, args, err := p.Event()
	if err != nil {
		return
	}
	for _, f := range fs {
		f(name, args)
	}
}

// Use adds a middleware for every event the client sends: middlewares run in order before the
// event's handlers, and the first error stops the event. The error goes to the socket's OnError
// handlers, and the client receives it as an "error" event with {message, data} (data from a
// *ConnectError-like *EventError).
func (s *Socket) Use(mw func(e *Event) error) {
	s.mu.Lock()
	x := s.extrasLocked()
	x.middleware = append(x.middleware, mw)
	s.mu.Unlock()
}

// EventError refuses an event from a Socket.Use middleware with data for the client.
type EventError struct {
	Message string
	Data    any
}

// Error returns the message.
func (e *EventError) Error() string { return e.Message }

// OnError registers a function called with the error a Socket.Use middleware refused an event
// with.
func (s *Socket) OnError(f func(error)) {
	s.mu.Lock()
	x := s.extrasLocked()
	x.onError = append(x.onError, f)
	s.mu.Unlock()
}

// refuseEvent reports a middleware's refusal to the server's OnError handlers and the client.
func (s *Socket) refuseEvent(err error) {
	s.mu.Lock()
	var handlers []func(error)
	if s.ext != nil {
		handlers = s.ext.onError
	}
	s.mu.Unlock()
	for _, f := range handlers {
		s.client.box.safely(func() { f(err) })
	}
	payload := map[string]any{"message": err.Error()}
	var ee *EventError
	if errors.As(err, &ee) && ee.Data != nil {
		payload["data"] = ee.Data
	}
	_ = s.Emit("error", payload)
}

// OnDisconnecting registers a function called once when the socket is about to leave its
// namespace, with the reason, while it is still in its rooms: the usual place to tell those rooms
// who left.
func (s *Socket) OnDisconnecting(f func(reason string)) {
	s.mu.Lock()
	x := s.extrasLocked()
	x.onDisconnecting = append(x.onDisconnecting, f)
	s.mu.Unlock()
}

// Context returns a context that ends when the socket leaves its namespace, for work done on the
// socket's behalf.
func (s *Socket) Context() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.extrasLocked()
	if x.ctx == nil {
		x.ctx, x.cancel = context.WithCancel(context.Background())
		if s.ended {
			x.cancel()
		}
	}
	return x.ctx
}

// endContextLocked ends the socket's context, if one was asked for. It is called with s.mu held.
func (s *Socket) endContextLocked() {
	if s.ext != nil && s.ext.cancel != nil {
		s.ext.cancel()
	}
}
