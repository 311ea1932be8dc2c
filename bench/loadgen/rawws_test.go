//go:build linux

package main

import (
	"net"
	"syscall"
	"testing"
	"time"
)

// TestReceiveTimeIsTheKernelStamp: a client socket as the load generator makes it (takeFD) gets
// the kernel's receive time with each read, and receiveTime finds it: between the write and the
// read, and no later than the clock after the read.
func TestReceiveTimeIsTheKernelStamp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server := <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	defer server.Close()
	fd, err := takeFD(nc)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)

	// The kernel turns receive stamping on for the whole machine lazily, from a deferred work item,
	// when the first socket asks for it: the first segments after that may arrive unstamped. So
	// the test sends until a read carries a stamp, as the load generator's later reads do.
	buf, oob := make([]byte, 64), make([]byte, 128)
	var oobn int
	stamped := false
	for deadline := time.Now().Add(5 * time.Second); !stamped && time.Now().Before(deadline); {
		before := time.Now().UnixNano()
		if _, err := server.Write([]byte("tick")); err != nil {
			t.Fatal(err)
		}
		var n int
		for {
			n, oobn, _, _, err = syscall.Recvmsg(fd, buf, oob, 0)
			if err != syscall.EAGAIN || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Millisecond)
		}
		after := time.Now().UnixNano()
		if err != nil || string(buf[:n]) != "tick" {
			t.Fatalf("read %q, %v", buf[:n], err)
		}
		stamp, ok := receiveTime(oob[:oobn])
		if !ok {
			time.Sleep(time.Millisecond)
			continue
		}
		stamped = true
		if stamp < before || stamp > after {
			t.Errorf("stamp %d is outside the write..read window [%d, %d]", stamp, before, after)
		}
	}
	if !stamped {
		t.Fatal("no read in 5 s carried the kernel's receive time")
	}
	if _, ok := receiveTime(nil); ok {
		t.Error("a read without control messages has a stamp")
	}
	if _, ok := receiveTime(oob[:oobn-1]); ok {
		t.Error("a truncated control message has a stamp")
	}
}
