package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/herald-chat/herald/internal/store"
)

// Messages is the PostgreSQL implementation of store.MessageStore. It is
// safe for concurrent use.
type Messages struct{ db *DB }

var _ store.MessageStore = (*Messages)(nil)

// appendSQL takes the next id from the message_ids row and inserts the
// message in one statement, hence one transaction: the row stays locked until
// the commit, so concurrent appends on any node commit in id order. An empty
// username is filled from the author's account; the foreign key rejects an
// unknown author (and rolls the id back with everything else).
const appendSQL = `
WITH next AS (
	UPDATE message_ids SET last_id = last_id + 1 RETURNING last_id
)
INSERT INTO messages (id, user_id, username, text, created_at)
SELECT next.last_id, $1,
	COALESCE(NULLIF($2, ''), (SELECT username FROM users WHERE id = $1), ''), $3, $4
FROM next
RETURNING id, username`

// Append implements store.MessageStore. It returns once the insert has
// committed (synchronous_commit=on, the server's default, makes that a
// flush of the server's WAL to disk).
func (s *Messages) Append(ctx context.Context, m store.Message) (store.Message, error) {
	m.Time = now()
	err := s.db.pool.QueryRow(ctx, appendSQL, m.UserID, m.Username, m.Text, m.Time).Scan(&m.ID, &m.Username)
	if isForeignKeyViolation(err) {
		return store.Message{}, fmt.Errorf("append message: author %d: %w", m.UserID, store.ErrNotFound)
	}
	if err != nil {
		return store.Message{}, fmt.Errorf("append message: %w", classify(err))
	}
	return m, nil
}

// Recent implements store.MessageStore.
func (s *Messages) Recent(ctx context.Context, n int) ([]store.Message, error) {
	if n <= 0 {
		return nil, nil
	}
	rows, err := s.db.pool.Query(ctx,
		`SELECT id, user_id, username, text, created_at FROM messages ORDER BY id DESC LIMIT $1`, n)
	if err != nil {
		return nil, fmt.Errorf("recent messages: %w", classify(err))
	}
	defer rows.Close()
	msgs := make([]store.Message, 0, min(n, 256))
	for rows.Next() {
		var m store.Message
		if err := rows.Scan(&m.ID, &m.UserID, &m.Username, &m.Text, &m.Time); err != nil {
			return nil, fmt.Errorf("recent messages: %w", classify(err))
		}
		m.Time = truncate(m.Time)
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recent messages: %w", classify(err))
	}
	slices.Reverse(msgs) // newest-first from the index walk; callers want oldest first
	return msgs, nil
}
