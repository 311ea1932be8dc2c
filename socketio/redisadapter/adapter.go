package redisadapter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/herald-chat/herald/socketio"
)

// adapter is one namespace's member of the cluster. The embedded MemoryAdapter keeps the local
// rooms and does every local delivery, for this server's broadcasts and for those that come from
// the others alike.
type adapter struct {
	*socketio.MemoryAdapter
	c       *Cluster
	nsp     *socketio.Namespace
	uid     string // this server's id in the namespace, in every message it publishes
	pending *pendingTable

	broadcastChannel string // <key>#<nsp>#, followed by <room># for a one-room broadcast
	requestChannel   string
	responseChannel  string
	ownResponses     string // responseChannel + uid + "#"
	pattern          string
}

func newAdapter(c *Cluster, nsp *socketio.Namespace) *adapter {
	name := nsp.Name()
	a := &adapter{
		MemoryAdapter:    socketio.NewMemoryAdapter(nsp),
		c:                c,
		nsp:              nsp,
		uid:              randomID(6),
		pending:          newPendingTable(c.cfg.MaxPendingRequests, &c.stats.pending),
		broadcastChannel: c.cfg.Key + "#" + name + "#",
		requestChannel:   c.cfg.Key + "-request#" + name + "#",
		responseChannel:  c.cfg.Key + "-response#" + name + "#",
	}
	a.ownResponses = a.responseChannel + a.uid + "#"
	a.pattern = globEscape(a.broadcastChannel) + "*"
	c.sub.add(map[string]subscription{
		a.requestChannel:  {kind: requestChannel, adapter: a},
		a.responseChannel: {kind: responseChannel, adapter: a},
		a.ownResponses:    {kind: responseChannel, adapter: a},
	}, map[string]subscription{a.pattern: {kind: broadcastPattern, adapter: a}})
	return a
}

// globEscape escapes the characters PSUBSCRIBE patterns treat specially, so that a namespace
// named "/a*" matches only itself.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Broadcast delivers p to this server's clients and publishes it for the others.
func (a *adapter) Broadcast(p *socketio.Packet, opts socketio.BroadcastOptions) {
	if !opts.Local {
		channel := a.broadcastChannel
		if len(opts.Rooms) == 1 {
			channel += opts.Rooms[0] + "#"
		}
		a.c.pub.publish(channel, func() ([]byte, error) {
			pkt, err := packetToWire(p)
			if err != nil {
				return nil, err
			}
			flags := map[string]any{}
			if opts.Volatile {
				flags["volatile"] = true
			}
			return marshalMsgpack([]any{a.uid, pkt, map[string]any{"rooms": nonNil(opts.Rooms), "except": nonNil(opts.Except), "flags": flags}})
		})
	}
	a.MemoryAdapter.Broadcast(p, opts)
}

// BroadcastWithAck delivers p to this server's clients and asks the other servers to do the
// same, collecting their counts and their clients' answers until ctx ends.
func (a *adapter) BroadcastWithAck(ctx context.Context, p *socketio.Packet, opts socketio.BroadcastOptions, onCount func(int), onAck func([]any, error)) {
	if !opts.Local {
		id := randomID(6)
		if err := a.pending.addAck(id, &ackRequest{onCount: onCount, onAck: onAck}); err != nil {
			a.c.log.Warn("redisadapter: broadcast with acks reaches this server only", "err", err)
		} else {
			context.AfterFunc(ctx, func() { a.pending.remove(id) })
			timeout := a.c.cfg.RequestsTimeout
			if d, ok := ctx.Deadline(); ok {
				timeout = max(time.Until(d), time.Millisecond)
			}
			a.c.pub.publish(a.requestChannel, func() ([]byte, error) {
				pkt, err := packetToWire(p)
				if err != nil {
					return nil, err
				}
				return marshalMsgpack(map[string]any{
					"uid": a.uid, "requestId": id, "type": reqBroadcast, "packet": pkt,
					"opts": map[string]any{"rooms": nonNil(opts.Rooms), "except": nonNil(opts.Except),
						"flags": map[string]any{"timeout": timeout.Milliseconds()}},
				})
			})
		}
	}
	a.MemoryAdapter.BroadcastWithAck(ctx, p, opts, onCount, onAck)
}

