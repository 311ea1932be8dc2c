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
	"github.com/herald-chat/herald/internal/redistest"
	"github.com/herald-chat/herald/socketio"
	"github.com/herald-chat/herald/socketio/redisadapter"
)

// startClusterPeer runs a Herald bench peer in-process as a node of the cluster on redisURL
// and returns its URL.
func startClusterPeer(t *testing.T, redisURL string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := redisadapter.New(ctx, redisadapter.Config{URL: redisURL})
	if err != nil {
		t.Fatal(err)
	}
	p, err := heraldpeer.New("none", socketio.Config{AdapterFactory: cl.AdapterFactory})
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
		_ = cl.Close()
	})
	return ts.URL
}

// TestFanoutOverCluster: with several URLs the clients are spread over the servers, the
// control client's events reach the clients of every node (through Redis), and the clients
// of the other nodes are measured on their own; several PIDs are summed.
func TestFanoutOverCluster(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	url := startClusterPeer(t, rs.URL()) + "," + startClusterPeer(t, rs.URL()) + "," + startClusterPeer(t, rs.URL())
	o := baseOptions(url, result.ScenarioFanout)
	o.serverPIDs = []int{os.Getpid(), os.Getpid()}
	r := run(t, o)
	checkFanout(t, r)
	if r.Servers != 3 {
		t.Errorf("servers %d, want 3", r.Servers)
	}
	// 30 clients in blocks of 10 over 3 nodes: the 20 on the second and third are remote.
	if r.LatencyRemote == nil || r.LatencyRemoteP99MS <= 0 {
		t.Fatalf("no cross-node latencies: %+v", r.LatencyRemote)
	}
	remote := result.NewHistogram()
	remote.Merge(*r.LatencyRemote)
	if n := remote.Count(); n != 200 {
		t.Errorf("%d cross-node deliveries measured, want 20 clients × 10 events", n)
	}
	if len(r.ServerPIDs) != 2 || len(r.ServerCPULoadPerPID) != 2 {
		t.Errorf("PIDs %v, CPU per PID %v: want two of each", r.ServerPIDs, r.ServerCPULoadPerPID)
	}
}

// TestOneURLHasNoRemote: a single server has no cross-node figures.
func TestOneURLHasNoRemote(t *testing.T) {
	t.Parallel()
	r := run(t, baseOptions(startPeer(t, "none", 0), result.ScenarioFanout))
	if r.Servers != 0 || r.LatencyRemote != nil || r.ServerPIDs != nil {
		t.Errorf("servers %d, remote %v, PIDs %v on one server", r.Servers, r.LatencyRemote, r.ServerPIDs)
	}
}
