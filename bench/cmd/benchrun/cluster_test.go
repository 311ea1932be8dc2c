package main

import (
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/bench/internal/result"
)

func clusterSettings() settings {
	s := testSettings()
	s.scenarios = []string{scenarioCluster, scenarioClusterChat, scenarioClusterMax}
	s.clusterNodes, s.clusterClients = 3, []int{9000, 18000}
	s.clusterMaxClients, s.clusterMaxRate, s.clusterMaxDuration = 57000, 1, 30*time.Second
	return s
}

// TestPlanCluster: the cluster scenarios run Herald and Node on three nodes and one Herald
// node with the same clients; the chat on three app nodes; the biggest size on Herald nodes
// alone, at its own rate; the load generator gets its own scenario names.
func TestPlanCluster(t *testing.T) {
	cases, err := plan(clusterSettings())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cases {
		var labels []string
		for _, v := range c.Variants {
			labels = append(labels, v.Label())
		}
		got = append(got, c.Key+": "+strings.Join(labels, ", ")+" ("+loadgenScenario(c.Scenario)+")")
	}
	want := []string{
		"cluster-9000: herald ×3 + redis, node ×3 + redis, herald, 1 node (fanout)",
		"cluster-18000: herald ×3 + redis, node ×3 + redis, herald, 1 node (fanout)",
		"cluster-chat-500: herald-app ×3 + redis (chat)",
		"cluster-max-57000: herald ×3 + redis (fanout)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("cases:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if args := strings.Join(cases[3].Args, " "); !strings.Contains(args, "-rate 1 ") || !strings.Contains(args, "-duration 30s") {
		t.Errorf("cluster-max loadgen args: %s", args)
	}
	if !wantsChat(clusterSettings()) {
		t.Error("the cluster chat does not build the app")
	}
}

func TestPlanClusterBounds(t *testing.T) {
	s := clusterSettings()
	s.clusterMaxClients = 3*maxPerServer + 1
	if _, err := plan(s); err == nil {
		t.Error("more clients than three nodes hold accepted")
	}
	s = clusterSettings()
	s.clusterClients = []int{maxPerServer + 1}
	if _, err := plan(s); err == nil {
		t.Error("more clients than the one-node comparison holds accepted")
	}
	s = clusterSettings()
	s.clusterNodes = 1
	if _, err := plan(s); err == nil {
		t.Error("a cluster of one node accepted")
	}
}

// TestClusterTargets: the cluster targets compare Herald's cluster with Node's in the same
// rep, and Herald's cross-node p99 with the one-node run's p99.
func TestClusterTargets(t *testing.T) {
	s := clusterSettings()
	s.scenarios = []string{scenarioCluster}
	s.clusterClients = []int{9000}
	cases, err := plan(s)
	if err != nil {
		t.Fatal(err)
	}
	st := &suite{Settings: s, Cases: cases}
	c := cases[0]
	hc, nc, h1 := c.Variants[0], c.Variants[1], c.Variants[2]
	add := func(v variant, p99, remote, cpu float64) {
		st.Runs = append(st.Runs, runRecord{Case: c.Key, Variant: v, Result: &result.Run{
			LatencyP99MS: p99, LatencyRemoteP99MS: remote, CPUPerDeliver: cpu, Delivered: 100,
			ServerCPULoadPerPID: []float64{1, 1, 1, 0.0005},
		}})
	}
	add(hc, 40, 45, 5)
	add(nc, 100, 110, 10)
	add(h1, 30, 0, 4)
	rows := st.targets()
	if len(rows) != 3 {
		t.Fatalf("%d target rows, want 3: %+v", len(rows), rows)
	}
	for i, want := range []struct{ ratio, verdict string }{{"0.400×", "**met**"}, {"0.500×", "**met**"}, {"1.500×", "**met**"}} {
		if rows[i].Ratio != want.ratio || rows[i].Verdict != want.verdict {
			t.Errorf("%s: %s %s, want %s %s", rows[i].Name, rows[i].Ratio, rows[i].Verdict, want.ratio, want.verdict)
		}
	}
	if v, ok := mRedisCPU.Get(st.Runs[0].Result); !ok || v != 5 {
		t.Errorf("Redis µs/delivery %v %v, want 5", v, ok)
	}
	if md := st.markdown(); !strings.Contains(md, "## Cluster: fan-out across nodes through Redis") || !strings.Contains(md, "| 9000 | herald, 1 node |") {
		t.Errorf("report without the cluster table:\n%s", md)
	}
}
