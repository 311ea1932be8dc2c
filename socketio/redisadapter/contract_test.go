package redisadapter_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/internal/redistest"
	"github.com/herald-chat/herald/socketio"
	"github.com/herald-chat/herald/socketio/adaptertest"
	"github.com/herald-chat/herald/socketio/redisadapter"
)

// newCluster connects one more server to Redis, with the channels of the test's own cluster.
func newCluster(t *testing.T, url, key string, sharded bool, mode string) *redisadapter.Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := redisadapter.New(ctx, redisadapter.Config{URL: url, Key: key, Logger: slog.New(slog.DiscardHandler), RequestsTimeout: 3 * time.Second, Sharded: sharded, ShardedSubscription: mode})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestContract runs the adapter contract on three servers sharing one Redis.
func TestContract(t *testing.T) {
	redis := redistest.Start(t)
	adaptertest.Run(t, adaptertest.Backend{
		MaxServers: 3,
		Config: func(t *testing.T, cluster string) socketio.Config {
			c := newCluster(t, redis.URL(), cluster, false, "")
			return socketio.Config{AdapterFactory: c.AdapterFactory}
		},
	})
}

// TestContractSharded runs the adapter contract on three servers in sharded mode (SSUBSCRIBE and
// SPUBLISH, which a single Redis 7 supports too), in each subscription mode.
func TestContractSharded(t *testing.T) {
	redis := redistest.Start(t)
	for _, mode := range []string{redisadapter.SubscriptionStatic, redisadapter.SubscriptionDynamic, redisadapter.SubscriptionDynamicPrivate} {
		t.Run(mode, func(t *testing.T) {
			var (
				mu       sync.Mutex
				clusters []*redisadapter.Cluster
			)
			adaptertest.Run(t, adaptertest.Backend{
				MaxServers: 3,
				Config: func(t *testing.T, cluster string) socketio.Config {
					c := newCluster(t, redis.URL(), cluster, true, mode)
					mu.Lock()
					clusters = append(clusters, c)
					mu.Unlock()
					return socketio.Config{AdapterFactory: c.AdapterFactory}
				},
				// The dynamic modes subscribe to a room's channel just after the join.
				Settle: func(t *testing.T) {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					mu.Lock()
					defer mu.Unlock()
					for _, c := range clusters {
						if err := c.Settle(ctx); err != nil {
							t.Fatal(err)
						}
					}
				},
			})
		})
	}
}
