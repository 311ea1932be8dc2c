package store

import "context"

// DB is an open database: the union of the stores the program uses, plus its
// health check and Close. Both backends (store/sqlite, store/postgres)
// implement it, and main holds the database only through it, so nothing else
// in the program knows which backend it has. It is safe for concurrent use.
type DB interface {
	// Users returns the account store backed by this database.
	Users() UserStore
	// Sessions returns the session store backed by this database.
	Sessions() SessionStore
	// Messages returns the chat history store backed by this database.
	Messages() MessageStore
	// Ping reports whether the database can be reached and written to, for
	// health checks. When it cannot, the error wraps ErrUnavailable.
	Ping(ctx context.Context) error
	// Close releases the database's connections. Calls in flight may fail.
	Close() error
}
