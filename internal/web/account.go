package web

import (
	"errors"
	"net/http"

	"github.com/herald-chat/herald/internal/auth"
	"github.com/herald-chat/herald/internal/store"
)

// errSomethingWrong is what a user sees for a server-side failure; the
// details go to the log.
const errSomethingWrong = "something went wrong, please try again"

// readForm parses a form POST and checks its CSRF token and origin. On
// failure it has already answered, re-rendering the home page for the given
// form with the reason, and returns false.
func (h *Handler) readForm(w http.ResponseWriter, r *http.Request, form string) bool {
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "Request Entity Too Large", http.StatusRequestEntityTooLarge)
			return false
		}
		h.renderHome(w, r, http.StatusBadRequest, homeData{Form: form, Error: "could not read the form, please try again"})
		return false
	}
	if err := h.auth.VerifyCSRF(r); err != nil {
		h.renderHome(w, r, http.StatusForbidden, homeData{Form: form, Error: err.Error()})
		return false
	}
	return true
}

// register creates an account and signs it in.
func (h *Handler) register(w http.ResponseWriter, r *http.Request) {
	if !h.readForm(w, r, "register") {
		return
	}
	username := r.PostForm.Get("username")
	u, err := h.auth.Register(r.Context(), username, r.PostForm.Get("password"), h.auth.ClientIP(r))
	if err != nil {
		d := homeData{Form: "register", Username: username}
		var input *auth.InputError
		switch {
		case errors.As(err, &input):
			d.Error = input.Error()
			h.renderHome(w, r, http.StatusBadRequest, d)
		case errors.Is(err, store.ErrUsernameTaken):
			d.Error = store.ErrUsernameTaken.Error()
			h.renderHome(w, r, http.StatusConflict, d)
		case errors.Is(err, auth.ErrTooManyAccounts):
			d.Error = auth.ErrTooManyAccounts.Error()
			h.renderHome(w, r, http.StatusTooManyRequests, d)
		case errors.Is(err, auth.ErrBusy):
			d.Error = auth.ErrBusy.Error()
			h.renderHome(w, r, http.StatusServiceUnavailable, d)
		default:
			h.log.ErrorContext(r.Context(), "register", "err", err)
			status, text := failure(w, err)
			d.Error = text
			h.renderHome(w, r, status, d)
		}
		return
	}
	h.signIn(w, r, u, "register")
}

// login checks a password and signs the user in.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	if !h.readForm(w, r, "login") {
		return
	}
	username := r.PostForm.Get("username")
	u, err := h.auth.Login(r.Context(), username, r.PostForm.Get("password"), h.auth.ClientIP(r))
	if err != nil {
		d := homeData{Form: "login", Username: username}
		switch {
		case errors.Is(err, auth.ErrInvalidCredentials):
			d.Error = auth.ErrInvalidCredentials.Error()
			h.renderHome(w, r, http.StatusUnauthorized, d)
		case errors.Is(err, auth.ErrTooManyAttempts):
			d.Error = auth.ErrTooManyAttempts.Error()
			h.renderHome(w, r, http.StatusTooManyRequests, d)
		case errors.Is(err, auth.ErrBusy):
			d.Error = auth.ErrBusy.Error()
			h.renderHome(w, r, http.StatusServiceUnavailable, d)
		default:
			h.log.ErrorContext(r.Context(), "login", "err", err)
			status, text := failure(w, err)
			d.Error = text
			h.renderHome(w, r, status, d)
		}
		return
	}
	h.signIn(w, r, u, "login")
}

// signIn starts a session for u and sends the browser to its profile.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request, u store.User, form string) {
	if _, err := h.auth.StartSession(r.Context(), w, r, u); err != nil {
		h.log.ErrorContext(r.Context(), "start session", "user", u.ID, "err", err)
		status, text := failure(w, err)
		h.renderHome(w, r, status, homeData{Form: form, Error: text})
		return
	}
	http.Redirect(w, r, "/profile", http.StatusSeeOther)
}

// logout ends the session (disconnecting its sockets through
// auth.OnLogout) and goes home.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if err := h.auth.Logout(w, r); err != nil {
		// The cookie is cleared and this node no longer honours the
		// session, so the user is signed out here either way.
		h.log.ErrorContext(r.Context(), "logout", "err", err)
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
