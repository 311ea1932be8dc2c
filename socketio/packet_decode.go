package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// errInvalidPacket is wrapped by every decoding error, so that callers can
// tell a protocol violation (close the connection) from other failures with
// errors.Is.
var errInvalidPacket = errors.New("socketio: invalid packet")

// badPacket builds a decoding error that wraps errInvalidPacket and says
// what exactly was wrong, which is what an operator needs when a client is
// disconnected.
func badPacket(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errInvalidPacket, fmt.Sprintf(format, args...))
}

// decoder reassembles packets from Engine.IO messages; one per Engine.IO session, not safe for concurrent use.
//
// The zero value is ready to use and accepts up to defaultMaxAttachments
// attachments per packet. The decoder never keeps a reference to a message
// passed to it, so the caller may reuse its buffers. After an error the
// decoder is back in its initial state, although the caller is expected to
// close the connection.
type decoder struct {
	maxAttachments int     // most attachments per binary packet; 0 (or less) means defaultMaxAttachments
	pending        *packet // binary packet waiting for attachments, nil when none
	want           int     // attachments still expected for pending
}

// decodeText decodes one Engine.IO text message (without its "4" prefix).
// It returns p == nil, err == nil when p is a binary packet whose
// attachments must arrive first through decodeBinary.
func (d *decoder) decodeText(msg []byte) (p *packet, err error) {
	if d.pending != nil {
		want := d.want
		d.reset()
		return nil, badPacket("text message received while %d binary attachment(s) are still expected", want)
	}
	p, count, err := parsePacket(msg, d.limit())
	if err != nil {
		return nil, err
	}
	if !p.typ.isBinary() {
		return p, nil
	}
	// Binary packets always get a non-nil slice, so that decodeArgs knows
	// placeholders must be resolved.
	p.attachments = make([][]byte, 0, count)
	if count == 0 {
		return p, nil
	}
	d.pending, d.want = p, count
	return nil, nil
}

// decodeBinary takes one Engine.IO binary message as the next attachment of
// the pending binary packet, and returns the packet once it is complete. A
// binary message nobody asked for is a protocol violation.
func (d *decoder) decodeBinary(msg []byte) (p *packet, err error) {
	if d.pending == nil {
		return nil, badPacket("unexpected binary message: no attachment is expected")
	}
	att := make([]byte, len(msg))
	copy(att, msg)
	p = d.pending
	p.attachments = append(p.attachments, att)
	d.want--
	if d.want > 0 {
		return nil, nil
	}
	d.reset()
	return p, nil
}

// reset forgets any partly received packet, so that a decoder is never left
// in a half-way state after an error.
func (d *decoder) reset() {
	d.pending, d.want = nil, 0
}

// limit returns the effective attachment limit, so that the zero decoder
// gets the same default as the reference server.
func (d *decoder) limit() int {
	if d.maxAttachments <= 0 {
		return defaultMaxAttachments
	}
	return d.maxAttachments
}

