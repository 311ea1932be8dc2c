package web

import (
	"errors"
	"net/http"

	"github.com/herald-chat/herald/internal/auth"
	"github.com/herald-chat/herald/internal/store"
)

// githubStart sends the browser to GitHub to authorise Herald.
func (h *Handler) githubStart(w http.ResponseWriter, r *http.Request) {
	if !h.auth.GitHubEnabled() {
		notFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, h.auth.GitHubAuthURL(w, r), http.StatusFound)
}

// githubCallback is where GitHub sends the browser back.
func (h *Handler) githubCallback(w http.ResponseWriter, r *http.Request) {
	if !h.auth.GitHubEnabled() {
		notFound(w, r)
		return
	}
	_, err := h.auth.GitHubCallback(w, r)
	switch {
	case err == nil:
		http.Redirect(w, r, "/profile", http.StatusSeeOther)
	case errors.Is(err, auth.ErrOAuthState) || errors.Is(err, auth.ErrOAuthIncomplete):
		h.renderHome(w, r, http.StatusBadRequest, homeData{Error: err.Error()})
	case errors.Is(err, store.ErrUnavailable):
		h.log.ErrorContext(r.Context(), "github sign-in", "err", err)
		status, text := failure(w, err)
		h.renderHome(w, r, status, homeData{Error: text})
	default:
		h.log.ErrorContext(r.Context(), "github sign-in", "err", err)
		h.renderHome(w, r, http.StatusBadGateway, homeData{Error: "GitHub sign-in failed, please try again"})
	}
}
