package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/herald-chat/herald/internal/store"
)

// Messages is the PostgreSQL implementation of store.MessageStore. It is
// safe for concurrent use.
type Messages struct{ db *DB }

var _ store.MessageStore = (*Messages)(nil)

// Append implements store.MessageStore. It returns once the message's
// insert has committed (synchronous_commit=on, the server's default, makes
// that a flush of the server's WAL to disk). Messages appended at once on a
// node share one insert and one commit: see appender.
func (s *Messages) Append(ctx context.Context, m store.Message) (store.Message, error) {
	// PostgreSQL's text holds neither NUL nor invalid UTF-8; refuse them here,
	// before the message joins a batch that they would make fail whole.
	if err := storable(m.Text); err != nil {
		return store.Message{}, fmt.Errorf("append message: text %w", err)
	}
	if err := storable(m.Username); err != nil {
		return store.Message{}, fmt.Errorf("append message: username %w", err)
	}
	return s.db.appender.append(ctx, m)
}

// storable reports why PostgreSQL's text type could not hold s, if it could not.
func storable(s string) error {
	switch {
	case !utf8.ValidString(s):
		return errors.New("is not valid UTF-8")
	case strings.IndexByte(s, 0) >= 0:
		return errors.New("contains a NUL character")
	}
	return nil
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
