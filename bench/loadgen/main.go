//go:build linux

// Command loadgen drives one benchmark scenario against a server that speaks
// the bench protocol (bench/PROTOCOL.md) and reports what it measured.
//
// It is its own Engine.IO v4 / Socket.IO v5 client. The coordinator (this
// command without -worker) starts worker processes (itself again, with
// -worker) that each open a share of the clients, since one process may hold
// at most 20,000 open files; it drives the scenario, samples the server's
// CPU and memory from /proc when given -server-pid, and prints a summary on
// stderr and, with -json, the result as JSON on stdout.
//
// Examples:
//
//	loadgen -url http://127.0.0.1:3000 -scenario fanout -clients 1000 -duration 10s
//	loadgen -url http://127.0.0.1:3000 -scenario crowd -clients 3000 -window 3s -server-pid 1234
//	loadgen -url http://127.0.0.1:3000 -scenario chat -clients 5000 -senders 100 -rate 2 -cookies cookies.txt
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/herald-chat/herald/bench/internal/result"
)

// workerEnv marks a worker process in its environment, besides the -worker
// flag: a test binary re-executed as a worker sees it before parsing flags.
const workerEnv = "LOADGEN_WORKER"

// options are the coordinator's flags.
type options struct {
	url          string
	scenario     string
	clients      int
	perWorker    int
	workers      int
	connectRate  float64
	concurrency  int
	msgRate      float64
	duration     time.Duration
	drain        time.Duration
	window       time.Duration
	settle       time.Duration
	serverPIDs   []int
	srcIPs       int
	dialTimeout  time.Duration
	jsonOut      bool
	outFile      string
	pingInterval time.Duration
	warmup       int
	client       string
	senders      int
	cookies      string
	spin         time.Duration
}

func main() {
	worker := flag.Bool("worker", false, "internal: run as a worker process (config and commands on stdin)")
	var o options
	flag.StringVar(&o.url, "url", "http://127.0.0.1:3000", "server base URL; the Engine.IO path /socket.io/ is added. Several, comma-separated (a cluster): the clients are spread evenly over them, the control client is on the first")
	flag.StringVar(&o.scenario, "scenario", result.ScenarioFanout, "fanout, idle, crowd, connect, polling or chat")
	flag.IntVar(&o.clients, "clients", 200, "number of clients (the fanout control client not included)")
	flag.IntVar(&o.perWorker, "per-worker", 5000, "clients per worker process at most (a process may hold 20,000 files)")
	flag.IntVar(&o.workers, "workers", 0, "worker processes; 0 = as many as -per-worker asks for")
	flag.Float64Var(&o.connectRate, "connect-rate", 2000, "connection attempts per second, all workers together; 0 = as fast as possible (crowd: -clients/-window)")
	flag.IntVar(&o.concurrency, "concurrency", 256, "handshakes in flight at most, all workers together")
	flag.Float64Var(&o.msgRate, "rate", 5, "fanout and polling: fanout events per second; chat: messages per second per sender")
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "fanout, polling and chat: how long to send; idle: how long to stay idle")
	flag.IntVar(&o.senders, "senders", 10, "chat: how many of the clients also send chat messages")
	flag.StringVar(&o.cookies, "cookies", "", "file of Cookie header values, one a line: client i sends line i in its handshake (chat: the app's session cookies)")
	flag.StringVar(&o.client, "client", "epoll", "how the workers' clients receive: epoll (lean, no goroutine per client) or goroutine (coder/websocket / net/http, one goroutine per client)")
	flag.IntVar(&o.warmup, "warmup", 2, "fanout and polling: unmeasured events sent first, at the same rate")
	flag.DurationVar(&o.drain, "drain", 10*time.Second, "fanout, polling and chat: how long to wait for late deliveries (and acks) after the last send")
	flag.DurationVar(&o.window, "window", 3*time.Second, "crowd: the clients arrive evenly over this window")
	flag.DurationVar(&o.settle, "settle-timeout", 60*time.Second, "crowd: give up waiting for every client to hold the final count after this long")
	flag.Func("server-pid", "PID of the server, to read its CPU and memory from /proc; several, comma-separated (a cluster's servers and Redis): their sum", func(v string) error {
		pids, err := parsePIDs(v)
		o.serverPIDs = pids
		return err
	})
	flag.IntVar(&o.srcIPs, "src-ips", -1, "distinct source addresses 127.0.0.2… to spread connections over, one per worker at most; -1 = auto (one per worker above 25,000 clients), 0 = none")
	flag.DurationVar(&o.dialTimeout, "dial-timeout", 15*time.Second, "bound on one client's handshake")
	flag.BoolVar(&o.jsonOut, "json", false, "print the result as JSON on stdout")
	flag.StringVar(&o.outFile, "out", "", "also write the JSON result to this file")
	flag.DurationVar(&o.spin, "spin", 0, "epoll clients: after an event, keep polling without sleeping for this long, so the server does not pay to wake the load generator (as it never does for remote clients); 0 = sleep at once")
	flag.DurationVar(&o.pingInterval, "ping-interval", 0, "the server's pingInterval, for the record only (the server is configured separately)")
	flag.Parse()

	if *worker || os.Getenv(workerEnv) == "1" {
		workerMain()
		return
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := coordinate(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	printSummary(os.Stderr, res)
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	if o.outFile != "" {
		if err := os.WriteFile(o.outFile, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(1)
		}
	}
	if o.jsonOut {
		fmt.Println(string(b))
	}
}

// parsePIDs parses a comma-separated list of PIDs; 0 or "" means none.
func parsePIDs(v string) ([]int, error) {
	var pids []int
	for f := range strings.SplitSeq(v, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("bad PID %q", f)
		}
		if n > 0 {
			pids = append(pids, n)
		}
	}
	return pids, nil
}

// splitURLs parses -url: one base URL or several, comma-separated.
func splitURLs(v string) []string {
	var urls []string
	for f := range strings.SplitSeq(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			urls = append(urls, f)
		}
	}
	return urls
}
