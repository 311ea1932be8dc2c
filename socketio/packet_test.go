package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// codecPlaceholder returns the placeholder text for attachment n, to keep
// the tables readable.
func codecPlaceholder(n int) string {
	return `{"_placeholder":true,"num":` + strconv.Itoa(n) + `}`
}

// codecNested returns `2["a",[[...]]]` whose payload nests depth levels.
func codecNested(depth int) string {
	return `2["a",` + strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1) + `]`
}

// decodeTextValidCases are Socket.IO text messages (no Engine.IO "4"
// prefix) that must decode, with what they decode to. Binary packets that
// wait for attachments list the attachment count in want; the tests feed
// that many attachments.
var decodeTextValidCases = []struct {
	name string
	in   string
	want packet
}{
	{"connect main", `0`, packet{typ: packetConnect, nsp: "/", id: -1}},
	{"connect nsp comma", `0/admin,`, packet{typ: packetConnect, nsp: "/admin", id: -1}},
	{"connect nsp end", `0/admin`, packet{typ: packetConnect, nsp: "/admin", id: -1}},
	{"connect custom end", `0/custom`, packet{typ: packetConnect, nsp: "/custom", id: -1}},
	{"connect slash comma", `0/,`, packet{typ: packetConnect, nsp: "/", id: -1}},
	{"connect payload", `0{"token":"123"}`, packet{typ: packetConnect, nsp: "/", id: -1, data: json.RawMessage(`{"token":"123"}`)}},
	{"connect nsp payload", `0/admin,{"token":"123"}`, packet{typ: packetConnect, nsp: "/admin", id: -1, data: json.RawMessage(`{"token":"123"}`)}},
	{"connect nsp non-ascii", `0/héllo,{}`, packet{typ: packetConnect, nsp: "/héllo", id: -1, data: json.RawMessage(`{}`)}},
	{"connect nsp with brace", `0/a{"x":1}`, packet{typ: packetConnect, nsp: `/a{"x":1}`, id: -1}},
	{"disconnect", `1`, packet{typ: packetDisconnect, nsp: "/", id: -1}},
	{"disconnect nsp", `1/admin,`, packet{typ: packetDisconnect, nsp: "/admin", id: -1}},
	{"event", `2["foo"]`, packet{typ: packetEvent, nsp: "/", id: -1, data: json.RawMessage(`["foo"]`)}},
	{"event nsp", `2/admin,["bar"]`, packet{typ: packetEvent, nsp: "/admin", id: -1, data: json.RawMessage(`["bar"]`)}},
	{"event id", `212["foo"]`, packet{typ: packetEvent, nsp: "/", id: 12, data: json.RawMessage(`["foo"]`)}},
	{"event nsp id", `2/admin,13["foo",1,{"a":[true]}]`, packet{typ: packetEvent, nsp: "/admin", id: 13, data: json.RawMessage(`["foo",1,{"a":[true]}]`)}},
	{"event id zero", `20["foo"]`, packet{typ: packetEvent, nsp: "/", id: 0, data: json.RawMessage(`["foo"]`)}},
	{"event id leading zeros", `2007["foo"]`, packet{typ: packetEvent, nsp: "/", id: 7, data: json.RawMessage(`["foo"]`)}},
	{"event max id", `29007199254740991["foo"]`, packet{typ: packetEvent, nsp: "/", id: 1<<53 - 1, data: json.RawMessage(`["foo"]`)}},
	{"event 16 digit id", `20000000000000001["foo"]`, packet{typ: packetEvent, nsp: "/", id: 1, data: json.RawMessage(`["foo"]`)}},
	{"event error name (42[\"error\"])", `2["error"]`, packet{typ: packetEvent, nsp: "/", id: -1, data: json.RawMessage(`["error"]`)}},
	{"event reserved prefix", `2["connecting"]`, packet{typ: packetEvent, nsp: "/", id: -1, data: json.RawMessage(`["connecting"]`)}},
	{"event escaped name", `2["\u0061bc"]`, packet{typ: packetEvent, nsp: "/", id: -1, data: json.RawMessage(`["\u0061bc"]`)}},
	{"event empty name", `2[""]`, packet{typ: packetEvent, nsp: "/", id: -1, data: json.RawMessage(`[""]`)}},
	{"event whitespace", "2 [ \"foo\" , 1 ]\n", packet{typ: packetEvent, nsp: "/", id: -1, data: json.RawMessage(" [ \"foo\" , 1 ]\n")}},
	{"event placeholder-like data in text packet", `2["a",{"_placeholder":true,"num":99}]`, packet{typ: packetEvent, nsp: "/", id: -1, data: json.RawMessage(`["a",{"_placeholder":true,"num":99}]`)}},
	{"event depth 32", codecNested(32), packet{typ: packetEvent, nsp: "/", id: -1, data: json.RawMessage(codecNested(32)[1:])}},
	{"event brackets in strings", `2["a","[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"]]"]`, packet{typ: packetEvent, nsp: "/", id: -1, data: json.RawMessage(`["a","[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"]]"]`)}},
	{"ack", `312["bar"]`, packet{typ: packetAck, nsp: "/", id: 12, data: json.RawMessage(`["bar"]`)}},
	{"ack empty", `312[]`, packet{typ: packetAck, nsp: "/", id: 12, data: json.RawMessage(`[]`)}},
	{"ack nsp", `3/admin,13["bar"]`, packet{typ: packetAck, nsp: "/admin", id: 13, data: json.RawMessage(`["bar"]`)}},
	{"connect error object", `4{"message":"Not authorized"}`, packet{typ: packetConnectError, nsp: "/", id: -1, data: json.RawMessage(`{"message":"Not authorized"}`)}},
	{"connect error string", `4"Not authorized"`, packet{typ: packetConnectError, nsp: "/", id: -1, data: json.RawMessage(`"Not authorized"`)}},
	{"connect error nsp", `4/ns,{"message":"Invalid namespace"}`, packet{typ: packetConnectError, nsp: "/ns", id: -1, data: json.RawMessage(`{"message":"Invalid namespace"}`)}},
	{"binary event", `51-["baz",` + codecPlaceholder(0) + `]`, packet{typ: packetBinaryEvent, nsp: "/", id: -1, data: json.RawMessage(`["baz",` + codecPlaceholder(0) + `]`), attachments: [][]byte{{0}}}},
	{"binary event two nsp", `52-/admin,["baz",` + codecPlaceholder(0) + `,` + codecPlaceholder(1) + `]`, packet{typ: packetBinaryEvent, nsp: "/admin", id: -1, data: json.RawMessage(`["baz",` + codecPlaceholder(0) + `,` + codecPlaceholder(1) + `]`), attachments: [][]byte{{0}, {1}}}},
	{"binary event zero attachments", `50-["baz"]`, packet{typ: packetBinaryEvent, nsp: "/", id: -1, data: json.RawMessage(`["baz"]`), attachments: [][]byte{}}},
	{"binary event max attachments", `510-["baz"]`, packet{typ: packetBinaryEvent, nsp: "/", id: -1, data: json.RawMessage(`["baz"]`), attachments: [][]byte{{0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}}}},
	{"binary event count leading zeros", `5000001-["baz",` + codecPlaceholder(0) + `]`, packet{typ: packetBinaryEvent, nsp: "/", id: -1, data: json.RawMessage(`["baz",` + codecPlaceholder(0) + `]`), attachments: [][]byte{{0}}}},
	{"binary event nested placeholder", `52-["baz",{"x":[` + codecPlaceholder(1) + `]},` + codecPlaceholder(0) + `]`, packet{typ: packetBinaryEvent, nsp: "/", id: -1, data: json.RawMessage(`["baz",{"x":[` + codecPlaceholder(1) + `]},` + codecPlaceholder(0) + `]`), attachments: [][]byte{{0}, {1}}}},
	{"binary event placeholder false ignored", `51-["baz",{"_placeholder":false,"num":"x"},` + codecPlaceholder(0) + `]`, packet{typ: packetBinaryEvent, nsp: "/", id: -1, data: json.RawMessage(`["baz",{"_placeholder":false,"num":"x"},` + codecPlaceholder(0) + `]`), attachments: [][]byte{{0}}}},
	{"binary event placeholder key order", `51-["baz",{"num":0,"_placeholder":true}]`, packet{typ: packetBinaryEvent, nsp: "/", id: -1, data: json.RawMessage(`["baz",{"num":0,"_placeholder":true}]`), attachments: [][]byte{{0}}}},
	{"binary ack", `61-15["bar",` + codecPlaceholder(0) + `]`, packet{typ: packetBinaryAck, nsp: "/", id: 15, data: json.RawMessage(`["bar",` + codecPlaceholder(0) + `]`), attachments: [][]byte{{0}}}},
	{"binary ack nsp", `61-/admin,1[` + codecPlaceholder(0) + `]`, packet{typ: packetBinaryAck, nsp: "/admin", id: 1, data: json.RawMessage(`[` + codecPlaceholder(0) + `]`), attachments: [][]byte{{0}}}},
}

