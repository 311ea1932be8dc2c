// Package redisadapter spreads Socket.IO namespaces over several servers through Redis, on the
// wire of the Node.js package @socket.io/redis-adapter 8.x (classic pub/sub mode): Herald
// servers and Node.js Socket.IO servers can be members of one cluster, and
// @socket.io/redis-emitter can emit into it.
//
// Start here: New connects to Redis; Cluster.AdapterFactory goes into socketio.Config. Every
// broadcast is delivered to this server's clients at once and published for the others without
// waiting; requests that need answers from the others (FetchSockets, ServerSideEmitWithAck,
// EmitWithAck) wait at most Config.RequestsTimeout. While Redis is unreachable each server keeps
// serving its own clients; the connection comes back, and the subscriptions with it, by itself.
//
// Messages from Redis are untrusted input: anything malformed, of the wrong types, too big or of
// an unknown kind is dropped and counted by reason (see Stats), never trusted; the decoders are
// fuzzed (make fuzz).
//
// Config.Sharded selects Redis 7's sharded pub/sub instead, on the wire of the Node.js sharded
// adapter (createShardedAdapter, in any of its subscription modes).
//
// The Redis client is rueidis rather than go-redis/v9: on the publish path (BenchmarkPublishClients,
// figures in bench/RESULTS.md) it is as fast or faster with no allocations, its auto-pipelining
// cuts the time and Redis CPU per message about 4× when many goroutines publish, and it has
// RESP3 and the sharded pub/sub commands; Redis's own CPU per message is the same with either.
package redisadapter

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/herald-chat/herald/socketio"
)

