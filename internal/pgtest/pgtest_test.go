package pgtest

import (
	"context"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

func TestNewDatabaseIsEmptyAndSeparate(t *testing.T) {
	ctx := context.Background()
	a, b := NewDatabase(t), NewDatabase(t)
	if a == b {
		t.Fatalf("two databases with one URL %s", a)
	}
	ca, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close(ctx)
	if _, err := ca.Exec(ctx, `CREATE TABLE t (x int)`); err != nil {
		t.Fatal(err)
	}
	cb, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close(ctx)
	var n int
	if err := cb.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE tablename = 't'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("table of database a visible in b: n=%d err=%v", n, err)
	}
}

func TestStopAndRestartKeepsData(t *testing.T) {
	ctx := context.Background()
	s := Start(t)
	dbURL, err := s.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, `CREATE TABLE t (x int); INSERT INTO t VALUES (7)`); err != nil {
		t.Fatal(err)
	}
	c.Close(ctx)

	s.Kill()
	if _, err := pgx.Connect(ctx, dbURL); err == nil {
		t.Fatal("connected to a killed server")
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	c, err = pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("after restart on port %d: %v", s.Port(), err)
	}
	defer c.Close(ctx)
	var x int
	if err := c.QueryRow(ctx, `SELECT x FROM t`).Scan(&x); err != nil || x != 7 {
		t.Errorf("after restart x=%d err=%v, want 7", x, err)
	}
}

func TestWrongPasswordIsRefused(t *testing.T) {
	s := Shared(t)
	ctx := context.Background()
	u := "postgres://" + User + ":wrong@127.0.0.1:" + itoa(s.Port()) + "/postgres?sslmode=disable"
	if c, err := pgx.Connect(ctx, u); err == nil {
		c.Close(ctx)
		t.Fatal("connected with a wrong password")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