// decodeTextInvalidCases are Socket.IO text messages (no Engine.IO "4"
// prefix) that the decoder must refuse. The brief's examples are given with
// their Engine.IO prefix in the name.
var decodeTextInvalidCases = []struct {
	name string
	in   string
}{
	{"empty", ``},
	{"type 7", `7`},
	{"type 9", `9["a"]`},
	{"type letter", `a`},
	{"type slash", `/admin,`},
	{"type NUL", "\x00"},
	// attachment counts
	{"count 51e9- (451e9-)", `51e9-`},
	{"count over max 511- (4511-)", `511-`},
	{"count over max with payload", `511-["a"]`},
	{"count 7 digits", `51234567-["a"]`},
	{"count 7 digits zero", `50000000-["a"]`},
	{"count 6 digits over max", `5999999-["a"]`},
	{"binary without count", `5["a"]`},
	{"binary bare", `5`},
	{"binary dash only", `5-["a"]`},
	{"binary count without dash", `51["a"]`},
	{"binary ack without count", `615["a"]`},
	{"count on event", `21-["a"]`},
	{"count on connect", `01-`},
	{"count on ack", `31-1["a"]`},
	{"huge digit run on binary", `5` + strings.Repeat("9", 100000) + `-["a"]`},
	// namespaces
	{"nsp invalid utf-8", "2/\xff,[\"a\"]"},
	{"payload invalid utf-8", "2[\"a\xff\"]"},
	{"event name invalid utf-8", "2[\"\xc3\"]"},
	{"nsp record separator", "0/a\x1eb,"},
	{"nsp NUL", "0/a\x00"},
	{"nsp tab", "2/a\tb,[\"a\"]"},
	{"nsp DEL", "0/a\x7f,"},
	{"nsp C1 control", "0/a\u0085,"},
	{"event nsp without payload", `2/admin,`},
	{"event nsp no comma", `2/admin["a"]`},
	// ack ids
	{"id 2^70", `21180591620717411303424["a"]`},
	{"id 17 digits", `212345678901234567["a"]`},
	{"id 2^53", `29007199254740992["a"]`},
	{"id 16 nines", `29999999999999999["a"]`},
	{"huge digit run as id", `2` + strings.Repeat("1", 100000) + `["a"]`},
	// payload JSON
	{"42abc[...]", `2abc["a"]`},
	{"4abc", `4abc`},
	{"event truncated", `2["a"`},
	{"event trailing bracket", `2["a"]]`},
	{"event trailing garbage", `2["a"] x`},
	{"event two values", `2["a"]["b"]`},
	{"event single quotes", `2['a']`},
	{"event whitespace only", "2 "},
	{"event depth 33", codecNested(33)},
	{"100000 [", `2` + strings.Repeat("[", 100000)},
	{"100000 [ balanced", `2` + strings.Repeat("[", 100000) + `"a"` + strings.Repeat("]", 100000)},
	{"100000 { ", `0` + strings.Repeat(`{"a":`, 100000)},
	// per type
	{"connect array", `0[]`},
	{"connect string", `0"a"`},
	{"connect number", `0/a,1.5`},
	{"connect null", `0null`},
	{"disconnect payload", `1{}`},
	{"disconnect array", `1/admin,["a"]`},
	{"event 42{}", `2{}`},
	{"event empty 2[]", `2[]`},
	{"event no payload", `2`},
	{"event id no payload", `212`},
	{"event string", `2"a"`},
	{"event null", `2null`},
	{"event toString", `2[{"toString":"foo"}]`},
	{"event true first", `2[true,"foo"]`},
	{"event null first", `2[null,"bar"]`},
	{"event number first", `2[1,"bar"]`},
	{"event array first", `2[["a"],"bar"]`},
	{"event reserved connect", `2["connect"]`},
	{"event reserved connect_error", `2["connect_error"]`},
	{"event reserved disconnect", `2["disconnect"]`},
	{"event reserved disconnecting", `2["disconnecting"]`},
	{"event reserved newListener", `2["newListener"]`},
	{"event reserved removeListener", `2["removeListener",1]`},
	{"event reserved escaped", `2["conn\u0065ct"]`},
	{"event reserved nsp id", `2/admin,5["disconnect"]`},
	{"ack no id", `3["a"]`},
	{"ack no payload", `312`},
	{"ack object", `312{}`},
	{"ack string", `312"a"`},
	{"connect error no payload", `4`},
	{"connect error id no payload", `44`},
	{"connect error array", `4["a"]`},
	{"connect error number", `4/a,1`},
	{"connect error null", `4null`},
	{"binary event empty", `50-[]`},
	{"binary event object", `50-{}`},
	{"binary event reserved", `51-["connect",` + `{"_placeholder":true,"num":0}]`},
	{"binary ack no id", `61-[{"_placeholder":true,"num":0}]`},
	{"binary ack object", `61-1{}`},
	// placeholders
	{"placeholder num splice", `51-["hello",{"_placeholder":true,"num":"splice"}]`},
	{"placeholder num 1.5", `52-["hello",{"_placeholder":true,"num":1.5}]`},
	{"placeholder num -1", `51-["hello",{"_placeholder":true,"num":-1}]`},
	{"placeholder num 10", `52-["hello",{"_placeholder":true,"num":10}]`},
	{"placeholder num = count", `51-["hello",{"_placeholder":true,"num":1}]`},
	{"placeholder num 1.0", `52-["hello",{"_placeholder":true,"num":1.0}]`},
	{"placeholder num 1e0", `52-["hello",{"_placeholder":true,"num":1e0}]`},
	{"placeholder num huge", `51-["hello",{"_placeholder":true,"num":99999999999999999999999}]`},
	{"placeholder num null", `51-["hello",{"_placeholder":true,"num":null}]`},
	{"placeholder num missing", `51-["hello",{"_placeholder":true}]`},
	{"placeholder num array", `51-["hello",{"_placeholder":true,"num":[0]}]`},
	{"placeholder with zero attachments", `50-["hello",{"_placeholder":true,"num":0}]`},
	{"placeholder nested bad", `51-["hello",{"x":[{"_placeholder":true,"num":5}]}]`},
	{"placeholder duplicate num", `51-["hello",{"_placeholder":true,"num":0,"num":"x"}]`},
	{"placeholder in binary ack", `61-1[{"_placeholder":true,"num":1}]`},
	{"placeholder nsp", `52-/admin,["hello",{"_placeholder":true,"num":"0"}]`},
}

