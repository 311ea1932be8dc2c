// Package interop_test drives the real socket.io-client from npm against a Herald server running
// in the test process. Each test starts a server on a loopback port, wires the handlers its
// scenario needs, runs one Node script from scripts/ against it and checks both what the script
// reports (JSON lines on its stdout) and what the Go side observed.
//
// The client is installed with `npm ci --prefix test` (see test/package.json); without it every
// test fails and says so.
package interop_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/engineio"
	"github.com/herald-chat/herald/socketio"
)

const (
	// scriptTimeout bounds one Node process; the process is killed when it runs out.
	scriptTimeout = 40 * time.Second
	// scriptWatchdog is the scripts' own timeout (INTEROP_SCRIPT_TIMEOUT_MS), shorter so that
	// they can report what they were waiting for before being killed.
	scriptWatchdog = 30 * time.Second
	// waitTimeout bounds every wait for a single event, on either side.
	waitTimeout = 20 * time.Second
)

// toolchain is what every test needs from the machine: node, and the npm client in
// test/node_modules.
var toolchain = sync.OnceValues(func() (node string, err error) {
	node, err = exec.LookPath("node")
	if err != nil {
		return "", fmt.Errorf("node is not installed (Node 20 or later is needed): %w", err)
	}
	pkg := filepath.Join("..", "node_modules", "socket.io-client", "package.json")
	if _, err := os.Stat(pkg); err != nil {
		return "", fmt.Errorf("socket.io-client is not installed in test/node_modules: run `npm ci --prefix test` (%v)", err)
	}
	return node, nil
})

// newServer starts a Socket.IO server mounted at /socket.io/ on a loopback port and returns it
// with its base URL. configure, when given, adjusts the configuration first. The server is
// closed when the test ends.
func newServer(t *testing.T, configure ...func(*socketio.Config)) (*socketio.Server, string) {
	t.Helper()
	if _, err := toolchain(); err != nil {
		t.Fatal(err)
	}
	cfg := socketio.Config{
		Engine: engineio.Config{
			// Warnings and errors (e.g. a panicking handler) still show; the rest is noise.
			Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		},
	}
	for _, f := range configure {
		f(&cfg)
	}
	srv := socketio.NewServer(cfg)
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	hs := httptest.NewUnstartedServer(mux)       // listens on 127.0.0.1
	hs.Listener = engineio.Listener(hs.Listener) // as cmd/herald serves
	hs.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("closing the Socket.IO server: %v", err)
		}
		hs.Close()
	})
	return srv, hs.URL
}

// line is one JSON object a script printed.
type line map[string]any

func (l line) ev() string {
	s, _ := l["ev"].(string)
	return s
}

// script is a running Node process.
type script struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd

	mu     sync.Mutex
	lines  []line // everything printed so far
	next   int    // index of the first line expect has not looked at
	eof    bool
	notify chan struct{} // capacity 1: new lines or EOF
	stderr bytes.Buffer  // guarded by mu (through lockedWriter)

	exited  chan struct{}
	waitErr error // set before exited is closed
}

// startScript runs scripts/<name>.mjs with the server URL and args. The process is killed, and
// waited for, when the test ends.
func startScript(t *testing.T, name, url string, args ...string) *script {
	t.Helper()
	node, err := toolchain()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := filepath.Abs("scripts")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	cmd := exec.CommandContext(ctx, node, append([]string{filepath.Join(dir, name+".mjs"), url}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), fmt.Sprintf("INTEROP_SCRIPT_TIMEOUT_MS=%d", scriptWatchdog.Milliseconds()))
	cmd.WaitDelay = 2 * time.Second
	p := &script{t: t, name: name, cmd: cmd, notify: make(chan struct{}, 1), exited: make(chan struct{})}
	cmd.Stderr = lockedWriter{p}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %s: %v", name, err)
	}
	readDone := make(chan struct{})
	go p.read(stdout, readDone)
	go func() {
		<-readDone // Wait closes stdout, so it must come after the last read
		p.waitErr = cmd.Wait()
		cancel()
		close(p.exited)
	}()
	t.Cleanup(func() {
		cancel() // kills the process if it is still running
		<-p.exited
	})
	return p
}

type lockedWriter struct{ p *script }

func (w lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.stderr.Write(b)
}

// read collects the script's stdout, one JSON object per line; other output is kept as a
// "stdout" line so that it shows up in failure messages.
func (p *script) read(r io.Reader, done chan<- struct{}) {
	defer close(done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil || l.ev() == "" {
			l = line{"ev": "stdout", "text": sc.Text()}
		}
		p.mu.Lock()
		p.lines = append(p.lines, l)
		p.mu.Unlock()
		p.wake()
	}
	p.mu.Lock()
	p.eof = true
	p.mu.Unlock()
	p.wake()
}

