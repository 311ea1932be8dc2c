//go:build soak && linux

package soak_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/herald-chat/herald/internal/auth"
	"github.com/herald-chat/herald/internal/store/sqlite"
)

const (
	sessionSecret = "herald-soak-session-secret-0123456789"
	sessionCookie = auth.SessionCookie
	startTimeout  = 30 * time.Second
	stopTimeout   = 15 * time.Second
)

// server is one herald process on a loopback port and a database file it keeps across
// restarts. Its log goes to a file in the test's temp dir.
type server struct {
	t    *testing.T
	bin  string
	db   string
	port int
	url  string
	log  *os.File

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// buildHerald builds cmd/herald into dir.
func buildHerald(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "herald")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/herald")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/herald: %v\n%s", err, out)
	}
	return bin
}

// seedUsers creates n users, each with a session, in the SQLite file at path (the server must
// not be running on it yet) and returns the session cookies' values.
func seedUsers(t *testing.T, path string, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	db, err := sqlite.Open(ctx, path+"?_synchronous=OFF")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}()
	a, err := auth.New(auth.Config{Users: db.Users(), Sessions: db.Sessions(), Secret: []byte(sessionSecret)})
	if err != nil {
		t.Fatal(err)
	}
	cookies := make([]string, n)
	for i := range n {
		// No bcrypt: these users never type a password.
		u, err := db.Users().Create(ctx, fmt.Sprintf("soak%05d", i), "x")
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		if _, err := a.StartSession(ctx, rec, httptest.NewRequest(http.MethodPost, "http://127.0.0.1/login", nil), u); err != nil {
			t.Fatal(err)
		}
		for _, c := range rec.Result().Cookies() {
			if c.Name == sessionCookie {
				cookies[i] = c.Value
			}
		}
	}
	return cookies
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port
}

// startServer runs herald on db with the collector's headroom off (GC_HEADROOM_MB=0), so the
// heap and RSS it reports follow the live heap closely enough to show a leak.
func startServer(t *testing.T, bin, db string) *server {
	t.Helper()
	log, err := os.Create(filepath.Join(t.TempDir(), "herald.log"))
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, bin: bin, db: db, log: log}
	s.port = freePort(t)
	s.url = "http://127.0.0.1:" + strconv.Itoa(s.port)
	t.Cleanup(func() {
		s.stop()
		_ = log.Close()
		b, err := os.ReadFile(log.Name())
		switch {
		case err != nil:
		case strings.Contains(string(b), "panic:"):
			t.Errorf("herald's log shows a panic:\n%s", tail(string(b), 16000))
		case t.Failed():
			t.Logf("herald's log (tail):\n%s", tail(string(b), 8000))
		}
	})
	if err := s.launch(); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *server) launch() error {
	cmd := exec.Command(s.bin, "-port", strconv.Itoa(s.port), "-database-url", s.db)
	cmd.Env = append(os.Environ(),
		"SESSION_SECRET="+sessionSecret, "GC_HEADROOM_MB=0", "LOG_LEVEL=warn",
		"GITHUB_CLIENT_ID=", "GITHUB_CLIENT_SECRET=", "ALLOWED_ORIGINS=", "SECURE_COOKIES=", "REDIS_URL=",
	)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the test
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(startTimeout)
	for {
		if resp, err := hc.Get(s.url + "/healthz"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-done:
			return fmt.Errorf("herald exited during start-up: %v", cmd.ProcessState)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("herald did not pass /healthz within %v", startTimeout)
		}
	}
}

// stop ends the process with SIGTERM (SIGKILL after stopTimeout) and reports whether it had to
// be killed.
func (s *server) stop() (killed bool) {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd, s.done = nil, nil
	s.mu.Unlock()
	if cmd == nil {
		return false
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		return false
	case <-time.After(stopTimeout):
	}
	_ = cmd.Process.Kill()
	<-done
	return true
}

// restart stops the server gracefully and starts it again on the same port and database.
func (s *server) restart() {
	s.t.Helper()
	if s.stop() {
		s.t.Errorf("herald did not stop within %v of SIGTERM", stopTimeout)
	}
	if err := s.launch(); err != nil {
		s.t.Fatalf("restarting herald: %v", err)
	}
}

// sample is what /metrics says about the process at one moment.
type sample struct {
	goroutines int
	fds        int
	rss        float64 // bytes
	heap       float64 // heap in use, bytes
	users      int     // herald_users_online
	sockets    int     // herald_sockets
}

func (m sample) String() string {
	return fmt.Sprintf("goroutines %d, fds %d, RSS %.1f MiB, heap %.1f MiB, users %d, sockets %d",
		m.goroutines, m.fds, m.rss/(1<<20), m.heap/(1<<20), m.users, m.sockets)
}

// metricsClient keeps no idle connection, so scraping adds no file descriptor or goroutine to
// what it measures.
var metricsClient = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// scrape reads the figures from the server's /metrics.
func (s *server) scrape() (sample, error) {
	resp, err := metricsClient.Get(s.url + "/metrics")
	if err != nil {
		return sample{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return sample{}, fmt.Errorf("/metrics: %s", resp.Status)
	}
	var m sample
	seen := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		switch name {
		case "go_goroutines":
			m.goroutines = int(v)
		case "process_open_fds":
			m.fds = int(v)
		case "process_resident_memory_bytes":
			m.rss = v
		case "go_memstats_heap_inuse_bytes":
			m.heap = v
		case "herald_users_online":
			m.users = int(v)
		case "herald_sockets":
			m.sockets = int(v)
		default:
			continue
		}
		seen++
	}
	if seen < 6 {
		return m, fmt.Errorf("/metrics lacks some of the figures (found %d of 6)", seen)
	}
	return m, sc.Err()
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
