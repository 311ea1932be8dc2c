package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Password rules. The upper bound is bcrypt's: it ignores everything past
// 72 bytes, so a longer password would silently be only partly checked.
const (
	MinPasswordLen   = 8  // characters
	MaxPasswordBytes = 72 // bytes of UTF-8
)

// ValidatePassword reports whether pw is acceptable for a new account: at
// least MinPasswordLen characters and at most MaxPasswordBytes bytes.
func ValidatePassword(pw string) error {
	switch {
	case pw == "":
		return ErrPasswordRequired
	case utf8.RuneCountInString(pw) < MinPasswordLen:
		return ErrPasswordTooShort
	case len(pw) > MaxPasswordBytes:
		return ErrPasswordTooLong
	}
	return nil
}

// HashPassword validates pw and returns its bcrypt hash at the configured
// cost. It waits for a free bcrypt slot (Config.BcryptConcurrency) and
// returns ErrBusy if none frees up in time.
func (a *Auth) HashPassword(ctx context.Context, pw string) (string, error) {
	if err := ValidatePassword(pw); err != nil {
		return "", err
	}
	var h []byte
	var err error
	if serr := a.bcrypt.do(ctx, func() { h, err = bcrypt.GenerateFromPassword([]byte(pw), a.cfg.BcryptCost) }); serr != nil {
		return "", serr
	}
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// checkPassword reports whether pw matches hash. An empty hash (a
// GitHub-only account) never matches, but still costs a bcrypt comparison so
// that response times do not reveal which accounts exist or have passwords.
// The error is ErrBusy when no bcrypt slot freed up in time.
func (a *Auth) checkPassword(ctx context.Context, hash, pw string) (bool, error) {
	if hash == "" || len(pw) > MaxPasswordBytes {
		return false, a.burnTime(ctx, pw)
	}
	var err error
	if serr := a.bcrypt.do(ctx, func() { err = bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) }); serr != nil {
		return false, serr
	}
	return err == nil, nil
}

// burnTime spends about as long as checking a real password.
func (a *Auth) burnTime(ctx context.Context, pw string) error {
	if len(pw) > MaxPasswordBytes {
		pw = pw[:MaxPasswordBytes]
	}
	return a.bcrypt.do(ctx, func() { _ = bcrypt.CompareHashAndPassword(a.dummy(), []byte(pw)) })
}

// dummyHash lazily makes a hash of a random password at cost, for burnTime.
func dummyHash(cost int) func() []byte {
	return sync.OnceValue(func() []byte {
		h, err := bcrypt.GenerateFromPassword([]byte(rand.Text()), cost)
		if err != nil {
			panic(errors.Join(errors.New("auth: bcrypt of a random password failed"), err))
		}
		return h
	})
}
