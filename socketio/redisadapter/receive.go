package redisadapter

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/herald-chat/herald/socketio"
)

// This file handles what arrives from Redis: other servers' broadcasts, their requests, and the
// answers to ours. Everything is checked before use; what does not fit is dropped and counted.

// onBroadcast delivers another server's (or an emitter's) broadcast to this server's clients.
func (a *adapter) onBroadcast(channel string, msg []byte) {
	rest, ok := strings.CutPrefix(channel, a.broadcastChannel)
	if !ok {
		a.c.drop(DropMalformed, "broadcast on a foreign channel", "channel", channel)
		return
	}
	if rest != "" {
		room, ok := strings.CutSuffix(rest, "#")
		if !ok {
			a.c.drop(DropMalformed, "broadcast channel without its final #", "channel", channel)
			return
		}
		if !a.HasRoom(room) {
			return // nobody here is in that room: no need even to decode it
		}
	}
	v, err := decodeMsgpack(msg)
	if err != nil {
		a.c.drop(DropMalformed, err.Error(), "channel", channel)
		return
	}
	parts, ok := v.([]any)
	if !ok || len(parts) < 2 || len(parts) > 3 {
		a.c.drop(DropMalformed, "broadcast is not [uid, packet, opts]", "channel", channel)
		return
	}
	if uid, _ := parts[0].(string); uid == a.uid {
		return // our own, already delivered here
	}
	p, err := packetFromWire(parts[1], a.nsp.Name())
	if err != nil {
		a.c.drop(DropMalformed, err.Error(), "channel", channel)
		return
	}
	var raw any
	if len(parts) == 3 {
		raw = parts[2]
	}
	w, ok := optsFromGeneric(raw)
	if !ok {
		a.c.drop(DropMalformed, "broadcast options are malformed", "channel", channel)
		return
	}
	opts, ok := w.options()
	if !ok {
		a.c.drop(DropTooManyRooms, "broadcast selects too many rooms", "channel", channel)
		return
	}
	a.MemoryAdapter.Broadcast(p, opts)
}

// onRequest answers another server's request.
func (a *adapter) onRequest(msg []byte) {
	if len(msg) == 0 {
		a.c.drop(DropMalformed, "empty request")
		return
	}
	if msg[0] != '{' {
		a.onBroadcastRequest(msg) // the only request in msgpack
		return
	}
	var req request
	if err := json.Unmarshal(msg, &req); err != nil {
		a.c.drop(DropMalformed, "request is not valid JSON: "+err.Error())
		return
	}
	if len(req.Rooms) > maxRoomsInSelector {
		a.c.drop(DropTooManyRooms, "request names too many rooms")
		return
	}
	switch req.Type {
	case reqSockets:
		if a.pending.has(req.RequestID) {
			return
		}
		opts, ok := (&wireOpts{Rooms: req.Rooms}).options()
		if !ok {
			a.c.drop(DropTooManyRooms, "sockets request selects too many rooms")
			return
		}
		ids := []string{}
		for _, s := range a.Sockets(opts) {
			ids = append(ids, s.ID())
		}
		a.respond(req, response{RequestID: req.RequestID, Sockets: mustJSON(ids)})
	case reqAllRooms:
		if a.pending.has(req.RequestID) {
			return
		}
		a.respond(req, response{RequestID: req.RequestID, Rooms: nonNil(a.Rooms())})
	case reqRemoteJoin, reqRemoteLeave, reqRemoteDisconnect:
		a.onSelectorRequest(req)
	case reqRemoteFetch:
		if req.UID == a.uid || a.pending.has(req.RequestID) {
			return
		}
		opts, ok := req.Opts.options()
		if !ok || req.Opts == nil {
			a.c.drop(DropMalformed, "fetch request without a valid selector")
			return
		}
		sockets := []wireSocket{}
		local, _ := a.MemoryAdapter.FetchSockets(context.Background(), opts)
		for _, s := range local {
			data, err := json.Marshal(s.Data)
			if err != nil {
				data = []byte("null")
			}
			sockets = append(sockets, wireSocket{ID: s.ID, Handshake: toWireHandshake(s.Handshake), Rooms: s.Rooms, Data: data})
		}
		a.respond(req, response{RequestID: req.RequestID, Sockets: mustJSON(sockets)})
	case reqServerSideEmit:
		if req.UID == a.uid {
			return
		}
		var ack func(json.RawMessage)
		if req.RequestID != "" {
			id := req.RequestID
			ack = func(reply json.RawMessage) {
				// Node.js servers answer server-side emits on the shared response channel, always.
				a.c.pub.publishBytes(a.responseChannel, mustJSON(response{Type: reqServerSideEmit, RequestID: id, Data: reply}))
			}
		}
		if err := a.nsp.HandleServerSideEmit(req.Data, ack); err != nil {
			a.c.drop(DropMalformed, "server-side emit: "+err.Error())
		}
	default:
		a.c.drop(DropUnknownType, "unknown request type", "type", req.Type)
	}
}

// onSelectorRequest applies a join, leave or disconnect by selector (or, in the older form, for
// one socket) to this server's sockets.
func (a *adapter) onSelectorRequest(req request) {
	if req.UID == a.uid {
		return // done here already, when it was made
	}
	if req.Opts == nil {
		a.onSingleSocketRequest(req)
		return
	}
	opts, ok := req.Opts.options()
	if !ok {
		a.c.drop(DropTooManyRooms, "request selects too many rooms")
		return
	}
	switch req.Type {
	case reqRemoteJoin:
		a.MemoryAdapter.AddSockets(opts, req.Rooms)
	case reqRemoteLeave:
		a.MemoryAdapter.DelSockets(opts, req.Rooms)
	case reqRemoteDisconnect:
		a.MemoryAdapter.DisconnectSockets(opts, req.Close)
	}
}

