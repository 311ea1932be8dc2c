package redisadapter

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/herald-chat/herald/socketio"
)

// shardedAdapter is one namespace's member of a cluster in sharded mode (Config.Sharded): the
// wire of the Node.js sharded adapter. Every message of the namespace goes on <key>#<nsp>#
// (except, in the dynamic modes, a broadcast to one room: on that room's channel), answers to
// this server's requests on <key>#<nsp>#<uid>#; the embedded MemoryAdapter keeps the local rooms
// and does every local delivery.
type shardedAdapter struct {
	*socketio.MemoryAdapter
	c       *Cluster
	nsp     *socketio.Namespace
	uid     string // 16 hex digits, as socket.io-adapter's ClusterAdapter makes them
	pending *pendingTable

	channel    string        // <key>#<nsp>#
	ownChannel string        // channel + uid + "#": the answers to this server's requests
	rooms      *roomChannels // the rooms' channels in the dynamic modes; nil in static mode
}

func newShardedAdapter(c *Cluster, nsp *socketio.Namespace) *shardedAdapter {
	a := &shardedAdapter{
		MemoryAdapter: socketio.NewMemoryAdapter(nsp),
		c:             c,
		nsp:           nsp,
		uid:           randomHex(),
		pending:       newPendingTable(c.cfg.MaxPendingRequests, &c.stats.pending),
		channel:       c.cfg.Key + "#" + nsp.Name() + "#",
	}
	a.ownChannel = a.channel + a.uid + "#"
	switch c.cfg.ShardedSubscription {
	case SubscriptionDynamic:
		a.rooms = newRoomChannels(a, false)
	case SubscriptionDynamicPrivate:
		a.rooms = newRoomChannels(a, true)
	}
	c.sub.add(map[string]subscription{
		a.channel:    {kind: shardedChannel, sharded: a},
		a.ownChannel: {kind: shardedChannel, sharded: a},
	}, nil)
	return a
}

// randomHex returns 16 random hex digits, the form of ClusterAdapter's server and request ids.
func randomHex() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// publish queues a message of this server; data runs on the publisher's goroutine.
func (a *shardedAdapter) publish(channel string, typ int, data func() (map[string]any, error)) {
	a.c.pub.publish(channel, func() ([]byte, error) {
		d, err := data()
		if err != nil {
			return nil, err
		}
		return encodeClusterMessage(a.uid, a.nsp.Name(), typ, d)
	})
}

// publishData queues a message whose data is ready.
func (a *shardedAdapter) publishData(channel string, typ int, data map[string]any) {
	a.publish(channel, typ, func() (map[string]any, error) { return data, nil })
}

// respond answers the server uid on its own channel.
func (a *shardedAdapter) respond(uid string, typ int, data map[string]any) {
	if uid == "" {
		return // nobody to answer
	}
	a.publishData(a.channel+uid+"#", typ, data)
}

func wireSelector(opts socketio.BroadcastOptions, flags map[string]any) map[string]any {
	if flags == nil {
		flags = map[string]any{}
	}
	return map[string]any{"rooms": nonNil(opts.Rooms), "except": nonNil(opts.Except), "flags": flags}
}

// Broadcast delivers p to this server's clients and publishes it for the others.
func (a *shardedAdapter) Broadcast(p *socketio.Packet, opts socketio.BroadcastOptions) {
	if !opts.Local {
		channel := a.channel
		if a.rooms != nil && len(opts.Rooms) == 1 && a.rooms.hasChannel(opts.Rooms[0]) {
			channel = a.roomChannel(opts.Rooms[0])
		}
		a.publish(channel, msgBroadcast, func() (map[string]any, error) {
			pkt, err := packetToWire(p)
			if err != nil {
				return nil, err
			}
			flags := map[string]any{}
			if opts.Volatile {
				flags["volatile"] = true
			}
			return map[string]any{"packet": pkt, "opts": wireSelector(opts, flags)}, nil
		})
	}
	a.MemoryAdapter.Broadcast(p, opts)
}

// BroadcastWithAck delivers p to this server's clients and asks the other servers to do the
// same, collecting their counts and their clients' answers until ctx ends.
func (a *shardedAdapter) BroadcastWithAck(ctx context.Context, p *socketio.Packet, opts socketio.BroadcastOptions, onCount func(int), onAck func([]any, error)) {
	if !opts.Local {
		id := randomHex()
		if err := a.pending.addAck(id, &ackRequest{onCount: onCount, onAck: onAck}); err != nil {
			a.c.log.Warn("redisadapter: broadcast with acks reaches this server only", "err", err)
		} else {
			context.AfterFunc(ctx, func() { a.pending.remove(id) })
			timeout := a.c.cfg.RequestsTimeout
			if d, ok := ctx.Deadline(); ok {
				timeout = max(time.Until(d), time.Millisecond)
			}
			a.publish(a.channel, msgBroadcast, func() (map[string]any, error) {
				pkt, err := packetToWire(p)
				if err != nil {
					return nil, err
				}
				return map[string]any{"packet": pkt, "requestId": id,
					"opts": wireSelector(opts, map[string]any{"timeout": timeout.Milliseconds()})}, nil
			})
		}
	}
	a.MemoryAdapter.BroadcastWithAck(ctx, p, opts, onCount, onAck)
}

