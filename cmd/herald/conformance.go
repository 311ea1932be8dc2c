package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/herald-chat/herald/engineio"
	"github.com/herald-chat/herald/socketio"
)

// echoHandler is the Engine.IO application the official compliance suite expects: every message
// goes straight back to its sender, text as text and binary as binary.
type echoHandler struct{ s *engineio.Session }

func (h echoHandler) OnMessage(data []byte, binary bool) {
	if binary {
		_ = h.s.Send(engineio.BinaryMessage(data))
		return
	}
	_ = h.s.Send(engineio.TextMessage(data))
}

func (echoHandler) OnClose(string) {}

// conformanceSocket gives a socket the behaviour the Socket.IO v5 suite expects: its auth payload
// back as "auth", "message" echoed as "message-back", and "message-with-ack" acknowledged with
// its own arguments (binary included).
func conformanceSocket(s *socketio.Socket) {
	_ = s.Emit("auth", s.Handshake().Auth)
	s.On("message", func(e *socketio.Event) {
		if args, err := e.Args(); err == nil {
			_ = s.Emit("message-back", args...)
		}
	})
	s.On("message-with-ack", func(e *socketio.Event) {
		if args, err := e.Args(); err == nil {
			_ = e.Ack(args...)
		}
	})
}

// runConformance serves what the official Engine.IO v4 and Socket.IO v5 compliance suites test
// against, on addr, until SIGINT or SIGTERM.
func runConformance(ctx context.Context, addr string, log *slog.Logger) error {
	cfg := engineio.Config{
		PingInterval:   300 * time.Millisecond,
		PingTimeout:    200 * time.Millisecond,
		MaxPayload:     1_000_000,
		AllowedOrigins: []string{"*"},
		Logger:         log,
	}
	mux := http.NewServeMux()
	eio := engineio.NewServer(cfg, engineio.HandlerFunc(func(s *engineio.Session) engineio.SessionHandler {
		return echoHandler{s}
	}))
	mux.Handle("/engine.io/", eio)
	sio := socketio.NewServer(socketio.Config{Engine: cfg, ConnectTimeout: time.Second})
	for _, nsp := range []*socketio.Namespace{sio.Of("/"), sio.Of("/custom")} {
		nsp.OnConnection(conformanceSocket)
	}
	mux.Handle("/socket.io/", sio)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(engineio.Listener(ln)) }()
	log.Info("conformance server listening", "addr", addr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = eio.Close(shutdown)
	_ = sio.Close(shutdown)
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