func (a *adapter) onSingleSocketRequest(req request) {
	s := a.nsp.Socket(req.SID)
	if s == nil {
		return
	}
	switch req.Type {
	case reqRemoteJoin:
		s.Join(req.Room)
	case reqRemoteLeave:
		s.Leave(req.Room)
	case reqRemoteDisconnect:
		s.Disconnect(req.Close)
	}
	a.respond(req, response{RequestID: req.RequestID})
}

// onBroadcastRequest delivers another server's broadcast with acks and sends back the count and
// each answer.
func (a *adapter) onBroadcastRequest(msg []byte) {
	v, err := decodeMsgpack(msg)
	if err != nil {
		a.c.drop(DropMalformed, err.Error())
		return
	}
	m, ok := v.(map[string]any)
	if !ok {
		a.c.drop(DropMalformed, "msgpack request is not a map")
		return
	}
	if t, _ := m["type"].(int64); t != reqBroadcast {
		a.c.drop(DropUnknownType, "unknown msgpack request", "type", m["type"])
		return
	}
	uid, _ := m["uid"].(string)
	id, _ := m["requestId"].(string)
	if uid == a.uid || id == "" || a.pending.has(id) {
		return
	}
	p, err := packetFromWire(m["packet"], a.nsp.Name())
	if err != nil {
		a.c.drop(DropMalformed, err.Error())
		return
	}
	w, ok := optsFromGeneric(m["opts"])
	if !ok {
		a.c.drop(DropMalformed, "broadcast request options are malformed")
		return
	}
	opts, ok := w.options()
	if !ok {
		a.c.drop(DropTooManyRooms, "broadcast request selects too many rooms")
		return
	}
	req := request{UID: uid, RequestID: id}
	// Our clients' pending acks are forgotten when the requester stops waiting.
	ctx, cancel := context.WithTimeout(context.Background(), timeoutFlag(w.Flags, a.c.cfg.RequestsTimeout))
	context.AfterFunc(ctx, cancel)
	a.MemoryAdapter.BroadcastWithAck(ctx, p, opts, func(n int) {
		a.respond(req, response{Type: respBroadcastClientCnt, RequestID: id, ClientCount: &n})
	}, func(args []any, err error) {
		if err != nil {
			return // gone: the requester's timeout covers it, as between Node.js servers
		}
		var first any
		if len(args) > 0 {
			first = args[0]
		}
		channel := a.responseChannelFor(req)
		a.c.pub.publish(channel, func() ([]byte, error) {
			return marshalMsgpack(map[string]any{"type": respBroadcastAck, "requestId": id, "packet": first})
		})
	})
}

// responseChannelFor is where answers to req go.
func (a *adapter) responseChannelFor(req request) string {
	if a.c.cfg.PublishOnSpecificResponseChannel && req.UID != "" {
		return a.responseChannel + req.UID + "#"
	}
	return a.responseChannel
}

func (a *adapter) respond(req request, resp response) {
	a.c.pub.publishBytes(a.responseChannelFor(req), mustJSON(resp))
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte("null")
	}
	return b
}

// onResponse takes another server's answer to one of our requests.
func (a *adapter) onResponse(msg []byte) {
	if len(msg) == 0 {
		a.c.drop(DropMalformed, "empty response")
		return
	}
	if msg[0] != '{' {
		a.onAckResponse(msg)
		return
	}
	var resp response
	if err := json.Unmarshal(msg, &resp); err != nil {
		a.c.drop(DropMalformed, "response is not valid JSON: "+err.Error())
		return
	}
	if ack := a.pending.ack(resp.RequestID); ack != nil {
		if resp.Type == respBroadcastClientCnt && resp.ClientCount != nil && *resp.ClientCount >= 0 {
			ack.onCount(*resp.ClientCount)
		}
		return
	}
	if !a.pending.has(resp.RequestID) {
		return // another server's request
	}
	if resp.Type == reqServerSideEmit {
		data := resp.Data
		if len(data) == 0 {
			data = json.RawMessage("null")
		}
		a.pending.answer(resp.RequestID, pendingServerSideEmit, func(r *pendingRequest) {
			r.replies = append(r.replies, data)
		})
		return
	}
	var sockets []wireSocket
	if len(resp.Sockets) == 0 || json.Unmarshal(resp.Sockets, &sockets) != nil {
		a.c.drop(DropMalformed, "fetch answer without a list of sockets")
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
	a.pending.answer(resp.RequestID, pendingFetch, func(r *pendingRequest) {
		r.sockets = append(r.sockets, remote...)
	})
}

// onAckResponse takes a client's answer to one of our broadcasts with acks, from another server.
func (a *adapter) onAckResponse(msg []byte) {
	v, err := decodeMsgpack(msg)
	if err != nil {
		a.c.drop(DropMalformed, err.Error())
		return
	}
	m, ok := v.(map[string]any)
	if !ok {
		a.c.drop(DropMalformed, "msgpack response is not a map")
		return
	}
	id, _ := m["requestId"].(string)
	if t, _ := m["type"].(int64); t != respBroadcastAck {
		a.c.drop(DropUnknownType, "unknown msgpack response", "type", m["type"])
		return
	}
	if ack := a.pending.ack(id); ack != nil {
		ack.onAck([]any{m["packet"]}, nil)
	}
}