// codecPacketsEqual compares two packets field by field; attachments are
// compared by content, but nil and empty must agree too, because decodeArgs
// depends on the difference.
func codecPacketsEqual(a, b *packet) bool {
	if a.typ != b.typ || a.nsp != b.nsp || a.id != b.id || !bytes.Equal(a.data, b.data) {
		return false
	}
	if (a.data == nil) != (b.data == nil) || (a.attachments == nil) != (b.attachments == nil) {
		return false
	}
	if len(a.attachments) != len(b.attachments) {
		return false
	}
	for i := range a.attachments {
		if !bytes.Equal(a.attachments[i], b.attachments[i]) {
			return false
		}
	}
	return true
}

// codecFormat renders a packet for failure messages.
func codecFormat(p *packet) string {
	if p == nil {
		return "<nil>"
	}
	var b strings.Builder
	b.WriteString("{" + p.typ.String() + " nsp=" + strconv.Quote(p.nsp) + " id=" + strconv.FormatInt(p.id, 10))
	if p.data == nil {
		b.WriteString(" data=<nil>")
	} else {
		b.WriteString(" data=" + strconv.Quote(string(p.data)))
	}
	if p.attachments != nil {
		b.WriteString(" attachments=[")
		for i, a := range p.attachments {
			if i > 0 {
				b.WriteString(" ")
			}
			b.WriteString(strconv.Quote(string(a)))
		}
		b.WriteString("]")
	}
	return b.String() + "}"
}