func (p *script) wake() {
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

// describe returns the script's output so far, for failure messages.
func (p *script) describe() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "%s.mjs stdout:\n", p.name)
	for _, l := range p.lines {
		j, _ := json.Marshal(l)
		fmt.Fprintf(&b, "  %s\n", j)
	}
	if p.stderr.Len() > 0 {
		fmt.Fprintf(&b, "%s.mjs stderr:\n%s", p.name, p.stderr.String())
	}
	return b.String()
}

// expect waits for the next line whose ev is ev and returns it. Lines in between are skipped
// (finish still sees them); an "error" line or the end of the output fails the test.
func (p *script) expect(ev string) line {
	p.t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		for ; p.next < len(p.lines); p.next++ {
			l := p.lines[p.next]
			if l.ev() == "error" {
				p.mu.Unlock()
				p.t.Fatalf("%s.mjs failed: %v\n%s", p.name, l["message"], p.describe())
			}
			if l.ev() == ev {
				p.next++
				p.mu.Unlock()
				return l
			}
		}
		eof := p.eof
		p.mu.Unlock()
		if eof {
			p.t.Fatalf("%s.mjs ended without printing %q (%v)\n%s", p.name, ev, p.exitError(), p.describe())
		}
		select {
		case <-p.notify:
		case <-deadline.C:
			p.t.Fatalf("timed out after %v waiting for %s.mjs to print %q\n%s", waitTimeout, p.name, ev, p.describe())
		}
	}
}

// exitError returns how the process ended, once it has.
func (p *script) exitError() error {
	select {
	case <-p.exited:
		return p.waitErr
	case <-time.After(3 * time.Second):
		return errors.New("still running")
	}
}

// finish waits for the script to print "done" and exit with status 0, and returns every line it
// printed.
func (p *script) finish() []line {
	p.t.Helper()
	p.expect("done")
	select {
	case <-p.exited:
	case <-time.After(waitTimeout):
		p.t.Fatalf("%s.mjs printed done but did not exit\n%s", p.name, p.describe())
	}
	if p.waitErr != nil {
		p.t.Fatalf("%s.mjs: %v\n%s", p.name, p.waitErr, p.describe())
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]line(nil), p.lines...)
}

// recv waits for a value on ch; what names it in the failure message.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("timed out after %v waiting for %s", waitTimeout, what)
		panic("unreachable")
	}
}

// post sends v on ch without blocking: server handlers must never hang on a test that has
// stopped listening. Channels are sized so that nothing expected is ever dropped.
func post[T any](ch chan<- T, v T) {
	select {
	case ch <- v:
	default:
	}
}

// failures collects errors seen in server handlers, which run on the server's goroutines and so
// must not call t.Fatal; check reports them on the test goroutine.
type failures struct {
	mu   sync.Mutex
	errs []string
}

func (f *failures) add(format string, args ...any) {
	f.mu.Lock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}

func (f *failures) check(t *testing.T) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.errs {
		t.Errorf("server handler: %s", e)
	}
}

// waitFor polls cond until it holds, at most waitTimeout; for server state that changes without
// an event to wait on (such as the transport after an upgrade).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", waitTimeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// find returns the lines whose ev is ev.
func find(lines []line, ev string) []line {
	var out []line
	for _, l := range lines {
		if l.ev() == ev {
			out = append(out, l)
		}
	}
	return out
}

// one returns the only line whose ev is ev.
func one(t *testing.T, lines []line, ev string) line {
	t.Helper()
	found := find(lines, ev)
	if len(found) != 1 {
		t.Fatalf("want exactly one %q line, got %d: %v", ev, len(found), lines)
	}
	return found[0]
}

// jsonEqual reports whether got, a decoded JSON value, equals want once want goes through JSON.
func jsonEqual(got, want any) bool {
	a, err1 := json.Marshal(got)
	b, err2 := json.Marshal(want)
	if err1 != nil || err2 != nil {
		return false
	}
	var x, y any
	_ = json.Unmarshal(a, &x)
	_ = json.Unmarshal(b, &y)
	a, _ = json.Marshal(x)
	b, _ = json.Marshal(y)
	return bytes.Equal(a, b)
}

// wantField fails the test unless l[key] equals want (compared as JSON).
func wantField(t *testing.T, l line, key string, want any) {
	t.Helper()
	if !jsonEqual(l[key], want) {
		g, _ := json.Marshal(l[key])
		w, _ := json.Marshal(want)
		t.Errorf("%s line: %s = %s, want %s", l.ev(), key, g, w)
	}
}
