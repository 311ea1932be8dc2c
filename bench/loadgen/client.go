//go:build linux

package main

// The client side of Engine.IO v4 + Socket.IO v5, as much as the bench
// protocol needs: the main namespace, text packets, events in both
// directions, heartbeats answered, over WebSocket or HTTP long-polling.

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// handler receives what a connected client gets. Its methods are called from
// the client's own read goroutine, one at a time.
type handler interface {
	// event is called for every EVENT packet; name is the event name and
	// arg the raw JSON text of its first argument (nil if none). at is the
	// receive time, unix ns.
	event(name string, arg []byte, at int64)
	// ping is called after a ping has been answered.
	ping()
}

// acker is a handler that also receives ACK packets (43<id>[...]), the
// answers to events it sent with an ack id. arg is the raw JSON text of the
// first argument (nil if none).
type acker interface {
	ack(id int64, arg []byte, at int64)
}

// eioClient is one Engine.IO + Socket.IO client session, either transport.
type eioClient interface {
	// emit sends a Socket.IO EVENT to the main namespace. Safe for
	// concurrent use with the read loop.
	emit(ctx context.Context, event string, arg any) error
	// send sends one Engine.IO packet as it is (e.g. an EVENT with an ack
	// id). Safe for concurrent use with the read loop.
	send(ctx context.Context, p []byte) error
	// run reads until the session ends or ctx is done, calling h.
	run(ctx context.Context, h handler) error
	// close ends the session at once.
	close()
}

// ipBindAddressNoPort is IP_BIND_ADDRESS_NO_PORT from linux/in.h: with a
// bound source address, leave the choice of the source port to connect, so
// that ports are shared across destinations and TIME_WAIT ports are reused
// as for an unbound socket.
const ipBindAddressNoPort = 24

// newDialer returns a dialer that uses localIP as the source address when
// it is not empty.
func newDialer(localIP string) *net.Dialer {
	d := &net.Dialer{Timeout: 15 * time.Second, KeepAlive: -1}
	if localIP != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(localIP)}
		d.Control = func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
			})
			if err != nil {
				return err
			}
			return serr
		}
	}
	return d
}

// newHTTPClient returns the HTTP client one worker uses for all its
// sessions: no limit on connections per host, no HTTP/2, no timeout of its
// own (every request carries a context).
func newHTTPClient(localIP string, conns int) *http.Client {
	d := newDialer(localIP)
	tr := &http.Transport{
		DialContext:         d.DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   false,
		DisableCompression:  true,
		// An https:// server of the bench has a certificate made for the run: any will do.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	}
	return &http.Client{Transport: tr}
}

// engineURL returns the Engine.IO endpoint for base (http://host:port) and
// the transport, with the scheme the transport needs.
func engineURL(base, transport string) string {
	u := strings.TrimSuffix(base, "/") + "/socket.io/?EIO=4&transport=" + transport
	if transport == "websocket" {
		switch {
		case strings.HasPrefix(u, "http://"):
			u = "ws://" + strings.TrimPrefix(u, "http://")
		case strings.HasPrefix(u, "https://"):
			u = "wss://" + strings.TrimPrefix(u, "https://")
		}
	}
	return u
}

// encodeEvent returns the Socket.IO EVENT packet for the main namespace as
// an Engine.IO message: 42["event",arg].
func encodeEvent(event string, arg any) ([]byte, error) {
	a, err := json.Marshal(arg)
	if err != nil {
		return nil, err
	}
	name, _ := json.Marshal(event)
	b := make([]byte, 0, len(a)+len(name)+5)
	b = append(b, "42["...)
	b = append(b, name...)
	b = append(b, ',')
	b = append(b, a...)
	b = append(b, ']')
	return b, nil
}

// errConnectRefused is returned when the server answers CONNECT with an
// error packet.
var errConnectRefused = errors.New("socket.io connect refused")

// packetKind is what dispatch found in one Engine.IO packet.
type packetKind int

const (
	pkOther packetKind = iota
	pkPing
	pkClose
	pkConnected
	pkConnectError
	pkDisconnect
)

// dispatch handles one Engine.IO packet (without framing): it calls h for
// events and says what else it was.
func dispatch(p []byte, at int64, h handler) packetKind {
	if len(p) == 0 {
		return pkOther
	}
	switch p[0] {
	case '2':
		return pkPing
	case '1':
		return pkClose
	case '4':
	default:
		return pkOther // 3 pong, 6 noop, ...
	}
	// A Socket.IO packet in the main namespace.
	if len(p) < 2 {
		return pkOther
	}
	switch p[1] {
	case '0':
		return pkConnected
	case '4':
		return pkConnectError
	case '1':
		return pkDisconnect
	case '2':
		if h != nil {
			name, arg, ok := parseEvent(p[2:])
			if ok {
				h.event(name, arg, at)
			}
		}
	case '3':
		if a, ok := h.(acker); ok {
			if id, arg, ok := parseAck(p[2:]); ok {
				a.ack(id, arg, at)
			}
		}
	}
	return pkOther
}

// parseAck splits the payload of an ACK packet, <id>[arg,...], into the ack
// id and the raw text of the first argument.
func parseAck(b []byte) (id int64, arg []byte, ok bool) {
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' && i < 18 {
		id = id*10 + int64(b[i]-'0')
		i++
	}
	b = b[i:]
	if i == 0 || len(b) < 2 || b[0] != '[' || b[len(b)-1] != ']' {
		return 0, nil, false
	}
	return id, b[1 : len(b)-1], true
}

