//go:build linux

package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseEvent(t *testing.T) {
	for _, c := range []struct {
		in, name, arg string
		ok            bool
	}{
		{`["tick",{"seq":1,"sentAt":2}]`, "tick", `{"seq":1,"sentAt":2}`, true},
		{`["user count",42]`, "user count", `42`, true},
		{`12["x",1]`, "x", `1`, true}, // with an ack id
		{`["noarg"]`, "noarg", ``, true},
		{`{"a":1}`, "", "", false},
		{`["unterminated`, "", "", false},
	} {
		name, arg, ok := parseEvent([]byte(c.in))
		if ok != c.ok || name != c.name || string(arg) != c.arg {
			t.Errorf("parseEvent(%s) = %q, %q, %v; want %q, %q, %v", c.in, name, arg, ok, c.name, c.arg, c.ok)
		}
	}
}

func TestNumField(t *testing.T) {
	obj := []byte(`{"sentAt":1.7325400000000001e+18,"seq":17, "neg": -3}`)
	if v, ok := numField(obj, "seq"); !ok || v != 17 {
		t.Errorf("seq = %d, %v", v, ok)
	}
	if v, ok := numField(obj, "sentAt"); !ok || v/1e9 != 1732540000 {
		t.Errorf("sentAt = %d, %v", v, ok)
	}
	if v, ok := numField(obj, "neg"); !ok || v != -3 {
		t.Errorf("neg = %d, %v", v, ok)
	}
	if _, ok := numField(obj, "missing"); ok {
		t.Error("missing key found")
	}
	if v, ok := parseNum([]byte("1732540000123456789")); !ok || v != 1732540000123456789 {
		t.Errorf("integer ns = %d, %v", v, ok)
	}
}

func TestDispatch(t *testing.T) {
	var h recorder
	for in, want := range map[string]packetKind{
		"2": pkPing, "1": pkClose, "3": pkOther, "6": pkOther,
		`40{"sid":"x"}`: pkConnected, `44{"message":"no"}`: pkConnectError, "41": pkDisconnect,
		`42["tick",{"seq":0,"sentAt":5}]`: pkOther,
	} {
		if got := dispatch([]byte(in), 7, &h); got != want {
			t.Errorf("dispatch(%q) = %v, want %v", in, got, want)
		}
	}
	if len(h.events) != 1 || h.events[0] != `tick {"seq":0,"sentAt":5}` {
		t.Errorf("events: %q", h.events)
	}
}

type recorder struct{ events []string }

func (r *recorder) event(name string, arg []byte, _ int64) {
	r.events = append(r.events, name+" "+string(arg))
}
func (r *recorder) ping() {}

func TestFrames(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 1000, 70000} {
		payload := bytes.Repeat([]byte{'a'}, n)
		frame := appendFrame(nil, opText, payload)
		if frame[1]&0x80 == 0 {
			t.Fatalf("%d bytes: client frame not masked", n)
		}
		// A partial frame is not parsed.
		if _, _, _, used, err := parseFrame(frame[:len(frame)-1]); used != 0 || err != nil {
			t.Fatalf("%d bytes: partial frame: used %d, err %v", n, used, err)
		}
		fin, op, got, used, err := parseFrame(frame)
		if err != nil || !fin || op != opText || used != len(frame) || !bytes.Equal(got, payload) {
			t.Fatalf("%d bytes: round trip: fin %v op %d used %d/%d err %v", n, fin, op, used, len(frame), err)
		}
	}
	// An unmasked server frame, then a second one.
	b := []byte{0x81, 2, '4', '2', 0x89, 0}
	_, op, p, used, _ := parseFrame(b)
	if op != opText || string(p) != "42" || used != 4 {
		t.Errorf("server frame: op %d payload %q used %d", op, p, used)
	}
	if _, op, _, _, _ := parseFrame(b[used:]); op != opPing {
		t.Errorf("second frame op %d, want ping", op)
	}
	huge := []byte{0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0}
	if _, _, _, _, err := parseFrame(huge); err == nil {
		t.Error("oversized frame accepted")
	}
}

func TestEngineURL(t *testing.T) {
	if got := engineURL("http://127.0.0.1:3000/", "websocket"); got != "ws://127.0.0.1:3000/socket.io/?EIO=4&transport=websocket" {
		t.Errorf("websocket URL %s", got)
	}
	if got := engineURL("http://h:1", "polling"); !strings.HasPrefix(got, "http://h:1/socket.io/?EIO=4&transport=polling") {
		t.Errorf("polling URL %s", got)
	}
}

func TestEncodeEvent(t *testing.T) {
	b, err := encodeEvent("fanout", map[string]int{"seq": 3})
	if err != nil || string(b) != `42["fanout",{"seq":3}]` {
		t.Errorf("encodeEvent = %s, %v", b, err)
	}
}

func TestParseResponse(t *testing.T) {
	cl := "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n42[1]"
	body, n, closeAfter, err := parseResponse([]byte(cl + "HTTP/1.1"))
	if err != nil || string(body) != "42[1]" || n != len(cl) || closeAfter {
		t.Errorf("content-length: %q %d %v %v", body, n, closeAfter, err)
	}
	for i := range len(cl) {
		if _, n, _, err := parseResponse([]byte(cl[:i])); n != 0 || err != nil {
			t.Fatalf("partial response of %d bytes: n %d err %v", i, n, err)
		}
	}
	ch := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\n2\x1e3\r\n1;x=y\r\n6\r\n0\r\n\r\n"
	body, n, closeAfter, err = parseResponse([]byte(ch))
	if err != nil || string(body) != "2\x1e36" || n != len(ch) || !closeAfter {
		t.Errorf("chunked: %q %d %v %v", body, n, closeAfter, err)
	}
	for i := range len(ch) {
		if _, n, _, err := parseResponse([]byte(ch[:i])); n != 0 || err != nil {
			t.Fatalf("partial chunked response of %d bytes: n %d err %v", i, n, err)
		}
	}
	if _, _, _, err := parseResponse([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")); err == nil {
		t.Error("400 accepted")
	}
	if _, _, _, err := parseResponse([]byte("HTTP/1.1 200 OK\r\n\r\n")); err == nil {
		t.Error("response without a length accepted")
	}
	if _, _, closeAfter, _ := parseResponse([]byte("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")); !closeAfter {
		t.Error("HTTP/1.0 response: connection not taken as closing")
	}
}
