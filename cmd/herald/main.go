// Command herald runs the Herald chat server: accounts, the chat room and its Socket.IO endpoint
// on one port (default 3000), with an embedded SQLite store. With the subcommand "conformance" it
// runs instead the server the official Engine.IO v4 and Socket.IO v5 compliance suites test
// against.
//
// Usage:
//
//	herald [flags]            the chat server (herald -h lists the flags and their env vars)
//	herald conformance        the compliance-suite server on :3000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "herald:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string) error {
	if len(args) > 0 && args[0] == "conformance" {
		return runConformance(ctx, ":3000", slog.New(slog.NewTextHandler(os.Stderr, nil)))
	}
	cfg, err := parseConfig(args, getenv)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return fmt.Errorf("log level: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	return serve(ctx, cfg, log)
}
