package metrics

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/herald-chat/herald/internal/redistest"
	"github.com/herald-chat/herald/socketio"
	"github.com/herald-chat/herald/socketio/redisadapter"
)

// scrape returns the value of every sample of the metrics output, by its name and labels.
func scrape(t *testing.T, m *Metrics) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	out := map[string]float64{}
	for _, s := range regexp.MustCompile(`(?m)^(herald_redis_\S+) (\S+)$`).FindAllStringSubmatch(string(body), -1) {
		v, err := strconv.ParseFloat(s[2], 64)
		if err != nil {
			t.Fatalf("sample %q: %v", s[0], err)
		}
		out[s[1]] = v
	}
	return out
}

// TestClusterMetrics: a server on a real Redis exports its cluster counters, and they move with
// what the server does: a broadcast is published and received, a bad message is dropped under
// its reason, a restart of Redis is a resubscribe.
func TestClusterMetrics(t *testing.T) {
	redis := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cluster, err := redisadapter.New(ctx, redisadapter.Config{URL: redis.URL(), Key: "metrics", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	io := socketio.NewServer(socketio.Config{AdapterFactory: cluster.AdapterFactory})
	defer io.Close(ctx)
	m := New(func() int { return 0 })
	m.Cluster(cluster.Stats)

	names := []string{
		"herald_redis_connected", "herald_redis_resubscribes_total", "herald_redis_published_total",
		"herald_redis_publish_failed_total", "herald_redis_publish_dropped_total", "herald_redis_received_total",
		`herald_redis_dropped_total{reason="malformed"}`, `herald_redis_dropped_total{reason="too_big"}`,
		`herald_redis_dropped_total{reason="unknown_type"}`, `herald_redis_dropped_total{reason="too_many_rooms"}`,
		"herald_redis_pending_requests", "herald_redis_request_timeouts_total",
	}
	before := scrape(t, m)
	for _, n := range names {
		if _, ok := before[n]; !ok {
			t.Errorf("metric %s missing", n)
		}
	}
	if before["herald_redis_connected"] != 1 {
		t.Fatalf("herald_redis_connected = %v", before["herald_redis_connected"])
	}

	// A broadcast of ours is published and comes back to us (and is then ignored as our own);
	// garbage published on our request channel is dropped as malformed.
	if err := io.Emit("hello", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := redis.Do("PUBLISH", "metrics-request#/#", "{garbage"); err != nil {
		t.Fatal(err)
	}
	waitMetric(t, m, "herald_redis_published_total", before["herald_redis_published_total"]+1)
	waitMetric(t, m, "herald_redis_received_total", before["herald_redis_received_total"]+2)
	waitMetric(t, m, `herald_redis_dropped_total{reason="malformed"}`, 1)

	redis.Kill()
	waitMetric(t, m, "herald_redis_connected", 0)
	redis.Restart(ctx)
	waitMetric(t, m, "herald_redis_resubscribes_total", 1)
	waitMetric(t, m, "herald_redis_connected", 1)
}

// waitMetric waits until metric reaches at least want (at most want, for 0).
func waitMetric(t *testing.T, m *Metrics, metric string, want float64) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := scrape(t, m)[metric]
		if want == 0 && got == 0 || want > 0 && got >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v, want %v", metric, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
