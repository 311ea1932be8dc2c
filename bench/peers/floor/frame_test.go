//go:build linux

package main

import (
	"bufio"
	"bytes"
	"errors"
	"strings"
	"testing"
)

// maskedFrame builds a client frame: byte 0 as given, masked payload.
func maskedFrame(b0 byte, payload []byte) []byte {
	b := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	default:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	}
	key := []byte{1, 2, 3, 4}
	b = append(b, key...)
	for i, c := range payload {
		b = append(b, c^key[i&3])
	}
	return b
}

func TestReadFrame(t *testing.T) {
	long := []byte(strings.Repeat("x", 300)) // the 16-bit length form
	in := append(maskedFrame(0x81, []byte("40")), maskedFrame(0x81, long)...)
	br := bufio.NewReader(bytes.NewReader(in))
	var buf []byte
	for _, want := range [][]byte{[]byte("40"), long} {
		p, err := readFrame(br, buf)
		if err != nil || !bytes.Equal(p, want) {
			t.Fatalf("readFrame = %.20q, %v; want %.20q", p, err, want)
		}
		buf = p[:0]
	}

	for name, frame := range map[string][]byte{
		"binary":     maskedFrame(0x82, []byte("x")),
		"fragmented": maskedFrame(0x01, []byte("x")),
		"close":      maskedFrame(0x88, nil),
		"unmasked":   {0x81, 0x01, 'x'},
		"64-bit":     append([]byte{0x81, 0x80 | 127}, make([]byte, 12)...),
	} {
		_, err := readFrame(bufio.NewReader(bytes.NewReader(frame)), nil)
		if !errors.Is(err, errUnsupportedFrame) {
			t.Errorf("%s: err %v, want errUnsupportedFrame", name, err)
		}
	}
}

func TestAppendTextFrame(t *testing.T) {
	for _, tc := range []struct{ n, hdr int }{{0, 2}, {125, 2}, {126, 4}, {65535, 4}, {65536, 10}} {
		f := appendTextFrame(nil, make([]byte, tc.n))
		if f[0] != 0x81 || f[1]&0x80 != 0 || len(f) != tc.hdr+tc.n {
			t.Errorf("%d bytes: header % x, frame of %d bytes, want %d", tc.n, f[:2], len(f), tc.hdr+tc.n)
		}
	}
}
