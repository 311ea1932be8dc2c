//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"time"
)

// handshakeTimeout bounds the time from accept to the client's CONNECT.
const handshakeTimeout = 10 * time.Second

// serve runs one connection: the WebSocket upgrade, then the client's
// frames until it goes away. Once the client has connected to the main
// namespace, this goroutine only reads: every write to the connection is
// the broadcast set's.
func serve(nc *net.TCPConn, set *broadcastSet, open openPacket) {
	c := &conn{nc: nc, idx: -1}
	defer set.remove(c) // out of the set, then closed, both under the set's lock
	_ = nc.SetReadDeadline(time.Now().Add(handshakeTimeout))
	br := bufio.NewReaderSize(nc, 512) // the load generator's frames are < 100 bytes
	if err := upgrade(nc, br, open); err != nil {
		return
	}
	connected := false
	var buf []byte
	for {
		p, err := readFrame(br, buf)
		if err != nil {
			return // a read error, the client closing, or a frame the floor does not take
		}
		buf = p[:0]
		switch {
		case isConnect(p):
			if connected {
				continue // a second CONNECT: the floor has one socket per session
			}
			// The reply is written and the connection joins the set in one
			// step under the set's lock: a client that has read its reply is
			// in the set, so no broadcast sent after it can miss it.
			reply := appendTextFrame(nil, []byte(`40{"sid":"`+newID()+`"}`))
			fd, err := rawFD(nc)
			if err != nil || !set.join(c, fd, reply) {
				return
			}
			if set.onJoin != nil {
				set.onJoin()
			}
			connected = true
			_ = nc.SetReadDeadline(time.Time{})
		case connected:
			if frame, ok := tickFrame(p); ok {
				set.broadcast(frame)
			}
			// "3" (the heartbeat's pong) and anything else: ignored.
		}
	}
}

// isConnect reports whether p is a Socket.IO CONNECT to the main namespace:
// "40", or "40" and a JSON auth object.
func isConnect(p []byte) bool {
	return bytes.HasPrefix(p, []byte("40")) && (len(p) == 2 || p[2] == '{')
}

// tickFrame returns the frame to broadcast for a fan-out event: p is
// `42["fanout",<obj>]`, perhaps with an ack id between 42 and the array
// (never answered: the floor sends no acks), and the frame carries
// `42["tick",<obj>]`, <obj> the exact bytes the client sent. ok is false
// for any other packet.
func tickFrame(p []byte) (frame []byte, ok bool) {
	rest, ok := bytes.CutPrefix(p, []byte("42"))
	if !ok {
		return nil, false
	}
	rest = bytes.TrimLeft(rest, "0123456789")
	if len(rest) == 0 || rest[0] != '[' {
		return nil, false // another namespace ("42/ns,…") or not an event
	}
	var args []json.RawMessage
	if err := json.Unmarshal(rest, &args); err != nil || len(args) < 2 || string(args[0]) != `"fanout"` {
		return nil, false
	}
	payload := make([]byte, 0, len(`42["tick",]`)+len(args[1]))
	payload = append(payload, `42["tick",`...)
	payload = append(append(payload, args[1]...), ']')
	return appendTextFrame(make([]byte, 0, len(payload)+10), payload), true
}

// rawFD returns nc's descriptor. It stays nc's: the runtime reads through
// it, and closes it when nc is closed; the set writes to it only while the
// connection is in the set, which it leaves before nc is closed.
func rawFD(nc *net.TCPConn) (int, error) {
	rc, err := nc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	if err := rc.Control(func(f uintptr) { fd = int(f) }); err != nil {
		return -1, err
	}
	return fd, nil
}
