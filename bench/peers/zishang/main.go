// Command zishang-peer is the bench protocol server (see bench/PROTOCOL.md)
// written on github.com/zishang520/socket.io v3, a Go Socket.IO server.
//
// It lives in its own Go module so that the Herald module does not depend on
// the library it is compared with.
package main

import (
	"context"
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

	"github.com/zishang520/socket.io/servers/socket/v3"
)

// config is read from the BENCH_* environment variables of the protocol.
type config struct {
	port         int
	mode         string
	pingInterval time.Duration
	pingTimeout  time.Duration
}

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

func loadConfig() config {
	c := config{
		port:         envInt("BENCH_PORT", 3000),
		mode:         os.Getenv("BENCH_MODE"),
		pingInterval: time.Duration(envInt("BENCH_PING_INTERVAL_MS", 25000)) * time.Millisecond,
		pingTimeout:  time.Duration(envInt("BENCH_PING_TIMEOUT_MS", 20000)) * time.Millisecond,
	}
	if c.mode == "" {
		c.mode = "none"
	}
	switch c.mode {
	case "none", "tutorial", "merged":
	default:
		log.Fatalf("BENCH_MODE=%q: want none, tutorial or merged", c.mode)
	}
	return c
}

// counter holds the number of connected sockets and, in merged mode, the
// pending coalesced emission. mu guards every field.
type counter struct {
	mu      sync.Mutex
	n       int
	pending bool
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("zishang-peer: ")
	cfg := loadConfig()

	opts := socket.DefaultServerOptions()
	opts.SetPingInterval(cfg.pingInterval)
	opts.SetPingTimeout(cfg.pingTimeout)
	opts.SetServeClient(false)
	io := socket.NewServer(nil, opts)

	var cnt counter
	changed := func(delta int) {
		cnt.mu.Lock()
		cnt.n += delta
		n := cnt.n
		switch cfg.mode {
		case "tutorial":
			cnt.mu.Unlock()
			io.Emit("user count", n)
			return
		case "merged":
			if !cnt.pending {
				cnt.pending = true
				time.AfterFunc(50*time.Millisecond, func() {
					cnt.mu.Lock()
					cnt.pending = false
					latest := cnt.n
					cnt.mu.Unlock()
					io.Emit("user count", latest)
				})
			}
		}
		cnt.mu.Unlock()
	}

	io.On("connection", func(args ...any) {
		s := args[0].(*socket.Socket)
		s.On("fanout", func(payload ...any) {
			if len(payload) > 0 {
				io.Emit("tick", payload[0])
			}
		})
		s.On("disconnect", func(...any) { changed(-1) })
		changed(+1)
	})

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io.ServeHandler(opts))
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.port)))
	if err != nil {
		log.Fatal(err)
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != nil && err != http.ErrServerClosed {
			log.Fatal(err)
		}
	}()
	fmt.Printf("READY %d\n", cfg.port)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	io.Close(nil)
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
}
