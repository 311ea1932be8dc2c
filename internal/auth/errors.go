package auth

import "errors"

// InputError is a value typed by a user that breaks an account rule. Its
// message is written for that user; show it as is. Check for it with
// errors.As; the package's Err* variables of this type can also be matched
// with errors.Is.
type InputError struct{ msg string }

// Error returns the user-facing message.
func (e *InputError) Error() string { return e.msg }

// Input rules for usernames and passwords.
var (
	ErrUsernameRequired = &InputError{"username is required"}
	ErrUsernameLength   = &InputError{"username must be 3 to 32 characters long"}
	ErrUsernameChars    = &InputError{"username may contain only letters, digits, _ and -"}
	ErrPasswordRequired = &InputError{"password is required"}
	ErrPasswordTooShort = &InputError{"password must be at least 8 characters long"}
	ErrPasswordTooLong  = &InputError{"password must be at most 72 bytes long"}
)

// Errors of sign-in. Their messages are fit to show a user; ErrInvalidCredentials
// deliberately does not say whether the username or the password was wrong.
var (
	ErrInvalidCredentials = errors.New("invalid username or password")
	ErrTooManyAttempts    = errors.New("too many attempts, try again later")
	// ErrTooManyAccounts refuses a registration from an address that has
	// registered too many accounts lately.
	ErrTooManyAccounts = errors.New("too many new accounts from your address, try again later")
	// ErrBusy means every bcrypt slot stayed taken for the whole wait: the
	// server is busy hashing passwords. Show it with status 503.
	ErrBusy = errors.New("the server is busy, try again in a moment")
)

// Errors of form protection; show them with status 403.
var (
	ErrCSRF          = errors.New("this form has expired or was not sent by Herald; reload the page and try again")
	ErrForeignOrigin = errors.New("cross-site form submission refused")
)

// Errors of GitHub sign-in that are the browser's fault rather than
// GitHub's; show them with status 400. Other GitHubCallback errors mean
// GitHub could not be reached or answered oddly.
var (
	ErrOAuthState      = errors.New("invalid or expired GitHub sign-in attempt (state mismatch); please try again")
	ErrOAuthIncomplete = errors.New("GitHub sign-in was cancelled or did not complete; please try again")
	ErrGitHubDisabled  = errors.New("GitHub sign-in is not configured")
)
