package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/internal/auth"
)

func TestRegisterSignsIn(t *testing.T) {
	s := newSite(t, nil, nil)
	c := s.browser()
	r := s.submit(c, "/register", "alice", "correct horse")
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/profile" {
		t.Fatalf("register = %d → %q, want 303 /profile", r.StatusCode, r.Header.Get("Location"))
	}
	ck := s.sessionCookie(c)
	if ck == nil {
		t.Fatal("no session cookie after register")
	}
	if p := s.get(c, "/profile"); !strings.Contains(p.body, "Welcome, alice!") {
		t.Errorf("profile after register: %d %s", p.StatusCode, p.body)
	}
}

func TestRegisterRejects(t *testing.T) {
	s := newSite(t, nil, nil)
	s.register("alice")
	for _, tc := range []struct {
		name, user, pw string
		status         int
		msg            string
	}{
		{"taken", "alice", "correct horse", http.StatusConflict, "username already taken"},
		{"taken other case", "ALICE", "correct horse", http.StatusConflict, "username already taken"},
		{"empty username", "", "correct horse", http.StatusBadRequest, "username is required"},
		{"short username", "ab", "correct horse", http.StatusBadRequest, "username must be 3 to 32 characters long"},
		{"long username", strings.Repeat("z", 33), "correct horse", http.StatusBadRequest, "3 to 32 characters"},
		{"bad characters", "bob smith", "correct horse", http.StatusBadRequest, "only letters, digits, _ and -"},
		{"empty password", "bob", "", http.StatusBadRequest, "password is required"},
		{"short password", "bob", "seven77", http.StatusBadRequest, "at least 8 characters"},
		{"oversized password", "bob", strings.Repeat("p", 73), http.StatusBadRequest, "at most 72 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := s.browser()
			r := s.submit(c, "/register", tc.user, tc.pw)
			if r.StatusCode != tc.status {
				t.Errorf("status %d, want %d", r.StatusCode, tc.status)
			}
			if !strings.Contains(r.body, tc.msg) || !strings.Contains(r.body, `class="error"`) {
				t.Errorf("page lacks error %q", tc.msg)
			}
			if !strings.Contains(r.body, `action="/register"`) || !strings.Contains(r.body, `action="/login"`) {
				t.Error("error page is not the home page with both forms")
			}
			if s.sessionCookie(c) != nil {
				t.Error("failed registration signed the browser in")
			}
		})
	}
	for _, name := range []string{"bob", "ab", "bob smith"} {
		if s.userExists(name) {
			t.Errorf("user %q created by a failed registration", name)
		}
	}
}

func TestRegisterRefillsUsernameEscaped(t *testing.T) {
	s := newSite(t, nil, nil)
	evil := `"><script>alert(1)</script>`
	r := s.submit(s.browser(), "/register", evil, "correct horse")
	if r.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d", r.StatusCode)
	}
	if strings.Contains(r.body, "<script>alert(1)") {
		t.Error("typed username echoed unescaped")
	}
	if !strings.Contains(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("typed username not refilled (escaped) in the form")
	}
}

func TestStoredUsernameEscapedInPages(t *testing.T) {
	// Names are validated on the way in, but pages must stay safe even if
	// a bad one reaches the store some other way.
	s := newSite(t, nil, nil)
	ctx := context.Background()
	evil := `<img src=x onerror=alert(1)>`
	u, err := s.db.Users().Create(ctx, evil, "")
	if err != nil {
		t.Fatal(err)
	}
	c := s.browser()
	rec := newRecorder()
	if _, err := s.a.StartSession(ctx, rec, newRequest("POST", "/login"), u); err != nil {
		t.Fatal(err)
	}
	c.Jar.SetCookies(mustURL(s.srv.URL), rec.Result().Cookies())
	for _, path := range []string{"/profile", "/chat", "/"} {
		r := s.get(c, path)
		if strings.Contains(r.body, "<img") {
			t.Errorf("%s renders the username as HTML", path)
		}
		if !strings.Contains(r.body, "&lt;img src=x onerror=alert(1)&gt;") {
			t.Errorf("%s does not show the escaped username", path)
		}
	}
}

func TestLogin(t *testing.T) {
	s := newSite(t, nil, nil)
	s.register("alice")

	c := s.browser()
	r := s.submit(c, "/login", "alice", "correct horse")
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/profile" {
		t.Fatalf("login = %d → %q, want 303 /profile", r.StatusCode, r.Header.Get("Location"))
	}
	if p := s.get(c, "/profile"); !strings.Contains(p.body, "Welcome, alice!") {
		t.Error("not signed in after login")
	}

	for _, tc := range []struct{ user, pw string }{
		{"alice", "wrong password"},
		{"nobody", "correct horse"},
		{"alice", ""},
		{"", ""},
	} {
		c := s.browser()
		r := s.submit(c, "/login", tc.user, tc.pw)
		if r.StatusCode != http.StatusUnauthorized {
			t.Errorf("login(%q, %q) status %d, want 401", tc.user, tc.pw, r.StatusCode)
		}
		if !strings.Contains(r.body, "invalid username or password") {
			t.Errorf("login(%q, %q) lacks the generic message", tc.user, tc.pw)
		}
		if s.sessionCookie(c) != nil {
			t.Error("failed login set a session cookie")
		}
	}
}

