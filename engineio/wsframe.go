package engineio

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
)

// WebSocket opcodes (RFC 6455, section 5.2).
const (
	opContinuation byte = 0x0
	opText         byte = 0x1
	opBinary       byte = 0x2
	opClose        byte = 0x8
	opPing         byte = 0x9
	opPong         byte = 0xA
)

// WebSocket close codes we send.
const (
	closeNormal          = 1000
	closeProtocolError   = 1002
	closePolicyViolation = 1008
	closeInvalidData     = 1007
	closeTooBig          = 1009
)

// errWSProtocol is wrapped by every framing error: the peer broke RFC 6455.
var errWSProtocol = errors.New("engineio: websocket protocol error")

// frameHeader is a parsed WebSocket frame header.
type frameHeader struct {
	fin       bool
	op        byte
	mask      [4]byte
	length    int // payload length
	headerLen int // bytes the header occupies
}

// parseFrameHeader parses the header at the start of b, as sent by a client. ok is false when b
// does not yet hold the whole header. Frames from a client must be masked, use no extension
// (RSV bits clear: we never negotiate one), and control frames must be final and short.
func parseFrameHeader(b []byte, maxPayload int) (h frameHeader, ok bool, err error) {
	if len(b) < 2 {
		return h, false, nil
	}
	if b[0]&0x70 != 0 {
		return h, false, fmt.Errorf("%w: reserved bits set", errWSProtocol)
	}
	h.fin = b[0]&0x80 != 0
	h.op = b[0] & 0x0F
	switch h.op {
	case opContinuation, opText, opBinary, opClose, opPing, opPong:
	default:
		return h, false, fmt.Errorf("%w: unknown opcode %#x", errWSProtocol, h.op)
	}
	if b[1]&0x80 == 0 {
		return h, false, fmt.Errorf("%w: unmasked client frame", errWSProtocol)
	}
	n := int(b[1] & 0x7F)
	h.headerLen = 2
	switch n {
	case 126:
		h.headerLen = 4
	case 127:
		h.headerLen = 10
	}
	h.headerLen += 4 // the mask
	if len(b) < h.headerLen {
		return h, false, nil
	}
	switch n {
	case 126:
		n = int(binary.BigEndian.Uint16(b[2:4]))
	case 127:
		v := binary.BigEndian.Uint64(b[2:10])
		if v > uint64(maxPayload) {
			return h, false, errTooBig
		}
		n = int(v)
	}
	if h.op >= opClose && (!h.fin || n > 125) {
		return h, false, fmt.Errorf("%w: fragmented or long control frame", errWSProtocol)
	}
	if n > maxPayload {
		return h, false, errTooBig
	}
	h.length = n
	copy(h.mask[:], b[h.headerLen-4:h.headerLen])
	return h, true, nil
}

// errTooBig reports a message over the payload limit.
var errTooBig = errors.New("engineio: message too big")

// unmask XORs p in place with the frame's mask.
func unmask(p []byte, mask [4]byte) {
	for i := range p {
		p[i] ^= mask[i&3]
	}
}

// appendServerFrame appends a final, unmasked frame (the form a server sends) to dst.
func appendServerFrame(dst []byte, op byte, payload []byte) []byte {
	dst = append(dst, 0x80|op)
	switch n := len(payload); {
	case n <= 125:
		dst = append(dst, byte(n))
	case n <= 0xFFFF:
		dst = append(dst, 126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return append(dst, payload...)
}

// serverFrame returns a whole server frame in one right-sized allocation.
func serverFrame(op byte, payload []byte) []byte {
	return appendServerFrame(make([]byte, 0, len(payload)+10), op, payload)
}

// closeFrame returns a close frame with a status code.
func closeFrame(code int) []byte {
	return serverFrame(opClose, []byte{byte(code >> 8), byte(code)})
}

// acceptKey computes Sec-WebSocket-Accept from Sec-WebSocket-Key (RFC 6455, section 4.2.2).
func acceptKey(key string) string {
	h := sha1.New()
	h.Write([]byte(key))
	h.Write([]byte("258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}