// Config holds a Cluster's settings; zero fields take the defaults named on them, which are the
// Node.js adapter's where it has one.
type Config struct {
	// URL is the Redis server, e.g. redis://127.0.0.1:6379/0 (redis:// or rediss://).
	URL string
	// Key prefixes every channel name. Default "socket.io", as in Node.js: servers of one
	// cluster must agree on it.
	Key string
	// RequestsTimeout bounds a request to the other servers. Default 5s.
	RequestsTimeout time.Duration
	// PublishOnSpecificResponseChannel answers other servers' requests on the requester's own
	// response channel rather than the shared one. Default false, as in Node.js.
	PublishOnSpecificResponseChannel bool
	// MaxPendingRequests bounds the requests waiting for answers, per namespace; past it a
	// request fails at once. Default 1024.
	MaxPendingRequests int
	// PublishQueue bounds the messages waiting to be published; past it new ones are dropped
	// (and counted) rather than hold up local delivery. Default 16384.
	PublishQueue int
	// MaxMessageBytes is the largest message accepted from Redis; bigger ones are dropped.
	// Default 16 MiB.
	MaxMessageBytes int
	// Sharded uses Redis 7's sharded pub/sub (SSUBSCRIBE, SPUBLISH) on the wire of the Node.js
	// sharded adapter (createShardedAdapter of @socket.io/redis-adapter): the channels
	// <key>#<nsp># and <key>#<nsp>#<uid>#, and one per room in the dynamic subscription modes,
	// and the messages of socket.io-adapter's ClusterAdapter. Servers of one cluster must agree
	// on it.
	// Tested on a single Redis 7 (which supports sharded pub/sub outside cluster mode), not on
	// a Redis Cluster.
	Sharded bool
	// ShardedSubscription is the sharded mode's subscriptionMode: SubscriptionStatic,
	// SubscriptionDynamic or SubscriptionDynamicPrivate. Default SubscriptionDynamic, as in
	// Node.js; the servers of a cluster must agree on it.
	ShardedSubscription string
	// Logger receives diagnostics. Default slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Key == "" {
		c.Key = "socket.io"
	}
	if c.RequestsTimeout <= 0 {
		c.RequestsTimeout = 5 * time.Second
	}
	if c.ShardedSubscription == "" {
		c.ShardedSubscription = SubscriptionDynamic
	}
	if c.MaxPendingRequests <= 0 {
		c.MaxPendingRequests = 1024
	}
	if c.PublishQueue <= 0 {
		c.PublishQueue = 16384
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = 16 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Cluster is one server's membership of a Redis cluster: the Redis connections, shared by the
// adapters of all its namespaces. It is safe for concurrent use.
type Cluster struct {
	cfg    Config
	log    *slog.Logger
	client rueidis.Client
	pub    *publisher
	sub    *subscriber
	stats  counters

	stop   context.CancelFunc
	closed atomic.Bool
	done   sync.WaitGroup

	shardedMu sync.Mutex
	sharded   []*shardedAdapter // for Settle
}

// New connects to Redis. It fails if the URL is invalid or Redis does not answer before ctx ends.
func New(ctx context.Context, cfg Config) (*Cluster, error) {
	cfg = cfg.withDefaults()
	switch cfg.ShardedSubscription {
	case SubscriptionStatic, SubscriptionDynamic, SubscriptionDynamicPrivate:
	default:
		return nil, fmt.Errorf("redisadapter: unknown ShardedSubscription %q", cfg.ShardedSubscription)
	}
	opt, err := rueidis.ParseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("redisadapter: redis URL: %w", err)
	}
	opt.DisableCache = true // client-side caching is of no use to pub/sub
	client, err := rueidis.NewClient(opt)
	if err != nil {
		return nil, fmt.Errorf("redisadapter: connecting to redis: %w", err)
	}
	if err := client.Do(ctx, client.B().Ping().Build()).Error(); err != nil {
		client.Close()
		return nil, fmt.Errorf("redisadapter: connecting to redis: %w", err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	c := &Cluster{cfg: cfg, log: cfg.Logger, client: client, stop: stop}
	c.pub = newPublisher(c, cfg.PublishQueue)
	c.sub = newSubscriber(c)
	c.done.Add(2)
	go func() { defer c.done.Done(); c.pub.run(runCtx) }()
	go func() { defer c.done.Done(); c.sub.run(runCtx) }()
	if err := c.sub.waitConnected(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// AdapterFactory makes the adapter of each namespace: use it as socketio.Config.AdapterFactory.
func (c *Cluster) AdapterFactory(nsp *socketio.Namespace) socketio.Adapter {
	if c.cfg.Sharded {
		a := newShardedAdapter(c, nsp)
		c.shardedMu.Lock()
		c.sharded = append(c.sharded, a)
		c.shardedMu.Unlock()
		return a
	}
	return newAdapter(c, nsp)
}

// Settle waits until the room channels that this server's room memberships so far call for are
// subscribed, so that a broadcast to those rooms that another server publishes from then on
// reaches this server. Only the dynamic sharded modes need it: they subscribe on a goroutine of
// their own, so that a join never waits for Redis, and a broadcast to a room published in the
// moment between a join and its subscription misses this server (as with the Node.js sharded
// adapter). In the other modes it returns at once.
func (c *Cluster) Settle(ctx context.Context) error {
	c.shardedMu.Lock()
	adapters := slices.Clone(c.sharded)
	c.shardedMu.Unlock()
	for _, a := range adapters {
		if a.rooms == nil {
			continue
		}
		if err := a.rooms.settle(ctx); err != nil {
			return fmt.Errorf("redisadapter: settling the room subscriptions: %w", err)
		}
	}
	return nil
}

// Client returns the Redis client, for other cluster-wide state of the application (presence,
// rate limits) that wants the same connection.
func (c *Cluster) Client() rueidis.Client { return c.client }

// OnResubscribe registers f, called after the subscriptions are made again on a new connection
// (Redis restarted, or the connection was lost): state kept in Redis may need rebuilding then.
func (c *Cluster) OnResubscribe(f func()) { c.sub.onResubscribe(f) }

// Close stops publishing and receiving and closes the Redis connections; pending requests fail.
// The server closes its namespaces' adapters itself; Close comes after that.
func (c *Cluster) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	c.stop()
	c.done.Wait()
	c.client.Close()
	return nil
}

// ErrClosed is returned by requests made after Close.
var ErrClosed = errors.New("redisadapter: closed")

// randomID returns n random characters from [A-Za-z0-9_-], for server uids and request ids.
func randomID(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[b[i]&63]
	}
	return string(b)
}
