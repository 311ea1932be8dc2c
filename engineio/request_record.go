package engineio

import (
	"crypto/tls"
	"encoding/binary"
	"net/http"
	"net/url"
)

// requestRecord is what a session keeps of its handshake request: the method, URL, protocol,
// host, remote address and every header, packed into one string, and the TLS state. A clone of
// the *http.Request (its URL, its header map and every value's slice) was over a kilobyte per
// idle session; the string is about the size of the request's text. Session.Request rebuilds a
// request from it on each call: the layers above read it once or twice per connection.
type requestRecord struct {
	packed string // fields, then header names and values, each a uvarint length and its bytes
	tls    *tls.ConnectionState
}

// recordRequest packs r.
func recordRequest(r *http.Request) requestRecord {
	size := len(r.Method) + len(r.Proto) + len(r.Host) + len(r.RemoteAddr) + len(r.RequestURI) + 64
	u := r.URL.String()
	size += len(u)
	for k, vs := range r.Header {
		for _, v := range vs {
			size += len(k) + len(v) + 2*binary.MaxVarintLen32
		}
	}
	b := make([]byte, 0, size)
	for _, f := range [...]string{r.Method, u, r.Proto, r.Host, r.RemoteAddr, r.RequestURI} {
		b = appendField(b, f)
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			b = appendField(appendField(b, k), v)
		}
	}
	return requestRecord{packed: string(b), tls: r.TLS}
}

func appendField(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// request rebuilds the request: headers, cookies, URL, remote address and TLS state as they
// came, an empty body and a context tied to no connection.
func (rr requestRecord) request() *http.Request {
	p := rr.packed
	next := func() (string, bool) {
		n, w := binary.Uvarint([]byte(p[:min(len(p), binary.MaxVarintLen64)]))
		if w <= 0 || n > uint64(len(p)-w) {
			p = ""
			return "", false
		}
		s := p[w : w+int(n)]
		p = p[w+int(n):]
		return s, true
	}
	var f [6]string
	for i := range f {
		f[i], _ = next()
	}
	r := &http.Request{
		Method:     f[0],
		Proto:      f[2],
		Host:       f[3],
		RemoteAddr: f[4],
		RequestURI: f[5],
		Header:     make(http.Header),
		Body:       http.NoBody,
		TLS:        rr.tls,
	}
	r.ProtoMajor, r.ProtoMinor, _ = http.ParseHTTPVersion(r.Proto)
	if u, err := url.Parse(f[1]); err == nil {
		r.URL = u
	} else {
		r.URL = &url.URL{}
	}
	for len(p) > 0 {
		k, ok1 := next()
		v, ok2 := next()
		if !ok1 || !ok2 {
			break
		}
		r.Header[k] = append(r.Header[k], v)
	}
	return r // a nil context reads as context.Background()
}
