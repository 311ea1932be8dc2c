// Command benchrun is the side-by-side benchmark harness: it builds the load
// generator and the peers (Herald, Node socket.io, zishang520/socket.io, and
// the floor: not a server but the least one can do per fan-out delivery),
// runs every scenario against every peer several times, peers alternating,
// the server pinned to one CPU and the load generator to the other, and
// writes the medians, the targets and a chart to bench/results/. The chat
// scenario runs the real chat app (cmd/herald) instead of a peer: see chat.go.
//
// Run it from the repository root, or through bench/run.sh:
//
//	bash bench/run.sh          # the full run (about 80 minutes)
//	bash bench/run.sh -smoke   # everything small, for CI (about a minute)
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/herald-chat/herald/bench/internal/result"
)

// settings are the knobs of a suite run; see the flags in main.
type settings struct {
	smoke          bool
	reps           int
	peers          []string
	scenarios      []string
	fanoutClients  []int
	duration       time.Duration
	rate           float64
	drain          time.Duration
	idleClients    int
	idleDuration   time.Duration
	idlePing       time.Duration
	crowdClients   int
	crowdWindow    time.Duration
	crowdTimeout   time.Duration
	connectClients int
	pollingClients int
	connectRate    float64
	chatReceivers  int
	chatSenders    int
	chatRate       float64
	chatDuration   time.Duration // 0: duration
	chatDB         string        // sqlite or postgres: the chat app's backend
	// The cluster scenarios (cluster.go).
	clusterNodes       int
	clusterClients     []int // total clients, over all the nodes
	clusterMaxClients  int
	clusterMaxRate     float64
	clusterMaxDuration time.Duration
	serverCPUs         string
	clientCPUs         string
	pause              time.Duration
	outDir             string
	command            string
	client             string // loadgen's -client
}

// variant is a peer with its user count mode.
type variant struct {
	Peer string `json:"peer"`
	Mode string `json:"mode"` // none, tutorial or merged
	// Nodes is, in the cluster scenarios, how many server processes share the clients
	// (above 1: through a Redis of their own); 0 elsewhere.
	Nodes int `json:"nodes,omitempty"`
}

// Label names the variant in tables: the peer, the mode unless none, and
// the nodes in the cluster scenarios.
func (v variant) Label() string {
	l := v.Peer
	if v.Mode != "none" {
		l += " (" + v.Mode + ")"
	}
	switch {
	case v.Nodes == 1:
		l += ", 1 node"
	case v.Nodes > 1:
		l += fmt.Sprintf(" ×%d + redis", v.Nodes)
	}
	return l
}

// benchCase is one scenario at one size, run against several variants.
type benchCase struct {
	Key          string        `json:"key"`
	Scenario     string        `json:"scenario"`
	Clients      int           `json:"clients"`
	Variants     []variant     `json:"variants"`
	PingInterval time.Duration `json:"pingInterval,omitempty"` // 0: the peer's default, 25 s
	Database     string        `json:"database,omitempty"`     // chat: the app's backend, sqlite or postgres
	Args         []string      `json:"loadgenArgs"`
	Timeout      time.Duration `json:"-"`
}

// runRecord is one run of one case against one variant.
type runRecord struct {
	Case    string      `json:"case"`
	Variant variant     `json:"variant"`
	Rep     int         `json:"rep"`
	Order   int         `json:"order"` // position of the variant in this rep
	Started time.Time   `json:"started"`
	Result  *result.Run `json:"result,omitempty"`
	Err     string      `json:"error,omitempty"`
}

