package main

// The chat scenario: chat traffic through the real app, cmd/herald — its
// session authentication, message validation, rate limit, SQLite storage
// and broadcast — rather than a bench peer. Herald alone: there is no Node
// counterpart of the app in this harness (its Node original, the Express +
// Passport + Socket.IO tutorial app, would become another peer).
//
// Each run seeds a fresh database (an SQLite file, or with -chat-db postgres a
// new database on a throwaway PostgreSQL server) with one user and one login session per
// receiver through the app's own store and session code (no HTTP
// registration: that would cost a bcrypt hash per user), writes the session
// cookies to a file, then starts the app pinned like the peers and runs
// loadgen -scenario chat with -cookies.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/herald-chat/herald/bench/internal/result"
	"github.com/herald-chat/herald/internal/auth"
	"github.com/herald-chat/herald/internal/store/dburl"
)

const (
	// scenarioChat is the name the chat scenario runs under (-scenarios chat).
	scenarioChat = result.ScenarioChat
	// peerApp names the chat app in the results: the variant of the chat case.
	peerApp = "herald-app"
	// appSecret is the app's SESSION_SECRET in the bench: the seeded session
	// cookies and the server must agree on it.
	appSecret = "herald-bench-session-secret-0123456789"
)

// chatCase is chat traffic through the real app: -chat-receivers clients
// signed in as as many users, -chat-senders of them sending -chat-rate
// messages a second each for -chat-duration.
func chatCase(s settings) (benchCase, error) {
	n, senders := s.chatReceivers, s.chatSenders
	switch {
	case n < 1:
		return benchCase{}, fmt.Errorf("-chat-receivers %d: want at least 1", n)
	case senders < 1 || senders > n:
		return benchCase{}, fmt.Errorf("-chat-senders %d: want 1 to -chat-receivers (%d)", senders, n)
	case s.chatRate <= 0:
		return benchCase{}, fmt.Errorf("-chat-rate %v: want a positive rate", s.chatRate)
	}
	key := fmt.Sprintf("chat-%d", n)
	switch s.chatDB {
	case "", "sqlite":
	case "postgres":
		key += "-postgres"
	default:
		return benchCase{}, fmt.Errorf("-chat-db %q: want sqlite or postgres", s.chatDB)
	}
	d := s.chatDur()
	return benchCase{
		Key: key, Scenario: scenarioChat, Clients: n, Database: s.chatDB,
		Variants: []variant{{Peer: peerApp, Mode: "none"}},
		Args: []string{"-senders", strconv.Itoa(senders), "-rate", fmtFloat(s.chatRate),
			"-duration", d.String(), "-drain", s.drain.String(), "-connect-rate", fmtFloat(s.connectRate)},
		Timeout: setupTime(n, s.connectRate) + d + s.drain + 2*time.Minute,
	}, nil
}

// chatDur is the chat scenario's sending time: -chat-duration, else -duration.
func (s settings) chatDur() time.Duration {
	if s.chatDuration > 0 {
		return s.chatDuration
	}
	return s.duration
}

// wantsChat reports whether the run includes the chat scenario.
func wantsChat(s settings) bool {
	for _, sc := range s.scenarios {
		if sc == scenarioChat || sc == scenarioClusterChat {
			return true
		}
	}
	return false
}

// buildApp compiles cmd/herald into bench/.bin; on failure the app is
// skipped, like a peer.
func (tc *toolchain) buildApp(ctx context.Context) {
	exe := filepath.Join(tc.bin, "herald")
	if err := runLogged(ctx, tc.root, nil, "go", "build", "-o", exe, "./cmd/herald"); err != nil {
		tc.skipped[peerApp] = err.Error()
		fmt.Fprintf(os.Stderr, "benchrun: the chat app skipped: %v\n", err)
		return
	}
	tc.peers[peerApp] = exe
}

