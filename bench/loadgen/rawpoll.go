//go:build linux

package main

// HTTP long-polling on the epoll loop: the handshake (open packet, CONNECT,
// CONNECT reply) is done with net/http, then each client's GET requests go
// over one raw keep-alive connection served by the loop, which parses the
// responses itself. POSTs (pongs) are rare and stay on net/http. With
// net/http a GET cycle costs the client about as much as the server spends
// sending, which would blur the latencies.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// maxResponse bounds one polling response.
const maxResponse = 4 << 20

// pollSession is the polling part of a rawConn.
type pollSession struct {
	pc     *pollClient
	get    []byte   // the GET request, ready to write
	queued [][]byte // packets from the handshake, handled by startPoll
}

// dialRawPolling performs the polling handshake and opens the connection
// the loop will send the GETs on; cookie, when not empty, goes with every
// request.
func dialRawPolling(ctx context.Context, base string, hc *http.Client, d *net.Dialer, cookie string) (*rawConn, error) {
	pc, err := dialPolling(ctx, base, hc, cookie)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(pc.url)
	if err != nil {
		pc.close()
		return nil, err
	}
	nc, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		pc.close()
		return nil, err
	}
	fd, err := takeFD(nc)
	if err != nil {
		nc.Close()
		pc.close()
		return nil, err
	}
	head := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\nAccept: */*\r\n"
	if cookie != "" {
		head += "Cookie: " + cookie + "\r\n"
	}
	get := []byte(head + "\r\n")
	ps := &pollSession{pc: pc, get: get, queued: pc.queued}
	pc.queued = nil
	return &rawConn{fd: fd, poll: ps}, nil
}

// startPoll handles the packets that came with the handshake and sends the
// first GET. Called with l.mu held.
func (l *loop) startPoll(c *rawConn) {
	at := time.Now().UnixNano()
	for _, p := range c.poll.queued {
		l.pollPacket(c, p, at)
	}
	c.poll.queued = nil
	if !c.closed && c.writeAll(c.poll.get) != nil {
		l.drop(c)
	}
}

// consumePoll adds data to the pending bytes and, once they hold a whole
// response, handles its packets and sends the next GET.
func (l *loop) consumePoll(c *rawConn, data []byte, at int64) {
	c.pending = append(c.pending, data...)
	for !c.closed {
		body, n, closeAfter, err := parseResponse(c.pending)
		if err != nil {
			l.drop(c)
			return
		}
		if n == 0 {
			if len(c.pending) > maxResponse {
				l.drop(c)
			}
			return
		}
		for p := range bytes.SplitSeq(body, []byte{0x1e}) {
			l.pollPacket(c, p, at)
		}
		c.pending = append(c.pending[:0], c.pending[n:]...)
		if c.closed {
			return
		}
		if closeAfter {
			// The server will not take another request on this connection.
			l.drop(c)
			return
		}
		if c.writeAll(c.poll.get) != nil {
			l.drop(c)
			return
		}
	}
}

// pollPacket handles one Engine.IO packet received by polling.
func (l *loop) pollPacket(c *rawConn, p []byte, at int64) {
	switch dispatch(p, at, c.h) {
	case pkPing:
		pc, h := c.poll.pc, c.h
		// POST the pong off the loop; pc.post allows one POST at a time.
		go func() {
			if pc.post(pc.ctx, []byte("3")) == nil {
				h.ping()
			}
		}()
	case pkClose, pkDisconnect:
		l.drop(c)
	}
}

// parseResponse parses one HTTP/1.1 response at the start of b. It returns
// the body and the bytes used, or n == 0 if b does not hold it all yet.
// A status other than 200 is an error.
func parseResponse(b []byte) (body []byte, n int, closeAfter bool, err error) {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		if len(b) > 64<<10 {
			return nil, 0, false, errors.New("response header too long")
		}
		return nil, 0, false, nil
	}
	head := b[:end]
	rest := b[end+4:]
	line, fields, _ := bytes.Cut(head, []byte("\r\n"))
	parts := bytes.SplitN(line, []byte(" "), 3)
	if len(parts) < 2 || len(parts[0]) != len("HTTP/1.1") || !bytes.HasPrefix(parts[0], []byte("HTTP/1.")) {
		return nil, 0, false, fmt.Errorf("bad status line %.40q", line)
	}
	if string(parts[1]) != "200" {
		return nil, 0, false, fmt.Errorf("GET: status %s", parts[1])
	}
	length, chunked := -1, false
	for f := range bytes.SplitSeq(fields, []byte("\r\n")) {
		k, v, ok := bytes.Cut(f, []byte(":"))
		if !ok {
			continue
		}
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			l, err := strconv.Atoi(string(v))
			if err != nil || l < 0 || l > maxResponse {
				return nil, 0, false, fmt.Errorf("bad Content-Length %q", v)
			}
			length = l
		case bytes.EqualFold(k, []byte("Transfer-Encoding")):
			chunked = bytes.Contains(bytes.ToLower(v), []byte("chunked"))
		case bytes.EqualFold(k, []byte("Connection")):
			closeAfter = bytes.EqualFold(v, []byte("close"))
		}
	}
	if line[len("HTTP/1.")] == '0' {
		closeAfter = true
	}
	switch {
	case chunked:
		body, used, err := parseChunked(rest)
		if err != nil || used == 0 {
			return nil, 0, false, err
		}
		return body, end + 4 + used, closeAfter, nil
	case length >= 0:
		if len(rest) < length {
			return nil, 0, false, nil
		}
		return rest[:length], end + 4 + length, closeAfter, nil
	}
	return nil, 0, false, errors.New("response without Content-Length or chunked encoding")
}

// parseChunked decodes a chunked body at the start of b (trailers are not
// expected). It returns used == 0 when b does not hold it all yet.
func parseChunked(b []byte) (body []byte, used int, err error) {
	i := 0
	for {
		eol := bytes.Index(b[i:], []byte("\r\n"))
		if eol < 0 {
			return nil, 0, nil
		}
		sizeText, _, _ := bytes.Cut(b[i:i+eol], []byte(";"))
		size, err := strconv.ParseInt(string(bytes.TrimSpace(sizeText)), 16, 64)
		if err != nil || size < 0 || size > maxResponse {
			return nil, 0, fmt.Errorf("bad chunk size %q", sizeText)
		}
		i += eol + 2
		if size == 0 {
			if len(b) < i+2 {
				return nil, 0, nil
			}
			if b[i] != '\r' || b[i+1] != '\n' {
				return nil, 0, errors.New("trailers in a chunked polling response")
			}
			return body, i + 2, nil
		}
		if int64(len(b)-i) < size+2 {
			return nil, 0, nil
		}
		body = append(body, b[i:i+int(size)]...)
		i += int(size) + 2
	}
}
