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

func (p *publisher) run(ctx context.Context) {
	cmds := make(rueidis.Commands, 0, maxBatch)
	for {
		var first outgoing
		select {
		case first = <-p.queue:
		case <-ctx.Done():
			p.drain(cmds)
			return
		}
		cmds = p.send(p.batch(cmds[:0], first))
	}
}

// batch adds first and whatever else is queued, up to maxBatch.
func (p *publisher) batch(cmds rueidis.Commands, first outgoing) rueidis.Commands {
	cmds = p.add(cmds, first)
	for len(cmds) < maxBatch {
		select {
		case o := <-p.queue:
			cmds = p.add(cmds, o)
		default:
			return cmds
		}
	}
	return cmds
}

// drain publishes what is still queued when the cluster closes (the last broadcasts of a server
// shutting down, its goodbyes), within publishTimeout.
func (p *publisher) drain(cmds rueidis.Commands) {
	deadline := time.Now().Add(publishTimeout)
	for time.Now().Before(deadline) {
		select {
		case o := <-p.queue:
			cmds = p.send(p.batch(cmds[:0], o))
		default:
			return
		}
	}
}

// send publishes a batch in one round trip; the batch is not cut short by the cluster closing.
func (p *publisher) send(cmds rueidis.Commands) rueidis.Commands {
	if len(cmds) == 0 {
		return cmds
	}
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	failed := 0
	var firstErr error
	for _, r := range p.c.client.DoMulti(ctx, cmds...) {
		if err := r.Error(); err != nil {
			failed++
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	p.c.stats.published.Add(uint64(len(cmds) - failed))
	if failed > 0 {
		p.c.stats.publishFailed.Add(uint64(failed))
		p.c.log.Warn("redisadapter: publishing failed", "messages", failed, "err", firstErr)
	}
	return cmds
}

func (p *publisher) add(cmds rueidis.Commands, o outgoing) rueidis.Commands {
	b, err := o.encode()
	if err != nil {
		p.c.stats.publishFailed.Add(1)
		p.c.log.Error("redisadapter: encoding a message", "channel", o.channel, "err", err)
		return cmds
	}
	if b == nil {
		return cmds
	}
	if p.c.cfg.Sharded {
		return append(cmds, p.c.client.B().Spublish().Channel(o.channel).Message(rueidis.BinaryString(b)).Build())
	}
	return append(cmds, p.c.client.B().Publish().Channel(o.channel).Message(rueidis.BinaryString(b)).Build())
}
