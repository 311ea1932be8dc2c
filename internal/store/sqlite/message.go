package sqlite

import (
	"context"
	"fmt"
	"slices"

	"github.com/herald-chat/herald/internal/store"
)

// Messages is the SQLite implementation of store.MessageStore. It is safe
// for concurrent use.
type Messages struct{ db *DB }

var _ store.MessageStore = (*Messages)(nil)

// Append implements store.MessageStore. The database runs with
// synchronous=FULL, so the commit has reached stable storage when this
// returns.
func (s *Messages) Append(ctx context.Context, m store.Message) (store.Message, error) {
	m.Time = now()
	// An empty Username is filled from the author's account in the same
	// statement; the foreign key rejects an unknown author.
	err := s.db.write.QueryRowContext(ctx,
		`INSERT INTO messages (user_id, username, text, created_at)
		 VALUES (?, COALESCE(NULLIF(?, ''), (SELECT username FROM users WHERE id = ?), ''), ?, ?)
		 RETURNING id, username`,
		m.UserID, m.Username, m.UserID, m.Text, toMillis(m.Time)).Scan(&m.ID, &m.Username)
	if isForeignKeyViolation(err) {
		return store.Message{}, fmt.Errorf("append message: author %d: %w", m.UserID, store.ErrNotFound)
	}
	if err != nil {
		return store.Message{}, fmt.Errorf("append message: %w", err)
	}
	return m, nil
}

// Recent implements store.MessageStore.
func (s *Messages) Recent(ctx context.Context, n int) ([]store.Message, error) {
	if n <= 0 {
		return nil, nil
	}
	rows, err := s.db.read.QueryContext(ctx,
		`SELECT id, user_id, username, text, created_at FROM messages ORDER BY id DESC LIMIT ?`, n)
	if err != nil {
		return nil, fmt.Errorf("recent messages: %w", err)
	}
	defer rows.Close()
	msgs := make([]store.Message, 0, min(n, 256))
	for rows.Next() {
		var (
			m  store.Message
			ms int64
		)
		if err := rows.Scan(&m.ID, &m.UserID, &m.Username, &m.Text, &ms); err != nil {
			return nil, fmt.Errorf("recent messages: %w", err)
		}
		m.Time = fromMillis(ms)
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recent messages: %w", err)
	}
	slices.Reverse(msgs) // newest-first from the index walk; callers want oldest first
	return msgs, nil
}
