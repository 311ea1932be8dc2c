package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Peer names.
const (
	peerNode    = "node"
	peerZishang = "zishang"
	peerHerald  = "herald"
	// peerFloor is not a Socket.IO server but the least any server can do
	// per delivery (bench/peers/floor): it takes part in fan-out cases only.
	peerFloor = "floor"
	// peerHeraldTLS and peerNodeTLS are herald and node serving HTTPS, with a self-signed
	// certificate made for the run (see tlsFiles).
	peerHeraldTLS = "herald-tls"
	peerNodeTLS   = "node-tls"
)

// tlsBase returns the peer a TLS variant runs, and whether p is one.
func tlsBase(p string) (string, bool) {
	switch p {
	case peerHeraldTLS:
		return peerHerald, true
	case peerNodeTLS:
		return peerNode, true
	}
	return p, false
}

// toolchain is what the build step found or made.
type toolchain struct {
	root    string            // the repository root
	bin     string            // bench/.bin
	loadgen string            // path of the load generator
	peers   map[string]string // peer name → executable (node: the node binary)
	skipped map[string]string // peer name → why it cannot run
	// tlsCert and tlsKey are the PEM files of the TLS peers' certificate, made by build.
	tlsCert, tlsKey string
	// Versions, for the report.
	goVersion, nodeVersion, socketIOVersion, zishangVersion, heraldVersion string
}

// runLogged runs a build command in dir, its output going to our stderr.
func runLogged(ctx context.Context, dir string, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	fmt.Fprintf(os.Stderr, "benchrun: (in %s) %s %s\n", rel(dir), name, strings.Join(args, " "))
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return nil
}

func rel(dir string) string {
	if wd, err := os.Getwd(); err == nil {
		if r, err := filepath.Rel(wd, dir); err == nil {
			return r
		}
	}
	return dir
}

// build compiles the load generator and the Go peers (the floor included)
// and installs the Node peer's packages. A peer that cannot be built is skipped, with the reason.
func build(ctx context.Context, root string, want []string) (*toolchain, error) {
	tc := &toolchain{
		root:    root,
		bin:     filepath.Join(root, "bench", ".bin"),
		peers:   map[string]string{},
		skipped: map[string]string{},
	}
	if err := os.MkdirAll(tc.bin, 0o755); err != nil {
		return nil, err
	}
	tc.loadgen = filepath.Join(tc.bin, "loadgen")
	if err := runLogged(ctx, root, nil, "go", "build", "-o", tc.loadgen, "./bench/loadgen"); err != nil {
		return nil, err
	}
	if out, err := exec.CommandContext(ctx, "go", "env", "GOVERSION").Output(); err == nil {
		tc.goVersion = strings.TrimSpace(string(out))
	}
	tc.heraldVersion = gitVersion(ctx, root)

	var tlsPeers []string
	for _, p := range want {
		if base, ok := tlsBase(p); ok {
			tlsPeers = append(tlsPeers, p)
			if !slices.Contains(want, base) {
				want = append(want, base)
			}
		}
	}
	for _, p := range want {
		if _, ok := tlsBase(p); ok {
			continue
		}
		var err error
		switch p {
		case peerHerald:
			exe := filepath.Join(tc.bin, "herald-peer")
			if err = runLogged(ctx, root, nil, "go", "build", "-o", exe, "./bench/peers/herald"); err == nil {
				tc.peers[p] = exe
			}
		case peerFloor:
			exe := filepath.Join(tc.bin, "floor-peer")
			if err = runLogged(ctx, root, nil, "go", "build", "-o", exe, "./bench/peers/floor"); err == nil {
				tc.peers[p] = exe
			}
		case peerZishang:
			dir := filepath.Join(root, "bench", "peers", "zishang")
			exe := filepath.Join(tc.bin, "zishang-peer")
			// Its own module: no workspace, no influence from the main module.
			if err = runLogged(ctx, dir, []string{"GOWORK=off"}, "go", "build", "-o", exe, "."); err == nil {
				tc.peers[p] = exe
				tc.zishangVersion = moduleVersion(filepath.Join(dir, "go.mod"), "github.com/zishang520/socket.io/servers/socket/v3")
			}
		case peerNode:
			err = tc.installNode(ctx)
		default:
			err = fmt.Errorf("unknown peer %q", p)
		}
		if err != nil {
			tc.skipped[p] = err.Error()
			fmt.Fprintf(os.Stderr, "benchrun: peer %s skipped: %v\n", p, err)
		}
	}
	if len(tlsPeers) > 0 {
		var err error
		tc.tlsCert, tc.tlsKey, err = tlsFiles(filepath.Join(tc.bin, "tls"))
		for _, p := range tlsPeers {
			base, _ := tlsBase(p)
			switch {
			case err != nil:
				tc.skipped[p] = err.Error()
			case tc.peers[base] == "":
				tc.skipped[p] = tc.skipped[base]
			default:
				tc.peers[p] = tc.peers[base]
			}
		}
	}
	return tc, nil
}

