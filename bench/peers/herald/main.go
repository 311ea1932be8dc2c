// Command herald-peer is the bench protocol server (see bench/PROTOCOL.md)
// written on Herald's socketio package: the Herald side of the side-by-side
// benchmark. Configuration comes from the BENCH_* environment variables.
package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/herald-chat/herald/bench/internal/heraldpeer"
	"github.com/herald-chat/herald/engineio"
	"github.com/herald-chat/herald/internal/gcheadroom"
	"github.com/herald-chat/herald/socketio"
	"github.com/herald-chat/herald/socketio/redisadapter"
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

func main() {
	log.SetFlags(0)
	log.SetPrefix("herald-peer: ")
	port := envInt("BENCH_PORT", 3000)
	// The collector headroom the herald binary keeps by default (BENCH_GC_HEADROOM_MB=0: none).
	headroomMB := envInt("BENCH_GC_HEADROOM_MB", gcheadroom.DefaultHeadroom>>20)
	if headroomMB < 0 || headroomMB > 1<<20 {
		log.Fatalf("BENCH_GC_HEADROOM_MB=%d: want 0 to 1 TiB in MiB", headroomMB)
	}
	defer gcheadroom.Keep(uint64(headroomMB) << 20)()
	cfg := socketio.Config{
		Engine: engineio.Config{
			PingInterval: time.Duration(envInt("BENCH_PING_INTERVAL_MS", 25000)) * time.Millisecond,
			PingTimeout:  time.Duration(envInt("BENCH_PING_TIMEOUT_MS", 20000)) * time.Millisecond,
		},
	}
	// BENCH_REDIS_URL makes the peer one node of a cluster (the cluster scenarios): the Redis
	// adapter, so that an emit on any node reaches the clients of every node.
	var cluster *redisadapter.Cluster
	if url := os.Getenv("BENCH_REDIS_URL"); url != "" {
		rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var err error
		cluster, err = redisadapter.New(rctx, redisadapter.Config{URL: url})
		cancel()
		if err != nil {
			log.Fatalf("BENCH_REDIS_URL: %v", err)
		}
		cfg.AdapterFactory = cluster.AdapterFactory
	}
	peer, err := heraldpeer.New(os.Getenv("BENCH_MODE"), cfg)
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", peer)
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		log.Fatal(err)
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		// BENCH_TLS_CERT and BENCH_TLS_KEY (PEM files) serve HTTPS, with TLS on top of the
		// package's Listener as a Herald user would serve it directly.
		var err error
		if cert, key := os.Getenv("BENCH_TLS_CERT"), os.Getenv("BENCH_TLS_KEY"); cert != "" || key != "" {
			err = hs.ServeTLS(engineio.Listener(ln), cert, key)
		} else {
			err = hs.Serve(engineio.Listener(ln))
		}
		if err != nil && err != http.ErrServerClosed {
			log.Fatal(err)
		}
	}()
	if addr := os.Getenv("BENCH_PPROF_ADDR"); addr != "" {
		// Profiling on demand (go tool pprof http://ADDR/debug/pprof/profile), on its own mux
		// so the bench protocol's server never exposes it.
		go func() { log.Println(http.ListenAndServe(addr, pprofMux())) }()
	}
	fmt.Printf("READY %d\n", port)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = peer.Close(sctx)
	_ = hs.Shutdown(sctx)
	if cluster != nil {
		_ = cluster.Close()
	}
}

// pprofMux serves the net/http/pprof handlers.
func pprofMux() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("/debug/pprof/", pprof.Index)
	m.HandleFunc("/debug/pprof/profile", pprof.Profile)
	m.HandleFunc("/debug/pprof/trace", pprof.Trace)
	m.HandleFunc("/debug/pprof/heap", pprof.Index)
	return m
}
