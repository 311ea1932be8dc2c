package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// migrations are applied in order; migrations[i] takes the schema from
// version i to version i+1. Never edit or reorder a released migration:
// append a new one.
var migrations = [][]string{
	// 1: users, sessions and the chat history.
	{
		`CREATE TABLE users (
			id            INTEGER PRIMARY KEY AUTOINCREMENT,
			username      TEXT    NOT NULL UNIQUE COLLATE NOCASE,
			password_hash TEXT    NOT NULL DEFAULT '',
			github_id     INTEGER UNIQUE, -- NULL when not linked
			created_at    INTEGER NOT NULL -- unix milliseconds
		)`,
		`CREATE TABLE sessions (
			id         TEXT    PRIMARY KEY, -- hex SHA-256 of the cookie token
			user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
			csrf_token TEXT    NOT NULL,
			created_at INTEGER NOT NULL,
			expires_at INTEGER NOT NULL
		) WITHOUT ROWID`,
		`CREATE INDEX sessions_expires_at ON sessions(expires_at)`,
		`CREATE INDEX sessions_user_id ON sessions(user_id)`,
		// AUTOINCREMENT so that ids are never reused: clients de-duplicate
		// by id across reconnects.
		`CREATE TABLE messages (
			id         INTEGER PRIMARY KEY AUTOINCREMENT,
			user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
			username   TEXT    NOT NULL,
			text       TEXT    NOT NULL,
			created_at INTEGER NOT NULL
		)`,
		`CREATE INDEX messages_user_id ON messages(user_id)`,
	},
}

// migrate brings the schema up to date in one immediate transaction, so two
// processes opening a fresh file at once cannot both apply a migration.
func (db *DB) migrate(ctx context.Context) (err error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()

	if _, err := tx.ExecContext(ctx,
		`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: create schema_version: %w", err)
	}
	var version int
	err = tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&version)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
			return fmt.Errorf("migrate: init schema_version: %w", err)
		}
	case err != nil:
		return fmt.Errorf("migrate: read schema_version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("migrate: database schema version %d is newer than this program understands (%d)",
			version, len(migrations))
	}

	for i := version; i < len(migrations); i++ {
		for _, stmt := range migrations[i] {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migrate: to version %d: %w", i+1, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, len(migrations)); err != nil {
		return fmt.Errorf("migrate: set version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}
