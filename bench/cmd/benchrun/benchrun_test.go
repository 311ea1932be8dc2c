package main

import (
	"encoding/xml"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/bench/internal/result"
)

func testSettings() settings {
	return settings{
		reps: 3, peers: []string{peerHerald, peerNode, peerZishang, peerFloor},
		scenarios:     []string{"fanout", "idle", "crowd", "connect", "polling", "chat"},
		fanoutClients: []int{1000, 10000}, duration: 2 * time.Second, rate: 5, drain: time.Second,
		idleClients: 200, idleDuration: time.Second, idlePing: 500 * time.Millisecond,
		crowdClients: 300, crowdWindow: time.Second, crowdTimeout: 5 * time.Second,
		connectClients: 200, pollingClients: 100, connectRate: 2000,
		chatReceivers: 500, chatSenders: 10, chatRate: 2,
	}
}

func TestPlan(t *testing.T) {
	cases, err := plan(testSettings())
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, c := range cases {
		keys = append(keys, c.Key)
		if c.Timeout <= 0 {
			t.Errorf("%s: no timeout", c.Key)
		}
	}
	want := "fanout-1000 fanout-10000 idle-200 crowd-300 connect-200 polling-100 chat-500"
	if got := strings.Join(keys, " "); got != want {
		t.Errorf("cases %q, want %q", got, want)
	}
	var crowd []string
	for _, v := range cases[3].Variants {
		crowd = append(crowd, v.Label())
	}
	if got := strings.Join(crowd, ", "); got != "herald (merged), node (tutorial), node (merged), zishang (merged)" {
		t.Errorf("crowd variants: %s", got)
	}
	if cases[2].PingInterval != 500*time.Millisecond {
		t.Errorf("idle ping interval %v", cases[2].PingInterval)
	}

	chat := cases[6]
	if len(chat.Variants) != 1 || chat.Variants[0].Peer != peerApp {
		t.Errorf("chat variants: %v", chat.Variants)
	}
	// The chat case sends for -duration unless -chat-duration is given.
	if got := strings.Join(chat.Args, " "); got != "-senders 10 -rate 2 -duration 2s -drain 1s -connect-rate 2000" {
		t.Errorf("chat loadgen args: %s", got)
	}
	s := testSettings()
	s.scenarios = []string{scenarioChat}
	s.chatDuration = 7 * time.Second
	if cs, err := plan(s); err != nil || !strings.Contains(strings.Join(cs[0].Args, " "), "-duration 7s") {
		t.Errorf("chat with -chat-duration 7s: %v, %v", cs, err)
	}
	s.chatSenders = 501
	if _, err := plan(s); err == nil {
		t.Error("more chat senders than receivers accepted")
	}
	s.scenarios = []string{"bogus"}
	if _, err := plan(s); err == nil {
		t.Error("unknown scenario accepted")
	}
}

// TestFloorOnlyInFanout checks that the floor, which implements the fan-out
// scenario alone, joins the fan-out cases and no other, and is built only
// when one runs.
func TestFloorOnlyInFanout(t *testing.T) {
	cases, err := plan(testSettings())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		var labels []string
		for _, v := range c.Variants {
			labels = append(labels, v.Label())
		}
		got := strings.Join(labels, ", ")
		switch c.Scenario {
		case result.ScenarioFanout:
			if got != "herald, node, zishang, floor" {
				t.Errorf("%s: variants %s", c.Key, got)
			}
		default:
			if strings.Contains(got, peerFloor) {
				t.Errorf("%s: the floor is among the variants: %s", c.Key, got)
			}
		}
	}
	if got := strings.Join(peersToBuild(testSettings().peers, cases), ","); got != "herald,node,zishang,floor" {
		t.Errorf("peers to build with fan-out cases: %s", got)
	}
	s := testSettings()
	s.scenarios = []string{"idle", "polling"}
	cases, err = plan(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(peersToBuild(s.peers, cases), ","); got != "herald,node,zishang" {
		t.Errorf("peers to build without fan-out cases: %s", got)
	}
}

func TestRotate(t *testing.T) {
	vs := []variant{{Peer: "a", Mode: "none"}, {Peer: "b", Mode: "none"}, {Peer: "c", Mode: "none"}}
	firsts := map[string]bool{}
	for rep := range 3 {
		r := rotate(vs, rep)
		if len(r) != 3 {
			t.Fatalf("rotate lost variants: %v", r)
		}
		firsts[r[0].Peer] = true
	}
	if len(firsts) != 3 {
		t.Errorf("not every peer went first: %v", firsts)
	}
}

func TestMedian(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median odd = %v", m)
	}
	if m := median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Errorf("median even = %v", m)
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median of nothing is not NaN")
	}
}

