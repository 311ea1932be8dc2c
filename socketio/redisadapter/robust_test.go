package redisadapter

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/engineio"
	"github.com/herald-chat/herald/internal/redistest"
	"github.com/herald-chat/herald/internal/sioclient"
	"github.com/herald-chat/herald/socketio"
)

// These tests take the cluster through what goes wrong in production: a server that stops
// answering, more requests than the bound, Redis going away and coming back.

// wait bounds every wait of these tests; none should come near it.
const wait = 15 * time.Second

// node is one server of a test cluster, in this process.
type node struct {
	io      *socketio.Server
	cluster *Cluster
	url     string
}

// adapter returns the node's adapter of the main namespace.
func (n *node) adapter() *adapter { return n.io.Of("/").Adapter().(*adapter) }

// startNode starts a server on Redis url with channel prefix key.
func startNode(t *testing.T, url, key string, cfg Config) *node {
	t.Helper()
	cfg.URL, cfg.Key = url, key
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	io := socketio.NewServer(socketio.Config{AdapterFactory: c.AdapterFactory, Engine: engineQuiet()})
	ts := httptest.NewServer(io)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = io.Close(ctx)
		ts.Close()
		_ = c.Close()
	})
	return &node{io: io, cluster: c, url: ts.URL}
}

func engineQuiet() engineio.Config { return engineio.Config{Logger: slog.New(slog.DiscardHandler)} }

// waitFor polls cond until it holds, failing after wait.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitServers waits until n counts servers in its main namespace.
func waitServers(t *testing.T, n *node, servers int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d servers", servers), func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		got, err := n.io.ServerCount(ctx)
		return err == nil && got == servers
	})
}

// silentServer subscribes to the main namespace's request channel of cluster key and never
// answers: a server that counts in PUBSUB NUMSUB but is frozen, or an old version.
func silentServer(t *testing.T, redis *redistest.Server, key string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", redis.Addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	channel := key + "-request#/#"
	if _, err := fmt.Fprintf(conn, "*2\r\n$9\r\nSUBSCRIBE\r\n$%d\r\n%s\r\n", len(channel), channel); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	if line, err := bufio.NewReader(conn).ReadString('\n'); err != nil || !strings.HasPrefix(line, "*3") {
		t.Fatalf("subscribing the silent server: %q %v", line, err)
	}
	// What it receives from now on stays unread in the socket buffer; Redis never blocks on it
	// for the few requests of a test.
}

// helperNodeEnv names the environment variable that makes TestHelperNode a cluster server.
const helperNodeEnv = "HERALD_REDISADAPTER_HELPER_NODE"

// TestHelperNode is not a test: started by startHelperProcess as a child process, with the Redis
// URL and channel prefix in its environment, it is a cluster server that answers server-side
// emits, until it is killed. A test can freeze it with SIGSTOP.
func TestHelperNode(t *testing.T) {
	spec := os.Getenv(helperNodeEnv)
	if spec == "" {
		t.Skip("a helper process for other tests")
	}
	url, key, _ := strings.Cut(spec, " ")
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := New(ctx, Config{URL: url, Key: key, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	io := socketio.NewServer(socketio.Config{AdapterFactory: c.AdapterFactory})
	io.OnServerSideEmit("ping", func(e *socketio.ServerSideEvent) { _ = e.Ack("pong from helper") })
	fmt.Println("ready")
	time.Sleep(10 * time.Minute) // killed long before
}

// startHelperProcess starts TestHelperNode in a child process and waits until it is ready; it is
// killed when the test ends.
func startHelperProcess(t *testing.T, url, key string) *os.Process {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestHelperNode$", "-test.count", "1")
	cmd.Env = append(os.Environ(), helperNodeEnv+"="+url+" "+key)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- strings.TrimSpace(line)
		_, _ = bufio.NewReader(out).WriteTo(devNull{})
	}()
	select {
	case line := <-ready:
		if line != "ready" {
			t.Fatalf("helper process: %q", line)
		}
	case <-time.After(wait):
		t.Fatal("helper process did not start")
	}
	return cmd.Process
}

type devNull struct{}

func (devNull) Write(p []byte) (int, error) { return len(p), nil }

// TestSilentServerServerSideEmitWithAck: the answers that came are returned with the error.
func TestSilentServerServerSideEmitWithAck(t *testing.T) {
	redis := redistest.Start(t)
	key := "robust-" + randomID(8)
	a := startNode(t, redis.URL(), key, Config{RequestsTimeout: 500 * time.Millisecond})
	b := startNode(t, redis.URL(), key, Config{})
	b.io.OnServerSideEmit("ping", func(e *socketio.ServerSideEvent) { _ = e.Ack("pong from b") })
	silentServer(t, redis, key)
	waitServers(t, a, 3)

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	replies, err := a.io.ServerSideEmitWithAck(ctx, "ping")
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "1 of 2 servers answered") {
		t.Fatalf("err = %v, want a timeout saying 1 of 2 servers answered", err)
	}
	if len(replies) != 1 || replies[0] != "pong from b" {
		t.Fatalf("replies = %v, want b's", replies)
	}
	if n := a.adapter().pending.len(); n != 0 {
		t.Fatalf("%d requests still pending", n)
	}
	if st := a.cluster.Stats(); st.RequestsTimedOut != 1 || st.Pending != 0 {
		t.Fatalf("stats: %d timed out, %d pending; want 1, 0", st.RequestsTimedOut, st.Pending)
	}
}

