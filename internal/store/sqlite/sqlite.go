// Package sqlite implements the store interfaces on an embedded SQLite
// database, using the pure-Go modernc.org/sqlite driver so that Herald needs
// no C toolchain and no database server.
//
// The database runs in WAL mode with synchronous=FULL: every committed
// transaction is fsynced before the call that made it returns, so an
// acknowledged chat message survives kill -9 and power loss alike.
//
// Writes go through a pool of exactly one connection. SQLite allows a single
// writer at a time anyway; queuing writers in Go instead of letting them
// collide inside SQLite avoids SQLITE_BUSY storms and lock-upgrade deadlocks
// between our own goroutines. Reads use a separate, larger pool and, thanks to
// WAL, never wait for the writer. busy_timeout still covers contention with
// other processes that open the same file.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"

	"github.com/herald-chat/herald/internal/store"

	// The blank import registers the "sqlite" database/sql driver.
	_ "modernc.org/sqlite"
)

// DefaultPath is the database file used when Open is given an empty DSN.
const DefaultPath = "herald.db"

// DB is an open Herald database. It is safe for concurrent use; the stores it
// hands out share its connection pools. Close it when done.
type DB struct {
	write *sql.DB // exactly one connection: SQLite has a single writer
	read  *sql.DB // may be the same pool as write (in-memory databases)
}

// Open opens (creating if needed) the database named by dsn and brings its
// schema up to date.
//
// dsn may be empty (meaning DefaultPath in the working directory), a plain
// file path ("data/herald.db"), a URL of the form "sqlite://path" (relative)
// or "sqlite:///abs/path", or an SQLite URI filename ("file:herald.db?…").
// Query parameters understood by modernc.org/sqlite may be appended to any
// form and take precedence over Herald's defaults (WAL, synchronous=FULL,
// foreign keys on, a 5 s busy timeout). ":memory:" and "mode=memory" URIs
// give a private in-memory database, which is handy in tests.
func Open(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if err := cfg.ensureDir(); err != nil {
		return nil, err
	}

	write, err := sql.Open("sqlite", cfg.writeDSN())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %q: %w", cfg.name, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0) // an in-memory database lives only as long as its connection
	db := &DB{write: write, read: write}

	if !cfg.memory {
		read, err := sql.Open("sqlite", cfg.readDSN())
		if err != nil {
			_ = write.Close()
			return nil, fmt.Errorf("open sqlite %q: %w", cfg.name, err)
		}
		n := max(4, runtime.GOMAXPROCS(0))
		read.SetMaxOpenConns(n)
		read.SetMaxIdleConns(n)
		db.read = read
	}

	if err := db.migrate(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open sqlite %q: %w", cfg.name, err)
	}
	return db, nil
}

// Close closes the connection pools. Calls in flight may fail.
func (db *DB) Close() error {
	var errRead error
	if db.read != db.write {
		errRead = db.read.Close()
	}
	return errors.Join(db.write.Close(), errRead)
}

// Ping reports whether the database can be reached and written to, for
// health checks.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite: %w", err)
	}
	return nil
}

var _ store.DB = (*DB)(nil)

// Users returns the account store backed by db.
func (db *DB) Users() store.UserStore { return &Users{db: db} }

// Sessions returns the session store backed by db.
func (db *DB) Sessions() store.SessionStore { return &Sessions{db: db} }

// Messages returns the chat history store backed by db.
func (db *DB) Messages() store.MessageStore { return &Messages{db: db} }
