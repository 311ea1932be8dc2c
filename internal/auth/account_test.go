package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-chat/herald/internal/store"
)

func TestRegister(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	u, err := e.a.Register(ctx, "  alice  ", "correct horse", "192.0.2.200")
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
			if _, err := e.a.Register(ctx, tc.user, tc.pw, "192.0.2.200"); !errors.Is(err, tc.want) {
				t.Errorf("Register(%q) = %v, want %v", tc.user, err, tc.want)
			}
		})
	}
	// Nothing but alice was created.
	if _, err := e.db.Users().ByUsername(ctx, "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("bob exists after failed registrations: %v", err)
	}
	var ie *InputError
	if _, err := e.a.Register(ctx, "x", "y", "192.0.2.200"); !errors.As(err, &ie) {
		t.Errorf("validation error %v is not an *InputError", err)
	}
}

func TestLogin(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	alice, err := e.a.Register(ctx, "alice", "correct horse", "192.0.2.200")
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

// TestLoginStrangerCannotLockOutOwner: failures for a user from one address
// block that address for that user, not the owner signing in elsewhere.
func TestLoginStrangerCannotLockOutOwner(t *testing.T) {
	e := newEnv(t, nil) // the default limits
	ctx := context.Background()
	if _, err := e.a.Register(ctx, "alice", "correct horse", "192.0.2.200"); err != nil {
		t.Fatal(err)
	}
	attacker := "203.0.113.66"
	for i := range DefaultLoginFailures {
		if _, err := e.a.Login(ctx, "alice", "guess", attacker); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	// The attacker is stopped, even with the right password, case-insensitively.
	for _, user := range []string{"alice", "Alice"} {
		if _, err := e.a.Login(ctx, user, "correct horse", attacker); !errors.Is(err, ErrTooManyAttempts) {
			t.Errorf("Login(%s) from the guessing address = %v, want ErrTooManyAttempts", user, err)
		}
	}
	if ErrTooManyAttempts.Error() != "too many attempts, try again later" {
		t.Errorf("message = %q", ErrTooManyAttempts)
	}
	// The owner, from another address, is not.
	if _, err := e.a.Login(ctx, "alice", "correct horse", "198.51.100.7"); err != nil {
		t.Errorf("the owner from another address = %v, want success", err)
	}
	e.clock.Advance(DefaultLoginWindow)
	if _, err := e.a.Login(ctx, "alice", "correct horse", attacker); err != nil {
		t.Errorf("Login after the window = %v, want success", err)
	}
}

func TestLoginRateLimitPerAddress(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.LoginFailuresPerAddress = 3; c.LoginWindow = time.Minute })
	ctx := context.Background()
	if _, err := e.a.Register(ctx, "victim", "correct horse", "192.0.2.200"); err != nil {
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

// TestLoginPerUsernameCeiling: a guesser spread over many addresses hits the
// username's ceiling; then new addresses are refused, but one the account
// signed in from still gets in.
func TestLoginPerUsernameCeiling(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.LoginFailuresPerUser = 5; c.LoginWindow = time.Minute })
	ctx := context.Background()
	if _, err := e.a.Register(ctx, "alice", "correct horse", "192.0.2.200"); err != nil {
		t.Fatal(err)
	}
	home := "192.0.2.10"
	if _, err := e.a.Login(ctx, "alice", "correct horse", home); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := e.a.Login(ctx, "alice", "guess", fmt.Sprintf("10.0.0.%d", i)); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if _, err := e.a.Login(ctx, "alice", "correct horse", "10.9.9.9"); !errors.Is(err, ErrTooManyAttempts) {
		t.Errorf("a new address past the ceiling = %v, want ErrTooManyAttempts", err)
	}
	if _, err := e.a.Login(ctx, "alice", "correct horse", home); err != nil {
		t.Errorf("the address alice signs in from, past the ceiling = %v, want success", err)
	}
	e.clock.Advance(time.Minute)
	if _, err := e.a.Login(ctx, "alice", "correct horse", "10.9.9.9"); err != nil {
		t.Errorf("Login after the window = %v, want success", err)
	}
}

func TestLoginSuccessResetsPairNotAddress(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.LoginFailures = 3; c.LoginFailuresPerAddress = 3 })
	ctx := context.Background()
	if _, err := e.a.Register(ctx, "alice", "correct horse", "192.0.2.200"); err != nil {
		t.Fatal(err)
	}
	ip := "192.0.2.1"
	for range 2 {
		_, _ = e.a.Login(ctx, "alice", "guess", ip)
	}
	if _, err := e.a.Login(ctx, "alice", "correct horse", ip); err != nil {
		t.Fatal(err)
	}
	// alice's record at ip is clean, but the address keeps its two failures:
	// one more, for anyone, blocks it.
	_, _ = e.a.Login(ctx, "alice", "guess", ip)
	_, _ = e.a.Login(ctx, "alice", "guess", ip)
	if _, err := e.a.Login(ctx, "alice", "correct horse", "192.0.2.3"); err != nil {
		t.Errorf("alice elsewhere = %v, want success", err)
	}
	if _, err := e.a.Login(ctx, "alice", "correct horse", ip); !errors.Is(err, ErrTooManyAttempts) {
		t.Errorf("IP with 3 failures = %v, want ErrTooManyAttempts", err)
	}
}

func TestRegistrationLimitPerAddress(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Registrations = 2; c.RegistrationWindow = time.Hour })
	ctx := context.Background()
	for _, name := range []string{"one", "two"} {
		if _, err := e.a.Register(ctx, name, "correct horse", "203.0.113.9"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.a.Register(ctx, "three", "correct horse", "203.0.113.9"); !errors.Is(err, ErrTooManyAccounts) {
		t.Fatalf("third account from one address = %v, want ErrTooManyAccounts", err)
	}
	if _, err := e.a.Register(ctx, "four", "correct horse", "198.51.100.9"); err != nil {
		t.Errorf("another address = %v, want success", err)
	}
	e.clock.Advance(time.Hour)
	if _, err := e.a.Register(ctx, "three", "correct horse", "203.0.113.9"); err != nil {
		t.Errorf("after the window = %v, want success", err)
	}
}

// TestBcryptConcurrencyBounded holds the only bcrypt slot and checks that
// another password check waits for it, and gives up with ErrBusy.
func TestBcryptConcurrencyBounded(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.BcryptConcurrency = 1; c.BcryptWait = time.Hour })
	ctx := context.Background()
	if _, err := e.a.Register(ctx, "alice", "correct horse", "192.0.2.200"); err != nil {
		t.Fatal(err)
	}
	inside := make(chan struct{})
	release := make(chan struct{})
	var entered atomic.Int32
	e.a.bcrypt.held = func() {
		if entered.Add(1) == 1 {
			close(inside)
			<-release
		}
	}
	first := make(chan error, 1)
	go func() {
		_, err := e.a.Login(ctx, "alice", "correct horse", "192.0.2.1")
		first <- err
	}()
	<-inside
	// The slot is held: a second check can only wait, here for a moment.
	e.a.bcrypt.wait = time.Millisecond
	if _, err := e.a.Login(ctx, "alice", "correct horse", "192.0.2.2"); !errors.Is(err, ErrBusy) {
		t.Errorf("a check while the only slot is held = %v, want ErrBusy", err)
	}
	if n := entered.Load(); n != 1 {
		t.Errorf("%d bcrypt computations ran at once with a bound of 1", n)
	}
	close(release)
	if err := <-first; err != nil {
		t.Errorf("the first login = %v", err)
	}
}
