package e2e_test

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// sessionCookie is the name of Herald's session cookie.
const sessionCookie = "herald_session"

// testPassword is every test account's password.
const testPassword = "correct horse battery"

// csrfField finds the CSRF hidden field of a form on the home page.
var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// browserless is a plain HTTP client with its own cookie jar that does not follow redirects, so
// that each answer can be checked.
type browserless struct {
	t    *testing.T
	base string
	jar  *cookiejar.Jar
	c    *http.Client
}

func newBrowserless(t *testing.T, base string) *browserless {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browserless{t: t, base: base, jar: jar, c: &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// get fetches path and returns the response's status, Location and body.
func (b *browserless) get(path string) (status int, location, body string) {
	b.t.Helper()
	resp, err := b.c.Get(b.base + path)
	if err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		b.t.Fatalf("GET %s: reading the body: %v", path, err)
	}
	return resp.StatusCode, resp.Header.Get("Location"), string(raw)
}

// submit GETs the home page for its CSRF token, like a browser showing the form, then posts the
// form to action ("/register" or "/login") and expects the 303 to /profile.
func (b *browserless) submit(action, username, password string) {
	b.t.Helper()
	status, _, body := b.get("/")
	m := csrfField.FindStringSubmatch(body)
	if status != http.StatusOK || m == nil {
		b.t.Fatalf("GET /: status %d, no csrf_token field in:\n%s", status, tail(body, 2000))
	}
	form := url.Values{"username": {username}, "password": {password}, "csrf_token": {html.UnescapeString(m[1])}}
	resp, err := b.c.PostForm(b.base+action, form)
	if err != nil {
		b.t.Fatalf("POST %s: %v", action, err)
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/profile" {
		b.t.Fatalf("POST %s as %s: got %d Location %q, want 303 to /profile; body:\n%s",
			action, username, resp.StatusCode, resp.Header.Get("Location"), tail(string(raw), 2000))
	}
	status, _, body = b.get("/profile")
	if want := "Welcome, " + username + "!"; status != http.StatusOK || !strings.Contains(body, want) {
		b.t.Fatalf("GET /profile after %s: status %d, want 200 with %q", action, status, want)
	}
}

// session returns the value of the herald_session cookie the jar holds.
func (b *browserless) session() string {
	b.t.Helper()
	u, _ := url.Parse(b.base)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == sessionCookie && c.Value != "" {
			return c.Value
		}
	}
	b.t.Fatalf("no %s cookie in the jar", sessionCookie)
	return ""
}

// register signs a new user up through the real form and returns the session cookie's value.
func register(t *testing.T, base, username string) string {
	t.Helper()
	b := newBrowserless(t, base)
	b.submit("/register", username, testPassword)
	return b.session()
}

// login signs an existing user in through the real form, starting another session, and returns
// its cookie's value.
func login(t *testing.T, base, username string) string {
	t.Helper()
	b := newBrowserless(t, base)
	b.submit("/login", username, testPassword)
	return b.session()
}

// logout does GET /logout with the session cookie, as the Logout link does, and expects the
// redirect home.
func logout(t *testing.T, base, cookie string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/logout", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
	c := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET /logout: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("GET /logout: got %d Location %q, want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
	}
}