// codecDecodeAll decodes a text message and then feeds the given
// attachments, checking that the decoder asks for exactly that many.
func codecDecodeAll(t testing.TB, d *decoder, msg []byte, attachments [][]byte) *packet {
	t.Helper()
	p, err := d.decodeText(msg)
	if err != nil {
		t.Fatalf("decodeText(%q): %v", msg, err)
	}
	for i, a := range attachments {
		if p != nil {
			t.Fatalf("decodeText(%q): complete after %d of %d attachments", msg, i, len(attachments))
		}
		if p, err = d.decodeBinary(a); err != nil {
			t.Fatalf("decodeBinary #%d after %q: %v", i, msg, err)
		}
	}
	if p == nil {
		t.Fatalf("decodeText(%q): still waiting after %d attachments", msg, len(attachments))
	}
	if d.pending != nil || d.want != 0 {
		t.Fatalf("decoder still pending after a complete packet")
	}
	return p
}

func TestDecodeTextValid(t *testing.T) {
	for _, tc := range decodeTextValidCases {
		t.Run(tc.name, func(t *testing.T) {
			var d decoder
			got := codecDecodeAll(t, &d, []byte(tc.in), tc.want.attachments)
			if !codecPacketsEqual(got, &tc.want) {
				t.Fatalf("decode(%q)\n got %s\nwant %s", tc.in, codecFormat(got), codecFormat(&tc.want))
			}
		})
	}
}

