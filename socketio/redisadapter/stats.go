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
	// DroppedBy splits Dropped by reason; every reason is present.
	DroppedBy map[DropReason]uint64
	// Pending is the number of requests waiting for other servers' answers now, in every
	// namespace.
	Pending int64
	// RequestsTimedOut counts the requests to other servers that ended without every answer.
	RequestsTimedOut uint64
}

// DropReason says why a message from Redis was dropped.
type DropReason string

// The reasons a received message is dropped.
const (
	// DropTooBig: longer than Config.MaxMessageBytes.
	DropTooBig DropReason = "too_big"
	// DropMalformed: not valid msgpack or JSON, or not of the shape and types its kind has.
	DropMalformed DropReason = "malformed"
	// DropUnknownType: a request or response of a type this adapter does not know.
	DropUnknownType DropReason = "unknown_type"
	// DropTooManyRooms: a selector naming more rooms than any server would.
	DropTooManyRooms DropReason = "too_many_rooms"
)

// DropReasons lists every DropReason, for exporting them all (a counter that stays at zero
// tells more than an absent one).
var DropReasons = []DropReason{DropTooBig, DropMalformed, DropUnknownType, DropTooManyRooms}

func (r DropReason) index() int {
	for i, x := range DropReasons {
		if x == r {
			return i
		}
	}
	return 1 // malformed: a reason this file forgot is a bug, not a reason to panic
}

type counters struct {
	connected        atomic.Bool
	reconnects       atomic.Uint64
	published        atomic.Uint64
	publishFailed    atomic.Uint64
	publishDropped   atomic.Uint64
	received         atomic.Uint64
	dropped          atomic.Uint64
	droppedBy        [4]atomic.Uint64 // indexed like DropReasons
	pending          atomic.Int64
	requestsTimedOut atomic.Uint64
}

// Stats returns the cluster's counters.
func (c *Cluster) Stats() Stats {
	s := &c.stats
	st := Stats{
		Connected:        s.connected.Load(),
		Reconnects:       s.reconnects.Load(),
		Published:        s.published.Load(),
		PublishFailed:    s.publishFailed.Load(),
		PublishDropped:   s.publishDropped.Load(),
		Received:         s.received.Load(),
		Dropped:          s.dropped.Load(),
		DroppedBy:        make(map[DropReason]uint64, len(DropReasons)),
		Pending:          s.pending.Load(),
		RequestsTimedOut: s.requestsTimedOut.Load(),
	}
	for i, r := range DropReasons {
		st.DroppedBy[r] = s.droppedBy[i].Load()
	}
	return st
}
