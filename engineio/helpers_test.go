package engineio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/herald-chat/herald/internal/testcleanup"
)

// waitLimit bounds every wait in these tests: long enough for a loaded 2-core machine running
// the race detector, short enough that a hang fails the test instead of the whole run.
const waitLimit = 10 * time.Second

// discardLogger keeps the server quiet: the tests assert on behaviour, not on log lines.
var discardLogger = slog.New(slog.DiscardHandler)

// recorder is the test Handler: every session echoes its messages back unchanged (text as text,
// binary as binary) and records how it ended.
type recorder struct {
	mu       sync.Mutex
	sessions map[string]*recSession
	opened   chan *Session
	// onOpen, when set (with setOnOpen), runs at the end of Open: a test's way to act from
	// inside the handshake. Guarded by mu.
	onOpen func(s *Session)
}

// setOnOpen sets the hook Open runs for every new session.
func (h *recorder) setOnOpen(f func(s *Session)) {
	h.mu.Lock()
	h.onOpen = f
	h.mu.Unlock()
}

// recSession is what the recorder knows about one session.
type recSession struct {
	s      *Session
	closes atomic.Int32  // how many times OnClose ran: must never exceed 1
	done   chan struct{} // closed by the first OnClose
	reason string        // OnClose's reason, readable once done is closed

	mu   sync.Mutex
	msgs []string // every message received, binary ones prefixed with "b:"
}

func newRecorder() *recorder {
	return &recorder{sessions: make(map[string]*recSession), opened: make(chan *Session, 4096)}
}

// Open implements Handler.
func (h *recorder) Open(s *Session) SessionHandler {
	rs := &recSession{s: s, done: make(chan struct{})}
	h.mu.Lock()
	h.sessions[s.ID()] = rs
	onOpen := h.onOpen
	h.mu.Unlock()
	select {
	case h.opened <- s:
	default:
	}
	if onOpen != nil {
		onOpen(s)
	}
	return rs
}

// OnMessage echoes the message.
func (rs *recSession) OnMessage(data []byte, binary bool) {
	rs.mu.Lock()
	if binary {
		rs.msgs = append(rs.msgs, "b:"+string(data))
	} else {
		rs.msgs = append(rs.msgs, string(data))
	}
	rs.mu.Unlock()
	if binary {
		_ = rs.s.Send(BinaryMessage(data))
	} else {
		_ = rs.s.Send(TextMessage(data))
	}
}

// OnClose records the reason.
func (rs *recSession) OnClose(reason string) {
	if rs.closes.Add(1) == 1 {
		rs.reason = reason
		close(rs.done)
	}
}

// session returns what the recorder knows of sid; it fails the test if the server never opened it.
func (h *recorder) session(t testing.TB, sid string) *recSession {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	rs := h.sessions[sid]
	if rs == nil {
		t.Fatalf("no session %q was opened", sid)
	}
	return rs
}

// waitClosed waits for the session's OnClose and returns its reason.
func (h *recorder) waitClosed(t testing.TB, sid string) string {
	t.Helper()
	rs := h.session(t, sid)
	select {
	case <-rs.done:
		return rs.reason
	case <-time.After(waitLimit):
		t.Fatalf("session %s: OnClose not called within %v", sid, waitLimit)
		return ""
	}
}

// isClosed reports whether OnClose has run for sid.
func (h *recorder) isClosed(t testing.TB, sid string) bool {
	rs := h.session(t, sid)
	select {
	case <-rs.done:
		return true
	default:
		return false
	}
}

// checkCloseCounts fails the test if any session's OnClose ran more than once.
func (h *recorder) checkCloseCounts(t testing.TB) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for sid, rs := range h.sessions {
		if n := rs.closes.Load(); n > 1 {
			t.Errorf("session %s: OnClose called %d times", sid, n)
		}
	}
}

// env is one Engine.IO server under test, mounted at /engine.io/ on a loopback httptest server,
// with its own HTTP client so that the idle connections of one test never leak into another.
type env struct {
	srv    *Server
	ts     *httptest.Server
	rec    *recorder
	client *http.Client
}

// newEnv starts a server with cfg (logging discarded) and stops it when the test ends.
func newEnv(t testing.TB, cfg Config) *env {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = discardLogger
	}
	rec := newRecorder()
	srv := NewServer(cfg, rec)
	mux := http.NewServeMux()
	mux.Handle("/engine.io/", srv)
	// Over the package's Listener, as cmd/herald serves: every test also exercises its writes.
	ts := httptest.NewUnstartedServer(mux)
	ts.Listener = Listener(ts.Listener)
	ts.Start()
	e := &env{srv: srv, ts: ts, rec: rec, client: &http.Client{Transport: &http.Transport{}, Timeout: waitLimit}}
	testcleanup.Within(t, waitLimit, "closing the server", func() {
		// Polling sessions without a GET would hold a graceful Close for their drain wait:
		// a short deadline cuts them.
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_ = srv.Close(ctx)
		e.client.CloseIdleConnections()
		ts.Close()
		rec.checkCloseCounts(t)
	})
	return e
}