func TestDecodeTextInvalid(t *testing.T) {
	for _, tc := range decodeTextInvalidCases {
		t.Run(tc.name, func(t *testing.T) {
			var d decoder
			p, err := d.decodeText([]byte(tc.in))
			if err == nil {
				t.Fatalf("decodeText(%.80q) = %s, nil; want an error", tc.in, codecFormat(p))
			}
			if p != nil {
				t.Fatalf("decodeText(%.80q) returned a packet with error %v", tc.in, err)
			}
			if !errors.Is(err, errInvalidPacket) {
				t.Fatalf("error %v does not wrap errInvalidPacket", err)
			}
			if d.pending != nil || d.want != 0 {
				t.Fatalf("decoder left pending after error")
			}
			t.Logf("%.60q: %v", tc.in, err)
		})
	}
}

// TestDecodeDeepNestingFast checks that hostile nesting is refused by the
// flat depth scan, quickly, for both brackets and braces.
func TestDecodeDeepNestingFast(t *testing.T) {
	for _, in := range []string{
		`2` + strings.Repeat("[", 100000),
		`2` + strings.Repeat("[", 1000000),
		`51-` + strings.Repeat(`[{"a":`, 100000),
	} {
		var d decoder
		start := time.Now()
		_, err := d.decodeText([]byte(in))
		if err == nil || !strings.Contains(err.Error(), "deeper") {
			t.Fatalf("decodeText(%d bytes of nesting): err = %v, want depth error", len(in), err)
		}
		if el := time.Since(start); el > time.Second {
			t.Fatalf("depth check took %v", el)
		}
	}
}

func TestDecodeMaxAttachments(t *testing.T) {
	d := decoder{maxAttachments: 2}
	if _, err := d.decodeText([]byte(`53-["a"]`)); err == nil {
		t.Fatal("3 attachments accepted with maxAttachments 2")
	}
	p := codecDecodeAll(t, &d, []byte(`52-["a",`+codecPlaceholder(1)+`]`), [][]byte{{1}, {2}})
	if len(p.attachments) != 2 {
		t.Fatalf("got %d attachments", len(p.attachments))
	}
	var def decoder
	if _, err := def.decodeText([]byte(`510-["a"]`)); err != nil {
		t.Fatalf("default decoder refused 10 attachments: %v", err)
	}
	def = decoder{}
	if _, err := def.decodeText([]byte(`511-["a"]`)); err == nil {
		t.Fatal("default decoder accepted 11 attachments")
	}
}