// parsePacket decodes and validates the text form of a packet
// (`<type>[<count>-][<nsp>,][<id>][<payload>]`). It returns the attachment
// count separately because the packet holds only the attachments received
// so far. Everything is validated here, including placeholders, so that a
// bad binary packet is rejected before the server waits for attachments.
func parsePacket(msg []byte, maxAttachments int) (*packet, int, error) {
	if len(msg) == 0 {
		return nil, 0, badPacket("empty message")
	}
	// Engine.IO text messages are UTF-8; refusing anything else here means
	// the namespace and payload can be echoed to any client safely.
	if !utf8.Valid(msg) {
		return nil, 0, badPacket("text message is not valid UTF-8")
	}
	c := msg[0]
	if c < '0' || c > '0'+byte(packetBinaryAck) {
		return nil, 0, badPacket("unknown packet type %q", c)
	}
	p := &packet{typ: packetType(c - '0'), nsp: "/", id: -1}
	i := 1

	// Attachment count: required on binary packets, forbidden elsewhere.
	count := 0
	n := countDigits(msg[i:], maxAttachmentCountDigits+1)
	hasCount := i+n < len(msg) && msg[i+n] == '-'
	switch {
	case p.typ.isBinary():
		if n > maxAttachmentCountDigits {
			return nil, 0, badPacket("%s: attachment count has more than %d digits", p.typ, maxAttachmentCountDigits)
		}
		if n == 0 || !hasCount {
			return nil, 0, badPacket("%s: missing or malformed attachment count (want digits then '-')", p.typ)
		}
		count = int(parseDigits(msg[i : i+n]))
		if count > maxAttachments {
			return nil, 0, badPacket("%s: %d attachments, at most %d allowed", p.typ, count, maxAttachments)
		}
		i += n + 1
	case n > 0 && hasCount:
		return nil, 0, badPacket("%s: attachment count on a non-binary packet", p.typ)
	}

	// Namespace: from a leading "/" up to the next "," or the end.
	if i < len(msg) && msg[i] == '/' {
		end := len(msg)
		next := len(msg)
		if k := bytes.IndexByte(msg[i:], ','); k >= 0 {
			end = i + k
			next = end + 1
		}
		nsp := msg[i:end]
		if bytes.IndexFunc(nsp, isControlRune) >= 0 {
			return nil, 0, badPacket("%s: control character in namespace %q", p.typ, nsp)
		}
		if len(nsp) > 1 {
			p.nsp = string(nsp)
		}
		i = next
	}

	// Ack id: a run of digits that a JavaScript peer can represent.
	n = countDigits(msg[i:], maxAckIDDigits+1)
	if n > maxAckIDDigits {
		return nil, 0, badPacket("%s: ack id has more than %d digits", p.typ, maxAckIDDigits)
	}
	if n > 0 {
		p.id = parseDigits(msg[i : i+n])
		if p.id > maxAckID {
			return nil, 0, badPacket("%s: ack id %d is above 2^53-1", p.typ, p.id)
		}
		i += n
	}

	// Payload: the rest, which must be JSON of a bounded depth.
	if i < len(msg) {
		payload := msg[i:]
		if jsonDepthExceeds(payload, maxPayloadDepth) {
			return nil, 0, badPacket("%s: payload nested deeper than %d levels", p.typ, maxPayloadDepth)
		}
		if !json.Valid(payload) {
			return nil, 0, badPacket("%s: payload is not valid JSON", p.typ)
		}
		p.data = bytes.Clone(payload)
	}

	if err := checkPayload(p, count); err != nil {
		return nil, 0, err
	}
	return p, count, nil
}

// checkPayload enforces what each packet type's payload must look like, so
// that the server code can rely on it without checking again. p.data is
// already known to be valid JSON.
func checkPayload(p *packet, count int) error {
	first := byte(0) // first significant byte of the payload, 0 when absent
	if p.data != nil {
		first = p.data[skipJSONSpace(p.data, 0)]
	}
	switch p.typ {
	case packetConnect:
		if first != 0 && first != '{' {
			return badPacket("%s: payload must be an object", p.typ)
		}
	case packetDisconnect:
		if first != 0 {
			return badPacket("%s: unexpected payload", p.typ)
		}
	case packetConnectError:
		if first != '{' && first != '"' {
			return badPacket("%s: payload must be an object or a string", p.typ)
		}
	case packetEvent, packetBinaryEvent:
		if first != '[' {
			return badPacket("%s: payload must be an array", p.typ)
		}
		if err := checkEventName(p.data); err != nil {
			return badPacket("%s: %v", p.typ, err)
		}
	case packetAck, packetBinaryAck:
		if first != '[' {
			return badPacket("%s: payload must be an array", p.typ)
		}
		if p.id < 0 {
			return badPacket("%s: missing ack id", p.typ)
		}
	}
	if p.typ.isBinary() {
		if err := checkPlaceholders(p.data, count); err != nil {
			return badPacket("%s: %v", p.typ, err)
		}
	}
	return nil
}

