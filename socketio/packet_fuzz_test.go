package socketio

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
)

// codecFuzzAttachment is the synthetic attachment number i fed to packets
// that ask for attachments during fuzzing.
func codecFuzzAttachment(i int) []byte {
	return []byte{byte(i), 0xff, byte(i >> 8)}
}

// codecCheckPacket checks the invariants every decoded packet must satisfy
// and that it survives encode → decode unchanged, including its arguments.
func codecCheckPacket(t *testing.T, p *packet) {
	t.Helper()
	if p.typ > packetBinaryAck {
		t.Fatalf("bad type %d", p.typ)
	}
	if p.nsp == "" || p.nsp[0] != '/' {
		t.Fatalf("bad namespace %q", p.nsp)
	}
	if p.id < -1 || p.id > maxAckID {
		t.Fatalf("bad id %d", p.id)
	}
	if p.data != nil && !json.Valid(p.data) {
		t.Fatalf("invalid JSON data %q", p.data)
	}
	if p.typ.isBinary() != (p.attachments != nil) {
		t.Fatalf("%s with attachments %v", p.typ, p.attachments)
	}

	enc := p.encode()
	if len(enc) != cap(enc) {
		t.Fatalf("encode buffer not right-sized: len %d cap %d", len(enc), cap(enc))
	}
	var d decoder
	q, err := d.decodeText(enc)
	for _, a := range p.attachments {
		if err != nil {
			break
		}
		if q != nil {
			t.Fatalf("re-decode of %q complete before its attachments", enc)
		}
		q, err = d.decodeBinary(a)
	}
	if err != nil {
		t.Fatalf("re-decode of %q (from %s): %v", enc, codecFormat(p), err)
	}
	if q == nil {
		t.Fatalf("re-decode of %q still waiting", enc)
	}
	if !codecPacketsEqual(p, q) {
		t.Fatalf("round trip through %q\n got %s\nwant %s", enc, codecFormat(q), codecFormat(p))
	}
	if enc2 := q.encode(); !bytes.Equal(enc, enc2) {
		t.Fatalf("encode not stable: %q then %q", enc, enc2)
	}

	switch p.typ {
	case packetEvent, packetBinaryEvent, packetAck, packetBinaryAck:
	default:
		return
	}
	elems, err := splitArray(p.data)
	if err != nil {
		t.Fatalf("splitArray(%q): %v", p.data, err)
	}
	args, err := decodeArgs(p.data, p.attachments)
	if err != nil {
		// Possible only for numbers outside float64's range.
		return
	}
	if len(args) != len(elems) {
		t.Fatalf("decodeArgs gave %d values, splitArray %d elements", len(args), len(elems))
	}
	if p.typ == packetEvent || p.typ == packetBinaryEvent {
		if name, ok := args[0].(string); !ok || isReservedEventName(name) {
			t.Fatalf("event name %#v accepted", args[0])
		}
	}
	// Re-encoding the decoded arguments and decoding them again must give
	// the same values.
	data, atts, err := encodeEventData("", args)
	if err != nil {
		t.Fatalf("encodeEventData(%#v): %v", args, err)
	}
	if p.attachments != nil && atts == nil {
		atts = [][]byte{}
	}
	args2, err := decodeArgs(data, atts)
	if err != nil {
		t.Fatalf("decodeArgs(%q) after re-encoding: %v", data, err)
	}
	if !reflect.DeepEqual(args, args2) {
		t.Fatalf("arguments changed through %q\n got %#v\nwant %#v", data, args2, args)
	}
}

