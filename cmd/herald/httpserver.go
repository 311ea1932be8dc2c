package main

import (
	"net/http"
	"time"

	"github.com/herald-chat/herald/internal/httpguard"
)

// newHTTPServer returns the server for handler, guarded against slow clients: request headers
// must arrive within 10 s and bodies within httpguard.DefaultBodyTimeout, and at most
// httpguard.DefaultMaxPending connections may be mid-request at once (past it the longest
// pending is closed), so that a flood of trickling connections cannot use up the descriptors
// that /healthz, new users and reconnecting sockets need.
func newHTTPServer(handler http.Handler) *http.Server {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	httpguard.New(httpguard.Config{}).Install(srv)
	return srv
}
