package auth

import (
	"strings"

	"github.com/herald-chat/herald/internal/store"
)

// Username rules: MinUsernameLen to MaxUsernameLen ASCII letters, digits,
// '_' and '-'. ASCII only, so that look-alike letters from other scripts
// cannot impersonate someone, and so that case-insensitive uniqueness means
// the same thing everywhere.
const (
	MinUsernameLen = 3
	MaxUsernameLen = store.MaxUsernameLen
)

// ValidateUsername reports whether name is an acceptable username.
func ValidateUsername(name string) error {
	switch {
	case name == "":
		return ErrUsernameRequired
	case len(name) < MinUsernameLen || len(name) > MaxUsernameLen:
		// Non-ASCII bytes are rejected below, so len counts characters
		// for every name that can pass.
		return ErrUsernameLength
	}
	for i := 0; i < len(name); i++ {
		if !usernameByte(name[i]) {
			return ErrUsernameChars
		}
	}
	return nil
}

func usernameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}

// normalizeUsername is applied to what a user typed before validation:
// surrounding spaces are a typing accident, not part of a name.
func normalizeUsername(name string) string { return strings.TrimSpace(name) }

// gitHubUsername turns a GitHub login into a valid Herald username. GitHub
// logins are already letters, digits and hyphens, but may be up to 39
// characters or as short as one.
func gitHubUsername(login string) string {
	b := make([]byte, 0, len(login))
	for i := 0; i < len(login) && len(b) < MaxUsernameLen; i++ {
		c := login[i]
		if !usernameByte(c) {
			c = '_'
		}
		b = append(b, c)
	}
	name := string(b)
	switch {
	case strings.Trim(name, "_") == "":
		return "github-user"
	case len(name) < MinUsernameLen:
		return "gh-" + name
	}
	return name
}
