package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/herald-chat/herald/socketio/redisadapter"
)

// clusterCollector exports a Redis cluster membership's counters, read once per scrape, so that
// the numbers of one scrape agree with each other.
type clusterCollector struct {
	stats func() redisadapter.Stats

	connected, reconnects, published, publishFailed, publishDropped *prometheus.Desc
	received, dropped, pending, timeouts                            *prometheus.Desc
}

// Cluster exports the counters of this server's Redis cluster membership (stats is usually
// (*redisadapter.Cluster).Stats) as herald_redis_* metrics.
func (m *Metrics) Cluster(stats func() redisadapter.Stats) {
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("herald_redis_"+name, help, labels, nil)
	}
	m.registry.MustRegister(&clusterCollector{
		stats:          stats,
		connected:      desc("connected", "1 while the subscriptions to the cluster's channels are in place."),
		reconnects:     desc("resubscribes_total", "Times the subscriptions were made again on a new connection (Redis restarted or the connection lost)."),
		published:      desc("published_total", "Messages published to the other servers."),
		publishFailed:  desc("publish_failed_total", "Messages that could not be published (Redis down or erring)."),
		publishDropped: desc("publish_dropped_total", "Messages dropped because the publish queue was full."),
		received:       desc("received_total", "Messages received from Redis."),
		dropped:        desc("dropped_total", "Received messages dropped, by reason.", "reason"),
		pending:        desc("pending_requests", "Requests waiting for other servers' answers."),
		timeouts:       desc("request_timeouts_total", "Requests to other servers that ended without every answer."),
	})
}

// Describe sends the descriptions of every metric.
func (c *clusterCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.connected, c.reconnects, c.published, c.publishFailed, c.publishDropped, c.received, c.dropped, c.pending, c.timeouts} {
		ch <- d
	}
}

// Collect reads the counters once and sends them.
func (c *clusterCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	connected := 0.0
	if s.Connected {
		connected = 1
	}
	ch <- prometheus.MustNewConstMetric(c.connected, prometheus.GaugeValue, connected)
	ch <- prometheus.MustNewConstMetric(c.reconnects, prometheus.CounterValue, float64(s.Reconnects))
	ch <- prometheus.MustNewConstMetric(c.published, prometheus.CounterValue, float64(s.Published))
	ch <- prometheus.MustNewConstMetric(c.publishFailed, prometheus.CounterValue, float64(s.PublishFailed))
	ch <- prometheus.MustNewConstMetric(c.publishDropped, prometheus.CounterValue, float64(s.PublishDropped))
	ch <- prometheus.MustNewConstMetric(c.received, prometheus.CounterValue, float64(s.Received))
	for _, r := range redisadapter.DropReasons {
		ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(s.DroppedBy[r]), string(r))
	}
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(s.Pending))
	ch <- prometheus.MustNewConstMetric(c.timeouts, prometheus.CounterValue, float64(s.RequestsTimedOut))
}
