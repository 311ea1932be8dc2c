package engineio

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"testing"
)

// TestRequestRecordRoundTrip: what a session keeps of its handshake request gives back every
// field the layers above read, and each call a copy of its own.
func TestRequestRecordRoundTrip(t *testing.T) {
	r := httptest.NewRequest("GET", "/engine.io/?EIO=4&transport=websocket&token=a%20b", nil)
	r.RemoteAddr = "192.0.2.7:5123"
	r.Host = "chat.example.com:8443"
	r.Header.Add("Cookie", "herald_session=abc; other=1")
	r.Header.Add("X-Many", "one")
	r.Header.Add("X-Many", "two")
	r.Header.Add("X-Odd", "\x00\xff colon: and\tspaces ")
	r.TLS = &tls.ConnectionState{ServerName: "chat.example.com"}
	rr := recordRequest(r)

	got := rr.request()
	if !reflect.DeepEqual(got.Header, r.Header) {
		t.Errorf("headers %v, want %v", got.Header, r.Header)
	}
	if got.Method != "GET" || got.Host != r.Host || got.RemoteAddr != r.RemoteAddr || got.RequestURI != r.RequestURI ||
		got.Proto != "HTTP/1.1" || got.ProtoMajor != 1 || got.ProtoMinor != 1 || got.TLS != r.TLS {
		t.Errorf("got %+v", got)
	}
	if got.URL.String() != r.URL.String() || got.URL.Query().Get("token") != "a b" {
		t.Errorf("URL %v", got.URL)
	}
	if c, err := got.Cookie("herald_session"); err != nil || c.Value != "abc" {
		t.Errorf("cookie %v, %v", c, err)
	}
	if got.Context() == nil || got.Body != http.NoBody {
		t.Error("no context, or a body")
	}
	got.Header.Set("X-Many", "changed")
	if again := rr.request(); again.Header.Get("X-Many") != "one" {
		t.Error("a change to one copy shows in the next")
	}
}

// FuzzRequestRecord: any header names and values survive the packing.
func FuzzRequestRecord(f *testing.F) {
	f.Add("X-A", "v", "/p?q=1", "1.2.3.4:5")
	f.Add("", "\x80\x80\x80", "", "")
	f.Fuzz(func(t *testing.T, k, v, uri, addr string) {
		r := &http.Request{Method: "GET", Proto: "HTTP/1.1", RequestURI: uri, RemoteAddr: addr, Header: http.Header{k: {v, v + v}}}
		var err error
		if r.URL, err = url.Parse(uri); err != nil {
			r.URL = &url.URL{}
		}
		got := recordRequest(r).request()
		if !reflect.DeepEqual(got.Header, r.Header) || got.RequestURI != uri || got.RemoteAddr != addr {
			t.Fatalf("got %q %q %q, want %q %q %q", got.Header, got.RequestURI, got.RemoteAddr, r.Header, uri, addr)
		}
	})
}
