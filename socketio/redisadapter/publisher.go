package redisadapter

import (
	"context"
	"time"

	"github.com/redis/rueidis"
)

// outgoing is one message to publish. encode runs on the publisher's goroutine, so that the
// caller (a broadcast) pays only for queueing; it returns nil to publish nothing.
type outgoing struct {
	channel string
	encode  func() ([]byte, error)
}

// publisher publishes messages in the order they were queued, on one goroutine, in pipelined
// batches. Its queue is bounded: when Redis is slow or down the newest messages are dropped and
// counted, and whoever queued them never waits.
type publisher struct {
	c     *Cluster
	queue chan outgoing
}

// maxBatch bounds the messages pipelined in one round trip.
const maxBatch = 256

// publishTimeout bounds one batch's round trip: past it the batch counts as failed, and the
// publisher goes on with the next.
const publishTimeout = 2 * time.Second

func newPublisher(c *Cluster, size int) *publisher {
	return &publisher{c: c, queue: make(chan outgoing, size)}
}

// publish queues a message; it never blocks.
func (p *publisher) publish(channel string, encode func() ([]byte, error)) {
	if p.c.closed.Load() {
		return
	}
	select {
	case p.queue <- outgoing{channel: channel, encode: encode}:
	default:
		if p.c.stats.publishDropped.Add(1)%1000 == 1 {
			p.c.log.Warn("redisadapter: publish queue full, dropping messages", "dropped", p.c.stats.publishDropped.Load())
		}
	}
}

// publishBytes queues an already encoded message.
func (p *publisher) publishBytes(channel string, b []byte) {
	p.publish(channel, func() ([]byte, error) { return b, nil })
}

// encoded is a message ready to publish.
type encoded struct {
	channel string
	b       []byte
}

func (p *publisher) run(ctx context.Context) {
	batch := make([]encoded, 0, maxBatch)
	cmds := make(rueidis.Commands, 0, maxBatch)
	for {
		var first outgoing
		select {
		case first = <-p.queue:
		case <-ctx.Done():
			p.drain(batch, cmds)
			return
		}
		p.send(p.batch(batch[:0], first), cmds)
	}
}

// batch adds first and whatever else is queued, up to maxBatch.
func (p *publisher) batch(batch []encoded, first outgoing) []encoded {
	batch = p.add(batch, first)
	for len(batch) < maxBatch {
		select {
		case o := <-p.queue:
			batch = p.add(batch, o)
		default:
			return batch
		}
	}
	return batch
}

// drain publishes what is still queued when the cluster closes (the last broadcasts of a server
// shutting down, its goodbyes), within publishTimeout.
func (p *publisher) drain(batch []encoded, cmds rueidis.Commands) {
	deadline := time.Now().Add(publishTimeout)
	for time.Now().Before(deadline) {
		select {
		case o := <-p.queue:
			p.send(p.batch(batch[:0], o), cmds)
		default:
			return
		}
	}
}

// send publishes a batch in one round trip; the batch is not cut short by the cluster closing.
// Messages that failed on a broken connection are sent once more: after an outage the client
// learns that a connection is dead only by using it, and the first batch on it would be lost.
func (p *publisher) send(batch []encoded, cmds rueidis.Commands) {
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	failed, retry, firstErr := p.do(ctx, batch, cmds)
	if len(retry) > 0 && ctx.Err() == nil {
		againFailed, againRetry, err := p.do(ctx, retry, cmds)
		failed = append(append(failed, againFailed...), againRetry...)
		if err != nil {
			firstErr = err
		}
	}
	p.c.stats.published.Add(uint64(len(batch) - len(failed)))
	if len(failed) > 0 {
		p.c.stats.publishFailed.Add(uint64(len(failed)))
		p.c.log.Warn("redisadapter: publishing failed", "messages", len(failed), "err", firstErr)
	}
}

// do publishes batch in one round trip and returns the messages that failed for good (Redis
// answered with an error) and those that failed on the connection.
func (p *publisher) do(ctx context.Context, batch []encoded, cmds rueidis.Commands) (failed, retry []encoded, firstErr error) {
	cmds = cmds[:0]
	for _, e := range batch {
		if p.c.cfg.Sharded {
			cmds = append(cmds, p.c.client.B().Spublish().Channel(e.channel).Message(rueidis.BinaryString(e.b)).Build())
		} else {
			cmds = append(cmds, p.c.client.B().Publish().Channel(e.channel).Message(rueidis.BinaryString(e.b)).Build())
		}
	}
	for i, r := range p.c.client.DoMulti(ctx, cmds...) {
		err := r.Error()
		if err == nil {
			continue
		}
		if firstErr == nil {
			firstErr = err
		}
		if _, isReply := rueidis.IsRedisErr(err); isReply {
			failed = append(failed, batch[i])
		} else {
			retry = append(retry, batch[i])
		}
	}
	return failed, retry, firstErr
}

func (p *publisher) add(batch []encoded, o outgoing) []encoded {
	b, err := o.encode()
	if err != nil {
		p.c.stats.publishFailed.Add(1)
		p.c.log.Error("redisadapter: encoding a message", "channel", o.channel, "err", err)
		return batch
	}
	if b == nil {
		return batch
	}
	return append(batch, encoded{channel: o.channel, b: b})
}
