package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/herald-chat/herald/internal/store"
	"github.com/jackc/pgx/v5"
)

// maxSuffixAttempts bounds the search for a free "name2", "name3", … so a
// pathological table cannot make a sign-in loop forever.
const maxSuffixAttempts = 10000

// Users is the PostgreSQL implementation of store.UserStore. It is safe for
// concurrent use.
type Users struct{ db *DB }

var _ store.UserStore = (*Users)(nil)

const userColumns = `id, username, password_hash, github_id, created_at`

func scanUser(row pgx.Row) (store.User, error) {
	var (
		u        store.User
		githubID *int64
	)
	if err := row.Scan(&u.ID, &u.Username, &u.PasswordHash, &githubID, &u.CreatedAt); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return store.User{}, store.ErrNotFound
		}
		return store.User{}, classify(err)
	}
	if githubID != nil {
		u.GitHubID = *githubID
	}
	u.CreatedAt = truncate(u.CreatedAt)
	return u, nil
}

// Create implements store.UserStore.
func (s *Users) Create(ctx context.Context, username, passwordHash string) (store.User, error) {
	u := store.User{Username: username, PasswordHash: passwordHash, CreatedAt: now()}
	err := s.db.pool.QueryRow(ctx,
		`INSERT INTO users (username, password_hash, created_at) VALUES ($1, $2, $3) RETURNING id`,
		u.Username, u.PasswordHash, u.CreatedAt).Scan(&u.ID)
	if isUniqueViolation(err) {
		return store.User{}, fmt.Errorf("create user %q: %w", username, store.ErrUsernameTaken)
	}
	if err != nil {
		return store.User{}, fmt.Errorf("create user %q: %w", username, classify(err))
	}
	return u, nil
}

// ByID implements store.UserStore.
func (s *Users) ByID(ctx context.Context, id int64) (store.User, error) {
	u, err := scanUser(s.db.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil {
		return store.User{}, fmt.Errorf("user %d: %w", id, err)
	}
	return u, nil
}

// ByUsername implements store.UserStore.
func (s *Users) ByUsername(ctx context.Context, username string) (store.User, error) {
	// lower() on both sides matches the unique index users_username_lower.
	u, err := scanUser(s.db.pool.QueryRow(ctx,
		`SELECT `+userColumns+` FROM users WHERE lower(username) = lower($1)`, username))
	if err != nil {
		return store.User{}, fmt.Errorf("user %q: %w", username, err)
	}
	return u, nil
}

// ByGitHubID implements store.UserStore.
func (s *Users) ByGitHubID(ctx context.Context, githubID int64) (store.User, error) {
	u, err := scanUser(s.db.pool.QueryRow(ctx,
		`SELECT `+userColumns+` FROM users WHERE github_id = $1`, githubID))
	if err != nil {
		return store.User{}, fmt.Errorf("github user %d: %w", githubID, err)
	}
	return u, nil
}

// CreateGitHubUser implements store.UserStore. Nodes may race on it: each
// candidate name is tried with an insert that does nothing on conflict (with
// the name, or with a GitHub id another node just linked), and the unique
// indexes settle who wins. After a conflict the GitHub id is looked up again,
// so a concurrent first sign-in of the same account is found instead of
// duplicated.
func (s *Users) CreateGitHubUser(ctx context.Context, githubID int64, username string) (store.User, error) {
	if githubID <= 0 {
		return store.User{}, fmt.Errorf("create github user: invalid github id %d", githubID)
	}
	if username == "" {
		return store.User{}, errors.New("create github user: empty username")
	}
	existing, err := s.ByGitHubID(ctx, githubID)
	switch {
	case err == nil:
		return existing, nil
	case !errors.Is(err, store.ErrNotFound):
		return store.User{}, fmt.Errorf("create github user %d: %w", githubID, err)
	}

	u := store.User{GitHubID: githubID, CreatedAt: now()}
	for n := 1; n <= maxSuffixAttempts; n++ {
		candidate := store.SuffixedUsername(username, n)
		var taken bool
		if err := s.db.pool.QueryRow(ctx,
			`SELECT EXISTS (SELECT 1 FROM users WHERE lower(username) = lower($1))`, candidate).Scan(&taken); err != nil {
			return store.User{}, fmt.Errorf("create github user %d: %w", githubID, classify(err))
		}
		if taken {
			continue
		}
		u.Username = candidate
		err := s.db.pool.QueryRow(ctx,
			`INSERT INTO users (username, github_id, created_at) VALUES ($1, $2, $3)
			 ON CONFLICT DO NOTHING RETURNING id`,
			u.Username, u.GitHubID, u.CreatedAt).Scan(&u.ID)
		if err == nil {
			return u, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return store.User{}, fmt.Errorf("create github user %d: %w", githubID, classify(err))
		}
		// A conflict: another node took the name, or linked this GitHub id.
		existing, err := s.ByGitHubID(ctx, githubID)
		switch {
		case err == nil:
			return existing, nil
		case !errors.Is(err, store.ErrNotFound):
			return store.User{}, fmt.Errorf("create github user %d: %w", githubID, err)
		}
	}
	return store.User{}, fmt.Errorf("create github user %d: no free variant of %q: %w",
		githubID, username, store.ErrUsernameTaken)
}
