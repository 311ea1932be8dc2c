//go:build soak && linux

package soak_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// The raw clients speak just enough Engine.IO and Socket.IO to be a signed-in socket in the
// room, and misbehave the ways the official client never does: they reset connections mid-way,
// go silent, or stop reading.

// rawDialer makes TCP connections to the server and keeps each one, so a client can reset it
// (RST, no FIN) whatever HTTP or WebSocket code sits on top. rcvbuf, when set, shrinks the
// socket's receive buffer before it connects (a slow reader's window).
type rawDialer struct {
	addr   string
	rcvbuf int

	mu    sync.Mutex
	conns []*net.TCPConn
}

func (d *rawDialer) DialContext(ctx context.Context, _, _ string) (net.Conn, error) {
	nd := net.Dialer{Timeout: 10 * time.Second}
	if d.rcvbuf > 0 {
		nd.Control = func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, d.rcvbuf)
			})
			return errors.Join(err, serr)
		}
	}
	c, err := nd.DialContext(ctx, "tcp", d.addr)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.conns = append(d.conns, c.(*net.TCPConn))
	d.mu.Unlock()
	return c, nil
}

// reset aborts every connection this dialer made: SO_LINGER 0 turns Close into a RST.
func (d *rawDialer) reset() {
	d.mu.Lock()
	conns := d.conns
	d.conns = nil
	d.mu.Unlock()
	for _, c := range conns {
		_ = c.SetLinger(0)
		_ = c.Close()
	}
}

func (d *rawDialer) client() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: false}}
}

// rawWS is a signed-in socket over a raw WebSocket.
type rawWS struct {
	dialer *rawDialer
	conn   *websocket.Conn
}

// dialWS opens a WebSocket session with cookie and joins the main namespace (it has read the
// CONNECT reply when it returns).
func dialWS(ctx context.Context, base, cookie string, rcvbuf int) (*rawWS, error) {
	d := &rawDialer{addr: strings.TrimPrefix(base, "http://"), rcvbuf: rcvbuf}
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/socket.io/?EIO=4&transport=websocket", &websocket.DialOptions{
		HTTPClient: d.client(),
		HTTPHeader: http.Header{"Cookie": {sessionCookie + "=" + cookie}},
	})
	if err != nil {
		d.reset()
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	w := &rawWS{dialer: d, conn: conn}
	if _, open, err := conn.Read(ctx); err != nil || len(open) == 0 || open[0] != '0' {
		w.reset()
		return nil, fmt.Errorf("want the open packet, got %q (%v)", open, err)
	}
	if err := conn.Write(ctx, websocket.MessageText, []byte("40")); err != nil {
		w.reset()
		return nil, err
	}
	for {
		_, p, err := conn.Read(ctx)
		if err != nil {
			w.reset()
			return nil, err
		}
		if strings.HasPrefix(string(p), "40") {
			return w, nil
		}
		if strings.HasPrefix(string(p), "44") {
			w.reset()
			return nil, fmt.Errorf("connect_error: %s", p)
		}
	}
}

// reset aborts the connection with a RST.
func (w *rawWS) reset() { w.dialer.reset() }

// rawPoll is a signed-in socket over HTTP long-polling.
type rawPoll struct {
	dialer *rawDialer
	hc     *http.Client
	url    string // with the sid
	cookie string
}

// dialPoll opens a polling session with cookie and joins the main namespace.
func dialPoll(ctx context.Context, base, cookie string) (*rawPoll, error) {
	d := &rawDialer{addr: strings.TrimPrefix(base, "http://")}
	p := &rawPoll{dialer: d, hc: d.client(), cookie: cookie}
	body, err := p.do(ctx, http.MethodGet, base+"/socket.io/?EIO=4&transport=polling", "")
	if err != nil {
		d.reset()
		return nil, err
	}
	_, rest, ok := strings.Cut(body, `"sid":"`)
	sid, _, ok2 := strings.Cut(rest, `"`)
	if !strings.HasPrefix(body, "0") || !ok || !ok2 {
		d.reset()
		return nil, fmt.Errorf("want the open packet, got %q", body)
	}
	p.url = base + "/socket.io/?EIO=4&transport=polling&sid=" + sid
	if _, err := p.do(ctx, http.MethodPost, p.url, "40"); err != nil {
		d.reset()
		return nil, err
	}
	// The CONNECT reply, and whatever the room sends on arrival.
	for range 5 {
		body, err := p.do(ctx, http.MethodGet, p.url, "")
		if err != nil {
			d.reset()
			return nil, err
		}
		if strings.Contains(body, "40{") || strings.HasPrefix(body, "40") {
			return p, nil
		}
		if strings.Contains(body, "44") {
			d.reset()
			return nil, fmt.Errorf("connect_error: %s", body)
		}
	}
	d.reset()
	return nil, errors.New("no CONNECT reply in 5 polls")
}

func (p *rawPoll) do(ctx context.Context, method, url, body string) (string, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return "", err
	}
	req.Header.Set("Cookie", sessionCookie+"="+p.cookie)
	if body != "" {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s %s: %s %q", method, url, resp.Status, b)
	}
	return string(b), nil
}

// resetDuringPoll sends a long-poll GET, gives the server a moment to hold it, and resets the
// connection under it.
func (p *rawPoll) resetDuringPoll(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = p.do(ctx, http.MethodGet, p.url, "")
	}()
	time.Sleep(50 * time.Millisecond)
	p.dialer.reset()
	cancel()
	<-done
}

// resetMidHandshake opens a TCP connection, sends the start of a handshake of the given kind,
// and resets the connection before the server has answered (kind 0: half a request line; 1: a
// complete WebSocket upgrade request; 2: a complete polling handshake request).
func resetMidHandshake(addr, cookie string, kind int) error {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return err
	}
	tc := c.(*net.TCPConn)
	defer func() { _ = tc.SetLinger(0); _ = tc.Close() }()
	var req string
	switch kind {
	case 0:
		req = "GET /socket.io/?EIO=4&transp"
	case 1:
		req = "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: " + addr +
			"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nCookie: " + sessionCookie + "=" + cookie + "\r\n\r\n"
	default:
		req = "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: " + addr +
			"\r\nCookie: " + sessionCookie + "=" + cookie + "\r\n\r\n"
	}
	if _, err := io.WriteString(tc, req); err != nil {
		return err
	}
	if kind == 2 {
		// Let the handshake be made, then go before reading its answer.
		_ = tc.SetReadDeadline(time.Now().Add(5 * time.Millisecond))
		_, _ = bufio.NewReader(tc).ReadByte()
	}
	return nil
}
