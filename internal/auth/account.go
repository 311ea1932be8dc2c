package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/herald-chat/herald/internal/store"
)

// Register creates a password account. username is trimmed of surrounding
// spaces. It returns an *InputError for a username or password that breaks
// the rules and an error matching store.ErrUsernameTaken when the name is in
// use (in any letter case); in both cases nothing is created.
func (a *Auth) Register(ctx context.Context, username, password string) (store.User, error) {
	username = normalizeUsername(username)
	if err := ValidateUsername(username); err != nil {
		return store.User{}, err
	}
	if err := ValidatePassword(password); err != nil {
		return store.User{}, err
	}
	// Check first so a taken name costs no bcrypt work; the store's unique
	// index still settles races between two registrations.
	switch _, err := a.users.ByUsername(ctx, username); {
	case err == nil:
		return store.User{}, fmt.Errorf("register %q: %w", username, store.ErrUsernameTaken)
	case !errors.Is(err, store.ErrNotFound):
		return store.User{}, fmt.Errorf("register %q: %w", username, err)
	}
	hash, err := a.HashPassword(password)
	if err != nil {
		return store.User{}, err
	}
	u, err := a.users.Create(ctx, username, hash)
	if err != nil {
		return store.User{}, fmt.Errorf("register: %w", err)
	}
	return u, nil
}

// Login checks a username and password typed into the login form, from a
// client at clientIP (see ClientIP). It returns ErrInvalidCredentials for
// any mismatch, without saying which part was wrong, and ErrTooManyAttempts
// once that username or that IP has failed too often lately; a blocked
// attempt is refused before the password is even checked.
func (a *Auth) Login(ctx context.Context, username, password, clientIP string) (store.User, error) {
	username = normalizeUsername(username)
	nameKey := strings.ToLower(username)
	now := a.now()
	if a.byName.blocked(nameKey, now) || a.byIP.blocked(clientIP, now) {
		return store.User{}, ErrTooManyAttempts
	}

	u, err := a.users.ByUsername(ctx, username)
	switch {
	case errors.Is(err, store.ErrNotFound) || ValidateUsername(username) != nil:
		a.burnTime(password) // as slow as a real check: don't reveal who exists
		a.loginFailed(nameKey, clientIP, now)
		return store.User{}, ErrInvalidCredentials
	case err != nil:
		return store.User{}, fmt.Errorf("login: %w", err)
	}
	if password == "" || !a.checkPassword(u.PasswordHash, password) {
		a.loginFailed(nameKey, clientIP, now)
		return store.User{}, ErrInvalidCredentials
	}
	// Success clears the username's record but not the IP's: otherwise one
	// address could alternate guesses against others with logins of its own.
	a.byName.reset(nameKey)
	return u, nil
}

func (a *Auth) loginFailed(nameKey, clientIP string, now time.Time) {
	a.byName.fail(nameKey, now)
	a.byIP.fail(clientIP, now)
}
