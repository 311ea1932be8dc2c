// Package metrics exposes Herald's Prometheus metrics: sockets, users online, messages, and how
// long broadcasts take to queue. It implements chat.Observer.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the collectors, on a registry of their own (no global state). It is safe for
// concurrent use.
type Metrics struct {
	registry    *prometheus.Registry
	usersOnline prometheus.Gauge
	messages    prometheus.Counter
	broadcasts  *prometheus.HistogramVec
}

// New registers the collectors; sockets reports the number of connected Engine.IO sessions.
func New(sockets func() int) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		usersOnline: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "herald_users_online",
			Help: "Distinct signed-in users with at least one connected socket.",
		}),
		messages: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_messages_total",
			Help: "Chat messages stored and broadcast.",
		}),
		broadcasts: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "herald_broadcast_duration_seconds",
			Help:    "Time to encode a broadcast once and queue it to every recipient, by event.",
			Buckets: []float64{.00001, .00005, .0001, .0005, .001, .005, .01, .05, .1, .5},
		}, []string{"event"}),
	}
	m.registry.MustRegister(
		m.usersOnline, m.messages, m.broadcasts,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "herald_sockets",
			Help: "Connected Engine.IO sessions.",
		}, func() float64 { return float64(sockets()) }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// UsersOnline records the number of distinct users online.
func (m *Metrics) UsersOnline(n int) { m.usersOnline.Set(float64(n)) }

// MessageStored counts one stored message.
func (m *Metrics) MessageStored() { m.messages.Inc() }

// Broadcast records how long queueing one broadcast took.
func (m *Metrics) Broadcast(event string, took time.Duration) {
	m.broadcasts.WithLabelValues(event).Observe(took.Seconds())
}