func TestDecodeBinarySequence(t *testing.T) {
	t.Run("binary when none expected", func(t *testing.T) {
		var d decoder
		if p, err := d.decodeBinary([]byte{1, 2, 3}); err == nil || p != nil {
			t.Fatalf("decodeBinary on idle decoder = %v, %v; want error", p, err)
		}
		// Also after a complete binary packet.
		codecDecodeAll(t, &d, []byte(`51-["a",`+codecPlaceholder(0)+`]`), [][]byte{{1}})
		if _, err := d.decodeBinary([]byte{1}); err == nil {
			t.Fatal("extra attachment accepted")
		}
		// And after a complete text packet.
		codecDecodeAll(t, &d, []byte(`2["a"]`), nil)
		if _, err := d.decodeBinary([]byte{1}); err == nil {
			t.Fatal("attachment after a text packet accepted")
		}
	})
	t.Run("text while attachments expected", func(t *testing.T) {
		var d decoder
		p, err := d.decodeText([]byte(`52-["a",` + codecPlaceholder(0) + `,` + codecPlaceholder(1) + `]`))
		if p != nil || err != nil {
			t.Fatalf("got %v, %v; want waiting", p, err)
		}
		if p, err = d.decodeBinary([]byte{1}); p != nil || err != nil {
			t.Fatalf("first attachment: %v, %v", p, err)
		}
		if p, err = d.decodeText([]byte(`2["b"]`)); err == nil || p != nil {
			t.Fatalf("text during attachments = %v, %v; want error", p, err)
		}
		if !errors.Is(err, errInvalidPacket) {
			t.Fatalf("error %v does not wrap errInvalidPacket", err)
		}
		// The decoder is reset, not stuck.
		if _, err := d.decodeBinary([]byte{2}); err == nil {
			t.Fatal("attachment accepted after the error reset")
		}
		codecDecodeAll(t, &d, []byte(`2["b"]`), nil)
	})
	t.Run("assembles in order", func(t *testing.T) {
		var d decoder
		p := codecDecodeAll(t, &d, []byte(`53-/x,7["a",`+codecPlaceholder(2)+`,`+codecPlaceholder(0)+`]`), [][]byte{{1}, {}, {3, 3}})
		want := &packet{typ: packetBinaryEvent, nsp: "/x", id: 7, data: json.RawMessage(`["a",` + codecPlaceholder(2) + `,` + codecPlaceholder(0) + `]`), attachments: [][]byte{{1}, {}, {3, 3}}}
		if !codecPacketsEqual(p, want) {
			t.Fatalf("got %s want %s", codecFormat(p), codecFormat(want))
		}
		if p.attachments[1] == nil {
			t.Fatal("empty attachment decoded as nil")
		}
	})
	t.Run("does not retain input", func(t *testing.T) {
		var d decoder
		text := []byte(`51-/room,3["a",` + codecPlaceholder(0) + `]`)
		att := []byte{9, 8, 7}
		if p, err := d.decodeText(text); p != nil || err != nil {
			t.Fatalf("got %v, %v", p, err)
		}
		p, err := d.decodeBinary(att)
		if err != nil || p == nil {
			t.Fatalf("got %v, %v", p, err)
		}
		for i := range text {
			text[i] = 'X'
		}
		for i := range att {
			att[i] = 0
		}
		want := &packet{typ: packetBinaryEvent, nsp: "/room", id: 3, data: json.RawMessage(`["a",` + codecPlaceholder(0) + `]`), attachments: [][]byte{{9, 8, 7}}}
		if !codecPacketsEqual(p, want) {
			t.Fatalf("packet changed with the input buffers: %s", codecFormat(p))
		}
	})
}

// TestDecoderTextPacketsHaveNilAttachments pins the contract decodeArgs
// relies on: text packets have nil attachments, binary ones non-nil.
func TestDecoderTextPacketsHaveNilAttachments(t *testing.T) {
	var d decoder
	if p := codecDecodeAll(t, &d, []byte(`2["a"]`), nil); p.attachments != nil {
		t.Fatal("text packet has non-nil attachments")
	}
	if p := codecDecodeAll(t, &d, []byte(`50-["a"]`), nil); p.attachments == nil {
		t.Fatal("binary packet with no attachments has nil attachments")
	}
}

func TestPacketTypeString(t *testing.T) {
	want := []string{"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK", "UNKNOWN(7)"}
	for i, w := range want {
		if got := packetType(i).String(); got != w {
			t.Errorf("packetType(%d) = %q, want %q", i, got, w)
		}
	}
	if got := packetType(200).String(); got != "UNKNOWN(200)" {
		t.Errorf("packetType(200) = %q", got)
	}
}

