package redisadapter

import (
	"encoding/json"
	"math"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/herald-chat/herald/socketio"
)

// Request types, as numbered by @socket.io/redis-adapter.
const (
	reqSockets              = 0
	reqAllRooms             = 1
	reqRemoteJoin           = 2
	reqRemoteLeave          = 3
	reqRemoteDisconnect     = 4
	reqRemoteFetch          = 5
	reqServerSideEmit       = 6
	reqBroadcast            = 7
	respBroadcastClientCnt  = 8
	respBroadcastAck        = 9
	maxRoomsInSelector      = 10000
	maxBroadcastAckTimeout  = 10 * time.Minute
	defaultBroadcastTimeout = 0 // the cluster's RequestsTimeout
)

// request is a JSON request between servers; which fields are set depends on Type.
type request struct {
	UID       string          `json:"uid,omitempty"`
	RequestID string          `json:"requestId,omitempty"`
	Type      int             `json:"type"`
	Opts      *wireOpts       `json:"opts,omitempty"`
	Rooms     []string        `json:"rooms,omitempty"`
	Close     bool            `json:"close,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
	// The older form of join, leave and disconnect names one socket.
	SID  string `json:"sid,omitempty"`
	Room string `json:"room,omitempty"`
}

// wireOpts is a selector as it travels.
type wireOpts struct {
	Rooms  []string       `json:"rooms"`
	Except []string       `json:"except"`
	Flags  map[string]any `json:"flags,omitempty"`
}

func toWireOpts(o socketio.BroadcastOptions) *wireOpts {
	w := &wireOpts{Rooms: o.Rooms, Except: o.Except}
	if w.Rooms == nil {
		w.Rooms = []string{}
	}
	if w.Except == nil {
		w.Except = []string{}
	}
	return w
}

// options turns a received selector into broadcast options for this server.
func (w *wireOpts) options() (socketio.BroadcastOptions, bool) {
	if w == nil {
		return socketio.BroadcastOptions{Local: true}, true
	}
	if len(w.Rooms) > maxRoomsInSelector || len(w.Except) > maxRoomsInSelector {
		return socketio.BroadcastOptions{}, false
	}
	v, _ := w.Flags["volatile"].(bool)
	return socketio.BroadcastOptions{Rooms: w.Rooms, Except: w.Except, Volatile: v, Local: true}, true
}

// optsFromGeneric reads a selector out of a msgpack-decoded value.
func optsFromGeneric(v any) (*wireOpts, bool) {
	if v == nil {
		return &wireOpts{}, true
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	w := &wireOpts{}
	if w.Rooms, ok = stringList(m["rooms"]); !ok {
		return nil, false
	}
	if w.Except, ok = stringList(m["except"]); !ok {
		return nil, false
	}
	if f, present := m["flags"]; present && f != nil {
		if w.Flags, ok = f.(map[string]any); !ok {
			return nil, false
		}
	}
	return w, true
}

// stringList reads a list of room names; notepack writes a JavaScript number room as a number.
func stringList(v any) ([]string, bool) {
	if v == nil {
		return nil, true
	}
	a, ok := v.([]any)
	if !ok || len(a) > maxRoomsInSelector {
		return nil, false
	}
	out := make([]string, len(a))
	for i, x := range a {
		switch x := x.(type) {
		case string:
			out[i] = x
		case int64:
			out[i] = formatNumber(float64(x))
		case float64:
			out[i] = formatNumber(x)
		default:
			return nil, false
		}
	}
	return out, true
}

func formatNumber(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// timeoutFlag reads a broadcast's timeout flag (milliseconds), bounded.
func timeoutFlag(flags map[string]any, def time.Duration) time.Duration {
	var ms float64
	switch v := flags["timeout"].(type) {
	case int64:
		ms = float64(v)
	case float64:
		ms = v
	}
	if ms <= 0 || math.IsNaN(ms) {
		return def
	}
	return min(time.Duration(ms)*time.Millisecond, maxBroadcastAckTimeout)
}

// response is a JSON answer to a request.
type response struct {
	Type        int             `json:"type,omitempty"`
	RequestID   string          `json:"requestId"`
	Sockets     json.RawMessage `json:"sockets,omitempty"`
	Rooms       []string        `json:"rooms,omitempty"`
	Data        json.RawMessage `json:"data,omitempty"`
	ClientCount *int            `json:"clientCount,omitempty"`
}

// wireSocket is a socket in a REMOTE_FETCH answer.
type wireSocket struct {
	ID        string          `json:"id"`
	Handshake wireHandshake   `json:"handshake"`
	Rooms     []string        `json:"rooms"`
	Data      json.RawMessage `json:"data,omitempty"`
}

// wireHandshake is a handshake as Node.js servers describe it.
type wireHandshake struct {
	Headers map[string]any  `json:"headers"`
	Time    string          `json:"time"`
	Address string          `json:"address"`
	XDomain bool            `json:"xdomain"`
	Secure  bool            `json:"secure"`
	Issued  float64         `json:"issued"`
	URL     string          `json:"url"`
	Query   map[string]any  `json:"query"`
	Auth    json.RawMessage `json:"auth"`
}

// jsDateLayout is how JavaScript's Date.prototype.toString writes a time.
const jsDateLayout = "Mon Jan 02 2006 15:04:05 GMT-0700 (MST)"

func toWireHandshake(h socketio.Handshake) wireHandshake {
	w := wireHandshake{
		Headers: make(map[string]any, len(h.Headers)),
		Time:    h.Time.Format(jsDateLayout),
		Address: h.Address,
		XDomain: h.Headers.Get("Origin") != "",
		Secure:  h.Secure,
		Issued:  float64(h.Time.UnixMilli()),
		URL:     h.URL,
		Query:   make(map[string]any, len(h.Query)),
		Auth:    h.Auth,
	}
	for k, v := range h.Headers {
		sep := ", "
		if strings.EqualFold(k, "Cookie") {
			sep = "; "
		}
		w.Headers[strings.ToLower(k)] = strings.Join(v, sep)
	}
	for k, v := range h.Query {
		if len(v) == 1 {
			w.Query[k] = v[0]
		} else {
			w.Query[k] = v
		}
	}
	if len(w.Auth) == 0 {
		w.Auth = json.RawMessage("{}")
	}
	return w
}

func (w wireHandshake) handshake() socketio.Handshake {
	h := socketio.Handshake{
		Headers: make(http.Header, len(w.Headers)),
		Query:   make(map[string][]string, len(w.Query)),
		Auth:    w.Auth,
		Address: w.Address,
		Secure:  w.Secure,
		URL:     w.URL,
	}
	if w.Issued > 0 && w.Issued < 1<<53 {
		h.Time = time.UnixMilli(int64(w.Issued))
	} else if t, err := time.Parse(jsDateLayout, w.Time); err == nil {
		h.Time = t
	}
	for k, v := range w.Headers {
		key := textproto.CanonicalMIMEHeaderKey(k)
		for _, s := range values(v) {
			h.Headers.Add(key, s)
		}
	}
	for k, v := range w.Query {
		h.Query[k] = values(v)
	}
	if len(h.Auth) == 0 || !json.Valid(h.Auth) {
		h.Auth = json.RawMessage("{}")
	}
	return h
}

// values reads a header or query value: a string or a list of strings.
func values(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