// parseEvent splits the payload of an EVENT packet, ["name",arg,...], into
// the name and the raw text of the first argument. It expects what servers
// send: no namespace, no ack id, an unescaped event name.
func parseEvent(b []byte) (name string, arg []byte, ok bool) {
	// Skip an ack id, if any.
	for len(b) > 0 && b[0] >= '0' && b[0] <= '9' {
		b = b[1:]
	}
	if len(b) < 4 || b[0] != '[' || b[1] != '"' || b[len(b)-1] != ']' {
		return "", nil, false
	}
	end := bytes.IndexByte(b[2:], '"')
	if end < 0 {
		return "", nil, false
	}
	name = string(b[2 : 2+end])
	rest := b[2+end+1 : len(b)-1]
	if len(rest) > 0 && rest[0] == ',' {
		arg = rest[1:]
		// Only the first argument matters here; the bench protocol sends one.
	}
	return name, arg, true
}

// numField finds "key": in a flat JSON object and parses the number after
// it. JavaScript and Go servers may print large integers as floats; both
// forms are accepted.
func numField(obj []byte, key string) (int64, bool) {
	var pat [40]byte
	k := append(pat[:0], '"')
	k = append(k, key...)
	k = append(k, '"')
	i := bytes.Index(obj, k)
	if i < 0 {
		return 0, false
	}
	return parseNum(obj[i+len(k):])
}

// parseNum parses the JSON number at the start of b, after any blanks or
// colons. Integers printed as floats (1.7e+18) are accepted.
func parseNum(b []byte) (int64, bool) {
	for len(b) > 0 && (b[0] == ' ' || b[0] == ':') {
		b = b[1:]
	}
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	j := 0
	var n int64
	isInt := true
	for j < len(b) {
		c := b[j]
		if c >= '0' && c <= '9' {
			n = n*10 + int64(c-'0')
		} else if c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-' {
			isInt = false
		} else {
			break
		}
		j++
	}
	if j == 0 {
		return 0, false
	}
	if !isInt {
		f, err := strconv.ParseFloat(string(b[:j]), 64)
		if err != nil {
			return 0, false
		}
		n = int64(f)
	}
	if neg {
		n = -n
	}
	return n, true
}

// ---- WebSocket ----

// wsClient is a session opened directly over WebSocket.
type wsClient struct {
	c   *websocket.Conn
	buf []byte // read buffer, owned by the read loop
}

