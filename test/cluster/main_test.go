// Package cluster_test proves that Herald nodes and Node.js Socket.IO nodes
// (@socket.io/redis-adapter) form one cluster through Redis: the tests start a throwaway
// redis-server, Node.js nodes (node-node.mjs), Herald nodes (heraldnode, built by TestMain) and
// the official socket.io-client (clients.mjs), and drive them all over one line protocol.
//
// Every wait is bounded and every process the tests start is reaped, whatever the outcome.
package cluster_test

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// callTimeout bounds one command to a node, requests to the whole cluster included.
	callTimeout = 10 * time.Second
	// waitTimeout bounds every wait for one condition.
	waitTimeout = 10 * time.Second
	// procTimeout bounds the life of every process a test starts.
	procTimeout = 2 * time.Minute
	// requestsTimeoutMs is every node's bound on a request to the other nodes.
	requestsTimeoutMs = 2000
)

var (
	// repoRoot is the module's root directory.
	repoRoot string
	// heraldNodeBin is the heraldnode binary TestMain built.
	heraldNodeBin string
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

// runMain builds heraldnode (with the race detector when the tests have it) into a temporary
// directory, runs the tests and removes the directory.
func runMain(m *testing.M) int {
	flag.Parse()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		return 1
	}
	repoRoot = root
	dir, err := os.MkdirTemp("", "herald-cluster-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	heraldNodeBin = filepath.Join(dir, "heraldnode")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := []string{"build", "-o", heraldNodeBin}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.CommandContext(ctx, "go", append(args, "./test/cluster/heraldnode")...)
	build.Dir = root
	build.WaitDelay = 10 * time.Second
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "cluster: go build ./test/cluster/heraldnode: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// nodeBinary checks that node and the npm packages are installed and returns node's path.
func nodeBinary(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not installed (Node 20 or later is needed): %v", err)
	}
	for _, pkg := range []string{"socket.io", "socket.io-client", "@socket.io/redis-adapter", "@socket.io/redis-emitter", "redis"} {
		if _, err := os.Stat(filepath.Join(repoRoot, "test", "node_modules", pkg, "package.json")); err != nil {
			t.Fatalf("%s is missing from test/node_modules: run `npm ci --prefix test` (make test does): %v", pkg, err)
		}
	}
	return node
}

// line is one line a process printed: an answer (ID set), or an event (Ev set).
type line struct {
	ID     int             `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  string          `json:"error"`

	Ev      string          `json:"ev"`
	Port    int             `json:"port"`
	Name    string          `json:"name"`
	SID     string          `json:"sid"`
	Event   string          `json:"event"`
	Args    json.RawMessage `json:"args"`
	Reason  string          `json:"reason"`
	Message string          `json:"message"`
	raw     string
}

// proc is one process of the test speaking the line protocol.
type proc struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *tailBuffer
	exited chan struct{}

	mu      sync.Mutex
	nextID  int
	waiting map[int]chan line
	events  []line
	changed chan struct{} // closed and replaced whenever events grows or the process exits
}

// startProc runs name (a program and its arguments) and reads its lines; it is ended (stdin
// closed, then killed if it lingers) when the test ends.
func startProc(t *testing.T, name string, env []string, prog string, args ...string) *proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), procTimeout)
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Dir = filepath.Join(repoRoot, "test", "cluster")
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	p := &proc{t: t, name: name, cmd: cmd, stderr: &tailBuffer{max: 64 << 10}, exited: make(chan struct{}),
		waiting: map[int]chan line{}, changed: make(chan struct{})}
	cmd.Stderr = p.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.stdin = stdin
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %s: %v", name, err)
	}
	go p.read(stdout)
	go func() {
		_ = cmd.Wait()
		cancel()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.stdin.Close()
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("%s stderr:\n%s", name, p.stderr.String())
		}
	})
	return p
}

func (p *proc) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			l = line{Ev: "unparsable"}
		}
		l.raw = sc.Text()
		p.mu.Lock()
		if l.Ev == "" {
			if ch, ok := p.waiting[l.ID]; ok {
				delete(p.waiting, l.ID)
				ch <- l
			}
		} else {
			p.events = append(p.events, l)
			close(p.changed)
			p.changed = make(chan struct{})
		}
		p.mu.Unlock()
	}
	p.mu.Lock()
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
}

// setT makes t the test that the process's failures go to.
func (p *proc) setT(t *testing.T) {
	p.mu.Lock()
	p.t = t
	p.mu.Unlock()
}

func (p *proc) test() *testing.T {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.t
}

// send writes one command line.
func (p *proc) send(cmd map[string]any) {
	p.test().Helper()
	b, err := json.Marshal(cmd)
	if err != nil {
		p.test().Fatal(err)
	}
	if _, err := p.stdin.Write(append(b, '\n')); err != nil {
		p.test().Fatalf("writing to %s: %v (stderr: %s)", p.name, err, p.stderr.String())
	}
}

// call sends a command and waits for its answer; the answer's error, if any, is returned with
// the result.
func (p *proc) call(op string, fields map[string]any) (json.RawMessage, string) {
	p.test().Helper()
	p.mu.Lock()
	p.nextID++
	id := p.nextID
	ch := make(chan line, 1)
	p.waiting[id] = ch
	p.mu.Unlock()
	cmd := map[string]any{"id": id, "op": op}
	for k, v := range fields {
		cmd[k] = v
	}
	p.send(cmd)
	select {
	case l := <-ch:
		return l.Result, l.Error
	case <-p.exited:
		p.test().Fatalf("%s exited during %s; stderr:\n%s", p.name, op, p.stderr.String())
	case <-time.After(callTimeout):
		p.test().Fatalf("%s did not answer %s within %v; stderr:\n%s", p.name, op, callTimeout, p.stderr.String())
	}
	return nil, ""
}

// must is call for a command that must succeed, decoding its result into dst (if not nil).
func (p *proc) must(dst any, op string, fields map[string]any) {
	p.test().Helper()
	res, errText := p.call(op, fields)
	if errText != "" {
		p.test().Fatalf("%s: %s %v: %s", p.name, op, fields, errText)
	}
	if dst != nil {
		if err := json.Unmarshal(res, dst); err != nil {
			p.test().Fatalf("%s: %s: result %s: %v", p.name, op, res, err)
		}
	}
}

// until waits until cond holds for the events so far and returns them.
func (p *proc) until(desc string, cond func([]line) bool) []line {
	p.test().Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		evs, changed := p.events, p.changed
		p.mu.Unlock()
		for _, e := range evs {
			if e.Ev == "fatal" {
				p.test().Fatalf("%s failed: %s", p.name, e.Message)
			}
		}
		if cond(evs) {
			return evs
		}
		select {
		case <-changed:
		case <-p.exited:
			p.test().Fatalf("%s exited while waiting for %s; stderr:\n%s", p.name, desc, p.stderr.String())
		case <-deadline.C:
			p.test().Fatalf("%s: no %s within %v; last events:\n%s", p.name, desc, waitTimeout, dump(evs, 30))
		}
	}
}

// kill9 kills the process at once, as a crash would, and reaps it.
func (p *proc) kill9() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

func dump(evs []line, n int) string {
	var b strings.Builder
	for _, e := range evs[max(0, len(evs)-n):] {
		b.WriteString(e.raw)
		b.WriteByte('\n')
	}
	return b.String()
}

// tailBuffer keeps the last max bytes written to it. It is safe for concurrent use.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = b.buf[over:]
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// dead reports whether the process has exited.
func (p *proc) dead() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// sleep is the pause between two tries of a bounded retry loop.
func sleep() { time.Sleep(50 * time.Millisecond) }

// signal sends sig to the process (SIGSTOP freezes it, SIGCONT thaws it).
func (p *proc) signal(sig os.Signal) {
	p.test().Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.test().Fatalf("signalling %s: %v", p.name, err)
	}
}

// waitFor waits at most timeout for cond to hold for the events so far and reports whether it
// did.
func (p *proc) waitFor(timeout time.Duration, cond func([]line) bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		evs, changed := p.events, p.changed
		p.mu.Unlock()
		if cond(evs) {
			return true
		}
		select {
		case <-changed:
		case <-deadline.C:
			return false
		}
	}
}
