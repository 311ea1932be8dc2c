package engineio

import (
	"net/http"
	"slices"
)

// originAllowed applies the origin policy to requests that carry an Origin header: browsers send
// it on cross-site requests and WebSocket handshakes, so this is what stops a foreign page from
// riding a user's cookies into a session (cross-site WebSocket hijacking). Origins are compared
// whole, scheme, host and port: a page on https://host is not the http://host server's own.
func (srv *Server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if srv.cfg.CheckOrigin != nil {
		return srv.cfg.CheckOrigin(r)
	}
	if slices.Contains(srv.cfg.AllowedOrigins, "*") {
		return true
	}
	o, ok := normalOrigin(origin)
	if !ok {
		return false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if o == scheme+"://"+normalHost(r.Host, scheme) {
		return true // same origin: the server's own pages
	}
	return slices.ContainsFunc(srv.cfg.AllowedOrigins, func(allowed string) bool {
		a, ok := normalOrigin(allowed)
		return ok && a == o
	})
}

// writeCORS adds the CORS headers for an allowed Origin. It echoes the Origin and allows
// credentials, because the browser client sends cookies and a "*" answer would make the browser
// drop them.
func (srv *Server) writeCORS(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Add("Vary", "Origin")
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			h.Set("Access-Control-Allow-Headers", req)
		}
		h.Set("Access-Control-Max-Age", "86400")
	}
}