var encodeCases = []struct {
	name string
	p    packet
	want string
}{
	{"connect main", packet{typ: packetConnect, nsp: "/", id: -1}, `0`},
	{"connect empty nsp", packet{typ: packetConnect, nsp: "", id: -1}, `0`},
	{"connect nsp sid", packet{typ: packetConnect, nsp: "/admin", id: -1, data: json.RawMessage(`{"sid":"oSO0OpakMV_3jnilAAAA"}`)}, `0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}`},
	{"connect error", packet{typ: packetConnectError, nsp: "/", id: -1, data: json.RawMessage(`{"message":"Not authorized"}`)}, `4{"message":"Not authorized"}`},
	{"connect error nsp", packet{typ: packetConnectError, nsp: "/ns", id: -1, data: json.RawMessage(`{"message":"Invalid namespace"}`)}, `4/ns,{"message":"Invalid namespace"}`},
	{"disconnect", packet{typ: packetDisconnect, nsp: "/", id: -1}, `1`},
	{"disconnect nsp", packet{typ: packetDisconnect, nsp: "/admin", id: -1}, `1/admin,`},
	{"event", packet{typ: packetEvent, nsp: "/", id: -1, data: json.RawMessage(`["foo"]`)}, `2["foo"]`},
	{"event nsp", packet{typ: packetEvent, nsp: "/admin", id: -1, data: json.RawMessage(`["bar"]`)}, `2/admin,["bar"]`},
	{"event id", packet{typ: packetEvent, nsp: "/", id: 12, data: json.RawMessage(`["foo"]`)}, `212["foo"]`},
	{"event nsp id", packet{typ: packetEvent, nsp: "/chat", id: 12, data: json.RawMessage(`["a",1]`)}, `2/chat,12["a",1]`},
	{"event id 0", packet{typ: packetEvent, nsp: "/", id: 0, data: json.RawMessage(`["foo"]`)}, `20["foo"]`},
	{"event max id", packet{typ: packetEvent, nsp: "/", id: 1<<53 - 1, data: json.RawMessage(`["foo"]`)}, `29007199254740991["foo"]`},
	{"event negative id", packet{typ: packetEvent, nsp: "/", id: -5, data: json.RawMessage(`["foo"]`)}, `2["foo"]`},
	{"ack nsp", packet{typ: packetAck, nsp: "/admin", id: 13, data: json.RawMessage(`["bar"]`)}, `3/admin,13["bar"]`},
	{"ack empty", packet{typ: packetAck, nsp: "/", id: 12, data: json.RawMessage(`[]`)}, `312[]`},
	{"binary event", packet{typ: packetBinaryEvent, nsp: "/", id: -1, data: json.RawMessage(`["baz",` + codecPlaceholder(0) + `]`), attachments: [][]byte{{1, 2, 3, 4}}}, `51-["baz",` + codecPlaceholder(0) + `]`},
	{"binary event two nsp", packet{typ: packetBinaryEvent, nsp: "/admin", id: -1, data: json.RawMessage(`["baz",` + codecPlaceholder(0) + `,` + codecPlaceholder(1) + `]`), attachments: [][]byte{{1, 2}, {3, 4}}}, `52-/admin,["baz",` + codecPlaceholder(0) + `,` + codecPlaceholder(1) + `]`},
	{"binary event none", packet{typ: packetBinaryEvent, nsp: "/", id: -1, data: json.RawMessage(`["baz"]`)}, `50-["baz"]`},
	{"binary event ten", packet{typ: packetBinaryEvent, nsp: "/", id: -1, data: json.RawMessage(`["baz"]`), attachments: make([][]byte, 10)}, `510-["baz"]`},
	{"binary ack", packet{typ: packetBinaryAck, nsp: "/", id: 15, data: json.RawMessage(`["bar",` + codecPlaceholder(0) + `]`), attachments: [][]byte{{1}}}, `61-15["bar",` + codecPlaceholder(0) + `]`},
	{"binary ack nsp", packet{typ: packetBinaryAck, nsp: "/admin", id: 1, data: json.RawMessage(`[` + codecPlaceholder(0) + `]`), attachments: [][]byte{{1}}}, `61-/admin,1[` + codecPlaceholder(0) + `]`},
}

func TestEncode(t *testing.T) {
	for _, tc := range encodeCases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.p.encode()
			if string(got) != tc.want {
				t.Fatalf("encode = %q, want %q", got, tc.want)
			}
			if len(got) != cap(got) {
				t.Fatalf("encode buffer not right-sized: len %d cap %d", len(got), cap(got))
			}
		})
	}
}

func TestEncodeSingleAllocation(t *testing.T) {
	p := &packet{typ: packetBinaryAck, nsp: "/admin", id: 123456, data: json.RawMessage(`["bar",` + codecPlaceholder(0) + `]`), attachments: [][]byte{{1}}}
	if n := testing.AllocsPerRun(100, func() { _ = p.encode() }); n != 1 {
		t.Fatalf("encode made %v allocations, want 1", n)
	}
}

