package web

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

	"github.com/herald-chat/herald/internal/auth"
	"github.com/herald-chat/herald/internal/store/sqlite"
)

// csrfPlaceholder in a fuzzed body stands for the run's valid CSRF token,
// whose nonce is new every run: a kept corpus entry keeps its meaning.
const csrfPlaceholder = "{csrf}"

// formFuzzSite is the pages over a real SQLite file with one account,
// alice, and the CSRF cookie of a signed-out browser. Its clock moves an
// hour per input, so the login limiter never carries one input's failures
// into the next and every input reaches the password check.
type formFuzzSite struct {
	h    *Handler
	csrf string

	mu  sync.Mutex
	now time.Time
	// accounts maps each lower-cased username registered so far (by the setup or by an
	// earlier input) to its password: the oracle for who may sign in.
	accounts map[string]string
}

func (s *formFuzzSite) tick() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = s.now.Add(time.Hour)
	return s.now
}

func (s *formFuzzSite) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

func newFormFuzzSite(f *testing.F) *formFuzzSite {
	f.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "fuzz.db")+"?_synchronous=OFF") // a throwaway file: no fsync per row
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	s := &formFuzzSite{now: time.Now(), accounts: map[string]string{"alice": "correct horse"}}
	a, err := auth.New(auth.Config{
		Users:      db.Users(),
		Sessions:   db.Sessions(),
		Secret:     []byte("fuzz secret, fuzz secret, fuzz!!"),
		BcryptCost: bcrypt.MinCost,
		Now:        s.clock,
	})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := a.Register(context.Background(), "alice", "correct horse", "192.0.2.1"); err != nil {
		f.Fatal(err)
	}
	if s.h, err = New(Config{}, a); err != nil {
		f.Fatal(err)
	}
	s.csrf = a.CSRFToken(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	return s
}

// FuzzFormPost posts any body with any Content-Type to /login and
// /register, as a signed-out browser holding a valid CSRF cookie. Whatever
// arrives, the server answers without a panic or a 5xx; it signs in only a
// form that (read by url.ParseQuery) carries the CSRF token and valid
// credentials (alice's, or those of an account an earlier input registered; a name is
// registered once), and it does sign in a well-formed one that does; a refused
// form gets the home page back with the username escaped and no session.
func FuzzFormPost(f *testing.F) {
	s := newFormFuzzSite(f)
	const form = "application/x-www-form-urlencoded"
	seeds := []struct {
		login       bool
		contentType string
		body        string
	}{
		{true, form, "csrf_token={csrf}&username=alice&password=correct+horse"},
		{true, form, "csrf_token={csrf}&username=+ALICE+&password=correct%20horse"},
		{true, form, "csrf_token={csrf}&username=alice&password=wrong"},
		{true, form, "username=alice&password=correct+horse"},
		{true, form, "csrf_token=x&username=alice&password=correct+horse"},
		{true, form + "; charset=utf-8", "csrf_token={csrf}&username=alice&password=correct+horse"},
		{true, "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n--x--\r\n"},
		{true, "text/plain", "csrf_token={csrf}&username=alice&password=correct+horse"},
		{true, "", "csrf_token={csrf}"},
		{true, form, "csrf_token={csrf};username=alice"},
		{true, form, "csrf_token={csrf}&username=%zz"},
		{true, form, "csrf_token={csrf}&csrf_token=x&username=alice&password=correct+horse"},
		{false, form, "csrf_token={csrf}&username=bob_1&password=correct+horse"},
		{false, form, "csrf_token={csrf}&username=%22%3E%3Cscript%3Ealert(1)%3C/script%3E&password=correct+horse"},
		{false, form, "csrf_token={csrf}&username=ALICE&password=correct+horse"},
		{false, form, "csrf_token={csrf}&username=bob&password=" + strings.Repeat("p", 73)},
		{false, "application/x-www-form-urlencoded;;", "a=b"},
	}
	for _, sd := range seeds {
		f.Add(sd.login, sd.contentType, sd.body)
	}
	f.Fuzz(func(t *testing.T, login bool, contentType, body string) {
		s.tick()
		s.check(t, login, contentType, strings.ReplaceAll(body, csrfPlaceholder, s.csrf))
	})
}

func (s *formFuzzSite) check(t *testing.T, login bool, contentType, body string) {
	path := "/register"
	if login {
		path = "/login"
	}
	r := httptest.NewRequest("POST", path, strings.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	r.AddCookie(&http.Cookie{Name: "herald_csrf", Value: s.csrf})
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, r)
	resp := rec.Result()
	got := rec.Body.String()
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == auth.SessionCookie && c.MaxAge >= 0 {
			session = c
		}
	}

	// What the form says, as the standard parser reads it when the
	// request is a plain urlencoded form (the browser's own).
	vals, parseErr := url.ParseQuery(body)
	plain := contentType == "application/x-www-form-urlencoded" && parseErr == nil && len(body) <= DefaultMaxBodyBytes
	csrfOK := vals.Get(auth.CSRFField) == s.csrf
	typed := vals.Get("username")
	username, password := strings.TrimSpace(typed), vals.Get("password")
	known, taken := s.accounts[strings.ToLower(username)]
	var credsOK bool
	if login {
		credsOK = taken && password == known
	} else {
		credsOK = !taken && auth.ValidateUsername(username) == nil && auth.ValidatePassword(password) == nil
	}

	switch code := resp.StatusCode; {
	case code >= 500:
		t.Fatalf("%s %q %q: %d\n%s", path, contentType, body, code, got)
	case code == http.StatusSeeOther:
		if !csrfOK || !credsOK || session == nil || resp.Header.Get("Location") != "/profile" {
			t.Fatalf("%s %q %q: signed in (session %v, Location %q) though csrf %v, credentials %v",
				path, contentType, body, session, resp.Header.Get("Location"), csrfOK, credsOK)
		}
		if !login {
			s.accounts[strings.ToLower(username)] = password
		}
		return
	case code == http.StatusRequestEntityTooLarge:
		if len(body) <= DefaultMaxBodyBytes {
			t.Fatalf("%s: 413 for a body of %d bytes", path, len(body))
		}
	case code == http.StatusTooManyRequests:
		// A limiter the clock does not reset (say, per address); nothing
		// more to hold this answer to.
	default:
		if plain && csrfOK && credsOK {
			t.Fatalf("%s %q %q: a well-formed valid form got %d", path, contentType, body, code)
		}
		if !strings.Contains(got, `action="/login"`) || !strings.Contains(got, `action="/register"`) {
			t.Fatalf("%s %q %q: %d without the home page", path, contentType, body, code)
		}
		// The refilled field holds what was typed: escaped, a quote or
		// angle bracket in it never reaches the page as itself.
		if strings.ContainsAny(typed, `<>"`) && !strings.Contains(typed, s.csrf) && strings.Contains(got, `value="`+typed+`"`) {
			t.Fatalf("%s: the username %q came back unescaped", path, typed)
		}
	}
	if session != nil {
		t.Fatalf("%s %q %q: %d set a session cookie", path, contentType, body, resp.StatusCode)
	}
}
