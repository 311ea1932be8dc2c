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

	before := time.Now().UnixNano()
	if _, err := server.Write([]byte("tick")); err != nil {
		t.Fatal(err)
	}
	buf, oob := make([]byte, 64), make([]byte, 128)
	var n, oobn int
	for deadline := time.Now().Add(5 * time.Second); ; {
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
		t.Fatalf("no kernel receive time in %d bytes of control messages", oobn)
	}
	if stamp < before || stamp > after {
		t.Errorf("stamp %d is outside the write..read window [%d, %d]", stamp, before, after)
	}
	if _, ok := receiveTime(nil); ok {
		t.Error("a read without control messages has a stamp")
	}
	if _, ok := receiveTime(oob[:oobn-1]); ok {
		t.Error("a truncated control message has a stamp")
	}
}
