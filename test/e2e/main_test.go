// Package e2e_test proves the Herald chat application end to end: the real herald binary, built
// once by TestMain, runs as a subprocess for each test on a free loopback port with a fresh
// SQLite file, and is driven the way its users drive it — a headless Chromium through the real
// pages (browser_test.go), the npm socket.io-client with a logged-in session cookie
// (interop_test.go and scripts/peer.mjs), and a crowd of 2,000 authenticated WebSocket clients
// (crowd_test.go).
//
// Every wait is bounded and every process the tests start is reaped, whatever the outcome.
package e2e_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// sessionSecret is the fixed SESSION_SECRET every server runs with.
	sessionSecret = "herald-e2e-session-secret-0123456789"
	// startTimeout bounds a server's start, up to a passing /healthz.
	startTimeout = 20 * time.Second
	// stopTimeout bounds a graceful stop (SIGTERM) before SIGKILL.
	stopTimeout = 10 * time.Second
	// waitTimeout bounds every wait for one condition.
	waitTimeout = 15 * time.Second
)

var (
	// repoRoot is the module's root directory.
	repoRoot string
	// heraldBin is the herald binary TestMain built.
	heraldBin string
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

// runMain builds the herald binary into a temporary directory, runs the tests and removes the
// directory.
func runMain(m *testing.M) int {
	flag.Parse()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	repoRoot = root
	bundle := filepath.Join(root, "web", "dist", "socket.io.min.js")
	if _, err := os.Stat(bundle); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %s is missing: run make (it copies the socket.io-client bundle into web/dist/ before the tests)\n", bundle)
		return 1
	}
	dir, err := os.MkdirTemp("", "herald-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	heraldBin = filepath.Join(dir, "herald")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	build := exec.CommandContext(ctx, "go", "build", "-o", heraldBin, "./cmd/herald")
	build.Dir = root
	build.WaitDelay = 10 * time.Second
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/herald: %v\n%s", err, out)
		return 1
	}
	if testing.Verbose() {
		fmt.Printf("e2e: built %s in %v\n", heraldBin, time.Since(start).Round(time.Millisecond))
	}
	return m.Run()
}

// server is one herald process, with the database file and port it keeps across restarts.
type server struct {
	t    *testing.T
	db   string // the -database-url file
	port int
	url  string // http://127.0.0.1:port

	logs *tailBuffer // stdout and stderr of every run
	env  []string    // more environment for the process (e.g. REDIS_URL)

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed once cmd has been reaped
}

// startServer starts herald on a free loopback port with a fresh database file in t.TempDir(),
// waits until /healthz answers, and stops the server when the test ends.
func startServer(t *testing.T) *server {
	t.Helper()
	return startServerWithDB(t, filepath.Join(t.TempDir(), "herald.db"))
}

// startServerWithDB is startServer on a database file the caller prepared, with env added to
// the process's environment.
func startServerWithDB(t *testing.T, db string, env ...string) *server {
	t.Helper()
	s := &server{t: t, db: db, logs: &tailBuffer{max: 1 << 20}, env: env}
	t.Cleanup(s.cleanup)
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		s.port = freePort(t)
		s.url = "http://127.0.0.1:" + strconv.Itoa(s.port)
		if err = s.launch(); err == nil {
			return s
		}
		if !strings.Contains(s.logs.String(), "address already in use") {
			break
		}
	}
	t.Fatalf("starting herald: %v", err)
	return nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port
}

// launch starts the process on s.port and waits for /healthz. On failure the process is reaped.
// pid is the running herald process's id, 0 when none runs.
func (s *server) pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

func (s *server) launch() error {
	cmd := exec.Command(heraldBin, "-port", strconv.Itoa(s.port), "-database-url", s.db)
	cmd.Env = append(os.Environ(),
		"SESSION_SECRET="+sessionSecret,
		"GITHUB_CLIENT_ID=", "GITHUB_CLIENT_SECRET=", "ALLOWED_ORIGINS=", "SECURE_COOKIES=",
		"LOG_LEVEL=info",
	)
	cmd.Env = append(cmd.Env, s.env...)
	cmd.Stdout = s.logs
	cmd.Stderr = s.logs
	cmd.WaitDelay = 5 * time.Second // Wait's output copying must not outlive the process for long
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	for {
		resp, err := client.Get(s.url + "/healthz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-done:
			return fmt.Errorf("herald exited during start-up (%v); its log:\n%s", cmd.ProcessState, s.logs.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.halt(syscall.SIGKILL)
			return fmt.Errorf("herald did not pass /healthz within %v; its log:\n%s", startTimeout, s.logs.String())
		}
	}
}

// halt sends sig to the running process, if any, and reaps it; if it has not exited after
// stopTimeout it gets SIGKILL. It reports whether the process had to be killed after a
// gentler signal timed out.
func (s *server) halt(sig syscall.Signal) (forced bool) {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd, s.done = nil, nil
	s.mu.Unlock()
	if cmd == nil {
		return false
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
		return false
	case <-time.After(stopTimeout):
	}
	_ = cmd.Process.Kill()
	<-done // SIGKILL cannot be ignored; Wait returns promptly
	return true
}

// kill9 ends the server abruptly, as a crash or `kill -9` would.
func (s *server) kill9() {
	s.t.Helper()
	s.halt(syscall.SIGKILL)
}

// restart starts the server again on the same port and database file.
func (s *server) restart() {
	s.t.Helper()
	if err := s.launch(); err != nil {
		s.t.Fatalf("restarting herald: %v", err)
	}
}

// cleanup stops the server gracefully and checks its log for panics; on failure it shows the
// log's tail.
func (s *server) cleanup() {
	start := time.Now()
	if s.halt(syscall.SIGTERM) {
		s.t.Errorf("herald did not stop within %v of SIGTERM and was killed", stopTimeout)
	} else if took := time.Since(start); took > 2*time.Second {
		s.t.Logf("herald took %v to stop after SIGTERM", took.Round(time.Millisecond))
	}
	logs := s.logs.String()
	if strings.Contains(logs, "panic:") {
		s.t.Errorf("herald's log shows a panic:\n%s", tail(logs, 16000))
		return
	}
	if s.t.Failed() {
		s.t.Logf("herald's log (tail):\n%s", tail(logs, 8000))
	}
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// tailBuffer is a concurrency-safe writer that keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p, dropping the oldest bytes beyond max.
func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if extra := b.buf.Len() - b.max; extra > 0 {
		b.buf.Next(extra)
	}
	return len(p), nil
}

// String returns what the buffer holds.
func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls cond every 20 ms until it returns true or timeout passes; then it fails the test
// with desc and the last state cond described.
func waitFor(t *testing.T, timeout time.Duration, desc string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s; last state: %s", timeout, desc, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
