package socketio

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
)

// Event is one event received from a client, as given to the handler registered with Socket.On.
type Event struct {
	// Socket is the socket the event came from.
	Socket *Socket
	// Name is the event's name.
	Name string

	raw         []json.RawMessage // the arguments after the name, undecoded
	attachments [][]byte
	ackID       int64 // -1 when the client expects no ack

	ackOnce sync.Once
}

func newEvent(s *Socket, p *packet) (*Event, error) {
	elems, err := splitArray(p.data)
	if err != nil || len(elems) == 0 {
		return nil, fmt.Errorf("socketio: bad event payload: %w", err)
	}
	var name string
	if err := json.Unmarshal(elems[0], &name); err != nil {
		return nil, fmt.Errorf("socketio: bad event name: %w", err)
	}
	return &Event{Socket: s, Name: name, raw: elems[1:], attachments: p.attachments, ackID: p.id}, nil
}

// Len returns the number of arguments.
func (e *Event) Len() int { return len(e.raw) }

// Args decodes the arguments into generic values (float64, string, bool, nil, []any,
// map[string]any), with binary attachments as []byte.
func (e *Event) Args() ([]any, error) {
	out := make([]any, len(e.raw))
	for i, r := range e.raw {
		var err error
		if out[i], err = e.arg(r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (e *Event) arg(r json.RawMessage) (any, error) {
	if e.attachments == nil {
		var v any
		err := json.Unmarshal(r, &v)
		return v, err
	}
	vals, err := decodeArgs(append(append(json.RawMessage{'['}, r...), ']'), e.attachments)
	if err != nil {
		return nil, err
	}
	return vals[0], nil
}

var bytesType = reflect.TypeFor[[]byte]()

// Bind decodes the arguments, in order, into the values dst points to, with encoding/json rules;
// a *[]byte receives a binary attachment. Extra arguments are ignored; a missing one leaves its
// destination untouched and is an error.
func (e *Event) Bind(dst ...any) error {
	if len(dst) > len(e.raw) {
		return fmt.Errorf("socketio: event %q has %d arguments, want %d", e.Name, len(e.raw), len(dst))
	}
	for i, d := range dst {
		if e.attachments != nil && reflect.TypeOf(d) == reflect.PointerTo(bytesType) {
			v, err := e.arg(e.raw[i])
			if err != nil {
				return err
			}
			b, ok := v.([]byte)
			if !ok {
				return fmt.Errorf("socketio: argument %d of %q is not binary", i, e.Name)
			}
			*d.(*[]byte) = b
			continue
		}
		if err := json.Unmarshal(e.raw[i], d); err != nil {
			return fmt.Errorf("socketio: argument %d of %q: %w", i, e.Name, err)
		}
	}
	return nil
}

// HasAck reports whether the client asked for an acknowledgement.
func (e *Event) HasAck() bool { return e.ackID >= 0 }

// Ack answers the client's acknowledgement callback with args. It may be called once, from any
// goroutine; later calls, and calls on an event without an ack, return ErrAckUsed.
func (e *Event) Ack(args ...any) error {
	if e.ackID < 0 {
		return ErrAckUsed
	}
	err := ErrAckUsed
	e.ackOnce.Do(func() {
		var p *packet
		p, err = ackPacket(e.Socket.nsp.name, e.ackID, args)
		if err == nil {
			err = e.Socket.send(p)
		}
	})
	return err
}

// eventPacket builds the packet of an outgoing event to one client.
func eventPacket(nsp, event string, args []any) (*packet, error) {
	p, err := NewPacket(nsp, event, args)
	if err != nil {
		return nil, err
	}
	return p.wire(-1), nil
}

// ackPacket builds the packet answering the client's ack id.
func ackPacket(nsp string, id int64, args []any) (*packet, error) {
	data, attachments, err := encodeEventData("", args)
	if err != nil {
		return nil, err
	}
	p := &packet{typ: packetAck, nsp: nsp, id: id, data: data}
	if len(attachments) > 0 {
		p.typ, p.attachments = packetBinaryAck, attachments
	}
	return p, nil
}
