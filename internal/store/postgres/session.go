package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/herald-chat/herald/internal/store"
	"github.com/jackc/pgx/v5"
)

// Sessions is the PostgreSQL implementation of store.SessionStore. It is
// safe for concurrent use.
type Sessions struct{ db *DB }

var _ store.SessionStore = (*Sessions)(nil)

// Create implements store.SessionStore.
func (s *Sessions) Create(ctx context.Context, sess store.Session) error {
	if sess.ID == "" {
		return errors.New("create session: empty id")
	}
	_, err := s.db.pool.Exec(ctx,
		`INSERT INTO sessions (id, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		sess.ID, sess.UserID, sess.CSRFToken, truncate(sess.CreatedAt), truncate(sess.ExpiresAt))
	if isForeignKeyViolation(err) {
		return fmt.Errorf("create session: user %d: %w", sess.UserID, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("create session: %w", classify(err))
	}
	return nil
}

// Get implements store.SessionStore.
func (s *Sessions) Get(ctx context.Context, id string) (store.Session, error) {
	var sess store.Session
	err := s.db.pool.QueryRow(ctx,
		`SELECT id, user_id, csrf_token, created_at, expires_at FROM sessions
		 WHERE id = $1 AND expires_at > $2`, id, now()).
		Scan(&sess.ID, &sess.UserID, &sess.CSRFToken, &sess.CreatedAt, &sess.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Session{}, fmt.Errorf("session: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("session: %w", classify(err))
	}
	sess.CreatedAt = truncate(sess.CreatedAt)
	sess.ExpiresAt = truncate(sess.ExpiresAt)
	return sess, nil
}

// Delete implements store.SessionStore.
func (s *Sessions) Delete(ctx context.Context, id string) error {
	if _, err := s.db.pool.Exec(ctx, `DELETE FROM sessions WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete session: %w", classify(err))
	}
	return nil
}

// DeleteExpired implements store.SessionStore.
func (s *Sessions) DeleteExpired(ctx context.Context) (int64, error) {
	tag, err := s.db.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, now())
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", classify(err))
	}
	return tag.RowsAffected(), nil
}