// ServerCount counts the servers subscribed to the namespace's channel (PUBSUB SHARDNUMSUB).
func (a *shardedAdapter) ServerCount(ctx context.Context) (int, error) {
	return a.c.countSubscribers(ctx, a.c.client.B().PubsubShardnumsub().Channel(a.channel).Build(), a.channel)
}

// ask publishes a request expecting one answer from every other server and waits for them.
func (a *shardedAdapter) ask(ctx context.Context, kind pendingKind, typ int, data map[string]any, what string) (*pendingRequest, error) {
	if a.pending.isClosed() {
		return nil, fmt.Errorf("redisadapter: %s: %w", what, ErrClosed)
	}
	n, err := a.ServerCount(ctx)
	if err != nil {
		return nil, fmt.Errorf("redisadapter: %s: %w", what, err)
	}
	return a.c.askOthers(ctx, a.pending, n, kind, what, randomHex(), func(id string) {
		data["requestId"] = id
		a.publishData(a.channel, typ, data)
	})
}

// FetchSockets lists the sockets opts selects on every server. It fails if one does not answer.
func (a *shardedAdapter) FetchSockets(ctx context.Context, opts socketio.BroadcastOptions) ([]*socketio.RemoteSocket, error) {
	local, err := a.MemoryAdapter.FetchSockets(ctx, opts)
	if err != nil || opts.Local {
		return local, err
	}
	r, err := a.ask(ctx, pendingFetch, msgFetchSockets, map[string]any{"opts": wireSelector(opts, nil)}, "fetchSockets")
	if err != nil {
		return nil, err
	}
	if r == nil {
		return local, nil
	}
	remote, _, _, _ := a.pending.result(r)
	return append(local, remote...), nil
}

// AddSockets makes the selected sockets of every server join rooms.
func (a *shardedAdapter) AddSockets(opts socketio.BroadcastOptions, rooms []string) {
	a.MemoryAdapter.AddSockets(opts, rooms)
	if !opts.Local {
		a.publishData(a.channel, msgSocketsJoin, map[string]any{"opts": wireSelector(opts, nil), "rooms": nonNil(rooms)})
	}
}

// DelSockets makes the selected sockets of every server leave rooms.
func (a *shardedAdapter) DelSockets(opts socketio.BroadcastOptions, rooms []string) {
	a.MemoryAdapter.DelSockets(opts, rooms)
	if !opts.Local {
		a.publishData(a.channel, msgSocketsLeave, map[string]any{"opts": wireSelector(opts, nil), "rooms": nonNil(rooms)})
	}
}

// DisconnectSockets disconnects the selected sockets of every server.
func (a *shardedAdapter) DisconnectSockets(opts socketio.BroadcastOptions, closeConn bool) {
	a.MemoryAdapter.DisconnectSockets(opts, closeConn)
	if !opts.Local {
		a.publishData(a.channel, msgDisconnectSockets, map[string]any{"opts": wireSelector(opts, nil), "close": closeConn})
	}
}

// ServerSideEmit sends data, the JSON array [event, ...args], to the other servers.
func (a *shardedAdapter) ServerSideEmit(data json.RawMessage) error {
	a.publishData(a.channel, msgServerSideEmit, map[string]any{"packet": data})
	return nil
}

// ServerSideEmitWithAck sends data to the other servers and collects one answer from each.
func (a *shardedAdapter) ServerSideEmitWithAck(ctx context.Context, data json.RawMessage) ([]json.RawMessage, error) {
	r, err := a.ask(ctx, pendingServerSideEmit, msgServerSideEmit, map[string]any{"packet": data}, "serverSideEmit")
	if r == nil {
		return nil, err
	}
	_, replies, _, _ := a.pending.result(r)
	return replies, err
}

// Close unsubscribes the namespace and fails its pending requests.
func (a *shardedAdapter) Close() error {
	channels := []string{a.channel, a.ownChannel}
	if a.rooms != nil {
		channels = append(channels, a.rooms.close()...)
	}
	a.c.sub.remove(channels, nil)
	a.pending.close()
	return nil
}
