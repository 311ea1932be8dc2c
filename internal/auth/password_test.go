package auth

import (
	"context"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestValidatePassword(t *testing.T) {
	for _, tc := range []struct {
		pw   string
		want error
	}{
		{"", ErrPasswordRequired},
		{"1234567", ErrPasswordTooShort},
		{"12345678", nil},
		{"ééééééé", ErrPasswordTooShort}, // 7 characters, 14 bytes
		{"éééééééé", nil},                // counted in characters
		{strings.Repeat("x", 72), nil},
		{strings.Repeat("x", 73), ErrPasswordTooLong},
		{strings.Repeat("é", 37), ErrPasswordTooLong}, // 74 bytes
	} {
		if err := ValidatePassword(tc.pw); !errors.Is(err, tc.want) {
			t.Errorf("ValidatePassword(%q) = %v, want %v", tc.pw, err, tc.want)
		}
	}
}

func TestHashAndCheckPassword(t *testing.T) {
	e := newEnv(t, nil)
	h, err := e.a.HashPassword(context.Background(), "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if cost, err := bcrypt.Cost([]byte(h)); err != nil || cost != bcrypt.MinCost {
		t.Errorf("hash cost = %d, %v; want configured %d", cost, err, bcrypt.MinCost)
	}
	if !mustCheck(t, e.a, h, "correct horse") {
		t.Error("right password rejected")
	}
	for _, wrong := range []string{"", "correct hors", "Correct horse", strings.Repeat("x", 100)} {
		if mustCheck(t, e.a, h, wrong) {
			t.Errorf("wrong password %q accepted", wrong)
		}
	}
	if mustCheck(t, e.a, "", "anything") {
		t.Error("empty hash (GitHub-only account) accepted a password")
	}
	if _, err := e.a.HashPassword(context.Background(), "short"); !errors.Is(err, ErrPasswordTooShort) {
		t.Errorf("HashPassword(short) = %v, want ErrPasswordTooShort", err)
	}
}

func TestDefaultBcryptCost(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.BcryptCost = 0 })
	if e.a.cfg.BcryptCost != bcrypt.DefaultCost {
		t.Errorf("default cost = %d, want %d", e.a.cfg.BcryptCost, bcrypt.DefaultCost)
	}
}