// checkEventName verifies that the first element of an event payload is a
// string that is not a reserved event name. data must be a valid JSON
// array. It looks only at that element, without allocating in the common
// case, because it runs for every incoming event.
func checkEventName(data []byte) error {
	i := skipJSONSpace(data, skipJSONSpace(data, 0)+1) // just past "["
	if data[i] == ']' {
		return errors.New("empty event array")
	}
	if data[i] != '"' {
		return errors.New("event name must be a string")
	}
	end := jsonStringEnd(data, i)
	raw := data[i+1 : end-1]
	if bytes.IndexByte(raw, '\\') >= 0 {
		var name string
		if err := json.Unmarshal(data[i:end], &name); err != nil {
			return fmt.Errorf("bad event name: %v", err)
		}
		raw = []byte(name)
	}
	if isReservedEventName(string(raw)) {
		return fmt.Errorf("event name %q is reserved", raw)
	}
	return nil
}

// isReservedEventName reports whether an event name is one the Socket.IO
// API uses itself; a peer may not send those, as they would be confused
// with the library's own events.
func isReservedEventName(name string) bool {
	switch name {
	case "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener":
		return true
	}
	return false
}

// checkPlaceholders verifies that every placeholder object in a binary
// packet's payload names an attachment that will exist, so that resolving
// them later cannot fail and a bad packet is refused before the server
// waits for its attachments. The payload's depth has already been bounded,
// so the recursive decode here is safe. Numbers are kept as written so that
// only exact integers are accepted as "num".
func checkPlaceholders(data json.RawMessage, count int) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return err
	}
	return walkPlaceholders(v, count)
}

// walkPlaceholders is the recursive part of checkPlaceholders.
func walkPlaceholders(v any, count int) error {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			if err := walkPlaceholders(e, count); err != nil {
				return err
			}
		}
	case map[string]any:
		if v["_placeholder"] != true {
			for _, e := range v {
				if err := walkPlaceholders(e, count); err != nil {
					return err
				}
			}
			return nil
		}
		num, ok := v["num"].(json.Number)
		if !ok {
			return errors.New(`placeholder without a numeric "num"`)
		}
		n, err := strconv.ParseInt(string(num), 10, 64)
		if err != nil {
			return fmt.Errorf("placeholder num %s is not an integer", num)
		}
		if n < 0 || n >= int64(count) {
			return fmt.Errorf("placeholder num %d out of range [0, %d)", n, count)
		}
	}
	return nil
}

// isControlRune reports whether r is a control character, which has no
// business in a namespace name and could break framing when echoed back.
func isControlRune(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r < 0xa0)
}

// countDigits returns the length of the run of ASCII digits at the start of
// b, stopping at limit so that a hostile run of digits is not scanned in
// full.
func countDigits(b []byte, limit int) int {
	n := 0
	for n < len(b) && n < limit && b[n] >= '0' && b[n] <= '9' {
		n++
	}
	return n
}

// parseDigits converts a short run of ASCII digits (at most 18, checked by
// the callers) to a number; strconv would need a string conversion first.
func parseDigits(b []byte) int64 {
	var v int64
	for _, c := range b {
		v = v*10 + int64(c-'0')
	}
	return v
}

// skipJSONSpace returns the index of the first byte at or after i that is
// not JSON whitespace (len(b) if none), because JSON allows whitespace
// around every value.
func skipJSONSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// jsonStringEnd returns the index just past the JSON string starting at
// b[i] == '"', honouring backslash escapes, or len(b) when the string is not
// terminated. Callers scan strings with it so that brackets and quotes
// inside strings are never mistaken for structure.
func jsonStringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// jsonDepthExceeds reports whether arrays and objects in b nest deeper than
// limit. It is a flat byte scan (no recursion, no allocation) so that it can
// run on untrusted input before anything recursive does.
func jsonDepthExceeds(b []byte, limit int) bool {
	depth := 0
	for i := 0; i < len(b); {
		switch b[i] {
		case '"':
			i = jsonStringEnd(b, i)
			continue
		case '[', '{':
			depth++
			if depth > limit {
				return true
			}
		case ']', '}':
			depth--
		}
		i++
	}
	return false
}
