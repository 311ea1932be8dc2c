//go:build !herald_portable

package engineio

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

func TestListenerAcceptsRawTCPConns(t *testing.T) {
	server, client := tcpPair(t, Listener)
	if _, ok := server.(*rawTCPConn); !ok {
		t.Fatalf("accepted %T, want *rawTCPConn", server)
	}
	if n, err := server.Write([]byte("hello")); n != 5 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(client, buf); err != nil || string(buf) != "hello" {
		t.Fatalf("read %q, %v", buf, err)
	}
	if _, err := client.Write([]byte("world")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(server, buf); err != nil || string(buf) != "world" {
		t.Fatalf("server read %q, %v", buf, err)
	}
	client.Close()
	if n, err := server.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("Read after the peer closed = %d, %v; want io.EOF", n, err)
	}
}

// A read waits for data, and ends with a timeout at its deadline and with net.ErrClosed on Close.
func TestRawTCPConnReadWaitsAndEnds(t *testing.T) {
	server, client := tcpPair(t, Listener)
	buf := make([]byte, 8)
	go func() {
		time.Sleep(20 * time.Millisecond)
		_, _ = client.Write([]byte("late"))
	}()
	if n, err := server.Read(buf); err != nil || string(buf[:n]) != "late" {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
	if err := server.SetReadDeadline(time.Now().Add(20 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	_, err := server.Read(buf)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read past the deadline = %v, want a timeout", err)
	}
	if err := server.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := server.Read(buf)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	server.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Read cut by Close = %v, want net.ErrClosed", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Close did not end the blocked read")
	}
}

// Concurrent writes must each arrive whole while the reader drains the socket: a raw write may
// take part of one, the blocking path the rest, and no other write may land in between.
func TestRawTCPConnKeepsConcurrentWritesWhole(t *testing.T) {
	server, client := tcpPair(t, Listener)
	const writers, perWriter, block = 4, 4, 4 << 20
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := bytes.Repeat([]byte{byte('a' + w)}, block)
			for range perWriter {
				if _, err := server.Write(b); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	defer wg.Wait() // runs after the Close below, which ends writes blocked by a failed read
	defer server.Close()
	got := make([]byte, block)
	for i := range writers * perWriter {
		if _, err := io.ReadFull(client, got); err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		if n := bytes.Count(got, got[:1]); n != block {
			t.Fatalf("block %d is mixed: %d of %d bytes are %q", i, n, block, got[0])
		}
	}
	select {
	case err := <-errs:
		t.Fatalf("Write: %v", err)
	default:
	}
}

func TestRawTCPConnHonoursWriteDeadline(t *testing.T) {
	server, client := tcpPair(t, Listener)
	if err := server.SetWriteDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := server.Write([]byte("late")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Write past the deadline = %v, want a deadline error", err)
	}
	if err := server.SetDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := server.Write([]byte("ok")); err != nil {
		t.Fatalf("Write without a deadline: %v", err)
	}
	_ = client.SetReadDeadline(time.Now().Add(waitLimit))
	buf := make([]byte, 2)
	if _, err := io.ReadFull(client, buf); err != nil || string(buf) != "ok" {
		t.Fatalf("read %q, %v: the late write must not have been sent", buf, err)
	}
}

func TestRawTCPConnCloseEndsBlockedWrite(t *testing.T) {
	server, _ := tcpPair(t, Listener)
	done := make(chan error, 1)
	go func() {
		big := make([]byte, 64<<20) // far more than the socket buffers: blocks, as nobody reads
		_, err := server.Write(big)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if err := server.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a write cut by Close reported no error")
		}
	case <-time.After(waitLimit):
		t.Fatal("Close did not end the blocked write")
	}
	if _, err := server.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Write after Close = %v, want net.ErrClosed", err)
	}
}
