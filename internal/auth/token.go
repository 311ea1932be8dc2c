package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// tokenBytes is the entropy of session tokens, CSRF tokens and OAuth state.
const tokenBytes = 32

// tokenLen is the length of a token as text.
var tokenLen = base64.RawURLEncoding.EncodedLen(tokenBytes)

// newToken returns tokenBytes of crypto/rand entropy as URL-safe text.
func newToken() string {
	b := make([]byte, tokenBytes)
	_, _ = rand.Read(b) // never fails; see crypto/rand.Read
	return base64.RawURLEncoding.EncodeToString(b)
}

// strictBase64 decodes only the one spelling newToken's encoder produces:
// the lenient decoder also takes a last character whose unused bits are
// set, so several cookie values would name the same bytes.
var strictBase64 = base64.RawURLEncoding.Strict()

// wellFormedToken reports whether s looks like something newToken made, so
// garbage cookies are dropped before touching the store.
func wellFormedToken(s string) bool {
	if len(s) != tokenLen {
		return false
	}
	b, err := strictBase64.DecodeString(s) // skips '\r' and '\n', hence the length check
	return err == nil && len(b) == tokenBytes
}

// sessionID is the store key for a session token: its hex SHA-256. The
// token is the credential; the ID is not, so it may be logged and shared
// with other parts of the program.
func sessionID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// deriveKey gives each use of the configured secret its own key, so a
// signature made for one purpose is never valid for another.
func deriveKey(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

func sign(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
