package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/herald-chat/herald/bench/internal/result"
)

// machineInfo describes the machine the suite ran on.
type machineInfo struct {
	CPU    string `json:"cpu"`
	CPUs   int    `json:"cpus"`
	Memory string `json:"memory"`
	Kernel string `json:"kernel"`
	OS     string `json:"os"`
}

func readMachine() machineInfo {
	m := machineInfo{CPUs: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				f := strings.Fields(rest)
				if kb, err := strconv.ParseFloat(f[0], 64); err == nil {
					m.Memory = fmt.Sprintf("%.1f GiB", kb/(1<<20))
				}
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

// metric is one number read from a run.
type metric struct {
	Head string
	Get  func(r *result.Run) (float64, bool)
	Prec int // decimals shown
}

func always(f func(r *result.Run) float64) func(r *result.Run) (float64, bool) {
	return func(r *result.Run) (float64, bool) { return f(r), true }
}

func positive(f func(r *result.Run) float64) func(r *result.Run) (float64, bool) {
	return func(r *result.Run) (float64, bool) { v := f(r); return v, v > 0 }
}

var (
	mP99        = metric{"p99 ms", positive(func(r *result.Run) float64 { return r.LatencyP99MS }), 2}
	mCPUDeliver = metric{"CPU µs/delivery", positive(func(r *result.Run) float64 { return r.CPUPerDeliver }), 2}
	mIdleKiB    = metric{"RSS KiB/socket", positive(func(r *result.Run) float64 { return r.RSSPerConnIdle / 1024 }), 1}
	mSettle     = metric{"settle ms", func(r *result.Run) (float64, bool) { return r.SettleMS, r.Settled }, 0}
	mCrowdCPU   = metric{"server CPU s", positive(func(r *result.Run) float64 { return r.CrowdCPUSecs }), 2}
	mConnRate   = metric{"sessions/s", positive(func(r *result.Run) float64 { return r.ConnectRate }), 0}
)

var (
	// mRemoteP99 is the p99 of the clients on the nodes other than the sender's (cluster).
	mRemoteP99 = metric{"cross-node p99 ms", positive(func(r *result.Run) float64 { return r.LatencyRemoteP99MS }), 2}
	// mRedisCPU is Redis's share of the CPU per delivery: the last of the PIDs sampled.
	mRedisCPU = metric{"of which Redis µs/delivery", positive(func(r *result.Run) float64 {
		if len(r.ServerCPULoadPerPID) < 2 || r.Delivered == 0 {
			return 0
		}
		return r.ServerCPULoadPerPID[len(r.ServerCPULoadPerPID)-1] / float64(r.Delivered) * 1e6
	}), 2}
	mRSSLoadMiB = metric{"RSS MiB after load, all", positive(func(r *result.Run) float64 { return float64(r.RSSLoad) / (1 << 20) }), 1}
)

// columns lists the table columns of each scenario.
func columns(scenario string) []metric {
	switch scenario {
	case scenarioCluster, scenarioClusterMax:
		return []metric{
			{"p50 ms", positive(func(r *result.Run) float64 { return r.LatencyP50MS }), 2},
			mP99,
			mRemoteP99,
			{"max ms", positive(func(r *result.Run) float64 { return r.LatencyMaxMS }), 1},
			mCPUDeliver,
			mRedisCPU,
			{"lost or late", always(func(r *result.Run) float64 { return float64(r.Lost) }), 0},
			{"duplicated", always(func(r *result.Run) float64 { return float64(r.Duplicates) }), 0},
			{"KiB/conn idle", positive(func(r *result.Run) float64 { return r.RSSPerConnIdle / 1024 }), 1},
			{"KiB/conn load", positive(func(r *result.Run) float64 { return r.RSSPerConnLoad / 1024 }), 1},
			mRSSLoadMiB,
			{"loadgen µs/delivery", positive(func(r *result.Run) float64 { return r.LoadgenCPUPerDeliver }), 2},
			{"loadgen read lag p99 ms", positive(func(r *result.Run) float64 { return r.ReadLagP99MS }), 2},
		}
	case scenarioClusterChat:
		return columns(result.ScenarioChat)
	case result.ScenarioFanout, result.ScenarioPolling:
		return []metric{
			{"p50 ms", positive(func(r *result.Run) float64 { return r.LatencyP50MS }), 2},
			mP99,
			{"max ms", positive(func(r *result.Run) float64 { return r.LatencyMaxMS }), 1},
			mCPUDeliver,
			{"lost or late", always(func(r *result.Run) float64 { return float64(r.Lost) }), 0},
			{"KiB/conn idle", positive(func(r *result.Run) float64 { return r.RSSPerConnIdle / 1024 }), 1},
			{"KiB/conn load", positive(func(r *result.Run) float64 { return r.RSSPerConnLoad / 1024 }), 1},
			{"loadgen µs/delivery", positive(func(r *result.Run) float64 { return r.LoadgenCPUPerDeliver }), 2},
			{"loadgen read lag p99 ms", positive(func(r *result.Run) float64 { return r.ReadLagP99MS }), 2},
		}
	case result.ScenarioIdle:
		return []metric{
			mIdleKiB,
			{"RSS MiB", positive(func(r *result.Run) float64 { return float64(r.RSSIdle) / (1 << 20) }), 1},
			{"alive", always(func(r *result.Run) float64 { return float64(r.Alive) }), 0},
			{"pings answered", always(func(r *result.Run) float64 { return float64(r.Pings) }), 0},
			{"heartbeat CPU ms", always(func(r *result.Run) float64 { return r.ServerCPULoad * 1000 }), 0},
		}
	case result.ScenarioCrowd:
		return []metric{
			{"arrival s", positive(func(r *result.Run) float64 { return r.ConnectSeconds }), 2},
			mSettle,
			{"stale clients", always(func(r *result.Run) float64 { return float64(r.Stale) }), 0},
			mCrowdCPU,
			{"count events", always(func(r *result.Run) float64 { return float64(r.CountUpdates) }), 0},
		}
	case result.ScenarioChat:
		return []metric{
			{"senders", always(func(r *result.Run) float64 { return float64(r.Senders) }), 0},
			{"sent", always(func(r *result.Run) float64 { return float64(r.MessagesSent) }), 0},
			{"acked ok", always(func(r *result.Run) float64 { return float64(r.AckedOK) }), 0},
			{"rejected", always(func(r *result.Run) float64 { return float64(r.Rejected) }), 0},
			{"delivery p50 ms", positive(func(r *result.Run) float64 { return r.LatencyP50MS }), 2},
			mP99,
			{"delivery max ms", positive(func(r *result.Run) float64 { return r.LatencyMaxMS }), 1},
			{"ack p50 ms", positive(func(r *result.Run) float64 { return r.AckP50MS }), 2},
			{"ack p99 ms", positive(func(r *result.Run) float64 { return r.AckP99MS }), 2},
			{"lost or late", always(func(r *result.Run) float64 { return float64(r.Lost) }), 0},
			{"duplicated", always(func(r *result.Run) float64 { return float64(r.Duplicates) }), 0},
			{"server CPU µs/delivery", positive(func(r *result.Run) float64 { return r.CPUPerDeliver }), 2},
			{"deliveries/s", positive(func(r *result.Run) float64 {
				if r.ChatSeconds <= 0 {
					return 0
				}
				return float64(r.Delivered) / r.ChatSeconds
			}), 0},
			{"server RSS MiB", positive(func(r *result.Run) float64 { return float64(r.RSSLoad) / (1 << 20) }), 1},
			{"loadgen µs/delivery", positive(func(r *result.Run) float64 { return r.LoadgenCPUPerDeliver }), 2},
		}
	case result.ScenarioConnect:
		return []metric{
			mConnRate,
			{"CPU µs/session", positive(func(r *result.Run) float64 { return r.CPUPerSessionUS }), 0},
			{"errors", always(func(r *result.Run) float64 { return float64(r.ConnectErrors) }), 0},
		}
	}
	return nil
}

// stat is the median of a metric over a variant's runs of a case.
type stat struct {
	Median, Min, Max float64
	N                int // runs with a value
	Failed           int // runs that failed
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (st *suite) runsOf(caseKey string, v variant) []runRecord {
	var out []runRecord
	for _, r := range st.Runs {
		if r.Case == caseKey && r.Variant == v {
			out = append(out, r)
		}
	}
	return out
}

func (st *suite) stat(caseKey string, v variant, m metric) stat {
	var xs []float64
	var s stat
	for _, r := range st.runsOf(caseKey, v) {
		if r.Result == nil {
			s.Failed++
			continue
		}
		if x, ok := m.Get(r.Result); ok {
			xs = append(xs, x)
		}
	}
	s.N = len(xs)
	if s.N > 0 {
		s.Median = median(xs)
		s.Min, s.Max = slices.Min(xs), slices.Max(xs)
	}
	return s
}

// ratio is the median over reps of a/b, a and b measured in the same rep.
func (st *suite) ratio(caseKey string, a, b variant, m metric) (float64, int) {
	return st.ratio2(caseKey, a, m, b, m)
}

// ratio2 is ratio with a metric of its own for each side: ma of a over mb of b.
func (st *suite) ratio2(caseKey string, a variant, ma metric, b variant, mb metric) (float64, int) {
	m := ma
	var xs []float64
	for _, ra := range st.runsOf(caseKey, a) {
		for _, rb := range st.runsOf(caseKey, b) {
			if ra.Rep != rb.Rep || ra.Result == nil || rb.Result == nil {
				continue
			}
			x, ok1 := m.Get(ra.Result)
			y, ok2 := mb.Get(rb.Result)
			if ok1 && ok2 && y != 0 {
				xs = append(xs, x/y)
			}
		}
	}
	if len(xs) == 0 {
		return math.NaN(), 0
	}
	return median(xs), len(xs)
}

func fmtNum(x float64, prec int) string {
	if math.IsNaN(x) {
		return "–"
	}
	return strconv.FormatFloat(x, 'f', prec, 64)
}

func (s stat) cell(prec int) string {
	switch {
	case s.N == 0 && s.Failed > 0:
		return fmt.Sprintf("failed ×%d", s.Failed)
	case s.N == 0:
		return "–"
	}
	out := fmtNum(s.Median, prec)
	if s.N > 1 && s.Min != s.Max {
		out += fmt.Sprintf(" (%s–%s)", fmtNum(s.Min, prec), fmtNum(s.Max, prec))
	}
	if s.Failed > 0 {
		out += fmt.Sprintf(", failed ×%d", s.Failed)
	}
	return out
}

// targetRow is one line of the targets table. Zishang and Floor are those
// peers' medians with their ratio to the reference, or "–"; Floor is
// filled in the fan-out rows only, the one scenario the floor takes part in.
type targetRow struct {
	Name, Herald, Node, Ratio, Goal, Verdict, Zishang, Floor string
}

// caseFor returns the key of the case of a scenario with n clients, or of
// its largest size when there is none with n (n = 0: the only one).
func (st *suite) caseFor(scenario string, n int) (benchCase, bool) {
	var best benchCase
	found := false
	for _, c := range st.Cases {
		if c.Scenario != scenario {
			continue
		}
		if c.Clients == n {
			return c, true
		}
		if !found || c.Clients > best.Clients {
			best, found = c, true
		}
	}
	return best, found
}

// targets computes the goals of the issue: Herald against Node, each a
// ratio of two runs of the same rep, or an absolute bound.
func (st *suite) targets() []targetRow {
	var rows []targetRow
	herald := variant{Peer: peerHerald, Mode: "none"}
	node := variant{Peer: peerNode, Mode: "none"}
	zishang := variant{Peer: peerZishang, Mode: "none"}
	floor := variant{Peer: peerFloor, Mode: "none"}
	verdict := func(v float64, goal float64, atLeast bool) string {
		switch {
		case math.IsNaN(v):
			return "n/a"
		case atLeast && v >= goal, !atLeast && v <= goal:
			return "**met**"
		}
		return "missed"
	}
	cmp := func(atLeast bool) string {
		if atLeast {
			return "≥"
		}
		return "≤"
	}
	// Another peer's median and its ratio to ref, or "–" without a value.
	versus := func(c benchCase, v, ref variant, m metric) string {
		vs := st.stat(c.Key, v, m)
		if vs.N == 0 {
			return "–"
		}
		r, _ := st.ratio(c.Key, v, ref, m)
		return fmt.Sprintf("%s (%s×)", fmtNum(vs.Median, m.Prec), fmtNum(r, 2))
	}
	// A ratio target.
	rel := func(name string, c benchCase, h, ref variant, m metric, goal float64, atLeast bool) {
		hs, rs := st.stat(c.Key, h, m), st.stat(c.Key, ref, m)
		r, _ := st.ratio(c.Key, h, ref, m)
		rows = append(rows, targetRow{
			Name: name, Herald: hs.cell(m.Prec), Node: rs.cell(m.Prec), Ratio: fmtNum(r, 3) + "×",
			Goal: fmt.Sprintf("%s %g× %s", cmp(atLeast), goal, ref.Label()), Verdict: verdict(r, goal, atLeast),
			Zishang: versus(c, zishang, ref, m), Floor: "–",
		})
	}
	// An absolute target.
	abs := func(name string, c benchCase, h variant, m metric, goal float64, unit string) {
		hs, ns, zs := st.stat(c.Key, h, m), st.stat(c.Key, variant{Peer: peerNode, Mode: h.Mode}, m), st.stat(c.Key, variant{Peer: peerZishang, Mode: h.Mode}, m)
		v := math.NaN()
		if hs.N > 0 {
			v = hs.Median
		}
		rows = append(rows, targetRow{
			Name: name, Herald: hs.cell(m.Prec), Node: ns.cell(m.Prec), Ratio: "",
			Goal: fmt.Sprintf("≤ %g %s", goal, unit), Verdict: verdict(v, goal, false),
			Zishang: zs.cell(m.Prec), Floor: "–",
		})
	}
	if c, ok := st.caseFor(result.ScenarioFanout, 10000); ok {
		rel(fmt.Sprintf("fan-out %d: p99 latency (ms)", c.Clients), c, herald, node, mP99, 0.5, false)
		rows[len(rows)-1].Floor = versus(c, floor, node, mP99)
		rel(fmt.Sprintf("fan-out %d: server CPU per delivery (µs)", c.Clients), c, herald, node, mCPUDeliver, 0.6, false)
		rows[len(rows)-1].Floor = versus(c, floor, node, mCPUDeliver)
	}
	if c, ok := st.caseFor(result.ScenarioIdle, 0); ok {
		abs(fmt.Sprintf("idle %d: server RSS per socket (KiB)", c.Clients), c, herald, mIdleKiB, 10, "KiB")
	}
	if c, ok := st.caseFor(result.ScenarioCrowd, 0); ok {
		hm := variant{Peer: peerHerald, Mode: "merged"}
		abs(fmt.Sprintf("crowd %d: all hold the final count, after the last connect (ms)", c.Clients), c, hm, mSettle, 1000, "ms")
		rel(fmt.Sprintf("crowd %d: server CPU (s) vs Node tutorial", c.Clients), c, hm, variant{Peer: peerNode, Mode: "tutorial"}, mCrowdCPU, 0.05, false)
		rel(fmt.Sprintf("crowd %d: server CPU (s) vs Node merged", c.Clients), c, hm, variant{Peer: peerNode, Mode: "merged"}, mCrowdCPU, 0.5, false)
	}
	if c, ok := st.caseFor(result.ScenarioConnect, 0); ok {
		rel(fmt.Sprintf("connect %d: sessions/s", c.Clients), c, herald, node, mConnRate, 2, true)
	}
	if c, ok := st.caseFor(result.ScenarioPolling, 0); ok {
		rel(fmt.Sprintf("polling %d: p99 latency (ms)", c.Clients), c, herald, node, mP99, 1, false)
	}
	for _, c := range st.Cases {
		if c.Scenario != scenarioCluster {
			continue
		}
		var hc, nc, h1 variant
		for _, v := range c.Variants {
			switch {
			case v.Peer == peerHerald && v.Nodes > 1:
				hc = v
			case v.Peer == peerNode && v.Nodes > 1:
				nc = v
			case v.Peer == peerHerald && v.Nodes == 1:
				h1 = v
			}
		}
		size := fmt.Sprintf("cluster %d×%d", hc.Nodes, c.Clients/max(1, hc.Nodes))
		rel(size+": p99 latency (ms)", c, hc, nc, mP99, 0.5, false)
		rel(size+": server CPU per delivery, all nodes + Redis (µs)", c, hc, nc, mCPUDeliver, 0.6, false)
		// Cross-node: the clients of the other nodes against one node holding them all.
		hs, ss := st.stat(c.Key, hc, mRemoteP99), st.stat(c.Key, h1, mP99)
		r, _ := st.ratio2(c.Key, hc, mRemoteP99, h1, mP99)
		rows = append(rows, targetRow{
			Name: size + ": cross-node p99 (ms) vs one Herald node holding the same clients", Herald: hs.cell(2), Node: ss.cell(2) + " (1 node)",
			Ratio: fmtNum(r, 3) + "×", Goal: "≤ 1.5× " + h1.Label(), Verdict: verdict(r, 1.5, false), Zishang: "–", Floor: "–",
		})
	}
	return rows
}

var scenarioTitles = map[string]string{
	result.ScenarioFanout:  "Fan-out over WebSocket",
	result.ScenarioIdle:    "Idle WebSocket clients",
	result.ScenarioCrowd:   "Crowd arrival",
	result.ScenarioConnect: "Connect rate",
	result.ScenarioPolling: "Fan-out over HTTP long-polling",
	result.ScenarioChat:    "Chat traffic through the real app",
	scenarioCluster:        "Cluster: fan-out across nodes through Redis",
	scenarioClusterChat:    "Cluster: chat traffic through the real app on several nodes",
	scenarioClusterMax:     "Cluster: as many sockets as the machine holds",
}

var scenarioNotes = map[string]string{
	result.ScenarioFanout: "The control client emits `fanout` {seq, sentAt} at the given rate; the peer does `io.emit('tick', payload)`. " +
		"Latency is receive time − sentAt over every client × event. CPU is the server's user+system time during the sending phase, over the deliveries. " +
		"Lost or late: events a connected client had not received by the end of the drain wait after the last send. " +
		"The floor is not a Socket.IO server but a lower bound (`bench/peers/floor`): one write() of a pre-built frame per client, no queue; " +
		"a client whose socket is full is dropped, which shows here as lost.",
	result.ScenarioIdle: "Clients connect and then only answer heartbeats. RSS per socket = (RSS after the idle time − RSS before any client) / clients.",
	result.ScenarioCrowd: "The clients arrive evenly over the window; every arrival changes the count. Settle = the moment the last client holds the final count, " +
		"after the last client's CONNECT reply. CPU is the server's, from the first dial to settled.",
	result.ScenarioConnect: "Clients open WebSocket sessions (handshake + CONNECT) as fast as the load generator can, a bounded number in flight. Sessions/s over first dial to last CONNECT reply.",
	result.ScenarioPolling: "As fan-out, with clients on HTTP long-polling (no upgrade).",
	result.ScenarioChat: "Herald alone: the real app (`cmd/herald`: session cookie checked at the handshake, message validation, per-user rate limit, " +
		"storage committed before the ack (SQLite with an fsync per message, or PostgreSQL with -chat-db postgres), broadcast to everyone), which has no Node counterpart in this harness. " +
		"Every client is a distinct signed-in user (seeded through the app's store and session code, not over HTTP) and receives; " +
		"the senders also emit `chat message` with an ack, the text carrying the sender, a sequence number and the send time. " +
		"Delivery latency is receive time − send time over every receiver × message; ack latency is send → `{ok:true,id}` at the sender. " +
		"Lost or late: deliveries of messages acked ok that a client connected throughout had not received by the end of the drain wait (the app broadcasts a message before it acks it). " +
		"Server CPU is the app's user+system time from the first message until everything arrived (or the drain wait ended), over the deliveries; " +
		"deliveries/s is the deliveries over that same time, what the app sustained; RSS after the load.",
	scenarioCluster: "Several server processes of one peer on one throwaway redis-server (Herald: `socketio/redisadapter`; Node: `@socket.io/redis-adapter` 8.3.0 on `redis` 4.7.1), " +
		"the clients spread evenly over them in blocks, the control client on the first node: `io.emit` there reaches its own clients directly and the others' through Redis. " +
		"Every server process and Redis are pinned to the server CPUs; CPU per delivery is the sum of all of them (Redis's share in its own column), RSS too. " +
		"Cross-node p99: the clients on the nodes other than the sender's. \"1 node\" is one Herald process, no Redis, holding all the clients: what cross-node latency is compared with.",
	scenarioClusterChat: "The chat scenario (above) on several app servers (`herald -redis-url`) sharing one SQLite file and one Redis, the clients spread evenly over them in blocks, the senders spread over the clients: " +
		"every message is stored once and reaches the clients of every node through Redis. CPU and RSS are the sum over the servers and Redis.",
	scenarioClusterMax: "The cluster fan-out on Herald nodes holding as many sockets as the machine allows (at most 19,900 a process: 20,000 open files), " +
		"the load generator's workers spread over 127.0.0.x source addresses (28,000 ephemeral ports each). RSS per socket is the growth of all the nodes' and Redis's RSS over the sockets.",
}

// markdown renders the report.
func (st *suite) markdown() string {
	var b strings.Builder
	s := st.Settings
	title := "Herald side-by-side benchmark"
	if s.smoke {
		title += " (smoke)"
	}
	fmt.Fprintf(&b, "# %s\n\n", title)
	fmt.Fprintf(&b, "- **Date**: %s (%.0f min)\n", st.Started.UTC().Format("2006-01-02 15:04 MST"), st.Finished.Sub(st.Started).Minutes())
	fmt.Fprintf(&b, "- **Command**: `%s`\n", st.Command)
	fmt.Fprintf(&b, "- **Machine**: %s, %d CPUs, %s, Linux %s (%s)\n", orDash(st.Machine.CPU), st.Machine.CPUs, st.Machine.Memory, st.Machine.Kernel, st.Machine.OS)
	fmt.Fprintf(&b, "- **Pinning**: %s\n", st.Pinning)
	fmt.Fprintf(&b, "- **Versions**: Herald %s (%s); Node %s with socket.io %s; zishang520/socket.io %s\n",
		orDash(st.Versions.Herald), orDash(st.Versions.Go), orDash(st.Versions.Node), orDash(st.Versions.SocketIO), orDash(st.Versions.Zishang))
	fmt.Fprintf(&b, "- **Method**: each case runs %d× per peer; the order of the peers rotates every rep, so each goes first in turn. "+
		"A fresh server process per run. Values are medians (min–max over the reps); ratios are medians of per-rep ratios, Herald ÷ Node, measured in the same rep.\n", s.reps)
	if st.Interrupted {
		b.WriteString("- **Interrupted**: the run was stopped before the end; only the runs done are reported.\n")
	}
	if len(st.Skipped) > 0 {
		for _, p := range sortedKeys(st.Skipped) {
			fmt.Fprintf(&b, "- **Skipped peer %s**: %s\n", p, st.Skipped[p])
		}
	}
	b.WriteString("\n## Targets (Herald vs Node, same run)\n\n")
	if targets := st.targets(); len(targets) > 0 {
		b.WriteString("| target | Herald | Node | Herald ÷ Node | goal | verdict | zishang (÷ Node) | floor (÷ Node) |\n|---|---|---|---|---|---|---|---|\n")
		for _, t := range targets {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", t.Name, t.Herald, t.Node, t.Ratio, t.Goal, t.Verdict, t.Zishang, t.Floor)
		}
		if s.smoke {
			b.WriteString("\nSmoke sizes are far below the targets' sizes: these verdicts only show that the harness works.\n")
		}
	} else {
		b.WriteString("None among the scenarios run (the chat scenarios and cluster-max have no Node counterpart).\n")
	}

	for _, sc := range []string{result.ScenarioFanout, result.ScenarioIdle, result.ScenarioCrowd, result.ScenarioConnect, result.ScenarioPolling, result.ScenarioChat,
		scenarioCluster, scenarioClusterChat, scenarioClusterMax} {
		var cs []benchCase
		for _, c := range st.Cases {
			if c.Scenario == sc {
				cs = append(cs, c)
			}
		}
		if len(cs) == 0 {
			continue
		}
		cols := columns(sc)
		fmt.Fprintf(&b, "\n## %s\n\n%s\n", scenarioTitles[sc], scenarioNotes[sc])
		switch sc {
		case result.ScenarioFanout, result.ScenarioPolling:
			fmt.Fprintf(&b, "Settings: %g events/s for %v (%d events), ~40-byte payload, peers' default heartbeat (25 s).\n",
				s.rate, s.duration, max(1, int(math.Round(s.rate*s.duration.Seconds()))))
		case result.ScenarioIdle:
			fmt.Fprintf(&b, "Settings: idle for %v with the peers' pingInterval set to %v.\n", s.idleDuration, s.idlePing)
		case result.ScenarioCrowd:
			fmt.Fprintf(&b, "Settings: arrival window %v; tutorial = `io.emit('user count', n)` on every change, merged = latest value once per 50 ms window.\n", s.crowdWindow)
		case scenarioCluster:
			fmt.Fprintf(&b, "Settings: %d nodes; %g events/s for %v (%d events), ~40-byte payload, peers' default heartbeat (25 s).\n",
				s.clusterNodes, s.rate, s.duration, max(1, int(math.Round(s.rate*s.duration.Seconds()))))
		case scenarioClusterMax:
			fmt.Fprintf(&b, "Settings: %d nodes; %g events/s for %v (%d events), ~40-byte payload, peers' default heartbeat (25 s).\n",
				s.clusterNodes, s.clusterMaxRate, s.clusterMaxDuration, max(1, int(math.Round(s.clusterMaxRate*s.clusterMaxDuration.Seconds()))))
		case result.ScenarioChat, scenarioClusterChat:
			d := s.chatDur()
			fmt.Fprintf(&b, "Settings: %d senders × %g messages/s for %v (%d messages each, %g messages/s in all) to %d receivers; the app's defaults "+
				"(rate limit: a burst of 10, then one per 300 ms); %s.\n",
				s.chatSenders, s.chatRate, d, max(1, int(math.Round(s.chatRate*d.Seconds()))), s.chatRate*float64(s.chatSenders), s.chatReceivers, chatDatabaseDesc(s.chatDB))
		}
		// The chat scenario runs the app alone: its rows need no peer column.
		withPeer := sc != result.ScenarioChat && sc != scenarioClusterChat
		if withPeer {
			b.WriteString("\n| clients | peer |")
		} else {
			b.WriteString("\n| receivers |")
		}
		for _, m := range cols {
			fmt.Fprintf(&b, " %s |", m.Head)
		}
		b.WriteString("\n|---|")
		if withPeer {
			b.WriteString("---|")
		}
		b.WriteString(strings.Repeat("---|", len(cols)) + "\n")
		for _, c := range cs {
			for _, v := range c.Variants {
				if len(st.runsOf(c.Key, v)) == 0 {
					continue
				}
				fmt.Fprintf(&b, "| %d |", c.Clients)
				if withPeer {
					fmt.Fprintf(&b, " %s |", v.Label())
				}
				for _, m := range cols {
					fmt.Fprintf(&b, " %s |", st.stat(c.Key, v, m).cell(m.Prec))
				}
				b.WriteString("\n")
			}
		}
	}

	var notes []string
	for _, r := range st.Runs {
		label := fmt.Sprintf("%s / %s / rep %d", r.Case, r.Variant.Label(), r.Rep+1)
		if r.Err != "" {
			notes = append(notes, fmt.Sprintf("- %s: **failed**: %s", label, r.Err))
			continue
		}
		for _, n := range r.Result.Notes {
			if strings.HasPrefix(n, "server pingInterval") {
				continue
			}
			notes = append(notes, fmt.Sprintf("- %s: %s", label, n))
		}
	}
	if len(notes) > 0 {
		b.WriteString("\n## Notes from the runs\n\n" + strings.Join(notes, "\n") + "\n")
	}
	b.WriteString("\nRaw results: `latest.json` beside this file. Chart: `latest.svg`.\n")
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// writeOutputs writes latest.md, latest.svg and latest.json.
func writeOutputs(st *suite) error {
	dir := st.Settings.outDir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	js, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	md := st.markdown()
	files := map[string][]byte{
		"latest.json": js,
		"latest.md":   []byte(md),
		"latest.svg":  []byte(st.svg()),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "\n%s\nbenchrun: wrote %s\n", md, filepath.Join(dir, "latest.{md,svg,json}"))
	return nil
}
