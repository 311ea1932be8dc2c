package auth

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/internal/store"
)

func TestStartSessionCookie(t *testing.T) {
	e := newEnv(t, nil)
	cs := e.signIn(t, "alice")
	c := cookieNamed(cs, SessionCookie)
	if c == nil {
		t.Fatal("no session cookie set")
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure {
		t.Errorf("cookie attributes = %+v; want HttpOnly, Lax, Path=/, not Secure over plain HTTP", c)
	}
	if c.MaxAge != int(DefaultSessionTTL/time.Second) {
		t.Errorf("MaxAge = %d, want 7 days", c.MaxAge)
	}
	if !wellFormedToken(c.Value) {
		t.Errorf("token %q is not a 32-byte URL-safe token", c.Value)
	}
	// Only the hash reaches the store.
	if _, err := e.db.Sessions().Get(context.Background(), c.Value); err == nil {
		t.Error("the raw token is a valid store key; want only its hash stored")
	}
	sess, err := e.db.Sessions().Get(context.Background(), sessionID(c.Value))
	if err != nil {
		t.Fatalf("session not stored under the token hash: %v", err)
	}
	if sess.CSRFToken == "" || !sess.ExpiresAt.After(sess.CreatedAt.Add(DefaultSessionTTL-time.Minute)) {
		t.Errorf("stored session %+v", sess)
	}
}

func TestSecureCookie(t *testing.T) {
	u := store.User{}
	for name, tc := range map[string]struct {
		tweak func(*Config)
		req   func(*http.Request)
		want  bool
	}{
		"plain":           {nil, func(*http.Request) {}, false},
		"tls":             {nil, func(r *http.Request) { r.TLS = &tls.ConnectionState{} }, true},
		"config flag":     {func(c *Config) { c.SecureCookies = true }, func(*http.Request) {}, true},
		"trusted proxy":   {func(c *Config) { c.TrustProxyHeaders = true }, func(r *http.Request) { r.Header.Set("X-Forwarded-Proto", "https") }, true},
		"untrusted proxy": {nil, func(r *http.Request) { r.Header.Set("X-Forwarded-Proto", "https") }, false},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, tc.tweak)
			var err error
			u, err = e.db.Users().Create(context.Background(), "alice", "h")
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("POST", "/login", nil)
			tc.req(r)
			rec := httptest.NewRecorder()
			if _, err := e.a.StartSession(context.Background(), rec, r, u); err != nil {
				t.Fatal(err)
			}
			if c := cookieNamed(rec.Result().Cookies(), SessionCookie); c.Secure != tc.want {
				t.Errorf("Secure = %v, want %v", c.Secure, tc.want)
			}
		})
	}
}

func TestUserFromRequest(t *testing.T) {
	e := newEnv(t, nil)
	cs := e.signIn(t, "alice")
	token := cookieNamed(cs, SessionCookie).Value

	u, id, ok := e.a.UserFromRequest(withCookies(httptest.NewRequest("GET", "/socket.io/?EIO=4&transport=polling", nil), cs...))
	if !ok || u.Username != "alice" || id != sessionID(token) {
		t.Fatalf("UserFromRequest = %+v, %q, %v; want alice and the token hash", u, id, ok)
	}

	forged := newToken()
	for name, r := range map[string]*http.Request{
		"no cookie":    httptest.NewRequest("GET", "/", nil),
		"forged token": withCookies(httptest.NewRequest("GET", "/", nil), &http.Cookie{Name: SessionCookie, Value: forged}),
		"malformed":    withCookies(httptest.NewRequest("GET", "/", nil), &http.Cookie{Name: SessionCookie, Value: "not-a-token"}),
		"session id":   withCookies(httptest.NewRequest("GET", "/", nil), &http.Cookie{Name: SessionCookie, Value: sessionID(token)}),
		"other cookie": withCookies(httptest.NewRequest("GET", "/", nil), &http.Cookie{Name: "session", Value: token}),
		"truncated":    withCookies(httptest.NewRequest("GET", "/", nil), &http.Cookie{Name: SessionCookie, Value: token[:len(token)-1]}),
	} {
		if _, _, ok := e.a.UserFromRequest(r); ok {
			t.Errorf("%s: UserFromRequest ok, want refused", name)
		}
	}
}

