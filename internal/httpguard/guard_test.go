package httpguard

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// waitLimit bounds every wait: long enough for a loaded machine, short enough that a hang fails.
const waitLimit = 10 * time.Second

// serve starts an http.Server with a Guard of cfg on a loopback port: /healthz answers ok, and
// /form reads its whole body and answers how many bytes it got.
func serve(t *testing.T, cfg Config) (*Guard, string) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	mux.HandleFunc("POST /form", func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(w, "could not read the body", http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, n)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: waitLimit}
	g := New(cfg)
	g.Install(srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return g, ln.Addr().String()
}

// dial opens a raw connection, closed when the test ends.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// get sends GET path on a fresh connection and returns the status line.
func get(t *testing.T, addr, path string) string {
	t.Helper()
	c := dial(t, addr)
	_ = c.SetDeadline(time.Now().Add(waitLimit))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path)
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return strings.TrimSpace(line)
}

// waitClosed waits until the server has closed c (a read returns an error other than a timeout
// of the short poll) and returns what it read before that.
func waitClosed(t *testing.T, c net.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(waitLimit))
	b, err := io.ReadAll(c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the server kept the connection open for %v", waitLimit)
	}
	return string(b)
}

// TestBodyTimeout: a client that declares a body and trickles it is cut off at the body
// deadline (with the headers already in, the header timeout no longer applies).
func TestBodyTimeout(t *testing.T) {
	_, addr := serve(t, Config{BodyTimeout: 100 * time.Millisecond})
	c := dial(t, addr)
	fmt.Fprint(c, "POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\nx")
	got := waitClosed(t, c)
	if !strings.HasPrefix(got, "HTTP/1.1 400") {
		t.Errorf("the trickling POST was answered %q, want a 400 and the connection closed", got)
	}
	// A body sent at once is read whole, and the handler may take longer than the deadline
	// afterwards on a kept-alive connection.
	c = dial(t, addr)
	_ = c.SetDeadline(time.Now().Add(waitLimit))
	fmt.Fprint(c, "POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "5" {
		t.Fatalf("a prompt POST: %d %q", resp.StatusCode, body)
	}
	time.Sleep(300 * time.Millisecond) // the scenario: idle past the body deadline
	fmt.Fprint(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the next request on the kept-alive connection: %v, %v", resp, err)
	}
}

// TestPendingBound: a flood of connections that trickle their requests holds no more than
// MaxPending of them open (the oldest are closed), and a health check still answers.
func TestPendingBound(t *testing.T) {
	const bound = 8
	g, addr := serve(t, Config{MaxPending: bound, BodyTimeout: time.Hour})
	var tricklers []net.Conn
	for i := range 4 * bound {
		c := dial(t, addr)
		if i%2 == 0 {
			fmt.Fprint(c, "GET /healthz HTTP/1.1\r\nHo") // headers, never finished
		} else {
			fmt.Fprint(c, "POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\nx") // a body, never finished
		}
		tricklers = append(tricklers, c)
	}
	for deadline := time.Now().Add(waitLimit); g.Evicted() < 3*bound; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections closed at the bound, want %d; %d pending", g.Evicted(), 3*bound, g.Pending())
		}
	}
	if n := g.Pending(); n > bound {
		t.Errorf("%d connections pending, bound %d", n, bound)
	}
	// The oldest were closed, the newest are still open.
	for i, c := range tricklers[:bound] {
		if got := waitClosed(t, c); got != "" {
			t.Errorf("trickler %d got %q", i, got)
		}
	}
	if line := get(t, addr, "/healthz"); line != "HTTP/1.1 200 OK" {
		t.Errorf("healthz during the flood: %q", line)
	}
	// Served requests do not count: the health check left nothing pending behind it beyond
	// the tricklers still held.
	if n := g.Pending(); n > bound {
		t.Errorf("%d pending after the health check", n)
	}
}
