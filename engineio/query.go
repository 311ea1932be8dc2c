package engineio

import (
	"net/url"
	"strings"
)

// requestParams are the query parameters an Engine.IO request is routed by.
type requestParams struct {
	eio, transport, sid string
}

// parseParams reads EIO, transport and sid from a raw query string with url.ParseQuery's rules
// (pairs split on "&", a pair holding ";" or a bad escape skipped, the first value of a key
// wins) but without building its map: every long-polling request carries a query, and the map
// was a tenth of what such a request allocated, which the garbage collector then had to chase
// in the middle of a broadcast.
func parseParams(raw string) requestParams {
	var p requestParams
	var haveEIO, haveTransport, haveSID bool
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		key, ok := unescapeQuery(key)
		if !ok {
			continue
		}
		value, ok = unescapeQuery(value)
		if !ok {
			continue
		}
		switch {
		case key == "EIO" && !haveEIO:
			p.eio, haveEIO = value, true
		case key == "transport" && !haveTransport:
			p.transport, haveTransport = value, true
		case key == "sid" && !haveSID:
			p.sid, haveSID = value, true
		}
	}
	return p
}

// unescapeQuery decodes a query component, allocating only when it holds an escape.
func unescapeQuery(s string) (string, bool) {
	if !strings.ContainsAny(s, "%+") {
		return s, true
	}
	u, err := url.QueryUnescape(s)
	return u, err == nil
}
