package auth

import (
	"context"

	"fmt"
	"net/http"
	"time"

	"github.com/herald-chat/herald/internal/store"
)

// SessionCookie is the name of the cookie that carries the session token.
const SessionCookie = "herald_session"

// StartSession signs u in: it creates a session and sets its cookie on w. A
// session the request already carried is ended first (with OnLogout), so
// signing in as someone else in the same browser cannot leave the previous
// user's sockets connected.
func (a *Auth) StartSession(ctx context.Context, w http.ResponseWriter, r *http.Request, u store.User) (store.Session, error) {
	if old, ok := a.cookieSessionID(r); ok {
		if err := a.endSession(ctx, old); err != nil {
			return store.Session{}, err
		}
	}
	token := newToken()
	now := a.now()
	sess := store.Session{
		ID:        sessionID(token),
		UserID:    u.ID,
		CSRFToken: newToken(),
		CreatedAt: now,
		ExpiresAt: now.Add(a.cfg.SessionTTL),
	}
	if err := a.sessions.Create(ctx, sess); err != nil {
		return store.Session{}, fmt.Errorf("start session: %w", err)
	}
	http.SetCookie(w, &http.Cookie{
		Name:     SessionCookie,
		Value:    token,
		Path:     "/",
		Expires:  sess.ExpiresAt,
		MaxAge:   int(a.cfg.SessionTTL / time.Second),
		HttpOnly: true,
		Secure:   a.secure(r),
		SameSite: http.SameSiteLaxMode,
	})
	return sess, nil
}

// UserFromRequest returns the user signed in by r's session cookie and the
// session's ID, which names the session in OnLogout. ok is false when there
// is no cookie, it is forged or malformed, the session expired or was
// logged out, or the store failed. It works on any request carrying the
// browser's cookies, such as an Engine.IO handshake, and costs at most one
// session and one user lookup (often none: see Config.CacheTTL).
func (a *Auth) UserFromRequest(r *http.Request) (u store.User, sessionID string, ok bool) {
	sess, u, ok := a.SessionFromRequest(r)
	return u, sess.ID, ok
}

// SessionFromRequest is UserFromRequest that also returns the session, for
// pages that need its CSRF token.
func (a *Auth) SessionFromRequest(r *http.Request) (store.Session, store.User, bool) {
	sess, u, err := a.RequestSession(r)
	return sess, u, err == nil
}

// RequestSession is SessionFromRequest that says why there is no session:
// store.ErrNotFound when r carries none (or an expired or unknown one), or
// the store's error, such as one wrapping store.ErrUnavailable, when it
// could not be looked up.
func (a *Auth) RequestSession(r *http.Request) (store.Session, store.User, error) {
	id, ok := a.cookieSessionID(r)
	if !ok {
		return store.Session{}, store.User{}, store.ErrNotFound
	}
	e, err := a.lookup(r.Context(), id)
	if err != nil {
		return store.Session{}, store.User{}, err
	}
	return e.sess, e.user, nil
}

// cookieSessionID returns the session ID named by r's cookie, if it holds a
// well-formed token.
func (a *Auth) cookieSessionID(r *http.Request) (string, bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || !wellFormedToken(c.Value) {
		return "", false
	}
	return sessionID(c.Value), true
}

func (a *Auth) lookup(ctx context.Context, id string) (cacheEntry, error) {
	now := a.now()
	if e, ok := a.cache.get(id, now); ok && now.Before(e.sess.ExpiresAt) {
		return e, nil
	}
	gen := a.cache.generation()
	sess, err := a.sessions.Get(ctx, id)
	if err != nil {
		return cacheEntry{}, err
	}
	if !now.Before(sess.ExpiresAt) {
		return cacheEntry{}, store.ErrNotFound
	}
	u, err := a.users.ByID(ctx, sess.UserID)
	if err != nil {
		return cacheEntry{}, err
	}
	a.cache.put(sess, u, gen, now)
	return cacheEntry{sess: sess, user: u}, nil
}

// Logout ends the session r carries, if any, calls OnLogout for it and
// clears the cookie. Logging out without a session is not an error.
func (a *Auth) Logout(w http.ResponseWriter, r *http.Request) error {
	// Clear the cookie whatever happens next: the browser should stop
	// presenting it even if the store is unreachable.
	http.SetCookie(w, &http.Cookie{
		Name:     SessionCookie,
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   a.secure(r),
		SameSite: http.SameSiteLaxMode,
	})
	id, ok := a.cookieSessionID(r)
	if !ok {
		return nil
	}
	return a.endSession(r.Context(), id)
}

// endSession deletes session id, drops it from the cache and tells
// OnLogout.
func (a *Auth) endSession(ctx context.Context, id string) error {
	var userID int64
	if e, err := a.lookup(ctx, id); err == nil {
		userID = e.user.ID
	}
	err := a.sessions.Delete(ctx, id)
	// Invalidate even if Delete failed: this node must stop honouring the
	// session now, whatever the store says.
	a.cache.invalidate(id)
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	if a.OnLogout != nil {
		a.OnLogout(id, userID)
	}
	return nil
}

// RunJanitor deletes expired sessions every interval until ctx is done, and
// returns ctx's error. Run it in a goroutine owned by main.
func (a *Auth) RunJanitor(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			// A failed sweep is retried next tick; expired sessions are
			// already refused by Get, so nothing is unsafe meanwhile.
			_, _ = a.sessions.DeleteExpired(ctx)
		}
	}
}
