package web

import (
	"errors"
	"html/template"
	"net/http"

	"github.com/herald-chat/herald/internal/store"
)

// home renders the login and registration forms.
func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	h.renderHome(w, r, http.StatusOK, homeData{})
}

// renderHome renders the home page with status, filling in the fields that
// depend on the request.
func (h *Handler) renderHome(w http.ResponseWriter, r *http.Request, status int, d homeData) {
	d.CSRF = h.auth.CSRFToken(w, r)
	d.GitHub = h.auth.GitHubEnabled()
	if u, _, ok := h.auth.UserFromRequest(r); ok {
		d.SignedInAs = u.Username
	}
	h.render(w, r, h.views.home, status, d)
}

// signedInPage serves a page only a signed-in user sees, greeting them by name; anyone else is
// sent to the home page. The profile and the chat room are such pages (in the room, the sockets
// do the rest).
func (h *Handler) signedInPage(page *template.Template) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, u, err := h.auth.RequestSession(r)
		if errors.Is(err, store.ErrUnavailable) {
			// Signed in or not, we cannot tell: do not send a signed-in
			// user to the login form.
			h.log.WarnContext(r.Context(), "signed-in page", "err", err)
			status, text := failure(w, err)
			h.renderHome(w, r, status, homeData{Error: text})
			return
		}
		if err != nil {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		h.render(w, r, page, http.StatusOK, userData{Username: u.Username})
	}
}

// healthz reports liveness, and readiness when a HealthCheck is configured.
func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if h.cfg.HealthCheck != nil {
		if err := h.cfg.HealthCheck(r.Context()); err != nil {
			h.log.WarnContext(r.Context(), "health check failed", "err", err)
			http.Error(w, "unhealthy", http.StatusServiceUnavailable)
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok"))
}
