//go:build linux

// Command floor-peer is a measurement floor, not a Socket.IO server: the
// least any server can do per delivery in the fan-out scenario of the bench
// protocol (bench/PROTOCOL.md), so that the report can show Herald and Node
// against it in the same run.
//
// On loopback, most of a server's CPU during a WebSocket fan-out goes into
// the write system call: the sender also pays for the receiving side of TCP
// and for waking the reader. This peer does nothing else: for every `fanout`
// event it builds one WebSocket frame and hands it to every client with
// exactly one write() on the raw descriptor — no per-client queue, no
// goroutine hand-off, no encoding per client. A client whose socket is full
// (or takes only part of the frame) is dropped, not waited for: the floor
// does not queue, and the report's "lost or late" shows any such drop.
//
// It implements only what the fan-out scenario needs: WebSocket transport
// only (no long-polling, no upgrade), BENCH_MODE none only, the main
// namespace, small unfragmented text frames from the client, heartbeat pings
// without a ping timeout, no acknowledgements. Linux only (raw writes through
// golang.org/x/sys/unix).
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func envInt(name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		log.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("floor-peer: ")
	// The floor has no 'user count' at all: only the fan-out scenario, which
	// runs in mode none, can use it.
	if mode := os.Getenv("BENCH_MODE"); mode != "" && mode != "none" {
		log.Fatalf("BENCH_MODE=%q: the floor supports only none (it takes part in the fan-out scenario alone)", mode)
	}
	port := envInt("BENCH_PORT", 3000)
	pingInterval := envInt("BENCH_PING_INTERVAL_MS", 25000)
	pingTimeout := envInt("BENCH_PING_TIMEOUT_MS", 20000)

	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		log.Fatal(err)
	}
	set := &broadcastSet{}
	open := openPacket{pingInterval: pingInterval, pingTimeout: pingTimeout}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go set.heartbeat(ctx, time.Duration(pingInterval)*time.Millisecond)
	go accept(ln, set, open)
	fmt.Printf("READY %d\n", port)

	<-ctx.Done()
	ln.Close()
	set.closeAll()
	log.Print(set.stats())
}

// accept starts a goroutine per connection until the listener is closed.
func accept(ln net.Listener, set *broadcastSet, open openPacket) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of descriptors or the like: the client will see a refused
			// or reset connection; wait a little instead of spinning.
			log.Printf("accept: %v", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go serve(nc.(*net.TCPConn), set, open)
	}
}