// dialWS opens the WebSocket, reads the open packet, sends CONNECT and
// waits for the server's CONNECT reply. cookie, when not empty, is sent as
// the handshake's Cookie header (no Origin header is sent).
func dialWS(ctx context.Context, base string, hc *http.Client, cookie string) (*wsClient, error) {
	opts := &websocket.DialOptions{
		HTTPClient:      hc,
		CompressionMode: websocket.CompressionDisabled,
	}
	if cookie != "" {
		opts.HTTPHeader = http.Header{"Cookie": {cookie}}
	}
	c, resp, err := websocket.Dial(ctx, engineURL(base, "websocket"), opts)
	if err != nil {
		return nil, err
	}
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	c.SetReadLimit(1 << 20)
	w := &wsClient{c: c, buf: make([]byte, 0, 256)}
	fail := func(err error) (*wsClient, error) {
		c.CloseNow()
		return nil, err
	}
	// The handshake is bounded by ctx: close the connection when it ends.
	stop := context.AfterFunc(ctx, func() { c.CloseNow() })
	defer stop()

	p, err := w.read(ctx)
	if err != nil {
		return fail(fmt.Errorf("reading open packet: %w", err))
	}
	if len(p) == 0 || p[0] != '0' {
		return fail(fmt.Errorf("want open packet, got %.40q", p))
	}
	if err := c.Write(ctx, websocket.MessageText, []byte("40")); err != nil {
		return fail(fmt.Errorf("sending CONNECT: %w", err))
	}
	for range 100 { // a few pings may come first; the loop is bounded anyway
		p, err := w.read(ctx)
		if err != nil {
			return fail(fmt.Errorf("waiting for CONNECT reply: %w", err))
		}
		switch dispatch(p, 0, nil) {
		case pkConnected:
			return w, nil
		case pkConnectError:
			return fail(fmt.Errorf("%w: %.100s", errConnectRefused, p))
		case pkPing:
			if err := c.Write(ctx, websocket.MessageText, []byte("3")); err != nil {
				return fail(err)
			}
		case pkClose, pkDisconnect:
			return fail(errors.New("closed during handshake"))
		}
	}
	return fail(errors.New("no CONNECT reply"))
}

// read returns the next text message; the slice is valid until the next read.
func (w *wsClient) read(ctx context.Context) ([]byte, error) {
	for {
		typ, r, err := w.c.Reader(ctx)
		if err != nil {
			return nil, err
		}
		w.buf = w.buf[:0]
		for {
			if len(w.buf) == cap(w.buf) {
				w.buf = append(w.buf, 0)[:len(w.buf)]
			}
			n, err := r.Read(w.buf[len(w.buf):cap(w.buf)])
			w.buf = w.buf[:len(w.buf)+n]
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
		}
		if typ == websocket.MessageText {
			return w.buf, nil
		}
		// Binary frames are not part of the bench protocol: skip them.
	}
}

func (w *wsClient) emit(ctx context.Context, event string, arg any) error {
	b, err := encodeEvent(event, arg)
	if err != nil {
		return err
	}
	return w.c.Write(ctx, websocket.MessageText, b)
}

func (w *wsClient) send(ctx context.Context, p []byte) error {
	return w.c.Write(ctx, websocket.MessageText, p)
}

func (w *wsClient) run(ctx context.Context, h handler) error {
	stop := context.AfterFunc(ctx, func() { w.c.CloseNow() })
	defer stop()
	pong := []byte("3")
	for {
		// context.Background: no per-read timer; ctx closes the conn instead.
		p, err := w.read(context.Background())
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		at := time.Now().UnixNano()
		switch dispatch(p, at, h) {
		case pkPing:
			if err := w.c.Write(context.Background(), websocket.MessageText, pong); err != nil {
				return err
			}
			h.ping()
		case pkClose:
			return errors.New("server closed the session")
		case pkDisconnect:
			return errors.New("server disconnected the socket")
		}
	}
}

func (w *wsClient) close() { w.c.CloseNow() }

// ---- HTTP long-polling ----

// pollClient is a session over HTTP long-polling: one pending GET to
// receive, POSTs (one at a time) to send.
type pollClient struct {
	hc     *http.Client
	url    string // with the sid
	cookie string // the Cookie header of every request, or ""
	postMu sync.Mutex
	cancel context.CancelFunc
	ctx    context.Context // ends every request of the session
	queued [][]byte        // packets that came with the handshake replies, owned by run
}

