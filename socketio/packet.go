package socketio

import (
	"encoding/json"
	"strconv"
)

// packetType is the Socket.IO packet type, sent as the first byte of every
// packet. It is a separate type so that a raw byte cannot be mistaken for it.
type packetType byte

// The Socket.IO v5 packet types. They are typed constants (not iota) because
// their numeric values are fixed by the wire protocol.
const (
	packetConnect      packetType = 0
	packetDisconnect   packetType = 1
	packetEvent        packetType = 2
	packetAck          packetType = 3
	packetConnectError packetType = 4
	packetBinaryEvent  packetType = 5
	packetBinaryAck    packetType = 6
)

// Limits enforced by the decoder. They exist so that a hostile client cannot
// make the server allocate, recurse or wait without bound.
const (
	// defaultMaxAttachments is the attachment limit of a decoder whose
	// maxAttachments is zero; it matches the reference server.
	defaultMaxAttachments = 10
	// maxAttachmentCountDigits bounds the `<n>-` header before it is parsed.
	maxAttachmentCountDigits = 6
	// maxAckIDDigits bounds the ack id before it is parsed.
	maxAckIDDigits = 16
	// maxAckID is the largest ack id a JavaScript peer can represent exactly
	// (Number.MAX_SAFE_INTEGER).
	maxAckID = 1<<53 - 1
	// maxPayloadDepth is the deepest nesting of arrays and objects accepted
	// in a payload, so that decoding it can never recurse deeply.
	maxPayloadDepth = 32
)

// packet is one decoded or to-be-encoded Socket.IO packet.
type packet struct {
	typ         packetType
	nsp         string          // "/" when the wire form has none
	id          int64           // ack id, -1 when absent
	data        json.RawMessage // JSON payload exactly as on the wire (placeholders left in), nil when absent
	attachments [][]byte        // binary packets: the attachments, in order
}

// String names the packet type as the protocol documentation does, so that
// logs and error messages are readable.
func (t packetType) String() string {
	switch t {
	case packetConnect:
		return "CONNECT"
	case packetDisconnect:
		return "DISCONNECT"
	case packetEvent:
		return "EVENT"
	case packetAck:
		return "ACK"
	case packetConnectError:
		return "CONNECT_ERROR"
	case packetBinaryEvent:
		return "BINARY_EVENT"
	case packetBinaryAck:
		return "BINARY_ACK"
	}
	return "UNKNOWN(" + strconv.Itoa(int(t)) + ")"
}

// isBinary reports whether packets of this type carry an attachment count
// and are followed by binary attachments.
func (t packetType) isBinary() bool {
	return t == packetBinaryEvent || t == packetBinaryAck
}
