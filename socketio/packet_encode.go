package socketio

import "strconv"

// encode returns the Socket.IO text form of p (WITHOUT the Engine.IO "4" prefix), e.g. `2/chat,12["a",1]`; binary types include the `<n>-` count (n = len(p.attachments)). The "/" namespace is omitted; any other namespace is followed by ",".
//
// The attachments themselves are not part of the result: the caller sends
// them as separate binary messages after it. An empty namespace is treated
// like "/" and a negative id as absent, so that a zero-ish packet still
// encodes to something a peer can parse. The result is built in a single
// allocation of exactly the right size because encode runs for every
// outgoing packet, including every broadcast.
func (p *packet) encode() []byte {
	binary := p.typ.isBinary()
	withNsp := p.nsp != "" && p.nsp != "/"

	size := 1 + len(p.data)
	if binary {
		size += decimalLen(int64(len(p.attachments))) + 1
	}
	if withNsp {
		size += len(p.nsp) + 1
	}
	if p.id >= 0 {
		size += decimalLen(p.id)
	}

	b := make([]byte, 0, size)
	b = append(b, '0'+byte(p.typ))
	if binary {
		b = strconv.AppendInt(b, int64(len(p.attachments)), 10)
		b = append(b, '-')
	}
	if withNsp {
		b = append(b, p.nsp...)
		b = append(b, ',')
	}
	if p.id >= 0 {
		b = strconv.AppendInt(b, p.id, 10)
	}
	return append(b, p.data...)
}

// decimalLen returns how many bytes strconv.AppendInt writes for a
// non-negative v, so that encode can size its buffer exactly up front.
func decimalLen(v int64) int {
	n := 1
	for v >= 10 {
		v /= 10
		n++
	}
	return n
}
