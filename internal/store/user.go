package store

import (
	"context"
	"time"
)

// User is an account. A user signs in with a password, with GitHub, or both.
type User struct {
	// ID is the user's stable numeric identity, assigned by the store.
	ID int64
	// Username is unique without regard to case and is shown to others.
	Username string
	// PasswordHash is the encoded password hash (bcrypt), or empty for an
	// account that can only sign in through GitHub.
	PasswordHash string
	// GitHubID is the numeric GitHub account id linked to this user, or 0.
	GitHubID int64
	// CreatedAt is when the account was created.
	CreatedAt time.Time
}

// UserStore persists accounts. Implementations are safe for concurrent use.
type UserStore interface {
	// Create stores a new password account and returns it with ID and
	// CreatedAt set. It fails with ErrUsernameTaken when the username is
	// in use, in any letter case.
	Create(ctx context.Context, username, passwordHash string) (User, error)
	// ByID returns the user with the given id, or ErrNotFound.
	ByID(ctx context.Context, id int64) (User, error)
	// ByUsername returns the user whose username equals username without
	// regard to case, or ErrNotFound.
	ByUsername(ctx context.Context, username string) (User, error)
	// ByGitHubID returns the user linked to the GitHub account githubID,
	// or ErrNotFound.
	ByGitHubID(ctx context.Context, githubID int64) (User, error)
	// CreateGitHubUser creates an account linked to githubID, named
	// username when that is free and otherwise username followed by the
	// smallest number (2, 3, …) that makes it free, shortened so the
	// result fits MaxUsernameLen. If an account is already linked to
	// githubID (say, a concurrent first sign-in won the race) it returns
	// that account instead of creating a second one.
	CreateGitHubUser(ctx context.Context, githubID int64, username string) (User, error)
}