// url returns the Engine.IO endpoint with the given query.
func (e *env) url(query string) string { return e.ts.URL + "/engine.io/?" + query }

// wsURL returns the WebSocket form of url.
func (e *env) wsURL(query string) string { return "ws" + strings.TrimPrefix(e.url(query), "http") }

// response is one HTTP answer, read in full.
type response struct {
	status int
	body   string
	header http.Header
}

// do sends one request and reads the whole answer. It is safe to call from any goroutine: it
// returns an error instead of failing the test.
func (e *env) do(method, query string, body io.Reader, header http.Header) (response, error) {
	req, err := http.NewRequest(method, e.url(query), body)
	if err != nil {
		return response{}, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := e.client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return response{status: res.StatusCode, body: string(b), header: res.Header}, err
}

// mustDo is do for the test goroutine.
func (e *env) mustDo(t testing.TB, method, query string, body io.Reader, header http.Header) response {
	t.Helper()
	r, err := e.do(method, query, body, header)
	if err != nil {
		t.Fatalf("%s ?%s: %v", method, query, err)
	}
	return r
}

// openInfo is the JSON of an open packet.
type openInfo struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

// parseOpen decodes an open packet ("0{...}"), refusing unknown fields so that the test notices
// anything the server adds.
func parseOpen(p string) (openInfo, error) {
	var o openInfo
	if !strings.HasPrefix(p, "0") {
		return o, fmt.Errorf("not an open packet: %q", p)
	}
	dec := json.NewDecoder(strings.NewReader(p[1:]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		return o, fmt.Errorf("open packet %q: %v", p, err)
	}
	if o.SID == "" || o.Upgrades == nil {
		return o, fmt.Errorf("open packet %q: missing sid or upgrades", p)
	}
	return o, nil
}

// handshake opens a long-polling session and returns its open packet.
func (e *env) handshake(t testing.TB) openInfo {
	t.Helper()
	r := e.mustDo(t, http.MethodGet, "EIO=4&transport=polling", nil, nil)
	if r.status != http.StatusOK {
		t.Fatalf("handshake: status %d, body %q", r.status, r.body)
	}
	o, err := parseOpen(r.body)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// pollQuery returns the query of a long-polling request on sid.
func pollQuery(sid string) string { return "EIO=4&transport=polling&sid=" + sid }

// get sends a long-polling GET and expects 200.
func (e *env) get(t testing.TB, sid string) string {
	t.Helper()
	r := e.mustDo(t, http.MethodGet, pollQuery(sid), nil, nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET sid=%s: status %d, body %q", sid, r.status, r.body)
	}
	return r.body
}

// post sends a long-polling payload and expects 200 "ok".
func (e *env) post(t testing.TB, sid, payload string) {
	t.Helper()
	r := e.mustDo(t, http.MethodPost, pollQuery(sid), strings.NewReader(payload), nil)
	if r.status != http.StatusOK || r.body != "ok" {
		t.Fatalf("POST sid=%s %q: status %d, body %q", sid, payload, r.status, r.body)
	}
}

// asyncGet starts a long-polling GET and returns where its answer will arrive.
func (e *env) asyncGet(sid string) <-chan result {
	ch := make(chan result, 1)
	go func() {
		r, err := e.do(http.MethodGet, pollQuery(sid), nil, nil)
		ch <- result{r, err}
	}()
	return ch
}

// result carries an asynchronous request's answer.
type result struct {
	response
	err error
}

// await waits for an asynchronous request.
func await(t testing.TB, ch <-chan result) response {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("request failed: %v", r.err)
		}
		return r.response
	case <-time.After(waitLimit):
		t.Fatalf("request not answered within %v", waitLimit)
		return response{}
	}
}

// waitFor polls cond until it holds, failing the test after waitLimit. It is for server state
// that has no event to wait on (e.g. "a GET is now pending").
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitGetPending waits until the server holds a GET for sid.
func (e *env) waitGetPending(t testing.TB, sid string) {
	t.Helper()
	s := e.srv.session(sid)
	if s == nil {
		t.Fatalf("no session %s", sid)
	}
	waitFor(t, "the GET to be pending", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.getPending
	})
}

// tctx returns a context bounded by waitLimit.
func tctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), waitLimit)
	t.Cleanup(cancel)
	return c
}

