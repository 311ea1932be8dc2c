//go:build linux

package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/herald-chat/herald/bench/internal/heraldpeer"
	"github.com/herald-chat/herald/bench/internal/result"
	"github.com/herald-chat/herald/engineio"
	"github.com/herald-chat/herald/socketio"
)

// TestMain lets the test binary serve as a loadgen worker: the coordinator
// re-executes its own executable, which here is the test binary.
func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) == "1" {
		workerMain()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startPeer runs the Herald bench peer in-process and returns its URL.
func startPeer(t *testing.T, mode string, ping time.Duration) string {
	url, _ := startPeerP(t, mode, ping)
	return url
}

func startPeerP(t *testing.T, mode string, ping time.Duration) (string, *heraldpeer.Peer) {
	t.Helper()
	cfg := socketio.Config{}
	if ping > 0 {
		cfg.Engine = engineio.Config{PingInterval: ping, PingTimeout: 2 * time.Second}
	}
	p, err := heraldpeer.New(mode, cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", p)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Close(ctx)
		ts.Close()
	})
	return ts.URL, p
}

func baseOptions(url, scenario string) options {
	return options{
		url: url, scenario: scenario, clients: 30, perWorker: 20, connectRate: 0, concurrency: 16,
		msgRate: 20, duration: 500 * time.Millisecond, drain: 5 * time.Second, window: 300 * time.Millisecond,
		settle: 10 * time.Second, srcIPs: -1, dialTimeout: 10 * time.Second, warmup: 1, client: "epoll",
		serverPIDs: []int{os.Getpid()},
	}
}

func run(t *testing.T, o options) *result.Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := coordinate(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if r.ConnectOK != o.clients || r.ConnectErrors != 0 {
		t.Fatalf("connected %d of %d, %d errors: %s", r.ConnectOK, o.clients, r.ConnectErrors, r.ConnectErrSample)
	}
	if r.Workers != 2 {
		t.Errorf("%d workers, want 2", r.Workers)
	}
	return r
}

func checkFanout(t *testing.T, r *result.Run) {
	t.Helper()
	if r.MessagesSent != 10 || r.Expected != 300 || r.Delivered != 300 || r.Lost != 0 || r.Duplicates != 0 {
		t.Errorf("sent %d, expected %d, delivered %d, lost %d, dups %d", r.MessagesSent, r.Expected, r.Delivered, r.Lost, r.Duplicates)
	}
	if r.LatencyP50MS <= 0 || r.LatencyP99MS < r.LatencyP50MS || r.LatencyMaxMS < r.LatencyP99MS || r.Latency == nil {
		t.Errorf("latencies p50 %v p99 %v max %v", r.LatencyP50MS, r.LatencyP99MS, r.LatencyMaxMS)
	}
	if r.RSSBefore <= 0 || r.RSSIdle <= 0 || r.RSSLoad <= 0 {
		t.Errorf("RSS not sampled: %d %d %d", r.RSSBefore, r.RSSIdle, r.RSSLoad)
	}
}

func TestFanoutEpoll(t *testing.T) {
	t.Parallel()
	checkFanout(t, run(t, baseOptions(startPeer(t, "none", 0), result.ScenarioFanout)))
}

func TestFanoutGoroutineClient(t *testing.T) {
	t.Parallel()
	o := baseOptions(startPeer(t, "none", 0), result.ScenarioFanout)
	o.client = "goroutine"
	checkFanout(t, run(t, o))
}

// TestFanoutSpinningLoops: loops that poll without sleeping for a while after each event still
// deliver everything, over WebSocket and long-polling.
func TestFanoutSpinningLoops(t *testing.T) {
	t.Parallel()
	for _, scenario := range []string{result.ScenarioFanout, result.ScenarioPolling} {
		o := baseOptions(startPeer(t, "none", 0), scenario)
		o.spin = 20 * time.Millisecond
		checkFanout(t, run(t, o))
	}
}

func TestFanoutPolling(t *testing.T) {
	t.Parallel()
	r := run(t, baseOptions(startPeer(t, "none", 0), result.ScenarioPolling))
	if r.Transport != "polling" {
		t.Errorf("transport %s", r.Transport)
	}
	checkFanout(t, r)
}

func TestCrowd(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"tutorial", "merged"} {
		t.Run(mode, func(t *testing.T) {
			r := run(t, baseOptions(startPeer(t, mode, 0), result.ScenarioCrowd))
			if !r.Settled || r.Stale != 0 || r.FinalCount != 30 || r.CountUpdates < 30 {
				t.Errorf("settled %v, stale %d, final %d, count events %d", r.Settled, r.Stale, r.FinalCount, r.CountUpdates)
			}
		})
	}
}

func TestIdleAnswersPings(t *testing.T) {
	t.Parallel()
	o := baseOptions(startPeer(t, "none", 100*time.Millisecond), result.ScenarioIdle)
	o.duration = 700 * time.Millisecond
	r := run(t, o)
	if r.Alive != 30 || r.Pings < 30 {
		t.Errorf("alive %d, pings %d", r.Alive, r.Pings)
	}
}

func TestConnect(t *testing.T) {
	t.Parallel()
	url, peer := startPeerP(t, "none", 0)
	r := run(t, baseOptions(url, result.ScenarioConnect))
	if r.ConnectRate <= 0 || r.ConnectSeconds <= 0 {
		t.Errorf("rate %v over %vs", r.ConnectRate, r.ConnectSeconds)
	}
	// The load generator closes every client when it is done.
	deadline := time.Now().Add(10 * time.Second)
	for peer.Count() != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := peer.Count(); n != 0 {
		t.Errorf("%d sockets still connected after the run", n)
	}
}

func TestRefusedServer(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(http.NotFoundHandler())
	defer ts.Close()
	o := baseOptions(ts.URL, result.ScenarioConnect)
	o.clients, o.dialTimeout = 3, 2*time.Second
	if _, err := coordinate(context.Background(), o); err == nil {
		t.Fatal("no error against a server that refuses every handshake")
	}
}

func TestPollingAnswersPings(t *testing.T) {
	t.Parallel()
	for _, client := range []string{"epoll", "goroutine"} {
		t.Run(client, func(t *testing.T) {
			o := baseOptions(startPeer(t, "none", 100*time.Millisecond), result.ScenarioPolling)
			o.client = client
			r := run(t, o)
			checkFanout(t, r)
			if r.Alive != 30 || r.Pings < 30 {
				t.Errorf("alive %d, pings %d", r.Alive, r.Pings)
			}
		})
	}
}
