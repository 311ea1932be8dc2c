package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/herald-chat/herald/internal/store"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// SQLSTATE codes Herald reacts to
// (https://www.postgresql.org/docs/current/errcodes-appendix.html).
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
	codeInvalidPassword     = "28P01"
	codeInvalidAuthSpec     = "28000"
	codeInvalidCatalogName  = "3D000" // no such database
	codeTooManyConnections  = "53300"
	codeAdminShutdown       = "57P01"
	codeCrashShutdown       = "57P02"
	codeCannotConnectNow    = "57P03" // starting up, shutting down, in recovery
	codeReadOnlyTransaction = "25006" // a standby, or default_transaction_read_only
)

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func isUniqueViolation(err error) bool     { return pgCode(err) == codeUniqueViolation }
func isForeignKeyViolation(err error) bool { return pgCode(err) == codeForeignKeyViolation }

// isUnavailable reports whether err means the server cannot serve us right
// now, as opposed to refusing this particular request: the request may work
// once the server is back.
func isUnavailable(err error) bool {
	switch code := pgCode(err); {
	case strings.HasPrefix(code, "08"), // connection exception
		code == codeTooManyConnections, code == codeAdminShutdown,
		code == codeCrashShutdown, code == codeCannotConnectNow, code == codeReadOnlyTransaction:
		return true
	case code != "":
		return false // the server answered, and refused this statement
	}
	var (
		connectErr *pgconn.ConnectError
		netErr     net.Error
	)
	return errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded) ||
		pgconn.Timeout(err) || pgconn.SafeToRetry(err) ||
		strings.Contains(err.Error(), "conn closed")
}

// classify marks err with store.ErrUnavailable when it means the server is
// unreachable, so callers can answer 503 / "try again".
func classify(err error) error {
	if err == nil || !isUnavailable(err) {
		return err
	}
	return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
}

// explainConnect turns a failure of the first connection into a message
// that says what is wrong and what to do. It never includes the password.
func explainConnect(cfg *pgxpool.Config, err error) error {
	cc := cfg.ConnConfig
	where := net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port)))
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case codeInvalidPassword:
			return fmt.Errorf("PostgreSQL at %s refused the password of user %q: check the user and password in DATABASE_URL", where, cc.User)
		case codeInvalidAuthSpec:
			return fmt.Errorf("PostgreSQL at %s refused user %q (%s): check the user in DATABASE_URL and the server's pg_hba.conf", where, cc.User, pe.Message)
		case codeInvalidCatalogName:
			return fmt.Errorf("PostgreSQL at %s has no database %q: create it first, e.g. `createdb -h %s -p %d -U %s %s` or `CREATE DATABASE %s;` in psql",
				where, cc.Database, cc.Host, cc.Port, cc.User, cc.Database, pgIdent(cc.Database))
		}
		return fmt.Errorf("PostgreSQL at %s refused the connection: %s (SQLSTATE %s)", where, pe.Message, pe.Code)
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) || isUnavailable(err) {
		return fmt.Errorf("cannot reach PostgreSQL at %s: %w (is the server running, and are DATABASE_URL's host and port right?): %w",
			where, store.ErrUnavailable, rootCause(err))
	}
	return fmt.Errorf("connecting to PostgreSQL at %s: %w", where, err)
}

// rootCause is the innermost error of a chain, without pgx's prefix (which
// repeats the user and database).
func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// pgIdent quotes a database name for the psql hint when it needs quoting.
func pgIdent(name string) string {
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
		}
	}
	return name
}