// splitPayload splits a polling payload into its packets.
func splitPayload(b []byte) [][]byte { return bytes.Split(b, []byte{0x1e}) }

func (pc *pollClient) get(ctx context.Context) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pc.url, nil)
	if err != nil {
		return nil, err
	}
	if pc.cookie != "" {
		req.Header.Set("Cookie", pc.cookie)
	}
	resp, err := pc.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET: %s: %.100s", resp.Status, b)
	}
	return b, nil
}

func (pc *pollClient) post(ctx context.Context, body []byte) error {
	pc.postMu.Lock()
	defer pc.postMu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, pc.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	if pc.cookie != "" {
		req.Header.Set("Cookie", pc.cookie)
	}
	resp, err := pc.hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST: %s", resp.Status)
	}
	return nil
}

// dialPolling performs the polling handshake, sends CONNECT and waits for
// the CONNECT reply. ctx bounds the handshake; the session lives until
// close. cookie, when not empty, is sent with every request.
func dialPolling(ctx context.Context, base string, hc *http.Client, cookie string) (*pollClient, error) {
	sctx, cancel := context.WithCancel(context.Background())
	pc := &pollClient{hc: hc, url: engineURL(base, "polling"), cookie: cookie, ctx: sctx, cancel: cancel}
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	fail := func(err error) (*pollClient, error) {
		cancel()
		return nil, err
	}
	b, err := pc.get(sctx)
	if err != nil {
		return fail(fmt.Errorf("handshake: %w", err))
	}
	packets := splitPayload(b)
	if len(packets[0]) == 0 || packets[0][0] != '0' {
		return fail(fmt.Errorf("want open packet, got %.40q", b))
	}
	var open struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(packets[0][1:], &open); err != nil || open.SID == "" {
		return fail(fmt.Errorf("bad open packet %.80q", packets[0]))
	}
	pc.url += "&sid=" + open.SID
	if err := pc.post(sctx, []byte("40")); err != nil {
		return fail(fmt.Errorf("sending CONNECT: %w", err))
	}
	pending := packets[1:]
	for range 100 {
		if len(pending) == 0 {
			b, err := pc.get(sctx)
			if err != nil {
				return fail(fmt.Errorf("waiting for CONNECT reply: %w", err))
			}
			pending = splitPayload(b)
		}
		p := pending[0]
		pending = pending[1:]
		switch dispatch(p, 0, nil) {
		case pkConnected:
			pc.queued = pending
			return pc, nil
		case pkConnectError:
			return fail(fmt.Errorf("%w: %.100s", errConnectRefused, p))
		case pkPing:
			if err := pc.post(sctx, []byte("3")); err != nil {
				return fail(err)
			}
		case pkClose, pkDisconnect:
			return fail(errors.New("closed during handshake"))
		}
	}
	return fail(errors.New("no CONNECT reply"))
}

func (pc *pollClient) emit(ctx context.Context, event string, arg any) error {
	b, err := encodeEvent(event, arg)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, pc.cancel)
	defer stop()
	return pc.post(pc.ctx, b)
}

func (pc *pollClient) send(ctx context.Context, p []byte) error {
	stop := context.AfterFunc(ctx, pc.cancel)
	defer stop()
	return pc.post(pc.ctx, p)
}

func (pc *pollClient) run(ctx context.Context, h handler) error {
	stop := context.AfterFunc(ctx, pc.cancel)
	defer stop()
	pending := pc.queued
	pc.queued = nil
	for {
		at := time.Now().UnixNano()
		for _, p := range pending {
			switch dispatch(p, at, h) {
			case pkPing:
				if err := pc.post(pc.ctx, []byte("3")); err != nil {
					return err
				}
				h.ping()
			case pkClose:
				return errors.New("server closed the session")
			case pkDisconnect:
				return errors.New("server disconnected the socket")
			}
		}
		b, err := pc.get(pc.ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		pending = splitPayload(b)
	}
}

func (pc *pollClient) close() { pc.cancel() }