// fakeSuite builds a suite with made-up results: Herald twice as fast as
// Node on every metric.
func fakeSuite(t *testing.T) *suite {
	t.Helper()
	s := testSettings()
	cases, err := plan(s)
	if err != nil {
		t.Fatal(err)
	}
	st := &suite{Settings: s, Cases: cases, Started: time.Unix(1.7e9, 0), Finished: time.Unix(1.7e9+60, 0),
		Command: "bash bench/run.sh", Pinning: "test"}
	for _, c := range cases {
		for rep := range s.reps {
			for i, v := range rotate(c.Variants, rep) {
				f := 2.0 // Node's factor
				switch {
				case v.Peer == peerHerald:
					f = 1
				case v.Peer == peerZishang:
					f = 1.5
				case v.Peer == peerFloor:
					f = 0.8
				case v.Mode == "tutorial":
					f = 40
				}
				f *= 1 + 0.01*float64(rep)
				r := &result.Run{Scenario: c.Scenario, Clients: c.Clients, ConnectOK: c.Clients, Senders: 10, AckedOK: 100, AckP99MS: 5 * f,
					LatencyP50MS: f, LatencyP99MS: 10 * f, LatencyMaxMS: 20 * f, CPUPerDeliver: 3 * f,
					RSSPerConnIdle: 4096 * f, RSSIdle: 1 << 24, ConnectRate: 1000 / f, CPUPerSessionUS: 50 * f,
					Settled: true, SettleMS: 100 * f, CrowdCPUSecs: 0.1 * f, ConnectSeconds: 1}
				rec := runRecord{Case: c.Key, Variant: v, Rep: rep, Order: i, Result: r}
				if c.Scenario == result.ScenarioConnect && v.Peer == peerZishang && rep == 0 {
					rec.Result, rec.Err = nil, "peer zishang: no READY within 30s"
				}
				st.Runs = append(st.Runs, rec)
			}
		}
	}
	return st
}

func TestTargets(t *testing.T) {
	st := fakeSuite(t)
	rows := st.targets()
	got := map[string]string{}
	for _, r := range rows {
		got[r.Name] = r.Verdict + " " + r.Ratio
	}
	// Herald is 0.5× Node everywhere (2× the connect rate), 0.025× Node in tutorial mode.
	want := map[string]string{
		"fan-out 10000: p99 latency (ms)":                                  "**met** 0.500×",
		"fan-out 10000: server CPU per delivery (µs)":                      "**met** 0.500×",
		"idle 200: server RSS per socket (KiB)":                            "**met** ",
		"crowd 300: all hold the final count, after the last connect (ms)": "**met** ",
		"crowd 300: server CPU (s) vs Node tutorial":                       "**met** 0.025×",
		"crowd 300: server CPU (s) vs Node merged":                         "**met** 0.500×",
		"connect 200: sessions/s":                                          "**met** 2.000×",
		"polling 100: p99 latency (ms)":                                    "**met** 0.500×",
	}
	if len(rows) != len(want) {
		t.Errorf("%d targets, want %d: %v", len(rows), len(want), got)
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: %q, want %q", name, got[name], w)
		}
	}
	// The floor (0.4× Node) in the fan-out rows, and there only.
	for _, r := range rows {
		want := "–"
		switch r.Name {
		case "fan-out 10000: p99 latency (ms)":
			want = "8.08 (0.40×)"
		case "fan-out 10000: server CPU per delivery (µs)":
			want = "2.42 (0.40×)"
		}
		if r.Floor != want {
			t.Errorf("%s: floor %q, want %q", r.Name, r.Floor, want)
		}
	}
}

func TestMarkdownAndSVG(t *testing.T) {
	st := fakeSuite(t)
	md := st.markdown()
	for _, want := range []string{
		"**Command**: `bash bench/run.sh`", "## Targets", "## Fan-out over WebSocket", "## Idle WebSocket clients",
		"## Crowd arrival", "## Connect rate", "## Fan-out over HTTP long-polling",
		"## Chat traffic through the real app", "Herald alone", "| 500 | 10 | 0 | 100 |",
		"| 10000 | herald |", "| 10000 | floor |", "floor (÷ Node) |", "failed ×1", "no READY within 30s",
		"| clients | peer | p50 ms |", "| receivers | senders |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if strings.Contains(md, "TODO") {
		t.Error("markdown still says TODO")
	}
	svg := st.svg()
	d := xml.NewDecoder(strings.NewReader(svg))
	rects := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rect" {
			rects++
		}
	}
	// At least one bar per variant, per case, per panel.
	if rects < 30 {
		t.Errorf("only %d rects in the SVG", rects)
	}
}
