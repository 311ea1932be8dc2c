package sqlite

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// dsnConfig is a parsed Open argument: where the database lives and the
// driver query parameters the caller supplied.
type dsnConfig struct {
	name   string     // the path or "file:" URI, without query
	uri    bool       // name is an SQLite URI ("file:…")
	memory bool       // a private in-memory database
	query  url.Values // caller's parameters; they win over defaults
}

// defaults are the connection settings Herald relies on. Each is applied to
// every new connection by the driver.
var defaults = [...][2]string{
	{"_busy_timeout", "5000"}, // wait for other processes' write locks
	{"_journal_mode", "WAL"},  // readers never block the writer
	{"_synchronous", "FULL"},  // fsync each commit: an ack means durable
	{"_foreign_keys", "1"},    // enforce REFERENCES clauses
	{"_txlock", "immediate"},  // take the write lock at BEGIN, not mid-transaction
}

func parseDSN(dsn string) (dsnConfig, error) {
	dsn = strings.TrimSpace(dsn)
	for _, scheme := range []string{"sqlite://", "sqlite3://"} {
		if len(dsn) >= len(scheme) && strings.EqualFold(dsn[:len(scheme)], scheme) {
			dsn = dsn[len(scheme):]
			break
		}
	}
	if dsn == "" {
		dsn = DefaultPath
	}

	var cfg dsnConfig
	name, rawQuery, _ := strings.Cut(dsn, "?")
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return dsnConfig{}, fmt.Errorf("sqlite dsn %q: bad query: %w", dsn, err)
	}
	cfg.name = name
	cfg.query = q
	cfg.uri = strings.HasPrefix(name, "file:")
	cfg.memory = name == ":memory:" || name == "file::memory:" || q.Get("mode") == "memory"
	if name == "" || name == "file:" {
		return dsnConfig{}, fmt.Errorf("sqlite dsn %q: no database path", dsn)
	}
	return cfg, nil
}

func (c dsnConfig) writeDSN() string { return c.build(nil) }

// readDSN marks reader connections query-only so that a write sent to the
// wrong pool fails loudly instead of racing the single writer.
func (c dsnConfig) readDSN() string { return c.build([][2]string{{"_query_only", "1"}}) }

func (c dsnConfig) build(extra [][2]string) string {
	q := url.Values{}
	for k, v := range c.query {
		q[k] = v
	}
	for _, kv := range append(defaults[:], extra...) {
		if !q.Has(kv[0]) {
			q.Set(kv[0], kv[1])
		}
	}
	return c.name + "?" + q.Encode()
}

// ensureDir creates the directory of a plain database path, so that
// "-db data/herald.db" works on a fresh checkout.
func (c dsnConfig) ensureDir() error {
	if c.memory || c.uri {
		return nil
	}
	dir := filepath.Dir(c.name)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create database directory: %w", err)
	}
	return nil
}
