package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/internal/store"
)

func TestRegister(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	u, err := e.a.Register(ctx, "  alice  ", "correct horse")
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	if u.Username != "alice" || u.ID == 0 || !strings.HasPrefix(u.PasswordHash, "$2") {
		t.Errorf("Register returned %+v", u)
	}

	for _, tc := range []struct {
		name, user, pw string
		want           error
	}{
		{"taken", "alice", "correct horse", store.ErrUsernameTaken},
		{"taken other case", "ALICE", "correct horse", store.ErrUsernameTaken},
		{"empty username", "", "correct horse", ErrUsernameRequired},
		{"short username", "al", "correct horse", ErrUsernameLength},
		{"long username", strings.Repeat("b", 33), "correct horse", ErrUsernameLength},
		{"html username", "<b>bob</b>", "correct horse", ErrUsernameChars},
		{"empty password", "bob", "", ErrPasswordRequired},
		{"short password", "bob", "1234567", ErrPasswordTooShort},
		{"long password", "bob", strings.Repeat("p", 73), ErrPasswordTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.a.Register(ctx, tc.user, tc.pw); !errors.Is(err, tc.want) {
				t.Errorf("Register(%q) = %v, want %v", tc.user, err, tc.want)
			}
		})
	}
	// Nothing but alice was created.
	if _, err := e.db.Users().ByUsername(ctx, "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("bob exists after failed registrations: %v", err)
	}
	var ie *InputError
	if _, err := e.a.Register(ctx, "x", "y"); !errors.As(err, &ie) {
		t.Errorf("validation error %v is not an *InputError", err)
	}
}

func TestLogin(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	alice, err := e.a.Register(ctx, "alice", "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Users().CreateGitHubUser(ctx, 42, "githubonly"); err != nil {
		t.Fatal(err)
	}

	for _, user := range []string{"alice", "ALICE", " alice "} {
		u, err := e.a.Login(ctx, user, "correct horse", "10.0.0.1")
		if err != nil || u.ID != alice.ID {
			t.Errorf("Login(%q) = %+v, %v; want alice", user, u, err)
		}
	}
	for _, tc := range []struct{ user, pw string }{
		{"alice", "wrong password"},
		{"alice", ""},
		{"alice", strings.Repeat("x", 200)},
		{"nobody", "correct horse"},
		{"", ""},
		{"<script>", "correct horse"},
		{"githubonly", ""},
		{"githubonly", "anything at all"},
	} {
		_, err := e.a.Login(ctx, tc.user, tc.pw, fmt.Sprintf("10.1.0.%d", len(tc.pw)))
		if !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("Login(%q, %q) = %v, want ErrInvalidCredentials", tc.user, tc.pw, err)
		}
	}
}

func TestLoginRateLimitPerUsername(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.LoginFailures = 3; c.LoginWindow = time.Minute })
	ctx := context.Background()
	if _, err := e.a.Register(ctx, "alice", "correct horse"); err != nil {
		t.Fatal(err)
	}
	// Failures from many addresses: the per-username limit catches a
	// distributed guesser.
	for i := range 3 {
		if _, err := e.a.Login(ctx, "alice", "guess", fmt.Sprintf("10.0.0.%d", i)); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	// Now even the right password is refused, case-insensitively.
	for _, user := range []string{"alice", "Alice"} {
		if _, err := e.a.Login(ctx, user, "correct horse", "10.9.9.9"); !errors.Is(err, ErrTooManyAttempts) {
			t.Errorf("Login(%s) after flood = %v, want ErrTooManyAttempts", user, err)
		}
	}
	if ErrTooManyAttempts.Error() != "too many attempts, try again later" {
		t.Errorf("message = %q", ErrTooManyAttempts)
	}
	e.clock.Advance(time.Minute)
	if _, err := e.a.Login(ctx, "alice", "correct horse", "10.9.9.9"); err != nil {
		t.Errorf("Login after the window = %v, want success", err)
	}
}

func TestLoginRateLimitPerIP(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.LoginFailures = 3; c.LoginWindow = time.Minute })
	ctx := context.Background()
	if _, err := e.a.Register(ctx, "victim", "correct horse"); err != nil {
		t.Fatal(err)
	}
	// One address spraying different usernames.
	for i := range 3 {
		_, _ = e.a.Login(ctx, fmt.Sprintf("user%d", i), "guess", "203.0.113.7")
	}
	if _, err := e.a.Login(ctx, "victim", "correct horse", "203.0.113.7"); !errors.Is(err, ErrTooManyAttempts) {
		t.Errorf("Login from flooding IP = %v, want ErrTooManyAttempts", err)
	}
	if _, err := e.a.Login(ctx, "victim", "correct horse", "198.51.100.1"); err != nil {
		t.Errorf("Login from another IP = %v, want success", err)
	}
}

func TestLoginSuccessResetsUsernameNotIP(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.LoginFailures = 3 })
	ctx := context.Background()
	if _, err := e.a.Register(ctx, "alice", "correct horse"); err != nil {
		t.Fatal(err)
	}
	ip := "192.0.2.1"
	for range 2 {
		_, _ = e.a.Login(ctx, "alice", "guess", ip)
	}
	if _, err := e.a.Login(ctx, "alice", "correct horse", ip); err != nil {
		t.Fatal(err)
	}
	// alice's slate is clean, but the address keeps its two failures.
	_, _ = e.a.Login(ctx, "alice", "guess", "192.0.2.99")
	_, _ = e.a.Login(ctx, "alice", "guess", "192.0.2.98")
	if _, err := e.a.Login(ctx, "alice", "correct horse", "192.0.2.97"); err != nil {
		t.Errorf("alice blocked after reset + 2 failures: %v", err)
	}
	_, _ = e.a.Login(ctx, "mallory", "guess", ip)
	if _, err := e.a.Login(ctx, "alice", "correct horse", ip); !errors.Is(err, ErrTooManyAttempts) {
		t.Errorf("IP with 3 failures = %v, want ErrTooManyAttempts", err)
	}
}
