package store

import (
	"context"
	"time"
)

// Session is a signed-in browser. The browser holds a random token in a
// cookie; the store only ever sees a hash of it, so a leaked database does
// not let anyone impersonate its users.
type Session struct {
	// ID is the hex SHA-256 of the cookie token, never the token itself.
	// It is not secret, so it is also what other parts of the program use
	// to name a session (for example to disconnect its sockets at logout).
	ID string
	// UserID is the signed-in user.
	UserID int64
	// CSRFToken is the per-session token that forms of a signed-in user
	// must echo back.
	CSRFToken string
	// CreatedAt is when the session started.
	CreatedAt time.Time
	// ExpiresAt is when the session stops being valid.
	ExpiresAt time.Time
}

// SessionStore persists sessions. Implementations are safe for concurrent
// use.
type SessionStore interface {
	// Create stores s. The caller sets every field.
	Create(ctx context.Context, s Session) error
	// Get returns the session with the given id, or ErrNotFound when there
	// is none or it has expired.
	Get(ctx context.Context, id string) (Session, error)
	// Delete removes the session with the given id. Deleting a session
	// that does not exist is not an error, so logout is idempotent.
	Delete(ctx context.Context, id string) error
	// DeleteExpired removes every expired session and reports how many it
	// removed.
	DeleteExpired(ctx context.Context) (int64, error)
}