func TestDecimalLen(t *testing.T) {
	for _, v := range []int64{0, 1, 9, 10, 99, 100, 12345, 1<<53 - 1, 1<<63 - 1} {
		if got, want := decimalLen(v), len(strconv.FormatInt(v, 10)); got != want {
			t.Errorf("decimalLen(%d) = %d, want %d", v, got, want)
		}
	}
}

// TestEncodeDecodeRoundTrip checks that everything the encoder produces
// from a well-formed packet decodes back to the same packet.
func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, tc := range encodeCases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			if p.nsp == "" {
				p.nsp = "/"
			}
			if p.id < 0 {
				p.id = -1
			}
			// Copy before normalising, so the shared table is untouched.
			p.attachments = append([][]byte(nil), p.attachments...)
			if p.typ.isBinary() && p.attachments == nil {
				p.attachments = [][]byte{}
			}
			for i := range p.attachments {
				if p.attachments[i] == nil {
					p.attachments[i] = []byte{}
				}
			}
			var d decoder
			got := codecDecodeAll(t, &d, p.encode(), p.attachments)
			if !codecPacketsEqual(got, &p) {
				t.Fatalf("round trip\n got %s\nwant %s", codecFormat(got), codecFormat(&p))
			}
		})
	}
	// And the other way: every valid input re-encodes to something that
	// decodes to the same packet.
	for _, tc := range decodeTextValidCases {
		var d decoder
		p := codecDecodeAll(t, &d, []byte(tc.in), tc.want.attachments)
		again := codecDecodeAll(t, &d, p.encode(), p.attachments)
		if !codecPacketsEqual(p, again) {
			t.Errorf("%s: re-encode round trip\n got %s\nwant %s", tc.name, codecFormat(again), codecFormat(p))
		}
	}
}

// TestEventRoundTripThroughArgs goes all the way: Go values to a packet on
// the wire and back to Go values.
func TestEventRoundTripThroughArgs(t *testing.T) {
	args := []any{"hello", 1.5, true, nil, []byte{1, 2}, map[string]any{"k": []any{[]byte{3}, "x"}}}
	data, atts, err := encodeEventData("chat", args)
	if err != nil {
		t.Fatal(err)
	}
	p := &packet{typ: packetBinaryEvent, nsp: "/room", id: 42, data: data, attachments: atts}
	var d decoder
	got := codecDecodeAll(t, &d, p.encode(), atts)
	decoded, err := decodeArgs(got.data, got.attachments)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]any{"chat"}, args...)
	if !codecDeepEqual(decoded, want) {
		t.Fatalf("got %#v\nwant %#v", decoded, want)
	}
}

var benchEventMsg = []byte(`2["chat","hello world",42]`)

func BenchmarkEncodeEvent(b *testing.B) {
	args := []any{"hello world", 42}
	b.ReportAllocs()
	for b.Loop() {
		data, _, err := encodeEventData("chat", args)
		if err != nil {
			b.Fatal(err)
		}
		p := packet{typ: packetEvent, nsp: "/", id: -1, data: data}
		if out := p.encode(); len(out) != len(benchEventMsg) {
			b.Fatalf("encoded %q", out)
		}
	}
}

func BenchmarkEncodePacket(b *testing.B) {
	p := packet{typ: packetEvent, nsp: "/chat", id: 12, data: json.RawMessage(`["chat","hello world",42]`)}
	b.ReportAllocs()
	for b.Loop() {
		_ = p.encode()
	}
}

func BenchmarkDecodeEvent(b *testing.B) {
	var d decoder
	b.ReportAllocs()
	b.SetBytes(int64(len(benchEventMsg)))
	for b.Loop() {
		p, err := d.decodeText(benchEventMsg)
		if err != nil || p == nil {
			b.Fatal(p, err)
		}
	}
}

func BenchmarkDecodeEventArgs(b *testing.B) {
	var d decoder
	b.ReportAllocs()
	for b.Loop() {
		p, err := d.decodeText(benchEventMsg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := decodeArgs(p.data, p.attachments); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBinaryEvent(b *testing.B) {
	msg := []byte(`51-["upload",{"name":"a.png"},` + codecPlaceholder(0) + `]`)
	att := make([]byte, 1024)
	var d decoder
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.decodeText(msg); err != nil {
			b.Fatal(err)
		}
		if p, err := d.decodeBinary(att); err != nil || p == nil {
			b.Fatal(p, err)
		}
	}
}
