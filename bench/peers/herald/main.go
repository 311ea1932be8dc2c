// Command herald-peer is the bench protocol server (see bench/PROTOCOL.md)
// written on Herald's socketio package: the Herald side of the side-by-side
// benchmark.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/herald-chat/herald/engineio"
	"github.com/herald-chat/herald/socketio"
)

func envInt(name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		log.Fatalf("%s=%q: %v", name, v, err)
	}
	return n
}

// counter holds the number of connected sockets and, in merged mode,
// whether a coalesced emission is pending. mu guards every field.
type counter struct {
	mu      sync.Mutex
	n       int
	pending bool
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("herald-peer: ")
	port := envInt("BENCH_PORT", 3000)
	mode := os.Getenv("BENCH_MODE")
	if mode == "" {
		mode = "none"
	}
	switch mode {
	case "none", "tutorial", "merged":
	default:
		log.Fatalf("BENCH_MODE=%q: want none, tutorial or merged", mode)
	}

	srv := socketio.NewServer(socketio.Config{
		Engine: engineio.Config{
			PingInterval: time.Duration(envInt("BENCH_PING_INTERVAL_MS", 25000)) * time.Millisecond,
			PingTimeout:  time.Duration(envInt("BENCH_PING_TIMEOUT_MS", 20000)) * time.Millisecond,
		},
	})

	var cnt counter
	emitCount := func(n int) {
		if err := srv.Emit("user count", n); err != nil {
			log.Printf("emit user count: %v", err)
		}
	}
	changed := func(delta int) {
		cnt.mu.Lock()
		cnt.n += delta
		n := cnt.n
		switch mode {
		case "tutorial":
			cnt.mu.Unlock()
			emitCount(n)
			return
		case "merged":
			if !cnt.pending {
				cnt.pending = true
				time.AfterFunc(50*time.Millisecond, func() {
					cnt.mu.Lock()
					cnt.pending = false
					latest := cnt.n
					cnt.mu.Unlock()
					emitCount(latest)
				})
			}
		}
		cnt.mu.Unlock()
	}

	srv.OnConnection(func(s *socketio.Socket) {
		s.On("fanout", func(e *socketio.Event) {
			var p json.RawMessage
			if err := e.Bind(&p); err != nil {
				return
			}
			if err := srv.Emit("tick", p); err != nil {
				log.Printf("emit tick: %v", err)
			}
		})
		s.OnDisconnect(func(string) { changed(-1) })
		changed(+1)
	})

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		log.Fatal(err)
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != nil && err != http.ErrServerClosed {
			log.Fatal(err)
		}
	}()
	fmt.Printf("READY %d\n", port)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Close(sctx)
	_ = hs.Shutdown(sctx)
}
