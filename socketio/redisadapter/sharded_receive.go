package redisadapter

import (
	"context"
	"encoding/json"

	"github.com/herald-chat/herald/socketio"
)

// This file handles what arrives in sharded mode, on the namespace's channel and on this
// server's own: other servers' messages and the answers to ours. Everything is checked before
// use; what does not fit is dropped and counted.

// onMessage handles one message of the sharded wire.
func (a *shardedAdapter) onMessage(raw []byte) {
	m, err := decodeClusterMessage(raw)
	if err != nil {
		a.c.drop(DropMalformed, err.Error())
		return
	}
	if m.uid == a.uid {
		return // our own, already done here
	}
	switch m.typ {
	case msgInitialHeartbeat, msgHeartbeat, msgAdapterClose:
		return // this adapter keeps no list of servers: SHARDNUMSUB counts them
	case msgFetchSocketsResponse, msgServerSideEmitResponse, msgBroadcastClientCount, msgBroadcastAck:
		if m.data == nil {
			a.c.drop(DropMalformed, "response without data", "type", m.typ)
			return
		}
		a.onResponse(m)
		return
	case msgBroadcast, msgSocketsJoin, msgSocketsLeave, msgDisconnectSockets, msgFetchSockets, msgServerSideEmit:
		if m.data == nil {
			a.c.drop(DropMalformed, "message without data", "type", m.typ)
			return
		}
	default:
		a.c.drop(DropUnknownType, "unknown message type", "type", m.typ)
		return
	}
	if m.typ == msgServerSideEmit {
		a.onServerSideEmit(m)
		return
	}
	w, ok := optsFromGeneric(m.data["opts"])
	if !ok || m.data["opts"] == nil {
		a.c.drop(DropMalformed, "message without a valid selector", "type", m.typ)
		return
	}
	opts, ok := w.options()
	if !ok {
		a.c.drop(DropTooManyRooms, "selector names too many rooms", "type", m.typ)
		return
	}
	switch m.typ {
	case msgBroadcast:
		a.onBroadcast(m, w, opts)
	case msgSocketsJoin, msgSocketsLeave:
		rooms, ok := stringList(m.data["rooms"])
		if !ok {
			a.c.drop(DropMalformed, "rooms are not a list of names")
			return
		}
		if m.typ == msgSocketsJoin {
			a.MemoryAdapter.AddSockets(opts, rooms)
		} else {
			a.MemoryAdapter.DelSockets(opts, rooms)
		}
	case msgDisconnectSockets:
		closeConn, _ := m.data["close"].(bool)
		a.MemoryAdapter.DisconnectSockets(opts, closeConn)
	case msgFetchSockets:
		id := requestID(m.data)
		if id == "" {
			a.c.drop(DropMalformed, "fetch request without an id")
			return
		}
		local, _ := a.MemoryAdapter.FetchSockets(context.Background(), opts)
		sockets := make([]any, 0, len(local))
		for _, s := range local {
			sockets = append(sockets, map[string]any{
				"id": s.ID, "handshake": toGeneric(toWireHandshake(s.Handshake)), "rooms": toGeneric(nonNil(s.Rooms)), "data": toGeneric(s.Data),
			})
		}
		a.respond(m.uid, msgFetchSocketsResponse, map[string]any{"requestId": id, "sockets": sockets})
	}
}

// onBroadcast delivers another server's broadcast, and when it asks for acks sends back the
// count and each answer.
func (a *shardedAdapter) onBroadcast(m clusterMessage, w *wireOpts, opts socketio.BroadcastOptions) {
	p, err := packetFromWire(m.data["packet"], a.nsp.Name())
	if err != nil {
		a.c.drop(DropMalformed, err.Error())
		return
	}
	id := requestID(m.data)
	if id == "" {
		a.MemoryAdapter.Broadcast(p, opts)
		return
	}
	// Our clients' pending acks are forgotten when the requester stops waiting.
	ctx, cancel := context.WithTimeout(context.Background(), timeoutFlag(w.Flags, a.c.cfg.RequestsTimeout))
	context.AfterFunc(ctx, cancel)
	a.MemoryAdapter.BroadcastWithAck(ctx, p, opts, func(n int) {
		a.respond(m.uid, msgBroadcastClientCount, map[string]any{"requestId": id, "clientCount": n})
	}, func(args []any, err error) {
		if err != nil {
			return // gone: the requester's timeout covers it
		}
		var first any
		if len(args) > 0 {
			first = args[0]
		}
		a.respond(m.uid, msgBroadcastAck, map[string]any{"requestId": id, "packet": first})
	})
}

// onServerSideEmit hands another server's event to the namespace's handlers.
func (a *shardedAdapter) onServerSideEmit(m clusterMessage) {
	packet, ok := m.data["packet"].([]any)
	if !ok || !encodable(packet) {
		a.c.drop(DropMalformed, "server-side emit without [event, ...args]")
		return
	}
	data, err := json.Marshal(packet)
	if err != nil {
		a.c.drop(DropMalformed, "server-side emit: "+err.Error())
		return
	}
	var ack func(json.RawMessage)
	if id := requestID(m.data); id != "" {
		ack = func(reply json.RawMessage) {
			a.respond(m.uid, msgServerSideEmitResponse, map[string]any{"requestId": id, "packet": reply})
		}
	}
	if err := a.nsp.HandleServerSideEmit(data, ack); err != nil {
		a.c.drop(DropMalformed, "server-side emit: "+err.Error())
	}
}

// onResponse takes another server's answer to one of our requests.
func (a *shardedAdapter) onResponse(m clusterMessage) {
	id := requestID(m.data)
	switch m.typ {
	case msgBroadcastClientCount:
		if ack := a.pending.ack(id); ack != nil {
			if n, ok := count(m.data["clientCount"]); ok {
				ack.onCount(n)
			} else {
				a.c.drop(DropMalformed, "client count is not a count")
			}
		}
	case msgBroadcastAck:
		if ack := a.pending.ack(id); ack != nil {
			ack.onAck([]any{m.data["packet"]}, nil)
		}
	case msgServerSideEmitResponse:
		if !a.pending.has(id) {
			return
		}
		reply := []byte("null")
		if v, present := m.data["packet"]; present && encodable(v) {
			if b, err := json.Marshal(v); err == nil {
				reply = b
			}
		}
		a.pending.answer(id, pendingServerSideEmit, func(r *pendingRequest) {
			r.replies = append(r.replies, reply)
		})
	case msgFetchSocketsResponse:
		if !a.pending.has(id) {
			return
		}
		list, ok := m.data["sockets"].([]any)
		if !ok || !encodable(list) {
			a.c.drop(DropMalformed, "fetch answer without a list of sockets")
			return
		}
		// The sockets are read as the classic adapter reads them, from their JSON form.
		b, err := json.Marshal(list)
		var sockets []wireSocket
		if err != nil || json.Unmarshal(b, &sockets) != nil {
			a.c.drop(DropMalformed, "fetch answer with malformed sockets")
			return
		}
		remote := make([]*socketio.RemoteSocket, 0, len(sockets))
		for _, s := range sockets {
			var data any
			if len(s.Data) > 0 {
				_ = json.Unmarshal(s.Data, &data)
			}
			remote = append(remote, socketio.NewRemoteSocket(a.nsp, s.ID, s.Handshake.handshake(), s.Rooms, data))
		}
		a.pending.answer(id, pendingFetch, func(r *pendingRequest) {
			r.sockets = append(r.sockets, remote...)
		})
	}
}
