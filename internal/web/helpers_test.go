package web

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/herald-chat/herald/internal/auth"
	"github.com/herald-chat/herald/internal/store/sqlite"
)

// site is Herald's pages over a real SQLite file and a real Auth.
type site struct {
	t   *testing.T
	srv *httptest.Server
	a   *auth.Auth
	db  *sqlite.DB

	mu      sync.Mutex
	logouts []string // session IDs passed to OnLogout
}

func newSite(t *testing.T, tweakAuth func(*auth.Config), tweakWeb func(*Config)) *site {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	acfg := auth.Config{
		Users:      db.Users(),
		Sessions:   db.Sessions(),
		Secret:     []byte("test secret, test secret, 32 b!!"),
		BcryptCost: bcrypt.MinCost,
	}
	if tweakAuth != nil {
		tweakAuth(&acfg)
	}
	a, err := auth.New(acfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &site{t: t, a: a, db: db}
	a.OnLogout = func(id string, _ int64) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.logouts = append(s.logouts, id)
	}
	var wcfg Config
	if tweakWeb != nil {
		tweakWeb(&wcfg)
	}
	h, err := New(wcfg, a)
	if err != nil {
		t.Fatal(err)
	}
	s.srv = httptest.NewServer(h)
	t.Cleanup(s.srv.Close)
	return s
}

// browser returns a client with its own cookie jar that does not follow
// redirects, so tests see each 303.
func (s *site) browser() *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type reply struct {
	*http.Response
	body string
}

func (s *site) do(c *http.Client, req *http.Request) reply {
	s.t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return reply{resp, string(b)}
}

func (s *site) get(c *http.Client, path string) reply {
	s.t.Helper()
	req, err := http.NewRequest("GET", s.srv.URL+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.do(c, req)
}

// post sends form values to path; headers are added as given.
func (s *site) post(c *http.Client, path string, form url.Values, headers ...string) reply {
	s.t.Helper()
	req, err := http.NewRequest("POST", s.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return s.do(c, req)
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrf loads the home page in c and returns its form token.
func (s *site) csrf(c *http.Client) string {
	s.t.Helper()
	m := csrfRE.FindStringSubmatch(s.get(c, "/").body)
	if m == nil {
		s.t.Fatal("home page has no csrf_token field")
	}
	return m[1]
}

// submit posts a username/password form the way a browser would after
// loading the home page.
func (s *site) submit(c *http.Client, path, username, password string) reply {
	s.t.Helper()
	return s.post(c, path, url.Values{"csrf_token": {s.csrf(c)}, "username": {username}, "password": {password}})
}

// register creates username in a fresh browser and returns it signed in.
func (s *site) register(username string) *http.Client {
	s.t.Helper()
	c := s.browser()
	if r := s.submit(c, "/register", username, "correct horse"); r.StatusCode != http.StatusSeeOther {
		s.t.Fatalf("register %s: status %d: %s", username, r.StatusCode, r.body)
	}
	return c
}

func (s *site) userExists(username string) bool {
	_, err := s.db.Users().ByUsername(context.Background(), username)
	return err == nil
}

func (s *site) sessionCookie(c *http.Client) *http.Cookie {
	u, _ := url.Parse(s.srv.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == auth.SessionCookie {
			return ck
		}
	}
	return nil
}
