package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/herald-chat/herald/engineio"
)

// echoHandler is the Engine.IO application the official compliance suite expects: every message
// goes straight back to its sender, text as text and binary as binary.
type echoHandler struct{}

func (echoHandler) OnOpen(*engineio.Session) {}

func (echoHandler) OnMessage(s *engineio.Session, data []byte, binary bool) {
	if binary {
		_ = s.Send(engineio.BinaryMessage(data))
		return
	}
	_ = s.Send(engineio.TextMessage(data))
}

func (echoHandler) OnClose(*engineio.Session, string) {}

// runConformance serves what the official Engine.IO v4 and Socket.IO v5 compliance suites test
// against, on addr, until SIGINT or SIGTERM.
func runConformance(addr string, log *slog.Logger) error {
	cfg := engineio.Config{
		PingInterval:   300 * time.Millisecond,
		PingTimeout:    200 * time.Millisecond,
		MaxPayload:     1_000_000,
		AllowedOrigins: []string{"*"},
		Logger:         log,
	}
	mux := http.NewServeMux()
	eio := engineio.NewServer(cfg, echoHandler{})
	mux.Handle("/engine.io/", eio)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("conformance server listening", "addr", addr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = eio.Close(shutdown)
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