// TestPendingRequestsBounded: past MaxPendingRequests a request fails at once, and closing the
// server fails the waiting ones and empties the table.
func TestPendingRequestsBounded(t *testing.T) {
	redis := redistest.Start(t)
	key := "robust-" + randomID(8)
	a := startNode(t, redis.URL(), key, Config{RequestsTimeout: time.Minute, MaxPendingRequests: 2})
	silentServer(t, redis, key)
	waitServers(t, a, 2)

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := a.io.FetchSockets(ctx)
			errs <- err
		}()
	}
	waitFor(t, "two pending requests", func() bool { return a.adapter().pending.len() == 2 })
	if _, err := a.io.FetchSockets(ctx); !errors.Is(err, ErrTooManyRequests) {
		t.Fatalf("third request: err = %v, want ErrTooManyRequests", err)
	}
	if _, err := a.io.ServerSideEmitWithAck(ctx, "ping"); !errors.Is(err, ErrTooManyRequests) {
		t.Fatalf("server-side emit over the bound: err = %v, want ErrTooManyRequests", err)
	}
	if st := a.cluster.Stats(); st.Pending != 2 {
		t.Fatalf("stats: %d pending, want 2", st.Pending)
	}

	closeCtx, closeCancel := context.WithTimeout(context.Background(), wait)
	defer closeCancel()
	if err := a.io.Close(closeCtx); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case err := <-errs:
			if !errors.Is(err, ErrClosed) {
				t.Fatalf("waiting request: err = %v, want ErrClosed", err)
			}
		case <-ctx.Done():
			t.Fatal("a waiting request did not end when the server closed")
		}
	}
	if n := a.adapter().pending.len(); n != 0 {
		t.Fatalf("%d requests still pending after Close", n)
	}
	if st := a.cluster.Stats(); st.Pending != 0 {
		t.Fatalf("stats: %d pending after Close", st.Pending)
	}
	if _, err := a.io.FetchSockets(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("request after Close: err = %v, want ErrClosed", err)
	}
}

// TestSilentServerEmitWithAck: a broadcast with acks returns the acks that came and forgets the
// request when its time is up.
func TestSilentServerEmitWithAck(t *testing.T) {
	redis := redistest.Start(t)
	key := "robust-" + randomID(8)
	a := startNode(t, redis.URL(), key, Config{})
	b := startNode(t, redis.URL(), key, Config{})
	silentServer(t, redis, key)
	waitServers(t, a, 3)
	for _, n := range []*node{a, b} {
		dial(t, n, "client of "+n.url)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	acks, err := a.io.EmitWithAck(ctx, "question")
	if err == nil {
		t.Fatal("no error though the silent server never gave its count")
	}
	if len(acks) != 2 {
		t.Fatalf("%d acks, want both clients' (%v, %v)", len(acks), acks, err)
	}
	waitFor(t, "the broadcast with acks to leave the pending table", func() bool { return a.adapter().pending.len() == 0 })
}

// dial connects a client to n that answers every ack with its name.
func dial(t *testing.T, n *node, name string) *sioclient.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := sioclient.Dial(ctx, n.url, sioclient.Options{AutoAck: func(*sioclient.Event) []any { return []any{name} }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	waitFor(t, "the socket of "+name, func() bool { return n.io.Of("/").Socket(c.ID) != nil })
	return c
}

// next returns the next event c receives named name, skipping others.
func next(t *testing.T, c *sioclient.Client, name string) *sioclient.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for {
		e, err := c.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for %q: %v", name, err)
		}
		if e.Name == name {
			return e
		}
	}
}

// TestRedisDown: while Redis is down each server still delivers to its own clients at once; once
// Redis is back the servers resubscribe by themselves and cross-server delivery resumes, with
// no client reconnecting.
func TestRedisDown(t *testing.T) {
	redis := redistest.Start(t)
	key := "robust-" + randomID(8)
	a := startNode(t, redis.URL(), key, Config{})
	b := startNode(t, redis.URL(), key, Config{})
	waitServers(t, a, 2)
	ca, cb := dial(t, a, "ca"), dial(t, b, "cb")
	idA, idB := ca.ID, cb.ID

	must(t, a.io.Emit("before", 1))
	next(t, cb, "before")

	redis.Kill()
	waitFor(t, "the servers to see Redis gone", func() bool {
		return !a.cluster.Stats().Connected && !b.cluster.Stats().Connected
	})
	// Local delivery does not wait for Redis: the event reaches the local client while Redis is
	// still down.
	must(t, a.io.Emit("during", 1))
	next(t, ca, "during")
	must(t, b.io.To(idB).Emit("during", 2))
	next(t, cb, "during")

	restartCtx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	redis.Restart(restartCtx)
	waitFor(t, "both servers to resubscribe", func() bool {
		sa, sb := a.cluster.Stats(), b.cluster.Stats()
		return sa.Connected && sb.Connected && sa.Reconnects == 1 && sb.Reconnects == 1
	})
	waitServers(t, a, 2)
	must(t, a.io.Emit("after", "from a"))
	if e := next(t, cb, "after"); e.Args[0] != "from a" {
		t.Fatalf("cb got %v", e.Args)
	}
	must(t, b.io.Emit("after", "from b"))
	for {
		if e := next(t, ca, "after"); e.Args[0] == "from b" {
			break
		}
	}
	if ca.ID != idA || cb.ID != idB || a.io.Of("/").Socket(idA) == nil || b.io.Of("/").Socket(idB) == nil {
		t.Fatal("a client reconnected")
	}
	select {
	case <-ca.Done():
		t.Fatal("ca's connection ended")
	case <-cb.Done():
		t.Fatal("cb's connection ended")
	default:
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
