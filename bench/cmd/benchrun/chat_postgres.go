package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/herald-chat/herald/internal/pgtest"
)

// benchPostgres is the throwaway PostgreSQL server of the chat runs with
// -chat-db postgres, started on first use and shared by the runs (each gets
// a fresh database on it).
var benchPostgres struct {
	mu  sync.Mutex
	srv *pgtest.Server
}

// chatDatabase returns the DATABASE_URL the app of one chat run uses and
// the one to seed it through: for SQLite a new file in dir (seeded without
// fsync: the file is closed before the app opens it), for PostgreSQL a new
// database on the harness's server (seeded the way the app writes).
func chatDatabase(ctx context.Context, database, dir string) (appURL, seedURL string, err error) {
	if database != "postgres" {
		path := filepath.Join(dir, "herald.db")
		return path, path + "?_synchronous=OFF", nil
	}
	benchPostgres.mu.Lock()
	defer benchPostgres.mu.Unlock()
	if benchPostgres.srv == nil {
		srv, err := pgtest.New()
		if err != nil {
			return "", "", fmt.Errorf("starting PostgreSQL for -chat-db postgres: %w", err)
		}
		benchPostgres.srv = srv
		fmt.Fprintf(os.Stderr, "benchrun: PostgreSQL for the chat app on 127.0.0.1:%d (unpinned)\n", srv.Port())
	}
	u, err := benchPostgres.srv.CreateDatabase(ctx)
	return u, u, err
}

// stopBenchPostgres stops the chat runs' PostgreSQL server, if one started.
func stopBenchPostgres() {
	benchPostgres.mu.Lock()
	defer benchPostgres.mu.Unlock()
	if benchPostgres.srv != nil {
		benchPostgres.srv.Close()
		benchPostgres.srv = nil
	}
}

// chatDatabaseDesc says where the chat runs' database lives, for the report.
func chatDatabaseDesc(database string) string {
	if database == "postgres" {
		return "its database on a throwaway PostgreSQL server (synchronous_commit on, data in " + tempDirDesc() + ", not pinned: it shares the CPUs with both)"
	}
	return "its SQLite file in " + tempDirDesc()
}
