package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/herald-chat/herald/engineio"
	"github.com/herald-chat/herald/internal/auth"
	"github.com/herald-chat/herald/internal/chat"
	"github.com/herald-chat/herald/internal/chat/chatredis"
	"github.com/herald-chat/herald/internal/gcheadroom"
	"github.com/herald-chat/herald/internal/metrics"
	"github.com/herald-chat/herald/internal/store"
	"github.com/herald-chat/herald/internal/store/dburl"
	webpages "github.com/herald-chat/herald/internal/web"
	"github.com/herald-chat/herald/socketio"
	"github.com/herald-chat/herald/socketio/redisadapter"
	"github.com/herald-chat/herald/web"
)

// app is the wired chat server.
type app struct {
	handler  http.Handler
	io       *socketio.Server
	room     *chat.Room
	db       store.DB // SQLite or PostgreSQL, as DATABASE_URL says
	auth     *auth.Auth
	cluster  *redisadapter.Cluster // nil on a server on its own
	presence chat.Presence
}

// newApp opens the store and wires accounts, pages, sockets, the room and metrics together.
func newApp(ctx context.Context, cfg config, log *slog.Logger) (*app, error) {
	db, err := dburl.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("opening the database (DATABASE_URL): %w", err)
	}
	a, err := auth.New(auth.Config{
		Users:          db.Users(),
		Sessions:       db.Sessions(),
		Secret:         []byte(cfg.SessionSecret),
		SecureCookies:  cfg.SecureCookies,
		AllowedOrigins: cfg.AllowedOrigins,
		PublicURL:      cfg.PublicURL,
		GitHub: auth.GitHubConfig{
			ClientID:     cfg.GitHubClientID,
			ClientSecret: cfg.GitHubClientSecret,
			CallbackURL:  cfg.GitHubCallbackURL,
		},
	})
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	// The sockets accept the origins the forms accept: scheme, host and port compared, and
	// PUBLIC_URL deciding behind a TLS proxy ("*" in ALLOWED_ORIGINS still opens sockets to all).
	allowAll := slices.Contains(cfg.AllowedOrigins, "*")
	ioCfg := socketio.Config{
		Engine: engineio.Config{
			CheckOrigin: func(r *http.Request) bool { return allowAll || a.OriginAllowed(r) },
			Logger:      log,
		},
		ClientFiles: web.ClientBundle,
	}
	var cluster *redisadapter.Cluster
	if cfg.RedisURL != "" {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		cluster, err = redisadapter.New(rctx, redisadapter.Config{URL: cfg.RedisURL, Logger: log})
		cancel()
		if err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("joining the cluster (REDIS_URL): %w", err)
		}
		ioCfg.AdapterFactory = cluster.AdapterFactory
		// Behind a load balancer the requests of a long-polling session must reach one server:
		// the "io" cookie lets the balancer see which (HAProxy: cookie io prefix).
		ioCfg.Engine.Cookie = &engineio.Cookie{}
	}
	io := socketio.NewServer(ioCfg)
	var presence chat.Presence = chat.NewMemoryPresence()
	if cluster != nil {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		presence, err = chatredis.NewPresence(pctx, cluster.Client(), io.Of("/"), chatredis.PresenceConfig{Logger: log})
		cancel()
		if err != nil {
			_ = cluster.Close()
			_ = db.Close()
			return nil, err
		}
	}
	// The message rate limit is per user on one server, and per user across the cluster in one.
	var limiter chat.RateLimiter
	if cluster != nil {
		limiter = chatredis.NewRateLimiter(cluster.Client(), chatredis.RateLimiterConfig{Logger: log})
	}
	m := metrics.New(io.Engine().Count)
	if cluster != nil {
		m.Cluster(cluster.Stats)
	}
	room, err := chat.New(ctx, chat.Config{Logger: log, Presence: presence, RateLimiter: limiter}, io.Of("/"), db.Messages(), chat.AuthenticatorFunc(func(r *http.Request) (chat.Identity, bool) {
		session, user, ok := a.SessionFromRequest(r)
		return chat.Identity{UserID: user.ID, Username: user.Username, SessionID: session.ID}, ok
	}), m)
	if err != nil {
		_ = presence.Close()
		if cluster != nil {
			_ = cluster.Close()
		}
		_ = db.Close()
		return nil, err
	}
	// Logging out ends that session's sockets at once: a signed-out tab must not stay in the room.
	a.OnLogout = func(sessionID string, _ int64) { room.EndSession(sessionID) }

	pages, err := webpages.New(webpages.Config{HealthCheck: db.Ping, Logger: log}, a)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	pages.Mount(mux)
	mux.Handle("/socket.io/", io)
	mux.Handle("GET /metrics", m.Handler())
	return &app{handler: mux, io: io, room: room, db: db, auth: a, cluster: cluster, presence: presence}, nil
}

// close shuts the sockets down gracefully (clients are told and reconnect later), takes this
// server out of the cluster, then closes the store.
func (a *app) close(ctx context.Context) {
	a.room.Close()
	_ = a.io.Close(ctx)
	_ = a.presence.Close()
	if a.cluster != nil {
		_ = a.cluster.Close()
	}
	_ = a.db.Close()
}

// serve runs the chat server until ctx ends, then shuts it down within 10 seconds.
func serve(ctx context.Context, cfg config, log *slog.Logger) error {
	if cfg.secretGenerated {
		log.Warn("SESSION_SECRET is not set: using a random one, so sign-in forms open before a restart will fail after it; set SESSION_SECRET in production")
	}
	defer gcheadroom.Keep(cfg.GCHeadroom)()
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	janitorCtx, stopJanitor := context.WithCancel(ctx)
	defer stopJanitor()
	go func() { _ = a.auth.RunJanitor(janitorCtx, time.Hour) }()

	srv := newHTTPServer(a.handler)
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(cfg.Port))
	if err != nil {
		a.close(ctx)
		return err
	}
	log.Info("herald listening", "url", "http://localhost:"+strconv.Itoa(cfg.Port), "database", dburl.Redact(cfg.DatabaseURL), "github", cfg.GitHubClientID != "", "cluster", cfg.RedisURL != "")
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(engineio.Listener(ln)) }()
	select {
	case err := <-errc:
		a.close(context.Background())
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a.close(shutdown)
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
