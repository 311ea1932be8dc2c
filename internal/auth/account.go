package auth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/herald-chat/herald/internal/store"
)

// Register creates a password account for a client at clientIP (see
// ClientIP). username is trimmed of surrounding spaces. It returns an
// *InputError for a username or password that breaks the rules and an error
// matching store.ErrUsernameTaken when the name is in use (in any letter
// case); in both cases nothing is created. ErrTooManyAccounts refuses an
// address that has registered Config.Registrations accounts lately, and
// ErrBusy a server too busy hashing passwords.
func (a *Auth) Register(ctx context.Context, username, password, clientIP string) (store.User, error) {
	username = normalizeUsername(username)
	if err := ValidateUsername(username); err != nil {
		return store.User{}, err
	}
	if err := ValidatePassword(password); err != nil {
		return store.User{}, err
	}
	now := a.now()
	if a.signUps.blocked(clientIP, now) {
		return store.User{}, ErrTooManyAccounts
	}
	// Check first so a taken name costs no bcrypt work; the store's unique
	// index still settles races between two registrations.
	switch _, err := a.users.ByUsername(ctx, username); {
	case err == nil:
		return store.User{}, fmt.Errorf("register %q: %w", username, store.ErrUsernameTaken)
	case !errors.Is(err, store.ErrNotFound):
		return store.User{}, fmt.Errorf("register %q: %w", username, err)
	}
	// Counted before hashing: what the limit bounds is the bcrypt work an
	// address can make the server do.
	a.signUps.fail(clientIP, now)
	hash, err := a.HashPassword(ctx, password)
	if err != nil {
		return store.User{}, err
	}
	u, err := a.users.Create(ctx, username, hash)
	if err != nil {
		return store.User{}, fmt.Errorf("register: %w", err)
	}
	a.signedIn.fail(pairKey(strings.ToLower(username), clientIP), now)
	return u, nil
}

// Login checks a username and password typed into the login form, from a
// client at clientIP (see ClientIP). It returns ErrInvalidCredentials for
// any mismatch, without saying which part was wrong, and ErrTooManyAttempts
// once a login limit (see Config.LoginFailures) refuses this attempt; a
// blocked attempt is refused before the password is even checked. ErrBusy
// means the server was too busy hashing passwords to check this one.
func (a *Auth) Login(ctx context.Context, username, password, clientIP string) (store.User, error) {
	username = normalizeUsername(username)
	nameKey := strings.ToLower(username)
	pair := pairKey(nameKey, clientIP)
	now := a.now()
	if a.loginBlocked(nameKey, pair, clientIP, now) {
		return store.User{}, ErrTooManyAttempts
	}

	u, err := a.users.ByUsername(ctx, username)
	switch {
	case errors.Is(err, store.ErrNotFound) || ValidateUsername(username) != nil:
		// As slow as a real check: don't reveal who exists.
		if err := a.burnTime(ctx, password); err != nil {
			return store.User{}, err
		}
		a.loginFailed(nameKey, pair, clientIP, now)
		return store.User{}, ErrInvalidCredentials
	case err != nil:
		return store.User{}, fmt.Errorf("login: %w", err)
	}
	ok := false
	if password != "" {
		if ok, err = a.checkPassword(ctx, u.PasswordHash, password); err != nil {
			return store.User{}, err
		}
	}
	if !ok {
		a.loginFailed(nameKey, pair, clientIP, now)
		return store.User{}, ErrInvalidCredentials
	}
	// Success clears this address's record for the username, and marks the
	// address as one the account signs in from. The address's own record
	// stays: otherwise one address could alternate guesses against others
	// with logins of its own.
	a.byPair.reset(pair)
	a.signedIn.fail(pair, now)
	return u, nil
}

// loginBlocked applies the login limits to an attempt at now.
func (a *Auth) loginBlocked(nameKey, pair, clientIP string, now time.Time) bool {
	if a.byPair.blocked(pair, now) || a.byIP.blocked(clientIP, now) {
		return true
	}
	// Past the username's ceiling only addresses it signed in from lately
	// may try: a flood from elsewhere slows strangers, not the owner.
	return a.byName.blocked(nameKey, now) && !a.signedIn.blocked(pair, now)
}

func (a *Auth) loginFailed(nameKey, pair, clientIP string, now time.Time) {
	a.byPair.fail(pair, now)
	a.byIP.fail(clientIP, now)
	a.byName.fail(nameKey, now)
}

// pairKey is the limiter key of a username (lower-cased) at a client
// address. The name's length leads, so that two pairs never share a key
// whatever bytes an unchecked name holds.
func pairKey(nameKey, clientIP string) string {
	return strconv.Itoa(len(nameKey)) + ":" + nameKey + clientIP
}
