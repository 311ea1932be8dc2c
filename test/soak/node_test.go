//go:build soak && linux

package soak_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// nodeLine is one line clients.mjs printed.
type nodeLine struct {
	Ev      string  `json:"ev"`
	Message string  `json:"message"`
	N       int     `json:"n"`
	Acked   []int64 `json:"acked"`
	Refused int     `json:"refused"`
	Missing int     `json:"missing"`
	Sockets int     `json:"sockets"`

	Connects  int `json:"connects"`
	Connected int `json:"connected"`
	Errors    int `json:"errors"`
	Sent      int `json:"sent"`
	Early     int `json:"early"`
	Instant   int `json:"instant"`

	ConnectErrors int            `json:"connectErrors"`
	LastError     string         `json:"lastError"`
	Disconnects   map[string]int `json:"disconnects"`
	Pings         int            `json:"pings"`
	PingTimeouts  []string       `json:"pingTimeouts"`
}

// nodeClients is one Node process running scripts/clients.mjs: the official socket.io-client
// from test/node_modules, many sockets per process (each process stays far below the 20,000
// file descriptor limit).
type nodeClients struct {
	t     *testing.T
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan nodeLine
	done  chan struct{}

	mu     sync.Mutex
	stderr strings.Builder
}

// startNode starts clients.mjs against url and gives it job (its first stdin line).
func startNode(t *testing.T, name, url string, job any) *nodeClients {
	t.Helper()
	cmd := exec.Command("node", filepath.Join("scripts", "clients.mjs"), url)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Env = append(os.Environ(), "NODE_OPTIONS=--max-old-space-size=1024")
	n := &nodeClients{t: t, name: name, cmd: cmd, lines: make(chan nodeLine, 256), done: make(chan struct{})}
	var err error
	if n.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = writerFunc(func(p []byte) (int, error) {
		n.mu.Lock()
		defer n.mu.Unlock()
		if n.stderr.Len() < 1<<16 {
			n.stderr.Write(p)
		}
		return len(p), nil
	})
	if err := cmd.Start(); err != nil {
		t.Fatalf("node: %v (is Node installed? run make deps)", err)
	}
	// One goroutine reads stdout to its end and only then reaps the process: Wait closes the
	// pipe, so it must not run while lines are still unread.
	go func() {
		defer close(n.done)
		defer func() { _ = cmd.Wait() }()
		defer close(n.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<26)
		for sc.Scan() {
			var l nodeLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				l = nodeLine{Ev: "error", Message: "unparsable line: " + sc.Text()}
			}
			n.lines <- l
		}
	}()
	t.Cleanup(n.kill)
	n.send(job)
	return n
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// send writes one JSON line to the process's stdin.
func (n *nodeClients) send(v any) {
	n.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		n.t.Fatal(err)
	}
	if _, err := n.stdin.Write(append(b, '\n')); err != nil {
		n.t.Fatalf("%s: writing to node: %v", n.name, err)
	}
}

// await returns the next line with event ev, failing on an "error" line, on exit, or after
// timeout.
func (n *nodeClients) await(ev string, timeout time.Duration) nodeLine {
	n.t.Helper()
	l, err := n.next(ev, timeout)
	if err != nil {
		n.t.Fatal(err)
	}
	return l
}

func (n *nodeClients) next(ev string, timeout time.Duration) (nodeLine, error) {
	deadline := time.After(timeout)
	var progress nodeLine
	for {
		select {
		case l, ok := <-n.lines:
			if !ok {
				<-n.done
				return nodeLine{}, fmt.Errorf("%s: node exited (%v) waiting for %q; stderr:\n%s", n.name, n.cmd.ProcessState, ev, n.errors())
			}
			if l.Ev == "error" {
				return nodeLine{}, fmt.Errorf("%s: %s; stderr:\n%s", n.name, l.Message, n.errors())
			}
			if l.Ev == ev {
				return l, nil
			}
			if l.Ev == "progress" {
				progress = l
			}
		case <-deadline:
			return nodeLine{}, fmt.Errorf("%s: no %q within %v (last progress: %d connected, %d connects, %d connect errors, last %q; disconnects by reason %v; %d pings received; the last ping timeouts, as transport@time since connect: %v)",
				n.name, ev, timeout, progress.Connected, progress.Connects, progress.ConnectErrors, progress.LastError, progress.Disconnects, progress.Pings, progress.PingTimeouts)
		}
	}
}

func (n *nodeClients) errors() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stderr.String()
}

// exit asks the process to disconnect everything and waits for it to end.
func (n *nodeClients) exit() {
	n.t.Helper()
	_, _ = n.stdin.Write([]byte(`{"op":"exit"}` + "\n"))
	select {
	case <-n.done:
	case <-time.After(15 * time.Second):
		n.t.Errorf("%s: node did not exit within 15 s of exit", n.name)
		n.kill()
	}
}

// vanish kills the process with SIGKILL: its sockets end with no goodbye of either protocol.
func (n *nodeClients) vanish() { n.kill() }

// kill ends the process at once and reaps it, discarding what it has not yet been read of its
// output.
func (n *nodeClients) kill() {
	select {
	case <-n.done:
		return
	default:
	}
	_ = n.cmd.Process.Kill()
	go func() {
		for range n.lines {
		}
	}()
	<-n.done
}
