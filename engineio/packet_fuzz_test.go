package engineio

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// fuzzSeeds are the payloads the other tests send, valid and invalid, as starting points.
var fuzzSeeds = []string{
	// valid
	"4hello", "4", "2", "3", "1", "5", "6", "2probe", "3probe",
	"4hello\x1ebAQID\x1e4wörld ✓\x1e4\x1eb",
	"4a\x1e4b\x1e4c", "b/wA=", "bAQ==", "b", "3\x1e4x\x1e1",
	"4" + strings.Repeat("x", 200),
	`40{"sid":"x"}`, `42["message","hi"]`, `451-["b",{"_placeholder":true,"num":0}]` + "\x1ebAQI=",
	// invalid
	"", "9", "7x", "a", "/", "\x00", "b4x", "x",
	"4a\x1e\x1e4b", "4a\x1e", "\x1e", "\x1e\x1e", "b!!!!", "bAQID=", "4ok\x1e8",
	"b\nAQ\r\nID", "bAR==", "bAQ==AQ", "b====", "bA", "\xff\xfe", "4\xff",
}

// packetsEqual compares decoded packets.
func packetsEqual(a, b []decodedPacket) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].typ != b[i].typ || a[i].binary != b[i].binary || !bytes.Equal(a[i].data, b[i].data) {
			return false
		}
	}
	return true
}

// framesOf turns decoded packets back into the frames that would carry them.
func framesOf(packets []decodedPacket) []Frame {
	frames := make([]Frame, len(packets))
	for i, p := range packets {
		if p.binary {
			frames[i] = BinaryMessage(bytes.Clone(p.data))
		} else {
			frames[i] = Frame{Data: append([]byte{p.typ}, p.data...)}
		}
	}
	return frames
}

// FuzzDecodePayload checks the long-polling payload decoder on arbitrary bodies: it never panics,
// it only fails with errBadPacket, and whatever it accepts survives a round trip through
// appendPayload (with payloadSize exact). The same input is also tried as one WebSocket text
// packet.
func FuzzDecodePayload(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		orig := bytes.Clone(body)
		packets, err := decodePayload(body)
		if !bytes.Equal(body, orig) {
			t.Fatalf("decodePayload modified its input")
		}
		if err != nil {
			if !errors.Is(err, errBadPacket) {
				t.Fatalf("error %v does not wrap errBadPacket", err)
			}
			if packets != nil {
				t.Fatalf("packets returned with an error")
			}
		} else {
			if want := bytes.Count(body, []byte{recordSeparator}) + 1; len(packets) != want {
				t.Fatalf("%d packets from %d records", len(packets), want)
			}
			for _, p := range packets {
				if p.typ < typeOpen || p.typ > typeNoop || (p.binary && p.typ != typeMessage) {
					t.Fatalf("decoded packet of type %q (binary %v)", p.typ, p.binary)
				}
			}
			frames := framesOf(packets)
			again := appendPayload(nil, frames)
			if n := payloadSize(frames); n != len(again) {
				t.Fatalf("payloadSize = %d, appendPayload wrote %d", n, len(again))
			}
			back, err := decodePayload(again)
			if err != nil {
				t.Fatalf("re-encoded payload %q does not decode: %v", again, err)
			}
			if !packetsEqual(packets, back) {
				t.Fatalf("round trip of %q through %q changed the packets", body, again)
			}
		}

		p, err := decodeTextPacket(body)
		switch {
		case err != nil && !errors.Is(err, errBadPacket):
			t.Fatalf("decodeTextPacket error %v does not wrap errBadPacket", err)
		case err == nil && (len(body) == 0 || p.typ != body[0] || !bytes.Equal(p.data, body[1:]) || p.binary):
			t.Fatalf("decodeTextPacket(%q) = %+v", body, p)
		case err == nil && (p.typ < typeOpen || p.typ > typeNoop):
			t.Fatalf("decodeTextPacket(%q) accepted type %q", body, p.typ)
		}
	})
}

// TestDecodePayload pins the decoder's answers for the seeds, so that they are checked on every
// run and not only while fuzzing.
func TestDecodePayload(t *testing.T) {
	cases := []struct {
		in   string
		want []decodedPacket
	}{
		{"4hello", []decodedPacket{{typ: '4', data: []byte("hello")}}},
		{"2probe", []decodedPacket{{typ: '2', data: []byte("probe")}}},
		{"4a\x1ebAQID\x1e1", []decodedPacket{
			{typ: '4', data: []byte("a")},
			{typ: '4', data: []byte{1, 2, 3}, binary: true},
			{typ: '1', data: []byte{}},
		}},
		{"b", []decodedPacket{{typ: '4', data: []byte{}, binary: true}}},
		{"4", []decodedPacket{{typ: '4', data: []byte{}}}},
	}
	for _, c := range cases {
		got, err := decodePayload([]byte(c.in))
		if err != nil || !packetsEqual(got, c.want) {
			t.Errorf("decodePayload(%q) = %+v, %v", c.in, got, err)
		}
	}
	for _, bad := range []string{"", "9", "4a\x1e\x1e4b", "4a\x1e", "b!!!!", "bAQID=", "x", "\x1e"} {
		if got, err := decodePayload([]byte(bad)); err == nil || !errors.Is(err, errBadPacket) {
			t.Errorf("decodePayload(%q) = %+v, %v; want an error", bad, got, err)
		}
	}
	frames := []Frame{TextMessage([]byte("hi")), BinaryMessage([]byte{0xff}), framePing, BinaryMessage(nil)}
	got := appendPayload(nil, frames)
	if want := "4hi\x1eb/w==\x1e2\x1eb"; string(got) != want {
		t.Errorf("appendPayload = %q, want %q", got, want)
	}
	if n := payloadSize(frames); n != len(got) {
		t.Errorf("payloadSize = %d, want %d", n, len(got))
	}
	if got := appendPayload(nil, nil); len(got) != 0 {
		t.Errorf("appendPayload of nothing = %q", got)
	}
}
