//go:build linux

package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// opText is the WebSocket text frame opcode (RFC 6455), the only one the
// floor reads or writes.
const opText = 0x1

// errUnsupportedFrame ends a connection that sent a frame the floor does not
// handle: the load generator only ever sends small, unfragmented, masked
// text frames, so anything else is a client the floor is not meant for.
var errUnsupportedFrame = errors.New("unsupported frame")

// readFrame reads one client frame from br and returns its unmasked payload
// in buf (grown as needed; the result aliases it). Only a masked text frame
// with FIN set and a 7- or 16-bit length is accepted: a binary, fragmented,
// control (a close frame included) or 64-bit-length frame is an error, and
// the caller closes the connection.
func readFrame(br *bufio.Reader, buf []byte) ([]byte, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, err
	}
	fin, rsv, op := hdr[0]&0x80 != 0, hdr[0]&0x70, hdr[0]&0x0f
	masked, size := hdr[1]&0x80 != 0, int(hdr[1]&0x7f)
	if !fin || rsv != 0 || op != opText || !masked {
		return nil, fmt.Errorf("%w: byte 0 %#x, masked %v", errUnsupportedFrame, hdr[0], masked)
	}
	switch size {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(br, ext[:]); err != nil {
			return nil, err
		}
		size = int(binary.BigEndian.Uint16(ext[:]))
	case 127:
		return nil, fmt.Errorf("%w: 64-bit length", errUnsupportedFrame)
	}
	var key [4]byte
	if _, err := io.ReadFull(br, key[:]); err != nil {
		return nil, err
	}
	if cap(buf) < size {
		buf = make([]byte, size)
	}
	p := buf[:size]
	if _, err := io.ReadFull(br, p); err != nil {
		return nil, err
	}
	for i := range p {
		p[i] ^= key[i&3]
	}
	return p, nil
}

// appendTextFrame appends an unmasked server text frame carrying payload,
// with the shortest length form RFC 6455 allows.
func appendTextFrame(b, payload []byte) []byte {
	b = append(b, 0x80|opText)
	switch n := len(payload); {
	case n < 126:
		b = append(b, byte(n))
	case n <= 0xffff:
		b = append(b, 126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, payload...)
}
