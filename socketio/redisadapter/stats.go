package redisadapter

import "sync/atomic"

// Stats are a Cluster's counters since it started, for monitoring.
type Stats struct {
	// Connected reports whether the subscriptions are in place now.
	Connected bool
	// Reconnects counts the times the subscriptions were made again on a new connection.
	Reconnects uint64
	// Published counts the messages published.
	Published uint64
	// PublishFailed counts the messages that could not be published (Redis down or erring).
	PublishFailed uint64
	// PublishDropped counts the messages dropped because the publish queue was full.
	PublishDropped uint64
	// Received counts the messages received from Redis.
	Received uint64
	// Dropped counts the received messages dropped as malformed, too big or of an unknown kind.
	Dropped uint64
	// RequestsTimedOut counts the requests to other servers that ended without every answer.
	RequestsTimedOut uint64
}

type counters struct {
	connected        atomic.Bool
	reconnects       atomic.Uint64
	published        atomic.Uint64
	publishFailed    atomic.Uint64
	publishDropped   atomic.Uint64
	received         atomic.Uint64
	dropped          atomic.Uint64
	requestsTimedOut atomic.Uint64
}

// Stats returns the cluster's counters.
func (c *Cluster) Stats() Stats {
	s := &c.stats
	return Stats{
		Connected:        s.connected.Load(),
		Reconnects:       s.reconnects.Load(),
		Published:        s.published.Load(),
		PublishFailed:    s.publishFailed.Load(),
		PublishDropped:   s.publishDropped.Load(),
		Received:         s.received.Load(),
		Dropped:          s.dropped.Load(),
		RequestsTimedOut: s.requestsTimedOut.Load(),
	}
}
