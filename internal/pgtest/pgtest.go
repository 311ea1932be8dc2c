// Package pgtest runs throwaway PostgreSQL servers for tests: Debian's
// postgresql binaries (initdb, postgres from /usr/lib/postgresql/*/bin) on a
// free loopback port, in a temporary directory removed at the end. When the
// tests run as root the server runs as the unprivileged user nobody, since
// PostgreSQL refuses root. Connections need a password (scram-sha-256), as
// in production, so wrong-password handling can be tested too.
//
// A test package shares one server (TestMain calls Main) and takes a fresh
// database per test from NewDatabase; a test that stops or kills its server
// starts its own with Start.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// User and Password are the superuser every test server is created with.
const (
	User     = "herald"
	Password = "pgtest-secret"
)

// startTimeout bounds a server's start, up to its first accepted connection.
const startTimeout = 60 * time.Second

// BinDir returns the newest /usr/lib/postgresql/*/bin holding initdb and
// postgres, or "" when PostgreSQL is not installed. (Debian keeps these off
// PATH.)
func BinDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	for _, d := range dirs {
		if isFile(filepath.Join(d, "initdb")) && isFile(filepath.Join(d, "postgres")) {
			return d
		}
	}
	return ""
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// ErrNotInstalled is returned by New when the PostgreSQL binaries are missing.
var ErrNotInstalled = errors.New("PostgreSQL is not installed: no /usr/lib/postgresql/*/bin/initdb (apt-get install postgresql, or make packages)")

// Server is one postgres process under a test's control. It is safe for
// concurrent use.
type Server struct {
	bin  string // directory of initdb and postgres
	root string // temporary directory: data/, the log, the password file
	port int
	cred *syscall.Credential // nil unless running as root

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
	seq  int           // databases created, for unique names
}

// New initialises a cluster in a new temporary directory and starts it.
// Close it when done.
func New() (*Server, error) {
	bin := BinDir()
	if bin == "" {
		return nil, ErrNotInstalled
	}
	root, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, root: root}
	if err := s.initdb(); err != nil {
		_ = os.RemoveAll(root)
		return nil, err
	}
	for range 5 { // a free port found may be taken before postgres binds it: try another
		if s.port, err = freePort(); err != nil {
			continue
		}
		if err = s.Restart(); err == nil {
			return s, nil
		}
	}
	_ = os.RemoveAll(root)
	return nil, fmt.Errorf("pgtest: starting postgres: %w", err)
}

// Start runs a new server for t alone and removes it when t ends. Without
// the PostgreSQL binaries the test is skipped, loudly.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := New()
	if errors.Is(err, ErrNotInstalled) {
		skipLoudly(t)
	}
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func skipLoudly(t testing.TB) {
	t.Helper()
	fmt.Fprintln(os.Stderr, "pgtest: SKIPPING the tests that need PostgreSQL:", ErrNotInstalled)
	t.Skip(ErrNotInstalled.Error())
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// initdb creates the cluster in root/data, owned by nobody when we are root.
func (s *Server) initdb() error {
	if os.Geteuid() == 0 {
		nobody, err := user.Lookup("nobody")
		if err != nil {
			return fmt.Errorf("pgtest: running as root and no user nobody to run postgres as: %w", err)
		}
		uid, _ := strconv.Atoi(nobody.Uid)
		gid, _ := strconv.Atoi(nobody.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chmod(s.root, 0o755); err != nil {
			return err
		}
		if err := os.Chown(s.root, uid, gid); err != nil {
			return err
		}
	}
	pwfile := filepath.Join(s.root, "password")
	if err := os.WriteFile(pwfile, []byte(Password+"\n"), 0o600); err != nil {
		return err
	}
	if s.cred != nil {
		if err := os.Chown(pwfile, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			return err
		}
	}
	cmd := exec.Command(filepath.Join(s.bin, "initdb"),
		"-D", s.dataDir(), "-U", User, "--pwfile", pwfile,
		"--auth=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-sync")
	s.setProcAttr(cmd)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: initdb: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (s *Server) setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	setDeathSignal(cmd.SysProcAttr)
}

func (s *Server) dataDir() string { return filepath.Join(s.root, "data") }
func (s *Server) logPath() string { return filepath.Join(s.root, "postgres.log") }

// Restart starts the server again, on the same port and data directory,
// after Stop or Kill. Calling it while the server runs does nothing.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running() {
		return nil
	}
	logf, err := os.OpenFile(s.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(filepath.Join(s.bin, "postgres"),
		"-D", s.dataDir(), "-p", strconv.Itoa(s.port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=",
		"-c", "max_connections=300",
		"-c", "shared_buffers=32MB")
	cmd.Stdout, cmd.Stderr = logf, logf
	s.setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done

	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		if s.ping() == nil {
			return nil
		}
		select {
		case <-done:
			s.cmd = nil
			log, _ := os.ReadFile(s.logPath())
			return fmt.Errorf("postgres exited: %s", lastLines(string(log), 10))
		case <-time.After(50 * time.Millisecond):
		}
	}
	_ = cmd.Process.Kill()
	<-done
	s.cmd = nil
	return fmt.Errorf("postgres did not accept connections within %v", startTimeout)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func (s *Server) running() bool {
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

func (s *Server) ping() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return err
	}
	return c.Close(ctx)
}

// Stop shuts the server down (fast shutdown: open connections are cut) and
// waits for it to exit.
func (s *Server) Stop() { s.signal(syscall.SIGINT) }

// Kill ends the server with SIGKILL, as a crash would.
func (s *Server) Kill() { s.signal(syscall.SIGKILL) }

func (s *Server) signal(sig os.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running() {
		return
	}
	_ = s.cmd.Process.Signal(sig)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// Close stops the server and removes its directory.
func (s *Server) Close() {
	s.Stop()
	_ = os.RemoveAll(s.root)
}

// Port returns the server's TCP port on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// URL returns a postgres:// URL of the database named dbname, with the
// superuser's credentials.
func (s *Server) URL(dbname string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(User, Password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)),
		Path:     "/" + dbname,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// CreateDatabase creates a new, empty database and returns its URL.
func (s *Server) CreateDatabase(ctx context.Context) (string, error) {
	s.mu.Lock()
	s.seq++
	name := "test_" + strconv.Itoa(s.seq)
	s.mu.Unlock()
	c, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return "", fmt.Errorf("pgtest: create database: %w", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("pgtest: create database: %w", err)
	}
	return s.URL(name), nil
}
