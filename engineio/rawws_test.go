package engineio

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// rawWS is a hand-rolled WebSocket client over a plain TCP connection. It can send what a real
// client library refuses to: frames with reserved bits, floods of tiny fragments, and so on.
type rawWS struct {
	conn net.Conn
	br   *bufio.Reader
}

// WebSocket opcodes and header bits (RFC 6455 section 5.2).
const (
	wsOpContinuation = 0x0
	wsOpText         = 0x1
	wsOpBinary       = 0x2
	wsOpClose        = 0x8
	wsOpPing         = 0x9
	wsFin            = 0x80
	wsRSV1           = 0x40
	wsRSV2           = 0x20
	wsRSV3           = 0x10
)

// dialRawWS performs the WebSocket handshake on a fresh TCP connection to rawURL (an http://
// URL) and returns the connection once the server has answered 101.
func dialRawWS(t testing.TB, rawURL string) *rawWS {
	t.Helper()
	return dialRawWSEarly(t, rawURL, nil)
}

// dialRawWSEarly is dialRawWS sending early (frames) in the same write as the handshake, as a
// client may: the server must not lose bytes that arrive with the request.
func dialRawWSEarly(t testing.TB, rawURL string, early []byte) *rawWS {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	var key [16]byte
	_, _ = rand.Read(key[:])
	req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
		u.RequestURI(), u.Host, base64.StdEncoding.EncodeToString(key[:]))
	_ = conn.SetDeadline(time.Now().Add(waitLimit))
	if _, err := conn.Write(append([]byte(req), early...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("raw handshake: status %d", res.StatusCode)
	}
	_ = conn.SetDeadline(time.Time{})
	return &rawWS{conn: conn, br: br}
}

// appendFrame appends one masked client frame: first is the byte holding FIN, the RSV bits and
// the opcode.
func appendFrame(dst []byte, first byte, payload []byte) []byte {
	dst = append(dst, first)
	switch n := len(payload); {
	case n < 126:
		dst = append(dst, 0x80|byte(n))
	case n <= 0xffff:
		dst = append(dst, 0x80|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, 0x80|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	dst = append(dst, mask[:]...)
	for i, c := range payload {
		dst = append(dst, c^mask[i%4])
	}
	return dst
}

// write sends raw bytes; the error matters only to tests that expect the server to hang up
// while they are still writing.
func (c *rawWS) write(b []byte) error {
	_ = c.conn.SetWriteDeadline(time.Now().Add(waitLimit))
	_, err := c.conn.Write(b)
	return err
}

// readFrame reads one server frame (servers never mask).
func (c *rawWS) readFrame() (opcode byte, payload []byte, err error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(waitLimit))
	var h [2]byte
	if _, err = io.ReadFull(c.br, h[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err = io.ReadFull(c.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err = io.ReadFull(c.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if h[1]&0x80 != 0 {
		return 0, nil, errors.New("server sent a masked frame")
	}
	if n > 1<<24 {
		return 0, nil, fmt.Errorf("frame of %d bytes", n)
	}
	payload = make([]byte, n)
	_, err = io.ReadFull(c.br, payload)
	return h[0] & 0x0f, payload, err
}

// readText reads frames until a text frame arrives and returns its payload.
func (c *rawWS) readText(t testing.TB) string {
	t.Helper()
	for {
		op, p, err := c.readFrame()
		if err != nil {
			t.Fatalf("raw read: %v", err)
		}
		switch op {
		case wsOpText:
			return string(p)
		case wsOpClose:
			t.Fatalf("raw read: server closed the connection (%x)", p)
		}
	}
}

// expectClosed reads until the server ends the connection. It returns the close frame's status
// code, or 0 if the server hung up without one.
func (c *rawWS) expectClosed(t testing.TB) int {
	t.Helper()
	code := 0
	for {
		op, p, err := c.readFrame()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("raw connection still open after %v", waitLimit)
			}
			return code
		}
		if op == wsOpClose && len(p) >= 2 {
			code = int(binary.BigEndian.Uint16(p))
		}
	}
}