func TestUserFromRequestExpired(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	u, err := e.db.Users().Create(ctx, "alice", "h")
	if err != nil {
		t.Fatal(err)
	}
	token := newToken()
	past := time.Now().Add(-time.Hour)
	if err := e.db.Sessions().Create(ctx, store.Session{
		ID: sessionID(token), UserID: u.ID, CSRFToken: "x", CreatedAt: past.Add(-time.Hour), ExpiresAt: past,
	}); err != nil {
		t.Fatal(err)
	}
	r := withCookies(httptest.NewRequest("GET", "/", nil), &http.Cookie{Name: SessionCookie, Value: token})
	if _, _, ok := e.a.UserFromRequest(r); ok {
		t.Error("expired session accepted")
	}
}

func TestSessionExpiresEvenWhenCached(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.SessionTTL = time.Hour; c.CacheTTL = 24 * time.Hour })
	cs := e.signIn(t, "alice")
	r := func() *http.Request { return withCookies(httptest.NewRequest("GET", "/", nil), cs...) }
	if _, _, ok := e.a.UserFromRequest(r()); !ok {
		t.Fatal("fresh session refused")
	}
	e.clock.Advance(time.Hour + time.Second)
	if _, _, ok := e.a.UserFromRequest(r()); ok {
		t.Error("session honoured past its expiry")
	}
}

func TestLogoutInvalidatesImmediately(t *testing.T) {
	// A long cache TTL: logout must not wait for it.
	e := newEnv(t, func(c *Config) { c.CacheTTL = time.Hour })
	cs := e.signIn(t, "alice")
	var (
		mu     sync.Mutex
		called []string
		userID int64
	)
	e.a.OnLogout = func(id string, uid int64) {
		mu.Lock()
		defer mu.Unlock()
		called = append(called, id)
		userID = uid
	}
	u, id, ok := e.a.UserFromRequest(withCookies(httptest.NewRequest("GET", "/", nil), cs...))
	if !ok || e.a.cache.len() != 1 {
		t.Fatalf("precondition: signed in and cached (ok=%v, cached=%d)", ok, e.a.cache.len())
	}

	rec := httptest.NewRecorder()
	if err := e.a.Logout(rec, withCookies(httptest.NewRequest("GET", "/logout", nil), cs...)); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if c := cookieNamed(rec.Result().Cookies(), SessionCookie); c == nil || c.MaxAge >= 0 || c.Value != "" {
		t.Errorf("logout cookie = %+v, want a clearing cookie", c)
	}
	if _, _, ok := e.a.UserFromRequest(withCookies(httptest.NewRequest("GET", "/", nil), cs...)); ok {
		t.Error("session still accepted right after logout")
	}
	if len(called) != 1 || called[0] != id || userID != u.ID {
		t.Errorf("OnLogout calls = %v (user %d), want one for %s (user %d)", called, userID, id, u.ID)
	}
	if _, err := e.db.Sessions().Get(context.Background(), id); err == nil {
		t.Error("session still in the store after logout")
	}

	// Logging out again, or with no session at all, is harmless.
	for _, r := range []*http.Request{
		withCookies(httptest.NewRequest("GET", "/logout", nil), cs...),
		httptest.NewRequest("GET", "/logout", nil),
	} {
		if err := e.a.Logout(httptest.NewRecorder(), r); err != nil {
			t.Errorf("repeat Logout: %v", err)
		}
	}
}

