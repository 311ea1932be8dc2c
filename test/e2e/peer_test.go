package e2e_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// peerTimeout bounds one Node peer process; it is killed when it runs out.
const peerTimeout = 60 * time.Second

// event is one line peer.mjs printed.
type event struct {
	Ev        string          `json:"ev"`
	Name      string          `json:"name"`
	Transport string          `json:"transport"`
	Message   string          `json:"message"`
	Reason    string          `json:"reason"`
	Tag       string          `json:"tag"`
	I         int             `json:"i"`
	Error     string          `json:"error"`
	Data      json.RawMessage `json:"data"`
	raw       string
}

// peer drives one scripts/peer.mjs process: a set of named socket.io-client sockets.
type peer struct {
	t      *testing.T
	stdin  io.WriteCloser
	stderr *tailBuffer
	exited chan struct{}

	mu      sync.Mutex
	events  []event
	changed chan struct{} // closed and replaced whenever events grows or the process exits
	done    bool          // stdout reached EOF
}

// nodeClient checks that node and the npm socket.io-client are installed and returns node's path.
func nodeClient(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not installed (Node 20 or later is needed): %v", err)
	}
	pkg := filepath.Join(repoRoot, "test", "node_modules", "socket.io-client", "package.json")
	if _, err := os.Stat(pkg); err != nil {
		t.Fatalf("socket.io-client is missing from test/node_modules: run `npm ci --prefix test` (make test does): %v", err)
	}
	return node
}

// startPeer starts peer.mjs against base and waits for it to be ready. The process is ended
// (stdin closed, then killed if it lingers) when the test ends.
func startPeer(t *testing.T, base string) *peer {
	t.Helper()
	node := nodeClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), peerTimeout)
	cmd := exec.CommandContext(ctx, node, filepath.Join("scripts", "peer.mjs"), base)
	cmd.Env = append(os.Environ(), fmt.Sprintf("PEER_TIMEOUT_MS=%d", (peerTimeout-5*time.Second).Milliseconds()))
	cmd.WaitDelay = 5 * time.Second
	p := &peer{t: t, stderr: &tailBuffer{max: 64 << 10}, exited: make(chan struct{}), changed: make(chan struct{})}
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
		t.Fatalf("starting node: %v", err)
	}
	go p.read(stdout)
	go func() {
		_ = cmd.Wait()
		cancel()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.stdin.Close() // peer.mjs disconnects its sockets and exits
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("peer.mjs stderr:\n%s", p.stderr.String())
		}
	})
	p.untilWithin("peer.mjs ready", peerStartTimeout, func(evs []event) bool {
		return slices.ContainsFunc(evs, func(e event) bool { return e.Ev == "ready" })
	})
	return p
}

// read collects the process's output lines until EOF.
func (p *peer) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			e = event{Ev: "unparsable"}
		}
		e.raw = sc.Text()
		p.mu.Lock()
		p.events = append(p.events, e)
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
	}
	p.mu.Lock()
	p.done = true
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
}

// send writes one command.
func (p *peer) send(cmd map[string]any) {
	p.t.Helper()
	b, err := json.Marshal(cmd)
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.stdin.Write(append(b, '\n')); err != nil {
		p.t.Fatalf("writing to peer.mjs: %v (stderr: %s)", err, p.stderr.String())
	}
}

// connect opens socket name with the session cookie (may be empty) and more options (origin,
// transports).
func (p *peer) connect(name, cookie string, opts map[string]any) {
	p.t.Helper()
	cmd := map[string]any{"op": "connect", "name": name, "cookie": cookie}
	for k, v := range opts {
		cmd[k] = v
	}
	p.send(cmd)
}

// mustConnect opens socket name and waits until it is connected.
func (p *peer) mustConnect(name, cookie string, opts map[string]any) event {
	p.t.Helper()
	p.connect(name, cookie, opts)
	return p.wait(name+" connected", func(e event) bool {
		if e.Name == name && e.Ev == "connect_error" {
			p.t.Fatalf("%s: connect_error %q", name, e.Message)
		}
		return e.Name == name && e.Ev == "connect"
	})
}

