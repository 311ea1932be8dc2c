//go:build linux

package main

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// wsAcceptGUID is the fixed GUID RFC 6455 appends to the client's key to
// compute Sec-WebSocket-Accept.
const wsAcceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// openPacket is the Engine.IO open packet's settings, from the environment.
type openPacket struct {
	pingInterval, pingTimeout int // ms
}

// frame returns the WebSocket text frame carrying an open packet with a new
// session id. The floor offers no upgrade: it only serves clients that
// start on WebSocket.
func (o openPacket) frame() []byte {
	p := `0{"sid":"` + newID() + `","upgrades":[],"pingInterval":` + strconv.Itoa(o.pingInterval) +
		`,"pingTimeout":` + strconv.Itoa(o.pingTimeout) + `,"maxPayload":1000000}`
	return appendTextFrame(nil, []byte(p))
}

// newID returns a random id, unique for all practical purposes: 128 bits
// from crypto/rand, base32, as Engine.IO session ids and Socket.IO socket
// ids need only be unguessable and distinct.
func newID() string { return rand.Text() }

// upgrade reads the HTTP upgrade request from br and, when it asks for an
// Engine.IO v4 session over WebSocket at /socket.io/, answers 101 and sends
// the open packet, both in one write. Otherwise it answers 400 and returns
// an error; the caller closes the connection.
func upgrade(nc net.Conn, br *bufio.Reader, open openPacket) error {
	req, err := http.ReadRequest(br)
	if err != nil {
		return fmt.Errorf("upgrade request: %w", err)
	}
	if why := refuse(req); why != "" {
		_, _ = nc.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
		return fmt.Errorf("upgrade refused: %s", why)
	}
	sum := sha1.Sum([]byte(req.Header.Get("Sec-WebSocket-Key") + wsAcceptGUID))
	b := []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		base64.StdEncoding.EncodeToString(sum[:]) + "\r\n\r\n")
	b = append(b, open.frame()...)
	_, err = nc.Write(b)
	return err
}

// refuse says why req is not a request the floor serves, or "" when it is.
func refuse(req *http.Request) string {
	q := req.URL.Query()
	switch {
	case req.Method != http.MethodGet:
		return "method " + req.Method
	case req.URL.Path != "/socket.io/":
		return "path " + req.URL.Path
	case q.Get("EIO") != "4":
		return "EIO=" + q.Get("EIO")
	case q.Get("transport") != "websocket":
		return "transport=" + q.Get("transport") + " (the floor serves WebSocket only)"
	case !strings.EqualFold(req.Header.Get("Upgrade"), "websocket") || !hasToken(req.Header.Get("Connection"), "upgrade"):
		return "not a WebSocket upgrade"
	case req.Header.Get("Sec-WebSocket-Version") != "13":
		return "Sec-WebSocket-Version " + req.Header.Get("Sec-WebSocket-Version")
	case req.Header.Get("Sec-WebSocket-Key") == "":
		return "no Sec-WebSocket-Key"
	}
	return ""
}

// hasToken reports whether the comma-separated header value v lists token,
// case-insensitively.
func hasToken(v, token string) bool {
	for f := range strings.SplitSeq(v, ",") {
		if strings.EqualFold(strings.TrimSpace(f), token) {
			return true
		}
	}
	return false
}