func TestStartSessionEndsPreviousSession(t *testing.T) {
	e := newEnv(t, nil)
	old := e.signIn(t, "alice")
	var ended []string
	e.a.OnLogout = func(id string, _ int64) { ended = append(ended, id) }
	_, oldID, _ := e.a.UserFromRequest(withCookies(httptest.NewRequest("GET", "/", nil), old...))

	bob, err := e.a.Register(context.Background(), "bob", "correct horse", "192.0.2.200")
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	if _, err := e.a.StartSession(context.Background(), rec, withCookies(httptest.NewRequest("POST", "/login", nil), old...), bob); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := e.a.UserFromRequest(withCookies(httptest.NewRequest("GET", "/", nil), old...)); ok {
		t.Error("alice's session survived bob signing in in the same browser")
	}
	if len(ended) != 1 || ended[0] != oldID {
		t.Errorf("OnLogout calls = %v, want [%s]", ended, oldID)
	}
	u, _, ok := e.a.UserFromRequest(withCookies(httptest.NewRequest("GET", "/", nil), rec.Result().Cookies()...))
	if !ok || u.Username != "bob" {
		t.Errorf("new session = %+v, %v; want bob", u, ok)
	}
}

func TestCacheRefusesLookupsOlderThanInvalidation(t *testing.T) {
	c := newSessionCache(time.Hour, 10)
	now := time.Now()
	s := store.Session{ID: "s", ExpiresAt: now.Add(time.Hour)}
	gen := c.generation() // a lookup starts…
	c.invalidate("s")     // …a logout lands meanwhile…
	c.put(s, store.User{}, gen, now)
	if _, ok := c.get("s", now); ok {
		t.Error("a lookup that began before the logout re-cached the session")
	}
	c.put(s, store.User{}, c.generation(), now)
	if _, ok := c.get("s", now); !ok {
		t.Error("a fresh lookup was not cached")
	}
	if _, ok := c.get("s", now.Add(time.Hour)); ok {
		t.Error("entry served past its TTL")
	}
}

func TestCacheIsBounded(t *testing.T) {
	c := newSessionCache(time.Hour, 4)
	now := time.Now()
	for i := range 50 {
		c.put(store.Session{ID: string(rune('a' + i)), ExpiresAt: now.Add(time.Hour)}, store.User{}, c.generation(), now)
	}
	if n := c.len(); n != 4 {
		t.Errorf("cache holds %d entries, want its bound 4", n)
	}
}

func TestCacheDisabled(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.CacheTTL = -1 })
	cs := e.signIn(t, "alice")
	if _, _, ok := e.a.UserFromRequest(withCookies(httptest.NewRequest("GET", "/", nil), cs...)); !ok {
		t.Fatal("session refused")
	}
	if e.a.cache.len() != 0 {
		t.Error("cache used although disabled")
	}
}

// sweepCounter is a SessionStore that reports each DeleteExpired call.
type sweepCounter struct {
	store.SessionStore
	swept chan int64
}

func (s sweepCounter) DeleteExpired(ctx context.Context) (int64, error) {
	n, err := s.SessionStore.DeleteExpired(ctx)
	select {
	case s.swept <- n:
	default:
	}
	return n, err
}

func TestRunJanitor(t *testing.T) {
	swept := make(chan int64, 1)
	e := newEnv(t, func(c *Config) { c.Sessions = sweepCounter{c.Sessions, swept} })
	ctx, cancel := context.WithCancel(context.Background())
	u, err := e.db.Users().Create(ctx, "alice", "h")
	if err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Minute)
	if err := e.db.Sessions().Create(ctx, store.Session{ID: "old", UserID: u.ID, CreatedAt: past, ExpiresAt: past}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- e.a.RunJanitor(ctx, time.Millisecond) }()
	select {
	case n := <-swept:
		if n != 1 {
			t.Errorf("first sweep removed %d sessions, want 1", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("janitor did not sweep")
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("RunJanitor returned %v, want context.Canceled", err)
	}
}
