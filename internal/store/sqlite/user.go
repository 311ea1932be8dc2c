package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/herald-chat/herald/internal/store"
)

// maxSuffixAttempts bounds the search for a free "name2", "name3", … so a
// pathological table cannot make a sign-in loop forever.
const maxSuffixAttempts = 10000

// Users is the SQLite implementation of store.UserStore. It is safe for
// concurrent use.
type Users struct{ db *DB }

var _ store.UserStore = (*Users)(nil)

const userColumns = `id, username, password_hash, github_id, created_at`

// queryer is what both *sql.DB and *sql.Tx offer for single-row reads.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func scanUser(row *sql.Row) (store.User, error) {
	var (
		u        store.User
		githubID sql.NullInt64
		created  int64
	)
	if err := row.Scan(&u.ID, &u.Username, &u.PasswordHash, &githubID, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return store.User{}, store.ErrNotFound
		}
		return store.User{}, err
	}
	u.GitHubID = githubID.Int64
	u.CreatedAt = fromMillis(created)
	return u, nil
}

// Create implements store.UserStore.
func (s *Users) Create(ctx context.Context, username, passwordHash string) (store.User, error) {
	u := store.User{Username: username, PasswordHash: passwordHash, CreatedAt: now()}
	err := s.db.write.QueryRowContext(ctx,
		`INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?) RETURNING id`,
		u.Username, u.PasswordHash, toMillis(u.CreatedAt)).Scan(&u.ID)
	if isUniqueViolation(err) {
		return store.User{}, fmt.Errorf("create user %q: %w", username, store.ErrUsernameTaken)
	}
	if err != nil {
		return store.User{}, fmt.Errorf("create user %q: %w", username, err)
	}
	return u, nil
}

// ByID implements store.UserStore.
func (s *Users) ByID(ctx context.Context, id int64) (store.User, error) {
	u, err := scanUser(s.db.read.QueryRowContext(ctx,
		`SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if err != nil {
		return store.User{}, fmt.Errorf("user %d: %w", id, err)
	}
	return u, nil
}

// ByUsername implements store.UserStore.
func (s *Users) ByUsername(ctx context.Context, username string) (store.User, error) {
	// The column's NOCASE collation makes this comparison case-insensitive
	// and lets it use the UNIQUE index.
	u, err := scanUser(s.db.read.QueryRowContext(ctx,
		`SELECT `+userColumns+` FROM users WHERE username = ?`, username))
	if err != nil {
		return store.User{}, fmt.Errorf("user %q: %w", username, err)
	}
	return u, nil
}

// ByGitHubID implements store.UserStore.
func (s *Users) ByGitHubID(ctx context.Context, githubID int64) (store.User, error) {
	u, err := byGitHubID(ctx, s.db.read, githubID)
	if err != nil {
		return store.User{}, fmt.Errorf("github user %d: %w", githubID, err)
	}
	return u, nil
}

func byGitHubID(ctx context.Context, q queryer, githubID int64) (store.User, error) {
	return scanUser(q.QueryRowContext(ctx,
		`SELECT `+userColumns+` FROM users WHERE github_id = ?`, githubID))
}

// CreateGitHubUser implements store.UserStore. The lookup, the search for a
// free name and the insert share one write transaction, so concurrent first
// sign-ins cannot create two accounts for one GitHub id or collide on a name.
func (s *Users) CreateGitHubUser(ctx context.Context, githubID int64, username string) (u store.User, err error) {
	if githubID <= 0 {
		return store.User{}, fmt.Errorf("create github user: invalid github id %d", githubID)
	}
	if username == "" {
		return store.User{}, errors.New("create github user: empty username")
	}
	tx, err := s.db.write.BeginTx(ctx, nil)
	if err != nil {
		return store.User{}, fmt.Errorf("create github user: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()

	existing, err := byGitHubID(ctx, tx, githubID)
	switch {
	case err == nil:
		if err := tx.Commit(); err != nil {
			return store.User{}, fmt.Errorf("create github user %d: commit: %w", githubID, err)
		}
		return existing, nil
	case !errors.Is(err, store.ErrNotFound):
		return store.User{}, fmt.Errorf("create github user %d: %w", githubID, err)
	}

	u = store.User{GitHubID: githubID, CreatedAt: now()}
	for n := 1; n <= maxSuffixAttempts; n++ {
		candidate := store.SuffixedUsername(username, n)
		var taken bool
		if err := tx.QueryRowContext(ctx,
			`SELECT EXISTS (SELECT 1 FROM users WHERE username = ?)`, candidate).Scan(&taken); err != nil {
			return store.User{}, fmt.Errorf("create github user %d: %w", githubID, err)
		}
		if taken {
			continue
		}
		u.Username = candidate
		if err := tx.QueryRowContext(ctx,
			`INSERT INTO users (username, github_id, created_at) VALUES (?, ?, ?) RETURNING id`,
			u.Username, u.GitHubID, toMillis(u.CreatedAt)).Scan(&u.ID); err != nil {
			return store.User{}, fmt.Errorf("create github user %d: %w", githubID, err)
		}
		if err := tx.Commit(); err != nil {
			return store.User{}, fmt.Errorf("create github user %d: commit: %w", githubID, err)
		}
		return u, nil
	}
	return store.User{}, fmt.Errorf("create github user %d: no free variant of %q: %w",
		githubID, username, store.ErrUsernameTaken)
}
