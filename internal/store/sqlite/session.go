package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/herald-chat/herald/internal/store"
)

// Sessions is the SQLite implementation of store.SessionStore. It is safe
// for concurrent use.
type Sessions struct{ db *DB }

var _ store.SessionStore = (*Sessions)(nil)

// Create implements store.SessionStore.
func (s *Sessions) Create(ctx context.Context, sess store.Session) error {
	if sess.ID == "" {
		return errors.New("create session: empty id")
	}
	_, err := s.db.write.ExecContext(ctx,
		`INSERT INTO sessions (id, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		sess.ID, sess.UserID, sess.CSRFToken, toMillis(sess.CreatedAt), toMillis(sess.ExpiresAt))
	if isForeignKeyViolation(err) {
		return fmt.Errorf("create session: user %d: %w", sess.UserID, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// Get implements store.SessionStore.
func (s *Sessions) Get(ctx context.Context, id string) (store.Session, error) {
	var (
		sess             store.Session
		created, expires int64
	)
	err := s.db.read.QueryRowContext(ctx,
		`SELECT id, user_id, csrf_token, created_at, expires_at FROM sessions
		 WHERE id = ? AND expires_at > ?`, id, toMillis(now())).
		Scan(&sess.ID, &sess.UserID, &sess.CSRFToken, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Session{}, fmt.Errorf("session: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("session: %w", err)
	}
	sess.CreatedAt = fromMillis(created)
	sess.ExpiresAt = fromMillis(expires)
	return sess, nil
}

// Delete implements store.SessionStore.
func (s *Sessions) Delete(ctx context.Context, id string) error {
	if _, err := s.db.write.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteExpired implements store.SessionStore.
func (s *Sessions) DeleteExpired(ctx context.Context) (int64, error) {
	res, err := s.db.write.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, toMillis(now()))
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return n, nil
}
