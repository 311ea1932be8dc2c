package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

// ServerSideEvent is an event another server of the cluster sent with ServerSideEmit, as given to
// the handlers registered with OnServerSideEmit.
type ServerSideEvent struct {
	// Name is the event's name.
	Name string

	raw  []json.RawMessage // the arguments after the name, undecoded
	ack  func(reply json.RawMessage)
	once sync.Once
}

// Len returns the number of arguments.
func (e *ServerSideEvent) Len() int { return len(e.raw) }

// Args decodes the arguments into generic values (float64, string, bool, nil, []any,
// map[string]any).
func (e *ServerSideEvent) Args() ([]any, error) {
	out := make([]any, len(e.raw))
	for i, r := range e.raw {
		if err := json.Unmarshal(r, &out[i]); err != nil {
			return nil, fmt.Errorf("socketio: argument %d of %q: %w", i, e.Name, err)
		}
	}
	return out, nil
}

// Bind decodes the arguments, in order, into the values dst points to, with encoding/json rules.
// Extra arguments are ignored; a missing one is an error.
func (e *ServerSideEvent) Bind(dst ...any) error {
	if len(dst) > len(e.raw) {
		return fmt.Errorf("socketio: event %q has %d arguments, want %d", e.Name, len(e.raw), len(dst))
	}
	for i, d := range dst {
		if err := json.Unmarshal(e.raw[i], d); err != nil {
			return fmt.Errorf("socketio: argument %d of %q: %w", i, e.Name, err)
		}
	}
	return nil
}

// HasAck reports whether the sending server waits for an answer (ServerSideEmitWithAck).
func (e *ServerSideEvent) HasAck() bool { return e.ack != nil }

// Ack answers the sending server with one value, encoded as JSON. It may be called once; later
// calls, and calls on an event without an ack, return ErrAckUsed.
func (e *ServerSideEvent) Ack(reply any) error {
	if e.ack == nil {
		return ErrAckUsed
	}
	err := ErrAckUsed
	e.once.Do(func() {
		var b []byte
		if b, err = json.Marshal(reply); err == nil {
			e.ack(b)
		}
	})
	return err
}

// serverSideHandlers holds a namespace's OnServerSideEmit handlers and runs them, one at a time
// and in arrival order, in a mailbox of their own: a slow handler delays the next event, never
// the adapter that received it.
type serverSideHandlers struct {
	mu       sync.RWMutex
	handlers map[string][]func(*ServerSideEvent)
	box      mailbox
}

func (h *serverSideHandlers) on(event string, f func(*ServerSideEvent)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.handlers == nil {
		h.handlers = make(map[string][]func(*ServerSideEvent))
	}
	h.handlers[event] = append(h.handlers[event], f)
}

func (h *serverSideHandlers) lookup(event string) []func(*ServerSideEvent) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.handlers[event]
}

// errServerSideBacklog is returned when another server's events come faster than the handlers
// run and the backlog is full: the event is dropped.
var errServerSideBacklog = errors.New("socketio: server-side event backlog full")

// OnServerSideEmit registers a handler for an event other servers send with ServerSideEmit
// (io.on(event) in Node.js). Several handlers may be registered for one event; they run in turn.
func (n *Namespace) OnServerSideEmit(event string, f func(*ServerSideEvent)) {
	n.serverSide.on(event, f)
}

// HandleServerSideEmit is called by cluster adapters with data, the JSON array [event, args...],
// that another server sent with ServerSideEmit; ack, when not nil, sends the one answer back. It
// returns an error, and runs nothing, if data is not such an array or the backlog of events is
// full.
func (n *Namespace) HandleServerSideEmit(data json.RawMessage, ack func(reply json.RawMessage)) error {
	elems, err := splitArray(data)
	if err != nil {
		return err
	}
	if len(elems) == 0 {
		return errors.New("socketio: server-side event without a name")
	}
	var name string
	if err := json.Unmarshal(elems[0], &name); err != nil {
		return fmt.Errorf("socketio: server-side event name: %w", err)
	}
	handlers := n.serverSide.lookup(name)
	if len(handlers) == 0 {
		return nil
	}
	ev := &ServerSideEvent{Name: name, raw: elems[1:], ack: ack}
	if !n.serverSide.box.tryPost(func() {
		for _, f := range handlers {
			n.serverSide.box.safely(func() { f(ev) })
		}
	}) {
		return errServerSideBacklog
	}
	return nil
}

// ServerSideEmit sends an event to the other servers of the cluster; their OnServerSideEmit
// handlers receive it, this server's do not. Arguments are encoded as JSON. It does not wait for
// the other servers.
func (n *Namespace) ServerSideEmit(event string, args ...any) error {
	data, err := serverSideData(event, args)
	if err != nil {
		return err
	}
	return n.adapter.ServerSideEmit(data)
}

// ServerSideEmitWithAck sends an event to the other servers and waits for each to answer (its
// handler calls ServerSideEvent.Ack), or for ctx to end. It returns the answers decoded into
// generic values; if some server did not answer, it returns those that came with an error.
func (n *Namespace) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]any, error) {
	data, err := serverSideData(event, args)
	if err != nil {
		return nil, err
	}
	raw, err := n.adapter.ServerSideEmitWithAck(ctx, data)
	out := make([]any, 0, len(raw))
	for _, r := range raw {
		var v any
		if json.Unmarshal(r, &v) == nil {
			out = append(out, v)
		}
	}
	return out, err
}

func serverSideData(event string, args []any) (json.RawMessage, error) {
	if event == "" {
		return nil, errors.New("socketio: server-side event without a name")
	}
	data, attachments, err := encodeEventData(event, args)
	if err == nil && len(attachments) > 0 {
		err = errors.New("socketio: server-side events carry JSON, not binary")
	}
	return data, err
}