func FuzzDecodeText(f *testing.F) {
	for _, tc := range decodeTextValidCases {
		f.Add([]byte(tc.in))
	}
	for _, tc := range decodeTextInvalidCases {
		f.Add([]byte(tc.in))
	}
	for _, tc := range encodeCases {
		f.Add(tc.p.encode())
	}
	// The brief's examples as they appear on the wire, Engine.IO "4" prefix
	// included (as Socket.IO text most of these mean something else).
	for _, s := range []string{`42{}`, `42abc["a"]`, `42["error"]`, `451e9-`, `4511-`, `4abc`, `452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		orig := bytes.Clone(msg)
		var d decoder
		p, err := d.decodeText(msg)
		if !bytes.Equal(msg, orig) {
			t.Fatal("decodeText modified its input")
		}
		if err != nil {
			if p != nil {
				t.Fatalf("packet and error: %s, %v", codecFormat(p), err)
			}
			if d.pending != nil || d.want != 0 {
				t.Fatal("decoder pending after an error")
			}
			return
		}
		if p == nil {
			// Waiting for attachments: feed exactly as many as asked.
			if d.pending == nil || d.want <= 0 || d.want > defaultMaxAttachments {
				t.Fatalf("waiting with pending=%v want=%d", d.pending, d.want)
			}
			n := d.want
			for i := range n {
				if p != nil {
					t.Fatalf("complete after %d of %d attachments", i, n)
				}
				if p, err = d.decodeBinary(codecFuzzAttachment(i)); err != nil {
					t.Fatalf("attachment %d: %v", i, err)
				}
			}
			if p == nil || len(p.attachments) != n {
				t.Fatalf("after %d attachments: %s", n, codecFormat(p))
			}
		}
		codecCheckPacket(t, p)
	})
}

// codecScript joins messages into one FuzzDecodeBinarySequence input:
// each message is a kind byte ('t' for text, anything else for binary)
// followed by its body, and messages are separated by 0x1e.
func codecScript(msgs ...string) []byte {
	var b []byte
	for i, m := range msgs {
		if i > 0 {
			b = append(b, 0x1e)
		}
		b = append(b, m...)
	}
	return b
}

// codecHeaderCount reads the attachment count of a binary packet's text
// form independently of the decoder, for the fuzz model.
func codecHeaderCount(msg []byte) int {
	i := bytes.IndexByte(msg, '-')
	if i < 2 {
		return -1
	}
	n, err := strconv.Atoi(string(msg[1:i]))
	if err != nil {
		return -1
	}
	return n
}

func FuzzDecodeBinarySequence(f *testing.F) {
	ph := codecPlaceholder
	seeds := [][]byte{
		codecScript(`t51-["a",`+ph(0)+`]`, "b\x01\x02\x03"),
		codecScript(`t52-/admin,["a",`+ph(0)+`,`+ph(1)+`]`, "b\x01", "b"),
		codecScript(`t61-7[`+ph(0)+`]`, "b\x00", `t2["next"]`),
		codecScript(`t50-["a"]`, `t2["b"]`),
		codecScript("b\x01"),
		codecScript(`t2["a"]`, "b\x01"),
		codecScript(`t51-["a",`+ph(0)+`]`, "b\x01", "b\x02"),
		codecScript(`t52-["a",`+ph(0)+`,`+ph(1)+`]`, "b\x01", `t2["text while waiting"]`, "b\x02", `t2["after reset"]`),
		codecScript(`t510-["a",`+ph(9)+`]`, "b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9"),
		codecScript(`t511-["a"]`, "b\x01"),
		codecScript(`t51-["hello",{"_placeholder":true,"num":"splice"}]`, "b\x01"),
		codecScript(`t52-["hello",{"_placeholder":true,"num":1.5}]`, "b\x01", "b\x02"),
		codecScript(`t51-["hello",{"_placeholder":true,"num":-1}]`, "b\x01"),
		codecScript(`t52-["hello",{"_placeholder":true,"num":10}]`, "b\x01", "b\x02"),
		codecScript(`t51e9-`, "b\x01"),
		codecScript(`t452-["message",`+ph(0)+`,`+ph(1)+`]`, "b\x01\x02\x03", "b\x04\x05\x06"),
		codecScript(`t52-["message",`+ph(0)+`,`+ph(1)+`]`, "b\x01\x02\x03", "b\x04\x05\x06"),
	}
	for _, tc := range decodeTextInvalidCases {
		seeds = append(seeds, codecScript("t"+tc.in, "b\x01"))
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, script []byte) {
		var d decoder
		expect := 0      // attachments the model still expects
		var got [][]byte // attachments the model has seen for the pending packet
		for _, seg := range bytes.Split(script, []byte{0x1e}) {
			isText := len(seg) > 0 && seg[0] == 't'
			var body []byte
			if len(seg) > 0 {
				body = seg[1:]
			}
			// Feed a copy and scribble over it afterwards: the decoder must
			// not keep references to its input.
			in := bytes.Clone(body)
			if isText {
				p, err := d.decodeText(in)
				for i := range in {
					in[i] = '#'
				}
				if err != nil && p != nil {
					t.Fatalf("packet and error: %s, %v", codecFormat(p), err)
				}
				if expect > 0 {
					if err == nil {
						t.Fatalf("text %q accepted while %d attachments expected", body, expect)
					}
					expect, got = 0, nil
					continue
				}
				if err != nil {
					continue
				}
				if p != nil {
					if p.typ.isBinary() && (codecHeaderCount(body) != 0 || len(p.attachments) != 0) {
						t.Fatalf("binary packet %q completed without its attachments", body)
					}
					codecCheckPacket(t, p)
					continue
				}
				expect = codecHeaderCount(body)
				if expect <= 0 || expect > defaultMaxAttachments {
					t.Fatalf("decoder waits for attachments after %q (count %d)", body, expect)
				}
				got = nil
				continue
			}
			p, err := d.decodeBinary(in)
			for i := range in {
				in[i] = '#'
			}
			if expect == 0 {
				if err == nil || p != nil {
					t.Fatalf("unexpected binary message accepted: %s, %v", codecFormat(p), err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("expected attachment refused: %v", err)
			}
			got = append(got, bytes.Clone(body))
			expect--
			if expect > 0 {
				if p != nil {
					t.Fatalf("packet complete with %d attachments still expected", expect)
				}
				continue
			}
			if p == nil {
				t.Fatal("packet not complete after its last attachment")
			}
			if len(p.attachments) != len(got) {
				t.Fatalf("%d attachments, want %d", len(p.attachments), len(got))
			}
			for i := range got {
				if !bytes.Equal(p.attachments[i], got[i]) {
					t.Fatalf("attachment %d = %q, want %q", i, p.attachments[i], got[i])
				}
			}
			codecCheckPacket(t, p)
			got = nil
		}
	})
}