// ServerCount counts the servers subscribed to the namespace's request channel, as the Node.js
// adapter does: every subscriber is a server that must answer requests.
func (a *adapter) ServerCount(ctx context.Context) (int, error) {
	r := a.c.client.Do(ctx, a.c.client.B().PubsubNumsub().Channel(a.requestChannel).Build())
	if m, err := r.AsIntMap(); err == nil {
		return int(m[a.requestChannel]), nil
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

// ErrTimeout is wrapped by the error of a request that some servers did not answer within
// Config.RequestsTimeout (a server frozen, overloaded or gone without unsubscribing).
var ErrTimeout = errors.New("redisadapter: timed out waiting for other servers")

// request publishes a JSON request.
func (a *adapter) request(req request) {
	a.c.pub.publish(a.requestChannel, func() ([]byte, error) { return json.Marshal(req) })
}

// ask publishes a request expecting one answer from every other server and waits for them, ctx
// or the requests timeout.
func (a *adapter) ask(ctx context.Context, kind pendingKind, req request, what string) (*pendingRequest, error) {
	if a.pending.isClosed() {
		return nil, fmt.Errorf("redisadapter: %s: %w", what, ErrClosed)
	}
	n, err := a.ServerCount(ctx)
	if err != nil {
		return nil, fmt.Errorf("redisadapter: %s: %w", what, err)
	}
	if n <= 1 {
		return nil, nil
	}
	req.RequestID = randomID(6)
	req.UID = a.uid
	r, err := a.pending.add(req.RequestID, kind, n-1)
	if err != nil {
		return nil, fmt.Errorf("redisadapter: %s: %w", what, err)
	}
	defer a.pending.remove(req.RequestID)
	a.request(req)
	timer := time.NewTimer(a.c.cfg.RequestsTimeout)
	defer timer.Stop()
	select {
	case <-r.done:
		if _, _, _, err := a.pending.result(r); err != nil {
			return r, fmt.Errorf("redisadapter: %s: %w", what, err)
		}
		return r, nil
	case <-timer.C:
		err = fmt.Errorf("%w after %v", ErrTimeout, a.c.cfg.RequestsTimeout)
	case <-ctx.Done():
		err = ctx.Err()
	}
	a.c.stats.requestsTimedOut.Add(1)
	_, _, missing, _ := a.pending.result(r)
	return r, fmt.Errorf("redisadapter: %s: %d of %d servers answered: %w", what, n-1-missing, n-1, err)
}

// FetchSockets lists the sockets opts selects on every server. It fails if one does not answer.
func (a *adapter) FetchSockets(ctx context.Context, opts socketio.BroadcastOptions) ([]*socketio.RemoteSocket, error) {
	local, err := a.MemoryAdapter.FetchSockets(ctx, opts)
	if err != nil || opts.Local {
		return local, err
	}
	r, err := a.ask(ctx, pendingFetch, request{Type: reqRemoteFetch, Opts: toWireOpts(opts)}, "fetchSockets")
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
func (a *adapter) AddSockets(opts socketio.BroadcastOptions, rooms []string) {
	a.MemoryAdapter.AddSockets(opts, rooms)
	if !opts.Local {
		a.request(request{UID: a.uid, Type: reqRemoteJoin, Opts: toWireOpts(opts), Rooms: nonNil(rooms)})
	}
}

// DelSockets makes the selected sockets of every server leave rooms.
func (a *adapter) DelSockets(opts socketio.BroadcastOptions, rooms []string) {
	a.MemoryAdapter.DelSockets(opts, rooms)
	if !opts.Local {
		a.request(request{UID: a.uid, Type: reqRemoteLeave, Opts: toWireOpts(opts), Rooms: nonNil(rooms)})
	}
}

// DisconnectSockets disconnects the selected sockets of every server.
func (a *adapter) DisconnectSockets(opts socketio.BroadcastOptions, closeConn bool) {
	a.MemoryAdapter.DisconnectSockets(opts, closeConn)
	if !opts.Local {
		a.request(request{UID: a.uid, Type: reqRemoteDisconnect, Opts: toWireOpts(opts), Close: closeConn})
	}
}

// ServerSideEmit sends data to the other servers.
func (a *adapter) ServerSideEmit(data json.RawMessage) error {
	a.request(request{UID: a.uid, Type: reqServerSideEmit, Data: data})
	return nil
}

// ServerSideEmitWithAck sends data to the other servers and collects one answer from each.
func (a *adapter) ServerSideEmitWithAck(ctx context.Context, data json.RawMessage) ([]json.RawMessage, error) {
	r, err := a.ask(ctx, pendingServerSideEmit, request{Type: reqServerSideEmit, Data: data}, "serverSideEmit")
	if r == nil {
		return nil, err
	}
	_, replies, _, _ := a.pending.result(r)
	return replies, err
}

// Close unsubscribes the namespace and fails its pending requests.
func (a *adapter) Close() error {
	a.c.sub.remove([]string{a.requestChannel, a.responseChannel, a.ownResponses}, []string{a.pattern})
	a.pending.close()
	return nil
}
