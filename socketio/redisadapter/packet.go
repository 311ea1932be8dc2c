package redisadapter

import (
	"bytes"
	"encoding/json"
	"math"

	"github.com/herald-chat/herald/socketio"
)

// Between servers a packet travels as notepack writes a Socket.IO packet: {type: 2, data:
// [event, ...args], nsp}, with binary arguments as msgpack bin inside data (never as
// placeholders) and type 2 even then; the receiving server's encoder makes it a binary event.

// eventType is the Socket.IO EVENT packet type.
const eventType = 2

// packetToWire turns a packet into the generic value msgpack carries.
func packetToWire(p *socketio.Packet) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(p.Data))
	dec.UseNumber()
	var data any
	if err := dec.Decode(&data); err != nil {
		return nil, err
	}
	return map[string]any{"type": eventType, "data": fromJSON(data, p.Attachments), "nsp": p.Namespace}, nil
}

// fromJSON replaces, in a value decoded with UseNumber, each number by an int64 or float64 and
// each placeholder by its attachment.
func fromJSON(v any, attachments [][]byte) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	case []any:
		for i, x := range v {
			v[i] = fromJSON(x, attachments)
		}
	case map[string]any:
		if v["_placeholder"] == true && len(attachments) > 0 {
			if n, ok := v["num"].(json.Number); ok {
				if i, err := n.Int64(); err == nil && i >= 0 && i < int64(len(attachments)) {
					return attachments[i]
				}
			}
		}
		for k, x := range v {
			v[k] = fromJSON(x, attachments)
		}
	}
	return v
}

// packetFromWire checks a packet that came from another server for namespace nsp and encodes it
// for this server's clients.
func packetFromWire(v any, nsp string) (*socketio.Packet, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, malformed("packet is %T, not a map", v)
	}
	if got, present := m["nsp"]; present {
		if s, ok := got.(string); !ok || s != nsp {
			return nil, malformed("packet for namespace %v, not %q", got, nsp)
		}
	} else if nsp != "/" {
		return nil, malformed("packet without a namespace, for %q", nsp)
	}
	data, ok := m["data"].([]any)
	if !ok || len(data) == 0 {
		return nil, malformed("packet data is not [event, ...args]")
	}
	name, ok := data[0].(string)
	if !ok {
		return nil, malformed("event name is %T, not a string", data[0])
	}
	for _, a := range data[1:] {
		if !encodable(a) {
			return nil, malformed("argument is not encodable as JSON")
		}
	}
	if name == "" {
		return emptyNamedPacket(nsp, data[1:])
	}
	return socketio.NewPacket(nsp, name, data[1:])
}

// emptyNamedPacket encodes an event named "" (Node.js servers emit those): NewPacket takes an
// empty name for none, so the packet is made under a stand-in name and the name put back.
func emptyNamedPacket(nsp string, args []any) (*socketio.Packet, error) {
	const standIn = `["-"`
	p, err := socketio.NewPacket(nsp, "-", args)
	if err != nil {
		return nil, err
	}
	p.Data = append(json.RawMessage(`[""`), p.Data[len(standIn):]...)
	return p, nil
}

// encodable reports whether v, a decoded msgpack value, has a JSON form (no NaN or infinity).
func encodable(v any) bool {
	switch v := v.(type) {
	case float64:
		return !math.IsNaN(v) && !math.IsInf(v, 0)
	case []any:
		for _, x := range v {
			if !encodable(x) {
				return false
			}
		}
	case map[string]any:
		for _, x := range v {
			if !encodable(x) {
				return false
			}
		}
	}
	return true
}
