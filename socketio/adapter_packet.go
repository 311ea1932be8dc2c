package socketio

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Packet is an event as adapters carry it between servers: the namespace, the JSON array
// [event, args...] in which each binary argument is a placeholder, and those binary arguments in
// order. It is what a broadcast encodes once; a packet that arrives from another server is built
// with NewPacket and delivered through the same local path. A Packet must not be changed once it
// is handed to an adapter.
type Packet struct {
	// Namespace is the name of the namespace, e.g. "/".
	Namespace string
	// Data is the JSON array [event, args...], with {"_placeholder":true,"num":N} for the Nth
	// attachment.
	Data json.RawMessage
	// Attachments are the binary arguments.
	Attachments [][]byte
}

// NewPacket encodes an event for namespace nsp. Arguments are encoded as JSON; []byte values
// (also inside []any and map[string]any) become attachments.
func NewPacket(nsp, event string, args []any) (*Packet, error) {
	if isReservedEventName(event) {
		return nil, fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	data, attachments, err := encodeEventData(event, args)
	if err != nil {
		return nil, err
	}
	return &Packet{Namespace: nsp, Data: data, Attachments: attachments}, nil
}

// Event returns the event's name and its arguments, decoded into generic values (float64,
// string, bool, nil, []any, map[string]any), with each attachment as []byte.
func (p *Packet) Event() (name string, args []any, err error) {
	var atts [][]byte
	if len(p.Attachments) > 0 {
		atts = p.Attachments
	}
	all, err := decodeArgs(p.Data, atts)
	if err != nil {
		return "", nil, err
	}
	if len(all) == 0 {
		return "", nil, errors.New("socketio: packet has no event name")
	}
	name, ok := all[0].(string)
	if !ok {
		return "", nil, errors.New("socketio: packet's event name is not a string")
	}
	return name, all[1:], nil
}

// wire returns the Socket.IO packet that carries p to a client, with ack id id (-1 for none).
func (p *Packet) wire(id int64) *packet {
	w := &packet{typ: packetEvent, nsp: p.Namespace, id: id, data: p.Data}
	if len(p.Attachments) > 0 {
		w.typ, w.attachments = packetBinaryEvent, p.Attachments
	}
	return w
}
