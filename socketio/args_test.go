package socketio

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

// codecDeepEqual compares decoded argument trees.
func codecDeepEqual(a, b any) bool {
	return reflect.DeepEqual(a, b)
}

// codecStdJSON is what encoding/json writes for v with HTML escaping off,
// the behaviour encodeEventData promises to match.
func codecStdJSON(t *testing.T, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

type codecStruct struct {
	Name  string `json:"name"`
	Count int    `json:"count,omitempty"`
	Blob  []byte `json:"blob"`
}

func TestEncodeEventData(t *testing.T) {
	cases := []struct {
		name  string
		event string
		args  []any
		want  string
		atts  [][]byte
	}{
		{"event only", "message", nil, `["message"]`, nil},
		{"ack empty", "", nil, `[]`, nil},
		{"ack args", "", []any{"a", 1}, `["a",1]`, nil},
		{"scalars", "ev", []any{"s", 1, int64(-2), 1.5, true, false, nil}, `["ev","s",1,-2,1.5,true,false,null]`, nil},
		{"no html escaping", "ev", []any{"<b>&</b>"}, `["ev","<b>&</b>"]`, nil},
		{"event name escaped", `a"b`, nil, `["a\"b"]`, nil},
		{"map keys sorted", "ev", []any{map[string]any{"b": 1, "a": 2, "c": map[string]any{"z": 1, "y": 2}}}, `["ev",{"a":2,"b":1,"c":{"y":2,"z":1}}]`, nil},
		{"nested containers", "ev", []any{[]any{1, []any{}, map[string]any{}}}, `["ev",[1,[],{}]]`, nil},
		{"nil containers", "ev", []any{[]any(nil), map[string]any(nil), json.RawMessage(nil)}, `["ev",null,null,null]`, nil},
		{"raw message unchanged", "ev", []any{json.RawMessage(`{"a" : [1, 2]}`)}, `["ev",{"a" : [1, 2]}]`, nil},
		{"top-level bytes", "ev", []any{[]byte{1, 2, 3}}, `["ev",` + codecPlaceholder(0) + `]`, [][]byte{{1, 2, 3}}},
		{"ack bytes", "", []any{[]byte{1}}, `[` + codecPlaceholder(0) + `]`, [][]byte{{1}}},
		{"nil bytes", "ev", []any{[]byte(nil)}, `["ev",` + codecPlaceholder(0) + `]`, [][]byte{nil}},
		{
			"nested bytes in order", "ev",
			[]any{[]byte{1}, map[string]any{"x": []any{"s", []byte{2}}}, []byte{3}},
			`["ev",` + codecPlaceholder(0) + `,{"x":["s",` + codecPlaceholder(1) + `]},` + codecPlaceholder(2) + `]`,
			[][]byte{{1}, {2}, {3}},
		},
		{
			"map bytes follow key order", "ev",
			[]any{map[string]any{"z": []byte{1}, "a": []byte{2}}},
			`["ev",{"a":` + codecPlaceholder(0) + `,"z":` + codecPlaceholder(1) + `}]`,
			[][]byte{{2}, {1}},
		},
		{"struct via encoding/json", "ev", []any{codecStruct{Name: "<x>", Blob: []byte{1}}}, `["ev",{"name":"<x>","blob":"AQ=="}]`, nil},
		{"typed slices via encoding/json", "ev", []any{[]string{"a"}, map[string]int{"b": 2, "a": 1}}, `["ev",["a"],{"a":1,"b":2}]`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data, atts, err := encodeEventData(tc.event, tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != tc.want {
				t.Fatalf("data = %s\nwant   %s", data, tc.want)
			}
			if !json.Valid(data) {
				t.Fatalf("invalid JSON %s", data)
			}
			if !reflect.DeepEqual(atts, tc.atts) {
				t.Fatalf("attachments = %v, want %v", atts, tc.atts)
			}
		})
	}
}

// TestEncodeEventDataMatchesEncodingJSON checks the hand-written fast paths
// against encoding/json for values where formatting is subtle.
func TestEncodeEventDataMatchesEncodingJSON(t *testing.T) {
	values := []any{
		"", "plain", "é", "日本", "\u2028\u2029", "\x00\x01\x1f\x7f", "\b\f\n\r\t", `"\`, "<>&", "\xff\xfe", "a\u00e9\U0001F600",
		0.0, math.Copysign(0, -1), 1.0, -1.0, 1.5, 0.1, 1e-6, 9.99e-7, 1e20, 1e21, 123456789.125, 5e-324, math.MaxFloat64, -1e-7, 1e100,
		0, -1, math.MaxInt64, math.MinInt64, int64(1 << 53), true, false, nil,
		map[string]any{"<k>": "v", "é": 1.0, "\u2028": nil},
		[]any{"x", 2.5, []any{map[string]any{"k": "\n"}}},
	}
	for _, v := range values {
		data, _, err := encodeEventData("", []any{v})
		if err != nil {
			t.Fatalf("%#v: %v", v, err)
		}
		if want := "[" + codecStdJSON(t, v) + "]"; string(data) != want {
			t.Errorf("%#v: got %s want %s", v, data, want)
		}
		data, _, err = encodeEventData("", []any{map[string]any{"k": v}})
		if err != nil {
			t.Fatal(err)
		}
		if want := "[" + codecStdJSON(t, map[string]any{"k": v}) + "]"; string(data) != want {
			t.Errorf("nested %#v: got %s want %s", v, data, want)
		}
	}
	// Event names take the same path as strings.
	for _, name := range []string{"a<b>", "é", "\u2028", "tab\t"} {
		data, _, err := encodeEventData(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := "[" + codecStdJSON(t, name) + "]"; string(data) != want {
			t.Errorf("event %q: got %s want %s", name, data, want)
		}
	}
}

func TestEncodeEventDataErrors(t *testing.T) {
	cyclic := []any{nil}
	cyclic[0] = cyclic
	cyclicMap := map[string]any{}
	cyclicMap["self"] = cyclicMap
	for name, arg := range map[string]any{
		"invalid raw message": json.RawMessage(`{"a":`),
		"empty raw message":   json.RawMessage{},
		"NaN":                 math.NaN(),
		"Inf":                 math.Inf(1),
		"nested NaN":          map[string]any{"x": []any{math.NaN()}},
		"channel":             make(chan int),
		"function":            func() {},
		"cyclic slice":        cyclic,
		"cyclic map":          cyclicMap,
	} {
		t.Run(name, func(t *testing.T) {
			data, atts, err := encodeEventData("ev", []any{"ok", arg})
			if err == nil {
				t.Fatalf("no error; data %s", data)
			}
			if data != nil || atts != nil {
				t.Fatalf("data or attachments returned with error %v", err)
			}
		})
	}
}

func TestSplitArray(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{`[]`, []string{}},
		{` [ ] `, []string{}},
		{`["a"]`, []string{`"a"`}},
		{`["message",1,"2",{"3":[true]}]`, []string{`"message"`, `1`, `"2"`, `{"3":[true]}`}},
		{" [ 1 , \"a,]\\\"\" ,\n{\"b\":[1,{\"c\":\"]}\"}]} , [ ] , null,true,false,-1.5e3 ]\t", []string{`1`, `"a,]\""`, `{"b":[1,{"c":"]}"}]}`, `[ ]`, `null`, `true`, `false`, `-1.5e3`}},
		{`[[[1]],[[2]]]`, []string{`[[1]]`, `[[2]]`}},
	}
	for _, tc := range cases {
		got, err := splitArray(json.RawMessage(tc.in))
		if err != nil {
			t.Fatalf("splitArray(%q): %v", tc.in, err)
		}
		if got == nil {
			t.Fatalf("splitArray(%q) = nil", tc.in)
		}
		if len(got) != len(tc.want) {
			t.Fatalf("splitArray(%q) = %q, want %q", tc.in, got, tc.want)
		}
		for i := range got {
			if string(got[i]) != tc.want[i] {
				t.Fatalf("splitArray(%q)[%d] = %q, want %q", tc.in, i, got[i], tc.want[i])
			}
			if cap(got[i]) != len(got[i]) {
				t.Fatalf("element %d can be appended into the rest of data", i)
			}
		}
	}
	for _, bad := range []string{``, ` `, `{}`, `"a"`, `1`, `null`, `[`, `[1,]`, `[1 2]`, `["a"]x`, `]`} {
		if got, err := splitArray(json.RawMessage(bad)); err == nil {
			t.Errorf("splitArray(%q) = %q, want error", bad, got)
		}
	}
}

func TestDecodeArgs(t *testing.T) {
	atts := [][]byte{{1, 2, 3}, {4, 5, 6}}
	cases := []struct {
		name string
		data string
		atts [][]byte
		want []any
	}{
		{"empty", `[]`, nil, []any{}},
		{"defaults", `["a",1,2.5,true,null,[1],{"k":"v"}]`, nil, []any{"a", 1.0, 2.5, true, nil, []any{1.0}, map[string]any{"k": "v"}}},
		{"placeholders", `["m",` + codecPlaceholder(0) + `,` + codecPlaceholder(1) + `]`, atts, []any{"m", []byte{1, 2, 3}, []byte{4, 5, 6}}},
		{"nested placeholders", `[{"a":[` + codecPlaceholder(1) + `,{"b":` + codecPlaceholder(0) + `}]}]`, atts, []any{map[string]any{"a": []any{[]byte{4, 5, 6}, map[string]any{"b": []byte{1, 2, 3}}}}}},
		{"same attachment twice", `[` + codecPlaceholder(0) + `,` + codecPlaceholder(0) + `]`, atts, []any{[]byte{1, 2, 3}, []byte{1, 2, 3}}},
		{"placeholder false is data", `[{"_placeholder":false,"num":0}]`, atts, []any{map[string]any{"_placeholder": false, "num": 0.0}}},
		{"text packet keeps placeholder objects", `[` + codecPlaceholder(5) + `]`, nil, []any{map[string]any{"_placeholder": true, "num": 5.0}}},
		{"whitespace", " [ \"a\" ] ", nil, []any{"a"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeArgs(json.RawMessage(tc.data), tc.atts)
			if err != nil {
				t.Fatal(err)
			}
			if !codecDeepEqual(got, tc.want) {
				t.Fatalf("got %#v\nwant %#v", got, tc.want)
			}
		})
	}
	for _, bad := range []struct{ name, data string }{
		{"null", `null`},
		{"object", `{}`},
		{"string", `"a"`},
		{"empty", ``},
		{"invalid", `[1,`},
		{"out of range", `[` + codecPlaceholder(2) + `]`},
		{"negative", `[{"_placeholder":true,"num":-1}]`},
		{"fraction", `[{"_placeholder":true,"num":0.5}]`},
		{"string num", `[{"_placeholder":true,"num":"0"}]`},
		{"missing num", `[{"_placeholder":true}]`},
		{"nested bad", `[[{"x":{"_placeholder":true,"num":9}}]]`},
		{"huge number", `[1e400]`},
	} {
		if got, err := decodeArgs(json.RawMessage(bad.data), atts); err == nil {
			t.Errorf("%s: decodeArgs(%q) = %#v, want error", bad.name, bad.data, got)
		}
	}
	// No attachments at all on a binary packet: placeholders cannot resolve.
	if _, err := decodeArgs(json.RawMessage(`[`+codecPlaceholder(0)+`]`), [][]byte{}); err == nil {
		t.Error("placeholder resolved against an empty attachment list")
	}
}

// TestComplianceEcho reproduces what the official compliance suite checks
// for "message" → "message-back": decoding then re-encoding must give the
// exact same bytes, binary attachments included.
func TestComplianceEcho(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		atts    [][]byte
		wantTyp packetType
		want    string
	}{
		{
			"binary", `52-["message",` + codecPlaceholder(0) + `,` + codecPlaceholder(1) + `]`,
			[][]byte{{1, 2, 3}, {4, 5, 6}},
			packetBinaryEvent,
			`52-["message-back",` + codecPlaceholder(0) + `,` + codecPlaceholder(1) + `]`,
		},
		{
			"text", `2["message",1,"2",{"3":[true]}]`, nil,
			packetEvent,
			`2["message-back",1,"2",{"3":[true]}]`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var d decoder
			p := codecDecodeAll(t, &d, []byte(tc.in), tc.atts)
			args, err := decodeArgs(p.data, p.attachments)
			if err != nil {
				t.Fatal(err)
			}
			if args[0] != "message" {
				t.Fatalf("event = %#v", args[0])
			}
			data, atts, err := encodeEventData("message-back", args[1:])
			if err != nil {
				t.Fatal(err)
			}
			typ := packetEvent
			if len(atts) > 0 {
				typ = packetBinaryEvent
			}
			if typ != tc.wantTyp {
				t.Fatalf("type %s, want %s", typ, tc.wantTyp)
			}
			out := (&packet{typ: typ, nsp: "/", id: -1, data: data, attachments: atts}).encode()
			if string(out) != tc.want {
				t.Fatalf("re-encoded %s\nwant        %s", out, tc.want)
			}
			if !reflect.DeepEqual(atts, tc.atts) {
				t.Fatalf("attachments %v, want %v", atts, tc.atts)
			}
		})
	}
	// The ack variant: "message-with-ack" acks with the same arguments.
	var d decoder
	p := codecDecodeAll(t, &d, []byte(`2456["message-with-ack",1,"2",{"3":[false]}]`), nil)
	args, err := decodeArgs(p.data, p.attachments)
	if err != nil {
		t.Fatal(err)
	}
	data, atts, err := encodeEventData("", args[1:])
	if err != nil || atts != nil {
		t.Fatal(err, atts)
	}
	out := (&packet{typ: packetAck, nsp: "/", id: p.id, data: data}).encode()
	if want := `3456[1,"2",{"3":[false]}]`; string(out) != want {
		t.Fatalf("ack = %s, want %s", out, want)
	}
}

func BenchmarkSplitArray(b *testing.B) {
	data := json.RawMessage(`["chat","hello world",42,{"a":[1,2,3]}]`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := splitArray(data); err != nil {
			b.Fatal(err)
		}
	}
}
