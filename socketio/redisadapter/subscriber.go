package redisadapter

import (
	"context"
	"sync"
	"time"

	"github.com/redis/rueidis"
)

// channelKind says what arrives on a subscribed channel.
type channelKind int

const (
	broadcastPattern channelKind = iota // PSUBSCRIBEd: <key>#<nsp>#*
	requestChannel                      // <key>-request#<nsp>#
	responseChannel                     // <key>-response#<nsp># and …#<uid>#
)

// subscription is one channel (or pattern) and the adapter it is for.
type subscription struct {
	kind    channelKind
	adapter *adapter
}

// subscriber holds the one connection on which a server receives: a dedicated Redis connection
// in subscribed state. When it breaks, run makes a new one and subscribes again to everything,
// so that cross-server delivery resumes by itself (a client that reconnects without
// resubscribing is a known way for clusters to go silently deaf).
type subscriber struct {
	c         *Cluster
	connected chan struct{} // closed once the first connection is subscribed

	// routes is taken briefly by every message; mu is held across subscribing, a network round
	// trip, which must never hold up the delivery of messages.
	routes   sync.RWMutex
	channels map[string]subscription // SUBSCRIBE channel → its adapter
	patterns map[string]subscription // PSUBSCRIBE pattern → its adapter

	mu          sync.Mutex
	conn        rueidis.DedicatedClient // nil while disconnected
	resubscribe []func()
}

func newSubscriber(c *Cluster) *subscriber {
	return &subscriber{c: c, channels: map[string]subscription{}, patterns: map[string]subscription{}, connected: make(chan struct{})}
}

func (s *subscriber) onResubscribe(f func()) {
	s.mu.Lock()
	s.resubscribe = append(s.resubscribe, f)
	s.mu.Unlock()
}

// waitConnected waits for the first connection to be subscribed.
func (s *subscriber) waitConnected(ctx context.Context) error {
	select {
	case <-s.connected:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// subscribeTimeout bounds one SUBSCRIBE or PSUBSCRIBE.
const subscribeTimeout = 5 * time.Second

// add subscribes to an adapter's channels and patterns, now if connected, and on every
// reconnection.
func (s *subscriber) add(channels map[string]subscription, patterns map[string]subscription) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes.Lock()
	for ch, sub := range channels {
		s.channels[ch] = sub
	}
	for p, sub := range patterns {
		s.patterns[p] = sub
	}
	s.routes.Unlock()
	if s.conn != nil {
		if err := s.subscribeLocked(s.conn, keys(channels), keys(patterns)); err != nil {
			s.c.log.Warn("redisadapter: subscribing", "err", err)
		}
	}
}

// remove unsubscribes from an adapter's channels and patterns.
func (s *subscriber) remove(channels, patterns []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes.Lock()
	for _, ch := range channels {
		delete(s.channels, ch)
	}
	for _, p := range patterns {
		delete(s.patterns, p)
	}
	s.routes.Unlock()
	if s.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), subscribeTimeout)
	defer cancel()
	if len(channels) > 0 {
		_ = s.conn.Do(ctx, s.conn.B().Unsubscribe().Channel(channels...).Build()).Error()
	}
	if len(patterns) > 0 {
		_ = s.conn.Do(ctx, s.conn.B().Punsubscribe().Pattern(patterns...).Build()).Error()
	}
}

func keys(m map[string]subscription) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func (s *subscriber) subscribeLocked(conn rueidis.DedicatedClient, channels, patterns []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), subscribeTimeout)
	defer cancel()
	if len(channels) > 0 {
		if err := conn.Do(ctx, conn.B().Subscribe().Channel(channels...).Build()).Error(); err != nil {
			return err
		}
	}
	if len(patterns) > 0 {
		if err := conn.Do(ctx, conn.B().Psubscribe().Pattern(patterns...).Build()).Error(); err != nil {
			return err
		}
	}
	return nil
}

// run keeps a subscribed connection until ctx ends.
func (s *subscriber) run(ctx context.Context) {
	backoff := 50 * time.Millisecond
	first := true
	for ctx.Err() == nil {
		conn, release := s.c.client.Dedicate()
		lost := conn.SetPubSubHooks(rueidis.PubSubHooks{OnMessage: s.onMessage})
		s.mu.Lock()
		s.routes.RLock()
		channels, patterns := keys(s.channels), keys(s.patterns)
		s.routes.RUnlock()
		err := s.subscribeLocked(conn, channels, patterns)
		if err == nil {
			s.conn = conn
		}
		hooks := s.resubscribe
		s.mu.Unlock()
		if err != nil {
			release()
			s.c.log.Warn("redisadapter: redis unreachable, retrying", "err", err, "in", backoff)
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, 2*time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		s.c.stats.connected.Store(true)
		if first {
			first = false
			close(s.connected)
		} else {
			n := s.c.stats.reconnects.Add(1)
			s.c.log.Info("redisadapter: resubscribed after a lost connection", "channels", len(channels), "patterns", len(patterns), "resubscribes", n)
			for _, f := range hooks {
				go f()
			}
		}
		select {
		case err := <-lost:
			s.c.log.Warn("redisadapter: subscription connection lost", "err", err)
		case <-ctx.Done():
		}
		s.c.stats.connected.Store(false)
		s.mu.Lock()
		s.conn = nil
		s.mu.Unlock()
		release()
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// onMessage routes a message to its adapter; rueidis calls it on one goroutine, in order.
func (s *subscriber) onMessage(m rueidis.PubSubMessage) {
	s.c.stats.received.Add(1)
	if len(m.Message) > s.c.cfg.MaxMessageBytes {
		s.c.drop(DropTooBig, "message too big", "channel", m.Channel, "bytes", len(m.Message))
		return
	}
	s.routes.RLock()
	var sub subscription
	var ok bool
	if m.Pattern != "" {
		sub, ok = s.patterns[m.Pattern]
	} else {
		sub, ok = s.channels[m.Channel]
	}
	s.routes.RUnlock()
	if !ok {
		return // unsubscribed meanwhile
	}
	msg := []byte(m.Message)
	switch sub.kind {
	case broadcastPattern:
		sub.adapter.onBroadcast(m.Channel, msg)
	case requestChannel:
		sub.adapter.onRequest(msg)
	case responseChannel:
		sub.adapter.onResponse(msg)
	}
}

// drop counts and logs (at debug) a message from Redis that is not used.
func (c *Cluster) drop(reason DropReason, why string, args ...any) {
	c.stats.dropped.Add(1)
	c.stats.droppedBy[reason.index()].Add(1)
	c.log.Debug("redisadapter: dropping a message: "+why, args...)
}