func TestLoginFloodIsRateLimited(t *testing.T) {
	s := newSite(t, func(c *auth.Config) { c.LoginFailures = 5; c.LoginWindow = time.Hour }, nil)
	s.register("alice")
	c := s.browser()
	for i := range 5 {
		if r := s.submit(c, "/login", "alice", "guess"); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d", i, r.StatusCode)
		}
	}
	r := s.submit(c, "/login", "alice", "correct horse")
	if r.StatusCode != http.StatusTooManyRequests || !strings.Contains(r.body, "too many attempts, try again later") {
		t.Errorf("after the flood: %d, want 429 with the message", r.StatusCode)
	}
	if s.sessionCookie(c) != nil {
		t.Error("rate-limited login signed in")
	}
}

func TestLogout(t *testing.T) {
	s := newSite(t, nil, nil)
	c := s.register("alice")
	old := s.sessionCookie(c)
	_, sid, ok := s.a.UserFromRequest(withCookie(newRequest("GET", "/"), old))
	if !ok {
		t.Fatal("not signed in")
	}

	r := s.get(c, "/logout")
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Fatalf("logout = %d → %q, want 303 /", r.StatusCode, r.Header.Get("Location"))
	}
	if s.sessionCookie(c) != nil {
		t.Error("session cookie not cleared")
	}
	if p := s.get(c, "/profile"); p.StatusCode != http.StatusSeeOther {
		t.Errorf("profile after logout: %d, want 303", p.StatusCode)
	}
	// The old token is dead even if replayed (say, by a socket handshake).
	if _, _, ok := s.a.UserFromRequest(withCookie(newRequest("GET", "/socket.io/"), old)); ok {
		t.Error("old session token still accepted")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.logouts) != 1 || s.logouts[0] != sid {
		t.Errorf("OnLogout calls %v, want [%s]", s.logouts, sid)
	}

	// Logging out while signed out just goes home.
	if r := s.get(s.browser(), "/logout"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("anonymous logout: %d", r.StatusCode)
	}
}

func TestFormsNeedCSRFToken(t *testing.T) {
	s := newSite(t, nil, nil)
	s.register("alice")
	for _, path := range []string{"/register", "/login"} {
		for name, form := range map[string]func(c *http.Client) url.Values{
			"missing": func(*http.Client) url.Values { return url.Values{} },
			"wrong":   func(*http.Client) url.Values { return url.Values{"csrf_token": {"forged"}} },
			"from another browser": func(*http.Client) url.Values {
				return url.Values{"csrf_token": {s.csrf(s.browser())}}
			},
		} {
			c := s.browser()
			s.csrf(c) // the victim has loaded the page: the cookie exists
			v := form(c)
			v.Set("username", "mallory")
			v.Set("password", "correct horse")
			if path == "/login" {
				v.Set("username", "alice")
			}
			r := s.post(c, path, v)
			if r.StatusCode != http.StatusForbidden {
				t.Errorf("%s with %s token: status %d, want 403", path, name, r.StatusCode)
			}
			if !strings.Contains(r.body, "reload the page") {
				t.Errorf("%s with %s token: no explanation shown", path, name)
			}
			if s.sessionCookie(c) != nil {
				t.Errorf("%s with %s token signed in", path, name)
			}
		}
	}
	if s.userExists("mallory") {
		t.Error("account created without a valid CSRF token")
	}
}

func TestFormsRefuseForeignOrigin(t *testing.T) {
	s := newSite(t, nil, nil)
	for _, hdr := range [][]string{
		{"Origin", "https://evil.example"},
		{"Origin", "null"},
		{"Referer", "https://evil.example/attack.html"},
	} {
		c := s.browser()
		v := url.Values{"csrf_token": {s.csrf(c)}, "username": {"mallory"}, "password": {"correct horse"}}
		r := s.post(c, "/register", v, hdr...)
		if r.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %s → status %d, want 403", hdr[0], hdr[1], r.StatusCode)
		}
	}
	if s.userExists("mallory") {
		t.Error("account created by a cross-site POST")
	}
	// The same form from our own origin works.
	c := s.browser()
	v := url.Values{"csrf_token": {s.csrf(c)}, "username": {"bob"}, "password": {"correct horse"}}
	if r := s.post(c, "/register", v, "Origin", s.srv.URL); r.StatusCode != http.StatusSeeOther {
		t.Errorf("same-origin POST: %d, want 303", r.StatusCode)
	}
}

func TestBodyCap(t *testing.T) {
	s := newSite(t, nil, func(c *Config) { c.MaxBodyBytes = 1024 })
	c := s.browser()
	big := url.Values{"csrf_token": {s.csrf(c)}, "username": {"alice"}, "password": {strings.Repeat("x", 4096)}}
	if r := s.post(c, "/register", big); r.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("declared oversize body: %d, want 413", r.StatusCode)
	}
	// A body without Content-Length is caught while reading.
	req, _ := http.NewRequest("POST", s.srv.URL+"/login", io.NopCloser(strings.NewReader(big.Encode())))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.ContentLength = -1 // sent chunked: the server cannot know the size up front
	if r := s.do(c, req); r.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("streamed oversize body: %d, want 413", r.StatusCode)
	}
	if s.userExists("alice") {
		t.Error("oversize request created an account")
	}
}

func TestDefaultBodyCapIs64KiB(t *testing.T) {
	s := newSite(t, nil, nil)
	c := s.browser()
	v := url.Values{"csrf_token": {s.csrf(c)}, "username": {"alice"}, "password": {"correct horse"}, "pad": {strings.Repeat("x", 64<<10)}}
	if r := s.post(c, "/register", v); r.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("65 KiB form: %d, want 413", r.StatusCode)
	}
}
