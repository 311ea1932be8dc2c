package engineio

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
)

// Engine.IO packet types, as the first byte of every text packet on the wire.
const (
	typeOpen    byte = '0'
	typeClose   byte = '1'
	typePing    byte = '2'
	typePong    byte = '3'
	typeMessage byte = '4'
	typeUpgrade byte = '5'
	typeNoop    byte = '6'
)

// recordSeparator joins packets in a long-polling payload.
const recordSeparator = '\x1e'

// Frame is one Engine.IO packet in its wire form, ready to be queued to any number of sessions.
//
// A text frame holds the packet type byte followed by its data ("4hello", "2"); a binary frame
// holds the raw bytes of a binary message. Frames are immutable once built: the same Frame value
// (and the bytes behind it) is shared by every session a broadcast reaches, so that a broadcast is
// encoded once.
type Frame struct {
	// Binary reports whether Data is a binary message rather than a text packet.
	Binary bool
	// Data is the wire form of the packet (see Frame).
	Data []byte

	// ws caches the WebSocket frame of the packet, built on first use and then shared by
	// every recipient; nil in a Frame made without TextMessage or BinaryMessage, which is then
	// framed on each use.
	ws *wsCache
}

type wsCache struct {
	once  sync.Once
	frame []byte
}

// wsFrame returns the frame as a WebSocket frame ready for the wire.
func (f Frame) wsFrame() []byte {
	build := func() []byte {
		if f.Binary {
			return serverFrame(opBinary, f.Data)
		}
		return serverFrame(opText, f.Data)
	}
	if f.ws == nil {
		return build()
	}
	f.ws.once.Do(func() { f.ws.frame = build() })
	return f.ws.frame
}

// TextMessage returns the frame of an Engine.IO message packet carrying text.
func TextMessage(text []byte) Frame {
	data := make([]byte, 1+len(text))
	data[0] = typeMessage
	copy(data[1:], text)
	return Frame{Data: data, ws: new(wsCache)}
}

// BinaryMessage returns the frame of an Engine.IO message packet carrying binary data.
func BinaryMessage(data []byte) Frame { return Frame{Binary: true, Data: data, ws: new(wsCache)} }

var (
	framePing  = Frame{Data: []byte{typePing}, ws: new(wsCache)}
	frameNoop  = Frame{Data: []byte{typeNoop}, ws: new(wsCache)}
	frameClose = Frame{Data: []byte{typeClose}, ws: new(wsCache)}
)

// errBadPacket is wrapped by every decoding error, so callers can tell bad input from I/O failure.
var errBadPacket = errors.New("engineio: invalid packet")

// decodedPacket is one packet received from a client.
type decodedPacket struct {
	typ    byte   // one of the type* constants
	data   []byte // the data after the type byte, or the decoded binary message
	binary bool
}

// decodeTextPacket parses one text packet as sent over WebSocket or inside a polling payload.
func decodeTextPacket(p []byte) (decodedPacket, error) {
	if len(p) == 0 {
		return decodedPacket{}, fmt.Errorf("%w: empty packet", errBadPacket)
	}
	t := p[0]
	if t < typeOpen || t > typeNoop {
		return decodedPacket{}, fmt.Errorf("%w: unknown type %q", errBadPacket, t)
	}
	return decodedPacket{typ: t, data: p[1:]}, nil
}

// decodePayload splits a long-polling POST body into packets. Binary packets travel as "b"
// followed by base64 and come back decoded.
func decodePayload(body []byte) ([]decodedPacket, error) {
	if len(body) == 0 {
		return nil, fmt.Errorf("%w: empty payload", errBadPacket)
	}
	n := 1 + bytes.Count(body, []byte{recordSeparator})
	packets := make([]decodedPacket, 0, n)
	for i := 0; i < n; i++ {
		part, rest, _ := bytes.Cut(body, []byte{recordSeparator})
		body = rest
		if len(part) > 0 && part[0] == 'b' {
			raw := make([]byte, base64.StdEncoding.DecodedLen(len(part)-1))
			m, err := base64.StdEncoding.Decode(raw, part[1:])
			if err != nil {
				return nil, fmt.Errorf("%w: bad base64: %v", errBadPacket, err)
			}
			packets = append(packets, decodedPacket{typ: typeMessage, data: raw[:m], binary: true})
			continue
		}
		pk, err := decodeTextPacket(part)
		if err != nil {
			return nil, err
		}
		packets = append(packets, pk)
	}
	return packets, nil
}

// appendPayload appends frames to dst in the long-polling payload format.
func appendPayload(dst []byte, frames []Frame) []byte {
	for i, f := range frames {
		if i > 0 {
			dst = append(dst, recordSeparator)
		}
		if f.Binary {
			dst = append(dst, 'b')
			dst = base64.StdEncoding.AppendEncode(dst, f.Data)
			continue
		}
		dst = append(dst, f.Data...)
	}
	return dst
}

// payloadSize returns the exact length appendPayload will produce, so the buffer is allocated once.
func payloadSize(frames []Frame) int {
	n := 0
	for i, f := range frames {
		if i > 0 {
			n++
		}
		if f.Binary {
			n += 1 + base64.StdEncoding.EncodedLen(len(f.Data))
		} else {
			n += len(f.Data)
		}
	}
	return n
}
