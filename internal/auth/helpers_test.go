package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/herald-chat/herald/internal/store/sqlite"
)

// clock is a settable time source for Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	a     *Auth
	db    *sqlite.DB
	clock *clock
}

// newEnv returns an Auth over a fresh SQLite file; tweak adjusts the config.
func newEnv(t *testing.T, tweak func(*Config)) *env {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := newClock()
	cfg := Config{
		Users:      db.Users(),
		Sessions:   db.Sessions(),
		Secret:     []byte("0123456789abcdef0123456789abcdef"),
		BcryptCost: bcrypt.MinCost,
		Now:        clk.Now,
		// Tests register many accounts from one address; the test of the
		// registration limit sets its own.
		Registrations: 1000,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{a: a, db: db, clock: clk}
}

// signIn registers username and returns the cookies of a fresh session.
func (e *env) signIn(t *testing.T, username string) []*http.Cookie {
	t.Helper()
	u, err := e.a.Register(context.Background(), username, "correct horse", "192.0.2.200")
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	if _, err := e.a.StartSession(context.Background(), rec, httptest.NewRequest("POST", "/login", nil), u); err != nil {
		t.Fatal(err)
	}
	return rec.Result().Cookies()
}

func cookieNamed(cs []*http.Cookie, name string) *http.Cookie {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func withCookies(r *http.Request, cs ...*http.Cookie) *http.Request {
	for _, c := range cs {
		if c != nil && c.MaxAge >= 0 {
			r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	return r
}

// formPost builds a POST of form values to target.
func formPost(target string, form url.Values) *http.Request {
	r := httptest.NewRequest("POST", target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

// mustCheck checks pw against hash, failing the test if no bcrypt slot was free.
func mustCheck(t *testing.T, a *Auth, hash, pw string) bool {
	t.Helper()
	ok, err := a.checkPassword(context.Background(), hash, pw)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}