// emitAck emits "chat message" text from socket name with an ack callback (repeat times) and
// returns the tag under which the acks will be reported.
func (p *peer) emitAck(name, tag string, repeat int, text string) {
	p.t.Helper()
	p.send(map[string]any{"op": "emit", "name": name, "event": "chat message", "args": []any{text}, "ack": true, "tag": tag, "repeat": repeat})
}

// close disconnects socket name.
func (p *peer) close(name string) {
	p.t.Helper()
	p.send(map[string]any{"op": "close", "name": name})
	p.wait(name+" closed", func(e event) bool { return e.Name == name && e.Ev == "closed" })
}

// snapshot returns the events so far.
func (p *peer) snapshot() []event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]event(nil), p.events...)
}

// until waits (at most waitTimeout) until cond holds over all events so far. A failing peer (an
// "error" line, or its exit) fails the test at once.
func (p *peer) until(desc string, cond func([]event) bool) []event {
	p.t.Helper()
	return p.untilWithin(desc, waitTimeout, cond)
}

// peerStartTimeout bounds the wait for peer.mjs to be ready: Node.js only importing its modules
// took 12 s on the loaded 2-core machine, and interop tests failed at the 15 s wait.
const peerStartTimeout = 60 * time.Second

// untilWithin is until with its own bound.
func (p *peer) untilWithin(desc string, limit time.Duration, cond func([]event) bool) []event {
	p.t.Helper()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		evs := append([]event(nil), p.events...)
		changed, done := p.changed, p.done
		p.mu.Unlock()
		if cond(evs) {
			return evs
		}
		for _, e := range evs {
			if e.Ev == "error" || e.Ev == "unparsable" {
				p.t.Fatalf("peer.mjs failed while waiting for %s: %s\nstderr: %s", desc, e.raw, p.stderr.String())
			}
		}
		if done {
			p.t.Fatalf("peer.mjs exited while waiting for %s; its output:\n%s\nstderr: %s", desc, dump(evs), p.stderr.String())
		}
		select {
		case <-changed:
		case <-deadline.C:
			p.t.Fatalf("timed out after %v waiting for %s; peer output:\n%s", limit, desc, dump(evs))
		}
	}
}

// wait waits for the first event matching match and returns it.
func (p *peer) wait(desc string, match func(event) bool) event {
	p.t.Helper()
	var found event
	p.until(desc, func(evs []event) bool {
		for _, e := range evs {
			if match(e) {
				found = e
				return true
			}
		}
		return false
	})
	return found
}

// latestCount returns the last "user count" socket name received.
func latestCount(evs []event, name string) (int, bool) {
	n, ok := 0, false
	for _, e := range evs {
		if e.Name == name && e.Ev == "user count" {
			if err := json.Unmarshal(e.Data, &n); err == nil {
				ok = true
			}
		}
	}
	return n, ok
}

// waitCounts waits until the latest "user count" of every named socket equals want.
func (p *peer) waitCounts(want int, names ...string) {
	p.t.Helper()
	p.until(fmt.Sprintf("user count %d on %v", want, names), func(evs []event) bool {
		for _, name := range names {
			if n, ok := latestCount(evs, name); !ok || n != want {
				return false
			}
		}
		return true
	})
}

// acks waits for n acks under tag and returns them in emission order.
func (p *peer) acks(tag string, n int) []event {
	p.t.Helper()
	var got []event
	p.until(fmt.Sprintf("%d acks tagged %s", n, tag), func(evs []event) bool {
		got = got[:0]
		for _, e := range evs {
			if e.Ev == "ack" && e.Tag == tag {
				got = append(got, e)
			}
		}
		return len(got) >= n
	})
	byIndex := make([]event, n)
	for _, e := range got {
		if e.I < n {
			byIndex[e.I] = e
		}
	}
	return byIndex
}

// dump renders events one per line, for failure messages.
func dump(evs []event) string {
	var b strings.Builder
	for _, e := range evs {
		b.WriteString(tail(e.raw, 400))
		b.WriteByte('\n')
	}
	return tail(b.String(), 16000)
}
