// Package store holds Herald's persistent domain types and the small
// interfaces through which the rest of the program reads and writes them.
//
// It has no dependencies beyond the standard library and knows nothing of
// SQL: backends live in sub-packages (store/sqlite, store/postgres) and
// implement the interfaces declared here; store/dburl picks one from
// DATABASE_URL, and store/storetest is the contract suite both run. Code
// that needs persistence should depend on the narrowest interface it uses,
// so that a test can hand it a fake and main can swap backends.
package store

import "errors"

// ErrNotFound is returned (possibly wrapped) when a looked-up record does not
// exist, or, for sessions, has expired. Test for it with errors.Is.
var ErrNotFound = errors.New("not found")

// ErrUsernameTaken is returned (possibly wrapped) when creating a user whose
// username is already in use. Usernames are unique without regard to case,
// so "Alice" is taken once "alice" exists. Its text is fit to show a user.
var ErrUsernameTaken = errors.New("username already taken")

// MaxUsernameLen is the longest username, in bytes, that the store accepts
// and that CreateGitHubUser will generate when it appends a numeric suffix.
// The account rules in package auth use the same limit.
const MaxUsernameLen = 32

// ErrUnavailable is returned (wrapped) when the database cannot be reached
// right now: the server is down, restarting or out of connections. The
// request may succeed later; HTTP handlers answer it with 503.
var ErrUnavailable = errors.New("database unavailable")
