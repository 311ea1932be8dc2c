package e2e_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// stickiness is how a balancer keeps a client on one server.
type stickiness string

const (
	// stickyBrowser: the balancer inserts its own cookie on a browser's first response, so that
	// the pages and the socket of one browser go to one server (the set-up of `make cluster`).
	stickyBrowser stickiness = "cookie SERVERID insert indirect nocache"
	// stickySession: the balancer prefixes the Engine.IO session cookie ("io") with the server's
	// name, so that the requests of one long-polling session go to one server (Node's set-up).
	stickySession stickiness = "cookie io prefix indirect nocache"
)

// haproxyConfig writes a configuration for HAProxy on port in front of backends.
func haproxyConfig(port int, mode stickiness, backends []*server) string {
	var b strings.Builder
	fmt.Fprintf(&b, `global
  maxconn 4096
defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout tunnel 1h
  option redispatch
frontend chat
  bind 127.0.0.1:%d
  default_backend herald
backend herald
  balance roundrobin
  %s
  option httpchk GET /healthz
`, port, mode)
	for i, s := range backends {
		fmt.Fprintf(&b, "  server h%d 127.0.0.1:%d check inter 300ms fall 2 rise 1 cookie h%d\n", i, s.port, i)
	}
	return b.String()
}

// startHAProxy runs Debian's HAProxy on a free loopback port in front of backends and returns
// its URL. It is stopped when the test ends.
func startHAProxy(t *testing.T, mode stickiness, backends []*server) string {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		if _, statErr := os.Stat("/usr/sbin/haproxy"); statErr != nil {
			t.Fatalf("haproxy is not installed (make test installs Debian's haproxy): %v", err)
		}
		bin = "/usr/sbin/haproxy"
	}
	port := freePort(t)
	cfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(haproxyConfig(port, mode, backends)), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &tailBuffer{max: 64 << 10}
	cmd := exec.Command(bin, "-db", "-f", cfg)
	cmd.Stdout, cmd.Stderr = logs, logs
	dieWithTest(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		once.Do(func() { _ = cmd.Process.Kill() })
		<-done
		if t.Failed() {
			t.Logf("haproxy's log:\n%s", logs.String())
		}
	})
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	waitFor(t, startTimeout, "haproxy to serve /healthz", func() (bool, string) {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false, err.Error()
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	return base
}

// TestBalancerStickyPolling: behind HAProxy in round robin over three servers, with Node's
// set-up (the balancer prefixes the session's "io" cookie), every request of a long-polling
// session reaches the server that opened it. Without the cookie the next request would land on
// another server, which does not know the session.
func TestBalancerStickyPolling(t *testing.T) {
	_, nodes := startCluster(t, 3)
	lb := startHAProxy(t, stickySession, nodes)
	for i := range 3 { // three sessions, so that the round robin starts them on different servers
		name := fmt.Sprint("poller", i)
		b := newBrowserless(t, lb)
		b.submit("/register", name, testPassword)
		c, jar := b.c, b.jar
		open := pollGET(t, c, lb+"/socket.io/?EIO=4&transport=polling")
		sid := between(open, `"sid":"`, `"`)
		if sid == "" {
			t.Fatalf("%s: no sid in %q", name, open)
		}
		u, _ := url.Parse(lb)
		var io string
		for _, k := range jar.Cookies(u) {
			if k.Name == "io" {
				io = k.Value
			}
		}
		if !strings.HasSuffix(io, sid) || io == sid {
			t.Fatalf("%s: io cookie %q, want the balancer's prefix on %q", name, io, sid)
		}
		q := lb + "/socket.io/?EIO=4&transport=polling&sid=" + sid
		post(t, c, q, "40")
		if got := pollGET(t, c, q); !strings.Contains(got, `40{"sid":`) {
			t.Fatalf("%s: CONNECT answered %q", name, got)
		}
		for range 5 {
			post(t, c, q, `42["chat message","hello"]`)
		}
		pollGET(t, c, q) // the messages and counts; 400 if the balancer sent us elsewhere
	}
}

func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i+len(from):]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j]
	}
	return ""
}

func pollGET(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %s", u, resp.Status, b)
	}
	return string(b)
}

func post(t *testing.T, c *http.Client, u, body string) {
	t.Helper()
	resp, err := c.Post(u, "text/plain;charset=UTF-8", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %s %s", u, resp.Status, b)
	}
}

// socketsOn returns the herald_sockets gauge of server s.
func socketsOn(t *testing.T, s *server) int {
	t.Helper()
	resp, err := http.Get(s.url + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "herald_sockets "); ok {
			n, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int(n)
		}
	}
	return -1
}

// TestBalancerBrowsers: three people in three browsers behind HAProxy, each on another of three
// servers, see one count, each other's join lines and messages; when one server is killed with
// kill -9 (and its person's browser with it), the others' pages read the corrected count and the
// departure.
func TestBalancerBrowsers(t *testing.T) {
	_, nodes := startCluster(t, 3)
	lb := startHAProxy(t, stickyBrowser, nodes)
	names := []string{"alice", "bob", "carol"}
	browsers := make([]*browser, len(names))
	where := make([]int, len(names)) // the server of each person
	for i, name := range names {
		browsers[i] = newBrowser(t, name)
		browsers[i].registerAndEnter(lb, name)
		waitFor(t, waitTimeout, name+"'s socket on a server of its own", func() (bool, string) {
			var on []int
			for j, s := range nodes {
				on = append(on, socketsOn(t, s))
				if socketsOn(t, s) == 1 && !contains(where[:i], j) {
					where[i] = j
				}
			}
			total := 0
			for _, n := range on {
				total += n
			}
			return total == i+1 && !contains(where[:i], where[i]), fmt.Sprintf("sockets per server %v", on)
		})
	}
	for i, b := range browsers {
		b.waitUsers("3 users online")
		for j, other := range names {
			if j > i {
				b.waitLine(other+" has joined the chat.", 1)
			}
		}
	}
	browsers[0].say("hello from " + names[0])
	for _, b := range browsers {
		b.waitLine(names[0]+": hello from "+names[0], 1)
	}

	// kill -9 carol's server, and carol's browser at once, before it reconnects elsewhere.
	killed := time.Now()
	nodes[where[2]].kill9()
	browsers[2].kill()
	for _, b := range browsers[:2] {
		b.waitUsers("2 users online")
		b.waitLine("carol has left the chat.", 1)
	}
	t.Logf("the pages read the corrected count %v after kill -9 (bound: 5 s)", time.Since(killed).Round(10*time.Millisecond))
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
