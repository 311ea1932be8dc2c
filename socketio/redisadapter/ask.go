package redisadapter

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/rueidis"
)

// countSubscribers runs PUBSUB NUMSUB or SHARDNUMSUB for one channel and returns its count.
func (c *Cluster) countSubscribers(ctx context.Context, cmd rueidis.Completed, channel string) (int, error) {
	r := c.client.Do(ctx, cmd)
	if m, err := r.AsIntMap(); err == nil {
		return int(m[channel]), nil
	}
	arr, err := r.ToArray()
	if err != nil {
		return 0, fmt.Errorf("redisadapter: counting servers: %w", err)
	}
	if len(arr) != 2 {
		return 0, fmt.Errorf("redisadapter: counting servers: unexpected answer of %d elements", len(arr))
	}
	n, err := arr[1].AsInt64()
	if err != nil {
		return 0, fmt.Errorf("redisadapter: counting servers: %w", err)
	}
	return int(n), nil
}

// askOthers registers request id in t, expecting one answer from each of the servers other than
// this one, sends it, and waits for the answers, ctx or the requests timeout, whichever comes
// first. The entry leaves t whatever happens. With no other server it returns nil, nil.
func (c *Cluster) askOthers(ctx context.Context, t *pendingTable, servers int, kind pendingKind, what, id string, send func(id string)) (*pendingRequest, error) {
	if servers <= 1 {
		return nil, nil
	}
	r, err := t.add(id, kind, servers-1)
	if err != nil {
		return nil, fmt.Errorf("redisadapter: %s: %w", what, err)
	}
	defer t.remove(id)
	send(id)
	timer := time.NewTimer(c.cfg.RequestsTimeout)
	defer timer.Stop()
	select {
	case <-r.done:
		if _, _, _, err := t.result(r); err != nil {
			return r, fmt.Errorf("redisadapter: %s: %w", what, err)
		}
		return r, nil
	case <-timer.C:
		err = fmt.Errorf("%w after %v", ErrTimeout, c.cfg.RequestsTimeout)
	case <-ctx.Done():
		err = ctx.Err()
	}
	c.stats.requestsTimedOut.Add(1)
	_, _, missing, _ := t.result(r)
	return r, fmt.Errorf("redisadapter: %s: %d of %d servers answered: %w", what, servers-1-missing, servers-1, err)
}