// dialWS opens a WebSocket on query; it fails the test unless the handshake succeeds.
func (e *env) dialWS(t testing.TB, query string) *websocket.Conn {
	t.Helper()
	return e.dialWSHeader(t, query, nil)
}

// dialWSHeader is dialWS with extra handshake headers.
func (e *env) dialWSHeader(t testing.TB, query string, h http.Header) *websocket.Conn {
	t.Helper()
	c, res, err := websocket.Dial(tctx(t), e.wsURL(query), &websocket.DialOptions{HTTPClient: e.client, HTTPHeader: h})
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		t.Fatalf("dial ?%s: %v (status %d)", query, err, status)
	}
	c.SetReadLimit(-1)
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

// dialWSStatus attempts a WebSocket handshake that should fail and returns the HTTP status and
// body of the refusal.
func (e *env) dialWSStatus(t testing.TB, query string, header http.Header) (int, string) {
	t.Helper()
	c, res, err := websocket.Dial(tctx(t), e.wsURL(query), &websocket.DialOptions{HTTPClient: e.client, HTTPHeader: header})
	if err == nil {
		_ = c.CloseNow()
		t.Fatalf("dial ?%s succeeded, want a refusal", query)
	}
	if res == nil {
		t.Fatalf("dial ?%s: %v, without an HTTP answer", query, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// openWS opens a session directly over WebSocket and returns the connection and open packet.
func (e *env) openWS(t testing.TB) (*websocket.Conn, openInfo) {
	t.Helper()
	c := e.dialWS(t, "EIO=4&transport=websocket")
	o, err := parseOpen(readText(t, c))
	if err != nil {
		t.Fatal(err)
	}
	return c, o
}

// readMsg reads one WebSocket message within waitLimit.
func readMsg(t testing.TB, c *websocket.Conn) (websocket.MessageType, string) {
	t.Helper()
	typ, b, err := c.Read(tctx(t))
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return typ, string(b)
}

// readText reads one WebSocket message and requires it to be text.
func readText(t testing.TB, c *websocket.Conn) string {
	t.Helper()
	typ, s := readMsg(t, c)
	if typ != websocket.MessageText {
		t.Fatalf("got a binary message %q, want text", s)
	}
	return s
}

// writeText sends a text WebSocket message.
func writeText(t testing.TB, c *websocket.Conn, s string) {
	t.Helper()
	if err := c.Write(tctx(t), websocket.MessageText, []byte(s)); err != nil {
		t.Fatalf("write %q: %v", s, err)
	}
}

// expectWSClosed reads until the server ends the connection and returns the read error. A
// message that arrives first fails the test unless allowMessages is set.
func expectWSClosed(t testing.TB, c *websocket.Conn, allowMessages bool) error {
	t.Helper()
	for {
		_, b, err := c.Read(tctx(t))
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("connection still open after %v", waitLimit)
			}
			return err
		}
		if !allowMessages {
			t.Fatalf("got %q, want the connection closed", b)
		}
	}
}

// healthy is a pair of sessions, one per transport, opened before a test misbehaves on another
// session: check proves the misbehaviour did not disturb them.
type healthy struct {
	e    *env
	psid string
	ws   *websocket.Conn
	n    int
}

func (e *env) openHealthy(t testing.TB) *healthy {
	t.Helper()
	h := &healthy{e: e, psid: e.handshake(t).SID}
	h.ws, _ = e.openWS(t)
	h.check(t)
	return h
}

// check has both sessions echo a fresh message.
func (h *healthy) check(t testing.TB) {
	t.Helper()
	h.n++
	msg := fmt.Sprintf("4healthy-%d", h.n)
	h.e.post(t, h.psid, msg)
	if got := h.e.get(t, h.psid); got != msg {
		t.Fatalf("healthy polling session: got %q, want %q", got, msg)
	}
	writeText(t, h.ws, msg)
	if got := readText(t, h.ws); got != msg {
		t.Fatalf("healthy websocket session: got %q, want %q", got, msg)
	}
}

// setWriteBuffer shrinks the send buffer of a server-side connection, a *net.TCPConn or the
// Listener's wrapper around one.
func setWriteBuffer(t testing.TB, nc net.Conn, bytes int) {
	t.Helper()
	// Errors, not Fatal: callers hold the session's lock, which a Fatal would leave held.
	c, ok := nc.(interface{ SetWriteBuffer(int) error })
	if !ok {
		t.Errorf("%T has no SetWriteBuffer", nc)
		return
	}
	if err := c.SetWriteBuffer(bytes); err != nil {
		t.Error(err)
	}
}

// withSessionLock runs f holding s's lock and releases it however f ends: a failed assertion
// (runtime.Goexit) or a panic inside f must not leave the lock held, or the test's cleanup would
// wait for it forever.
func withSessionLock(s *Session, f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
}