// startApp seeds a fresh database in a new temporary directory with users
// signed-in users, starts the app on it and waits until it answers
// /healthz. With nodes > 1 it starts a Redis first and that many app
// servers on it (-redis-url), sharing the database: a cluster. It returns
// the servers, whose stop also removes the directory, and the file of the
// users' session cookies.
func (tc *toolchain) startApp(ctx context.Context, users, nodes int, cpus, database string) (sv *servers, cookies string, err error) {
	exe, ok := tc.peers[peerApp]
	if !ok {
		return nil, "", fmt.Errorf("the chat app is not available: %s", tc.skipped[peerApp])
	}
	dir, err := os.MkdirTemp("", "herald-bench-chat-")
	if err != nil {
		return nil, "", err
	}
	sv = &servers{dirs: []string{dir}}
	defer func() {
		if err != nil {
			sv.stop()
		}
	}()
	cookies = filepath.Join(dir, "cookies.txt")
	db, seedURL, err := chatDatabase(ctx, database, dir)
	if err != nil {
		return nil, "", err
	}
	start := time.Now()
	if err := seedChat(ctx, seedURL, cookies, users); err != nil {
		return nil, "", fmt.Errorf("seeding the chat app's database: %w", err)
	}
	fmt.Fprintf(os.Stderr, "benchrun: seeded %d users and sessions in %v (%s)\n", users, time.Since(start).Round(time.Millisecond), dir)

	var args []string
	if nodes > 1 {
		r, rdir, err := startRedis(ctx, cpus)
		if err != nil {
			return nil, "", err
		}
		sv.redis, sv.dirs = r, append(sv.dirs, rdir)
		args = []string{"-redis-url", redisURL(r)}
	}
	for range nodes {
		port, err := freePort()
		if err != nil {
			return nil, "", err
		}
		argv := pinned(cpus, append([]string{exe, "-port", strconv.Itoa(port), "-database-url", db}, args...))
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), "SESSION_SECRET="+appSecret, "LOG_LEVEL=warn")
		cmd.Stdout = os.Stderr
		cmd.Stderr = os.Stderr
		cmd.SysProcAttr = childAttr()
		if err := cmd.Start(); err != nil {
			return nil, "", err
		}
		p := &peerProc{cmd: cmd, pid: cmd.Process.Pid, port: port, done: make(chan struct{})}
		go func() { _ = cmd.Wait(); close(p.done) }()
		sv.procs = append(sv.procs, p)
		if err := waitHealthy(ctx, p, 30*time.Second); err != nil {
			return nil, "", fmt.Errorf("the chat app: %w", err)
		}
	}
	return sv, cookies, nil
}

// waitHealthy polls the app's /healthz until it answers 200.
func waitHealthy(ctx context.Context, p *peerProc, timeout time.Duration) error {
	url := fmt.Sprintf("http://127.0.0.1:%d/healthz", p.port)
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		if resp, err := hc.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return errors.New("exited before answering /healthz")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("/healthz not ready within %v", timeout)
		}
	}
}

// seedChat creates n users, bench00000…, and a login session for each in
// the database at dbURL (any DATABASE_URL) through the app's own store and
// session code, and writes their session cookies to cookiesPath as Cookie
// header values, one a line. The database is closed before this returns
// (for SQLite: checkpointed, so the app must not be running on the file). The
// users' password hash is a dummy: nobody signs in with a password.
func seedChat(ctx context.Context, dbURL, cookiesPath string, n int) (err error) {
	db, err := dburl.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); err == nil {
			err = cerr
		}
	}()
	a, err := auth.New(auth.Config{Users: db.Users(), Sessions: db.Sessions(), Secret: []byte(appSecret)})
	if err != nil {
		return err
	}
	f, err := os.Create(cookiesPath)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	for i := range n {
		u, err := db.Users().Create(ctx, fmt.Sprintf("bench%05d", i), "x")
		if err != nil {
			return err
		}
		rec := httptest.NewRecorder()
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, "http://127.0.0.1/login", nil)
		if _, err := a.StartSession(ctx, rec, req, u); err != nil {
			return err
		}
		value := ""
		for _, c := range rec.Result().Cookies() {
			if c.Name == auth.SessionCookie {
				value = c.Value
			}
		}
		if value == "" {
			return fmt.Errorf("StartSession set no %s cookie: %v", auth.SessionCookie, rec.Result().Header)
		}
		fmt.Fprintf(w, "%s=%s\n", auth.SessionCookie, value)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// fsNames are the filesystem types, by statfs magic number, worth naming:
// where the app's SQLite file lives decides what an fsync costs.
var fsNames = map[int64]string{
	0x01021994: "tmpfs",
	0xEF53:     "ext4",
	0x58465342: "xfs",
	0x9123683E: "btrfs",
	0x794C7630: "overlayfs",
}

// tempDirDesc names the temporary directory the chat runs' databases go
// to, and its filesystem.
func tempDirDesc() string {
	dir := os.TempDir()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return "`" + dir + "`"
	}
	name, ok := fsNames[int64(st.Type)]
	if !ok {
		name = fmt.Sprintf("filesystem type %#x", st.Type)
	}
	return fmt.Sprintf("`%s` (%s)", dir, name)
}
