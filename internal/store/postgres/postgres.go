// Package postgres implements the store interfaces on PostgreSQL, through
// the connection pool of github.com/jackc/pgx/v5, for Herald nodes on
// several machines that share one database.
//
// Open applies the embedded, numbered migrations under an advisory lock, so
// any number of nodes may start at once against a fresh database. Every write
// is a single autocommit statement, so when a call returns without error its
// effect is committed: with the server's default
// synchronous_commit=on, an acknowledged chat message survives a crash of the
// node and of the database server.
//
// Errors meaning the server cannot be reached right now (down, restarting,
// refusing connections) wrap store.ErrUnavailable; the pool reconnects by
// itself when the server is back.
package postgres

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/herald-chat/herald/internal/store"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DB is an open Herald database on a PostgreSQL server. It is safe for
// concurrent use; the stores it hands out share its pool. Close it when done.
type DB struct {
	pool     *pgxpool.Pool
	appender *appender // the node's single writer of messages
}

var _ store.DB = (*DB)(nil)

// openTimeout bounds the first connection and the migrations at start-up.
const openTimeout = 30 * time.Second

// Open connects to the database named by url (postgres://user:password@host:port/db?…,
// or postgresql://…; every parameter pgx understands is accepted, such as
// sslmode, connect_timeout and pool_max_conns) and brings its schema up to
// date. It fails at once, with an error saying what to do, when the server
// cannot be reached, refuses the credentials or has no such database. Errors
// never contain the password.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := poolConfig(url)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres %s: %w", Redact(url), err)
	}
	db := &DB{pool: pool}
	octx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	if err := pool.Ping(octx); err != nil {
		pool.Close()
		return nil, explainConnect(cfg, err)
	}
	if err := db.migrate(octx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres %s: %w", Redact(url), err)
	}
	db.appender = newAppender(db)
	return db, nil
}

// poolConfig parses url and fills in Herald's defaults where url says nothing.
func poolConfig(url string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors already hide the password; say which setting it is.
		return nil, fmt.Errorf("DATABASE_URL is not a valid PostgreSQL URL: %w", err)
	}
	if !hasParam(url, "pool_max_conns") {
		// Appends wait for one another (ids commit in order), but reads and the
		// other stores should not queue behind them.
		cfg.MaxConns = int32(max(8, 4*runtime.GOMAXPROCS(0)))
	}
	if !hasParam(url, "connect_timeout") {
		// A server that does not answer must fail start-up and requests
		// quickly, not hang them.
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	// A server that went away leaves dead connections in the pool: check
	// idle ones before use so one outage does not cost one failed request
	// per pooled connection after the server is back.
	cfg.HealthCheckPeriod = 5 * time.Second
	// Connections idle for a second are pinged before use (pgx's default);
	// a dead one must not hold up the request that found it.
	cfg.PingTimeout = 2 * time.Second
	return cfg, nil
}

// Close closes the pool, waiting for connections in use to be returned.
func (db *DB) Close() error {
	db.appender.close()
	db.pool.Close()
	return nil
}

// Ping reports whether the database can be reached and written to, for
// health checks.
func (db *DB) Ping(ctx context.Context) error {
	// A write, not pool.Ping: a server in recovery or read-only would accept
	// a ping and refuse every message.
	if _, err := db.pool.Exec(ctx, `UPDATE message_ids SET last_id = last_id WHERE false`); err != nil {
		return fmt.Errorf("ping postgres: %w", classify(err))
	}
	return nil
}

// Users returns the account store backed by db.
func (db *DB) Users() store.UserStore { return &Users{db: db} }

// Sessions returns the session store backed by db.
func (db *DB) Sessions() store.SessionStore { return &Sessions{db: db} }

// Messages returns the chat history store backed by db.
func (db *DB) Messages() store.MessageStore { return &Messages{db: db} }
