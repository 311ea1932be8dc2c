package engineio

import (
	"net"
	"testing"
	"time"
	"unicode/utf8"
)

// discardConn is a net.Conn that swallows writes (the close and pong frames the parser answers
// with) and has nothing to read.
type discardConn struct{ net.Conn }

func (discardConn) Write(b []byte) (int, error)      { return len(b), nil }
func (discardConn) Close() error                     { return nil }
func (discardConn) SetWriteDeadline(time.Time) error { return nil }

// maskedFrame builds a client frame: masked, with the given first byte (FIN, RSV, opcode).
func maskedFrame(b0 byte, payload []byte) []byte {
	mask := [4]byte{1, 2, 3, 4}
	f := []byte{b0}
	switch n := len(payload); {
	case n <= 125:
		f = append(f, 0x80|byte(n))
	case n <= 0xFFFF:
		f = append(f, 0x80|126, byte(n>>8), byte(n))
	default:
		f = append(f, 0x80|127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	f = append(f, mask[:]...)
	for i, c := range payload {
		f = append(f, c^mask[i&3])
	}
	return f
}

// FuzzWebSocketFrames feeds arbitrary bytes, split at an arbitrary point, to the frame parser:
// it must never panic, never deliver more than the payload limit, and deliver text only when it
// is valid UTF-8.
func FuzzWebSocketFrames(f *testing.F) {
	f.Add(maskedFrame(0x81, []byte("4hello")), 3)
	f.Add(maskedFrame(0x82, []byte{1, 2, 3}), 0)
	f.Add(append(maskedFrame(0x01, []byte("4he")), maskedFrame(0x80, []byte("llo"))...), 7)
	f.Add(maskedFrame(0x89, []byte("ping")), 1)
	f.Add(maskedFrame(0x88, []byte{3, 232}), 2)
	f.Add(maskedFrame(0xC1, []byte("rsv1")), 0)                                              // RSV bit set
	f.Add([]byte{0x81, 0x05, 'h', 'e', 'l', 'l', 'o'}, 2)                                    // unmasked
	f.Add(maskedFrame(0x09, []byte("fragmented ping")), 0)                                   // control frame without FIN
	f.Add(maskedFrame(0x80, []byte("orphan continuation")), 0)                               // continuation first
	f.Add(maskedFrame(0x81, []byte{0xff, 0xfe}), 0)                                          // invalid UTF-8
	f.Add([]byte{0x82, 0xFF, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4}, 5) // 2^63 length
	var flood []byte
	flood = append(flood, maskedFrame(0x01, []byte("4"))...)
	for i := 0; i < 300; i++ {
		flood = append(flood, maskedFrame(0x00, []byte("x"))...)
	}
	f.Add(flood, 100) // tiny-fragment flood past the limit
	const limit = 256
	f.Fuzz(func(t *testing.T, data []byte, split int) {
		c := newWSConn(discardConn{}, limit, nil)
		o := &fuzzOwner{t: t, limit: limit}
		c.owner = o
		if split < 0 || split > len(data) {
			split = len(data) / 2
		}
		in := append([]byte(nil), data...) // process unmasks in place
		if c.process(in[:split]) && !o.failed {
			c.process(in[split:])
		}
	})
}

// fuzzOwner checks what a wsConn delivers.
type fuzzOwner struct {
	t      *testing.T
	limit  int
	failed bool
}

func (o *fuzzOwner) onWSMessage(_ *wsConn, op byte, payload []byte) bool {
	if len(payload) > o.limit {
		o.t.Fatalf("delivered %d bytes, limit %d", len(payload), o.limit)
	}
	if op == opText && !utf8.Valid(payload) {
		o.t.Fatalf("delivered invalid UTF-8 text %q", payload)
	}
	if op != opText && op != opBinary {
		o.t.Fatalf("delivered opcode %#x", op)
	}
	return true
}

func (o *fuzzOwner) onWSPing(c *wsConn, payload []byte) { c.control(serverFrame(opPong, payload)) }
func (o *fuzzOwner) onWSGone(*wsConn, error)            { o.failed = true }