// installNode runs npm ci in the Node peer unless the pinned socket.io is
// already installed there.
func (tc *toolchain) installNode(ctx context.Context) error {
	nodeExe, err := exec.LookPath("node")
	if err != nil {
		return errors.New("node is not installed")
	}
	if out, err := exec.CommandContext(ctx, nodeExe, "--version").Output(); err == nil {
		tc.nodeVersion = strings.TrimSpace(string(out))
	}
	dir := filepath.Join(tc.root, "bench", "peers", "node")
	var manifest struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &manifest); err != nil {
		return fmt.Errorf("package.json: %w", err)
	}
	pinned := manifest.Dependencies["socket.io"]
	stale := false // a package missing or of another version than package.json's
	for name, v := range manifest.Dependencies {
		stale = stale || packageVersion(dir, name) != v
	}
	if stale {
		if err := runLogged(ctx, dir, nil, "npm", "ci", "--no-audit", "--no-fund"); err != nil {
			return err
		}
	}
	tc.socketIOVersion = installedVersion(dir)
	if tc.socketIOVersion != pinned {
		return fmt.Errorf("socket.io %s installed, package.json pins %s", tc.socketIOVersion, pinned)
	}
	tc.peers[peerNode] = nodeExe
	return nil
}

// installedVersion is the version of node_modules/socket.io under dir, or "".
func installedVersion(dir string) string { return packageVersion(dir, "socket.io") }

// packageVersion is the version of the npm package name installed under dir, or "".
func packageVersion(dir, name string) string {
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", filepath.FromSlash(name), "package.json"))
	if err != nil {
		return ""
	}
	var p struct {
		Version string `json:"version"`
	}
	_ = json.Unmarshal(b, &p)
	return p.Version
}

// moduleVersion finds the required version of mod in a go.mod file.
func moduleVersion(gomod, mod string) string {
	b, err := os.ReadFile(gomod)
	if err != nil {
		return ""
	}
	re := regexp.MustCompile(`(?m)^\s*(?:require\s+)?` + regexp.QuoteMeta(mod) + `\s+(\S+)`)
	if m := re.FindSubmatch(b); m != nil {
		return string(m[1])
	}
	return ""
}

// gitVersion describes the checkout: commit, and "-dirty" with local changes.
func gitVersion(ctx context.Context, root string) string {
	cmd := exec.CommandContext(ctx, "git", "describe", "--always", "--dirty", "--abbrev=10")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// peerProc is a running peer server.
type peerProc struct {
	cmd  *exec.Cmd
	pid  int
	port int
	done chan struct{}
}

// freePort finds a free loopback port below the ephemeral range
// (32768–60999): a port in that range may be taken, between the check and
// the peer's bind, by one of the many client connections of a run, or be
// held by one in TIME_WAIT.
func freePort() (int, error) {
	for range 100 {
		port := 20000 + mrand.IntN(12000)
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			ln.Close()
			return port, nil
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// pinned prefixes argv with taskset when cpus is not empty.
func pinned(cpus string, argv []string) []string {
	if cpus == "" {
		return argv
	}
	return append([]string{"taskset", "-c", cpus}, argv...)
}

// startPeer starts a peer on a free port and waits for its READY line.
// Any env ("NAME=value") is added to its environment.
func (tc *toolchain) startPeer(ctx context.Context, v variant, pingInterval time.Duration, cpus string, env ...string) (*peerProc, error) {
	exe, ok := tc.peers[v.Peer]
	if !ok {
		return nil, fmt.Errorf("peer %s is not available: %s", v.Peer, tc.skipped[v.Peer])
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	argv := []string{exe}
	base, isTLS := tlsBase(v.Peer)
	if base == peerNode {
		argv = append(argv, filepath.Join(tc.root, "bench", "peers", "node", "server.js"))
	}
	argv = pinned(cpus, argv)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(),
		"BENCH_PORT="+strconv.Itoa(port),
		"BENCH_MODE="+v.Mode,
	)
	if isTLS {
		cmd.Env = append(cmd.Env, "BENCH_TLS_CERT="+tc.tlsCert, "BENCH_TLS_KEY="+tc.tlsKey)
	}
	cmd.Env = append(cmd.Env, env...)
	if pingInterval > 0 {
		cmd.Env = append(cmd.Env, "BENCH_PING_INTERVAL_MS="+strconv.FormatInt(pingInterval.Milliseconds(), 10))
	}
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = childAttr()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &peerProc{cmd: cmd, pid: cmd.Process.Pid, port: port, done: make(chan struct{})}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sawReady := false
		for sc.Scan() {
			line := sc.Text()
			if !sawReady && strings.HasPrefix(line, "READY") {
				sawReady = true
				ready <- nil
				continue
			}
			fmt.Fprintf(os.Stderr, "%s: %s\n", v.Peer, line)
		}
		if !sawReady {
			ready <- errors.New("exited before READY")
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() { _ = cmd.Wait(); close(p.done) }()
	t := time.NewTimer(30 * time.Second)
	defer t.Stop()
	select {
	case err := <-ready:
		if err != nil {
			p.stop()
			return nil, fmt.Errorf("peer %s: %w", v.Label(), err)
		}
	case <-t.C:
		p.stop()
		return nil, fmt.Errorf("peer %s: no READY within 30s", v.Label())
	case <-ctx.Done():
		p.stop()
		return nil, ctx.Err()
	}
	return p, nil
}

// stop ends the peer's process group: SIGTERM, then SIGKILL after 5 s.
func (p *peerProc) stop() {
	_ = syscall.Kill(-p.pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-p.pid, syscall.SIGKILL)
		<-p.done
	}
}