func main() {
	var s settings
	var peers, scenarios, fanoutN, clusterN string
	flag.BoolVar(&s.smoke, "smoke", false, "run everything small (CI): smaller defaults for every flag not given")
	flag.IntVar(&s.reps, "reps", 3, "runs of each case per peer; peers alternate which goes first")
	flag.StringVar(&peers, "peers", "herald,node,zishang,floor", "peers to run, comma-separated (floor: in fan-out cases only)")
	flag.StringVar(&scenarios, "scenarios", "fanout,idle,crowd,connect,polling,chat", "scenarios to run, comma-separated (chat: through the real app, Herald alone, whatever -peers says)")
	flag.StringVar(&fanoutN, "fanout-clients", "1000,5000,10000,19000", "fan-out sizes, comma-separated")
	flag.DurationVar(&s.duration, "duration", 60*time.Second, "fan-out and polling: how long to send")
	flag.Float64Var(&s.rate, "rate", 5, "fan-out and polling: events per second")
	flag.DurationVar(&s.drain, "drain", 10*time.Second, "fan-out and polling: wait this long at most for late deliveries")
	flag.IntVar(&s.idleClients, "idle-clients", 19000, "idle: connected clients")
	flag.DurationVar(&s.idleDuration, "idle-duration", 20*time.Second, "idle: how long the clients stay idle before RSS is read")
	flag.DurationVar(&s.idlePing, "idle-ping", 5*time.Second, "idle: the peers' pingInterval (0 = their default, 25s)")
	flag.IntVar(&s.crowdClients, "crowd-clients", 3000, "crowd: clients arriving")
	flag.DurationVar(&s.crowdWindow, "crowd-window", 3*time.Second, "crowd: the window they arrive in")
	flag.DurationVar(&s.crowdTimeout, "crowd-timeout", 3*time.Minute, "crowd: give up waiting for the counts to settle after this (Node in tutorial mode needs long)")
	flag.IntVar(&s.connectClients, "connect-clients", 5000, "connect: clients opening sessions as fast as they can")
	flag.IntVar(&s.pollingClients, "polling-clients", 1000, "polling: long-polling clients receiving the fan-out")
	flag.Float64Var(&s.connectRate, "connect-rate", 2000, "sessions opened per second while setting up fan-out, idle, polling and chat")
	flag.IntVar(&s.chatReceivers, "chat-receivers", 5000, "chat: signed-in users connected to the real app, one socket each, all receiving")
	flag.IntVar(&s.chatSenders, "chat-senders", 100, "chat: how many of the receivers also send")
	flag.Float64Var(&s.chatRate, "chat-rate", 2, "chat: messages per second per sender (the app allows a burst of 10, then one per 300 ms)")
	flag.DurationVar(&s.chatDuration, "chat-duration", 0, "chat: how long to send (0 = -duration)")
	flag.StringVar(&s.chatDB, "chat-db", "sqlite", "chat: the app's database, sqlite (a file in the temporary directory) or postgres (a throwaway PostgreSQL server the harness starts, unpinned)")
	flag.IntVar(&s.clusterNodes, "cluster-nodes", 3, "cluster scenarios (cluster, cluster-chat, cluster-max; not in the defaults): server processes sharing one Redis")
	flag.StringVar(&clusterN, "cluster-clients", "9000,18000", "cluster: total clients, spread evenly over the nodes, comma-separated sizes; the same count is run on one Herald node")
	flag.IntVar(&s.clusterMaxClients, "cluster-max-clients", 57000, "cluster-max: clients over the Herald nodes (at most 19,900 a node; above 25,000 the load generator spreads them over 127.0.0.x source addresses)")
	flag.Float64Var(&s.clusterMaxRate, "cluster-max-rate", 1, "cluster-max: events per second")
	flag.DurationVar(&s.clusterMaxDuration, "cluster-max-duration", 30*time.Second, "cluster-max: how long to send")
	flag.StringVar(&s.serverCPUs, "server-cpus", "0", "CPU list for the server (taskset -c); empty = no pinning")
	flag.StringVar(&s.clientCPUs, "client-cpus", "1", "CPU list for the load generator (taskset -c); empty = no pinning")
	flag.DurationVar(&s.pause, "pause", time.Second, "pause between runs")
	flag.StringVar(&s.outDir, "out", "bench/results", "directory for latest.md, latest.svg and latest.json")
	flag.StringVar(&s.client, "client", "", "the load generator's clients for every peer: epoll or goroutine; default epoll, or goroutine when a TLS peer (herald-tls, node-tls) runs, since the epoll client speaks plain TCP only")
	flag.Parse()

	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if s.smoke {
		smokeDefaults := map[string]string{
			"reps": "1", "fanout-clients": "200", "duration": "1500ms", "drain": "3s",
			"idle-clients": "200", "idle-duration": "1s", "idle-ping": "300ms",
			"crowd-clients": "200", "crowd-window": "500ms", "crowd-timeout": "15s",
			"connect-clients": "200", "polling-clients": "100", "pause": "200ms",
			"chat-receivers": "200", "chat-senders": "10", "chat-duration": "5s",
			"cluster-clients": "300", "cluster-max-clients": "600", "cluster-max-duration": "2s",
		}
		for name, v := range smokeDefaults {
			if !set[name] {
				if err := flag.Set(name, v); err != nil {
					fatalf("smoke default %s=%s: %v", name, v, err)
				}
			}
		}
	}
	s.peers = splitList(peers)
	if s.client == "" {
		s.client = "epoll"
		for _, p := range s.peers {
			if _, isTLS := tlsBase(p); isTLS {
				s.client = "goroutine"
			}
		}
	}
	s.scenarios = splitList(scenarios)
	for _, f := range splitList(fanoutN) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			fatalf("-fanout-clients: bad size %q", f)
		}
		s.fanoutClients = append(s.fanoutClients, n)
	}
	for _, f := range splitList(clusterN) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			fatalf("-cluster-clients: bad size %q", f)
		}
		s.clusterClients = append(s.clusterClients, n)
	}
	if s.reps < 1 {
		fatalf("-reps must be at least 1")
	}
	s.command = os.Getenv("BENCH_CMDLINE")
	if s.command == "" {
		s.command = strings.Join(os.Args, " ")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, s); err != nil {
		fatalf("%v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "benchrun: "+format+"\n", args...)
	os.Exit(1)
}

func splitList(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// findRoot returns the repository root: the nearest directory upwards that
// holds bench/PROTOCOL.md.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for range 20 {
		if _, err := os.Stat(filepath.Join(dir, "bench", "PROTOCOL.md")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", fmt.Errorf("run benchrun inside the Herald repository (no bench/PROTOCOL.md found)")
}

// plan lists the cases the settings ask for.
func plan(s settings) ([]benchCase, error) {
	// The floor implements the fan-out scenario alone (bench/peers/floor):
	// it joins the fan-out cases only, whatever -peers says.
	var all, withFloor []variant
	for _, p := range s.peers {
		v := variant{Peer: p, Mode: "none"}
		withFloor = append(withFloor, v)
		if p != peerFloor {
			all = append(all, v)
		}
	}
	common := []string{"-connect-rate", fmtFloat(s.connectRate)}
	// sendingCase is a fan-out or polling case: n clients receiving the control client's events.
	sendingCase := func(sc string, n int, vs []variant) benchCase {
		return benchCase{
			Key: fmt.Sprintf("%s-%d", sc, n), Scenario: sc, Clients: n, Variants: vs,
			Args: append([]string{"-duration", s.duration.String(), "-rate", fmtFloat(s.rate),
				"-drain", s.drain.String()}, common...),
			Timeout: setupTime(n, s.connectRate) + s.duration + s.drain + 2*time.Minute,
		}
	}
	var cases []benchCase
	for _, sc := range s.scenarios {
		switch sc {
		case result.ScenarioFanout:
			for _, n := range s.fanoutClients {
				cases = append(cases, sendingCase(sc, n, withFloor))
			}
		case result.ScenarioPolling:
			cases = append(cases, sendingCase(sc, s.pollingClients, all))
		case result.ScenarioIdle:
			n := s.idleClients
			cases = append(cases, benchCase{
				Key: fmt.Sprintf("idle-%d", n), Scenario: sc, Clients: n, Variants: all,
				PingInterval: s.idlePing,
				Args: append([]string{"-duration", s.idleDuration.String(),
					"-ping-interval", s.idlePing.String()}, common...),
				Timeout: setupTime(n, s.connectRate) + s.idleDuration + 2*time.Minute,
			})
		case result.ScenarioCrowd:
			n := s.crowdClients
			var vs []variant
			for _, p := range s.peers {
				if p == peerFloor {
					continue
				}
				if p == peerNode {
					vs = append(vs, variant{Peer: p, Mode: "tutorial"})
				}
				vs = append(vs, variant{Peer: p, Mode: "merged"})
			}
			cases = append(cases, benchCase{
				Key: fmt.Sprintf("crowd-%d", n), Scenario: sc, Clients: n, Variants: vs,
				Args:    []string{"-window", s.crowdWindow.String(), "-settle-timeout", s.crowdTimeout.String()},
				Timeout: s.crowdWindow + s.crowdTimeout + 2*time.Minute,
			})
		case result.ScenarioConnect:
			n := s.connectClients
			cases = append(cases, benchCase{
				Key: fmt.Sprintf("connect-%d", n), Scenario: sc, Clients: n, Variants: all,
				Args:    nil,
				Timeout: setupTime(n, 0) + 2*time.Minute,
			})
		case scenarioChat:
			c, err := chatCase(s)
			if err != nil {
				return nil, err
			}
			cases = append(cases, c)
		case scenarioCluster, scenarioClusterChat, scenarioClusterMax:
			cs, err := clusterCases(s, sc)
			if err != nil {
				return nil, err
			}
			cases = append(cases, cs...)
		default:
			return nil, fmt.Errorf("unknown scenario %q", sc)
		}
	}
	return cases, nil
}

// peersToBuild is peers without the floor when no case runs it: it takes
// part in fan-out cases only, and building it for nothing would only slow
// the start.
func peersToBuild(peers []string, cases []benchCase) []string {
	for _, c := range cases {
		for _, v := range c.Variants {
			if v.Peer == peerFloor {
				return peers
			}
		}
	}
	return slices.DeleteFunc(slices.Clone(peers), func(p string) bool { return p == peerFloor })
}

// setupTime estimates how long opening n sessions takes.
func setupTime(n int, rate float64) time.Duration {
	if rate <= 0 {
		rate = 500
	}
	return time.Duration(float64(n)/rate*float64(time.Second)) * 3
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// rotate returns vs rotated left by k: each rep starts with another peer.
func rotate(vs []variant, k int) []variant {
	out := make([]variant, 0, len(vs))
	for i := range vs {
		out = append(out, vs[(i+k)%len(vs)])
	}
	return out
}

// suite is everything a report is made from.
type suite struct {
	Settings settings    `json:"-"`
	Started  time.Time   `json:"started"`
	Finished time.Time   `json:"finished"`
	Command  string      `json:"command"`
	Machine  machineInfo `json:"machine"`
	Versions versions    `json:"versions"`
	Pinning  string      `json:"pinning"`
	Cases    []benchCase `json:"cases"`
	Runs     []runRecord `json:"runs"`
	Skipped  map[string]string
	// Interrupted is set when the run was stopped before the end.
	Interrupted bool `json:"interrupted,omitempty"`
}

// versions are the software under test.
type versions struct {
	Go       string `json:"go"`
	Herald   string `json:"herald"`
	Node     string `json:"node"`
	SocketIO string `json:"socketio"`
	Zishang  string `json:"zishang"`
}

func run(ctx context.Context, s settings) error {
	defer stopBenchPostgres()
	root, err := findRoot()
	if err != nil {
		return err
	}
	if !filepath.IsAbs(s.outDir) {
		s.outDir = filepath.Join(root, s.outDir)
	}
	cases, err := plan(s)
	if err != nil {
		return err
	}
	// Pinning needs taskset and two CPUs.
	if s.serverCPUs != "" || s.clientCPUs != "" {
		if _, err := exec.LookPath("taskset"); err != nil || runtime.NumCPU() < 2 {
			fmt.Fprintln(os.Stderr, "benchrun: taskset missing or fewer than 2 CPUs: not pinning")
			s.serverCPUs, s.clientCPUs = "", ""
		}
	}
	tc, err := build(ctx, root, peersToBuild(s.peers, cases))
	if err != nil {
		return err
	}
	if wantsChat(s) {
		tc.buildApp(ctx)
	}
	st := &suite{
		Settings: s, Started: time.Now(), Command: s.command, Machine: readMachine(),
		Versions: versions{Go: tc.goVersion, Herald: tc.heraldVersion, Node: tc.nodeVersion,
			SocketIO: tc.socketIOVersion, Zishang: tc.zishangVersion},
		Cases: cases, Skipped: tc.skipped,
	}
	st.Pinning = "none"
	if s.serverCPUs != "" || s.clientCPUs != "" {
		st.Pinning = fmt.Sprintf("server on CPU %s, load generator on CPU %s (taskset)", orDash(s.serverCPUs), orDash(s.clientCPUs))
	}

	failures := 0
cases:
	for _, c := range cases {
		for rep := range s.reps {
			for order, v := range rotate(c.Variants, rep) {
				if ctx.Err() != nil {
					break cases // interrupted: report what was measured
				}
				if _, ok := tc.peers[v.Peer]; !ok {
					continue
				}
				rec := runOne(ctx, tc, s, c, v, rep, order)
				if rec.Err != "" {
					failures++
				}
				st.Runs = append(st.Runs, rec)
				_ = sleepCtx(ctx, s.pause)
			}
		}
	}
	st.Finished = time.Now()
	st.Interrupted = ctx.Err() != nil
	if err := writeOutputs(st); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted; the report holds the runs done so far")
	}
	if failures > 0 || len(tc.skipped) > 0 {
		return fmt.Errorf("%d runs failed, %d peers skipped: see %s", failures, len(tc.skipped), filepath.Join(s.outDir, "latest.md"))
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// runOne starts the peer, runs the load generator against it and stops it.
func runOne(ctx context.Context, tc *toolchain, s settings, c benchCase, v variant, rep, order int) runRecord {
	rec := runRecord{Case: c.Key, Variant: v, Rep: rep, Order: order, Started: time.Now()}
	fmt.Fprintf(os.Stderr, "\n== %s / %s / rep %d\n", c.Key, v.Label(), rep+1)
	var (
		srv   *servers
		extra []string
		err   error
	)
	switch {
	case v.Peer == peerApp:
		var cookies string
		srv, cookies, err = tc.startApp(ctx, c.Clients, max(1, v.Nodes), s.serverCPUs, c.Database)
		if err == nil {
			extra = []string{"-cookies", cookies}
		}
	case v.Nodes > 1:
		srv, err = tc.startCluster(ctx, v, c.PingInterval, s.serverCPUs)
	default:
		var peer *peerProc
		if peer, err = tc.startPeer(ctx, v, c.PingInterval, s.serverCPUs); err == nil {
			srv = &servers{procs: []*peerProc{peer}}
		}
	}
	if err != nil {
		rec.Err = err.Error()
		fmt.Fprintf(os.Stderr, "benchrun: %v\n", err)
		return rec
	}
	defer srv.stop()

	rctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	scheme := "http"
	if _, isTLS := tlsBase(v.Peer); isTLS {
		scheme = "https"
	}
	argv := []string{tc.loadgen, "-url", srv.urls(scheme), "-client", s.client,
		"-scenario", loadgenScenario(c.Scenario), "-clients", strconv.Itoa(c.Clients),
		"-server-pid", srv.pids(), "-json"}
	argv = pinned(s.clientCPUs, append(append(argv, c.Args...), extra...))
	cmd := exec.CommandContext(rctx, argv[0], argv[1:]...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = childAttr()
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.Output()
	if err != nil {
		rec.Err = fmt.Sprintf("loadgen: %v", err)
		fmt.Fprintf(os.Stderr, "benchrun: %s\n", rec.Err)
		return rec
	}
	var r result.Run
	if err := json.Unmarshal(out, &r); err != nil {
		rec.Err = fmt.Sprintf("loadgen output: %v", err)
		return rec
	}
	rec.Result = &r
	return rec
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
