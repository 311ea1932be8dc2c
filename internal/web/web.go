// Package web serves Herald's HTTP pages: the home page with the login and
// registration forms, the profile, the chat room page, logout, GitHub
// sign-in, the room's static files and a health check.
//
// It does not serve /socket.io/ or /metrics: main mounts those beside it on
// the same mux (see Handler.Mount). Every response carries security headers,
// every request body is capped, and anything unknown is a plain 404.
package web

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/herald-chat/herald/internal/auth"
	assets "github.com/herald-chat/herald/web"
)

// DefaultMaxBodyBytes is the request body cap used when Config.MaxBodyBytes
// is zero. The largest legitimate body is a login form: well under 1 KiB.
const DefaultMaxBodyBytes = 64 << 10

// Config configures the pages. Every field is optional.
type Config struct {
	// Static holds client.js and style.css, served under /public/. Nil
	// means the files embedded in package herald/web.
	Static fs.FS
	// MaxBodyBytes caps request bodies; a larger one gets 413.
	// DefaultMaxBodyBytes when zero.
	MaxBodyBytes int64
	// HealthCheck, when set, is run by GET /healthz; an error turns the
	// answer into 503. Use it to report an unreachable database.
	HealthCheck func(ctx context.Context) error
	// Logger receives errors that users only see as "something went
	// wrong". Nil means slog.Default().
	Logger *slog.Logger
}

// Handler serves the pages. Create it with New; it is safe for concurrent
// use.
type Handler struct {
	auth    *auth.Auth
	cfg     Config
	log     *slog.Logger
	views   *views
	static  *staticFiles
	handler http.Handler // the routes mounted on a private mux
}

// New returns the pages' handler. a signs users in and out and is required.
func New(cfg Config, a *auth.Auth) (*Handler, error) {
	if a == nil {
		return nil, errors.New("web: nil *auth.Auth")
	}
	if cfg.Static == nil {
		cfg.Static = assets.Static
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	v, err := parseViews()
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	st, err := loadStatic(cfg.Static)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	h := &Handler{auth: a, cfg: cfg, log: cfg.Logger, views: v, static: st}
	mux := http.NewServeMux()
	h.Mount(mux)
	h.handler = mux
	return h, nil
}

// ServeHTTP serves the pages on their own, for a program that mounts them
// at "/" of its mux.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.handler.ServeHTTP(w, r)
}

// Mount registers the pages' routes on mux, including the "/" catch-all that
// answers 404, so main can add /socket.io/ and /metrics beside them. Mount a
// Handler on any one mux at most once.
func (h *Handler) Mount(mux *http.ServeMux) {
	routes := []struct {
		pattern string
		handler http.HandlerFunc
	}{
		{"GET /{$}", h.home},
		{"POST /register", h.register},
		{"POST /login", h.login},
		{"GET /profile", h.signedInPage(h.views.profile)},
		{"GET /chat", h.signedInPage(h.views.chat)},
		{"GET /logout", h.logout},
		{"GET /auth/github", h.githubStart},
		{"GET /auth/github/callback", h.githubCallback},
		{"GET /public/{file}", h.static.serve},
		{"GET /healthz", h.healthz},
		{"/", notFound},
	}
	for _, rt := range routes {
		mux.Handle(rt.pattern, h.protect(rt.handler))
	}
}

// notFound answers anything no route claims.
func notFound(w http.ResponseWriter, _ *http.Request) {
	http.Error(w, "Not Found", http.StatusNotFound)
}
