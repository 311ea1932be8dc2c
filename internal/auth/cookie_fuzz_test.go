package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/herald-chat/herald/internal/store/sqlite"
)

// errNoNetwork is what the fuzzed Auth's GitHub client answers: a fuzz run
// must never leave the machine, and a state that matches is all it needs
// to reach the exchange.
var errNoNetwork = errors.New("no network in a fuzz run")

type refuseTransport struct{}

func (refuseTransport) RoundTrip(*http.Request) (*http.Response, error) { return nil, errNoNetwork }

// cookieFuzzEnv is one Auth over a real SQLite file with a signed-in user
// and the cookies a browser would hold, shared by every input of a fuzz run.
type cookieFuzzEnv struct {
	a         *Auth
	userID    int64
	session   string // the valid session token
	csrf      string // a valid signed double-submit token
	sessCSRF  string // the session's own CSRF token
	oauthGood string // a well-formed OAuth state cookie value
}

func newCookieFuzzEnv(f *testing.F) *cookieFuzzEnv {
	f.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "fuzz.db")+"?_synchronous=OFF") // a throwaway file: no fsync per row
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	a, err := New(Config{
		Users:      db.Users(),
		Sessions:   db.Sessions(),
		Secret:     []byte("fuzz secret, fuzz secret, fuzz!!"),
		BcryptCost: bcrypt.MinCost,
		GitHub: GitHubConfig{
			ClientID: "id", ClientSecret: "secret",
			HTTPClient: &http.Client{Transport: refuseTransport{}},
		},
	})
	if err != nil {
		f.Fatal(err)
	}
	u, err := a.Register(context.Background(), "alice", "correct horse", "192.0.2.1")
	if err != nil {
		f.Fatal(err)
	}
	rec := httptest.NewRecorder()
	sess, err := a.StartSession(context.Background(), rec, httptest.NewRequest("POST", "/login", nil), u)
	if err != nil {
		f.Fatal(err)
	}
	e := &cookieFuzzEnv{a: a, userID: u.ID, sessCSRF: sess.CSRFToken}
	e.session = firstCookie(rec.Result().Cookies(), SessionCookie).Value
	rec = httptest.NewRecorder()
	e.csrf = a.CSRFToken(rec, httptest.NewRequest("GET", "/", nil))
	rec = httptest.NewRecorder()
	a.GitHubAuthURL(rec, httptest.NewRequest("GET", "/auth/github", nil))
	e.oauthGood = firstCookie(rec.Result().Cookies(), oauthStateCookie).Value
	return e
}

func firstCookie(cs []*http.Cookie, name string) *http.Cookie {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// FuzzRequestCookies sends any Cookie header (and any callback query) to
// the parts of Auth that read cookies, and holds them to net/http's own
// cookie parser: only the first herald_session cookie counts and signs in
// exactly when it is the live token; a token Auth accepts is canonical (it
// re-encodes to itself); the CSRF token handed out always verifies and
// survives a Set-Cookie round trip; the GitHub callback refuses a state
// that is not the cookie's, and nothing panics.
func FuzzRequestCookies(f *testing.F) {
	e := newCookieFuzzEnv(f)
	state, _, _ := strings.Cut(e.oauthGood, ".")
	seeds := []struct{ cookie, query string }{
		{"", ""},
		{SessionCookie + "=" + e.session, ""},
		{"a=b; " + SessionCookie + "=" + e.session + "; c=d", ""},
		{SessionCookie + "=\"" + e.session + "\"", ""},
		{SessionCookie + "=" + trailingBitSet(e.session), ""},
		{csrfCookie + "=" + trailingBitSet(e.csrf), ""},
		{SessionCookie + "=junk; " + SessionCookie + "=" + e.session, ""},
		{csrfCookie + "=" + e.csrf, ""},
		{csrfCookie + "=" + e.csrf + "x", ""},
		{csrfCookie + "=" + strings.Replace(e.csrf, ".", "..", 1), ""},
		{SessionCookie + "=" + e.session + "; " + csrfCookie + "=" + e.csrf, ""},
		{oauthStateCookie + "=" + e.oauthGood, "state=" + state + "&code=abc"},
		{oauthStateCookie + "=" + e.oauthGood, "state=" + state + "&error=access_denied"},
		{oauthStateCookie + "=" + state + ".", "state=" + state + "&code=abc"},
		{oauthStateCookie + "=" + e.oauthGood, "state=" + state + "x&code=abc"},
		{"=;;=; ; \x00\xff=\"", "%zz&;"},
	}
	for _, s := range seeds {
		f.Add(s.cookie, s.query)
	}
	f.Fuzz(func(t *testing.T, cookie, query string) {
		e.checkSession(t, cookie)
		e.checkCSRF(t, cookie)
		e.checkOAuthState(t, cookie, query)
	})
}

// trailingBitSet returns tok with the unused low bit of its last base64
// character set: the same bytes to a lenient decoder, a different string.
func trailingBitSet(tok string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, tok[len(tok)-1])
	return tok[:len(tok)-1] + string(alphabet[i^1])
}

func cookieRequest(method, target, cookie string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.Header.Set("Cookie", cookie)
	return r
}

func canonical(tok string) bool {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	return err == nil && base64.RawURLEncoding.EncodeToString(b) == tok
}

func (e *cookieFuzzEnv) checkSession(t *testing.T, cookie string) {
	r := cookieRequest("GET", "/", cookie)
	first := firstCookie(r.Cookies(), SessionCookie)
	if id, ok := e.a.cookieSessionID(r); ok {
		if first == nil || !canonical(first.Value) || id != sessionID(first.Value) {
			t.Fatalf("cookie %q: accepted session id %s, net/http reads %+v", cookie, id, first)
		}
	}
	u, id, ok := e.a.UserFromRequest(r)
	want := first != nil && first.Value == e.session
	if ok != want {
		t.Fatalf("cookie %q: signed in %v, want %v", cookie, ok, want)
	}
	if ok && (u.ID != e.userID || id != sessionID(e.session)) {
		t.Fatalf("cookie %q: signed in as user %d session %s", cookie, u.ID, id)
	}
}

func (e *cookieFuzzEnv) checkCSRF(t *testing.T, cookie string) {
	r := cookieRequest("GET", "/", cookie)
	_, _, signedIn := e.a.UserFromRequest(r)
	carried := firstCookie(r.Cookies(), csrfCookie)
	for _, c := range r.Cookies() {
		if c.Name != csrfCookie || !e.a.validSignedToken(c.Value) {
			continue
		}
		nonce, _, _ := strings.Cut(c.Value, ".")
		if c.Value != nonce+"."+base64.RawURLEncoding.EncodeToString(sign(e.a.csrfKey, nonce)) {
			t.Fatalf("cookie %q: accepted a signed token %q that is not the canonical one", cookie, c.Value)
		}
	}
	rec := httptest.NewRecorder()
	tok := e.a.CSRFToken(rec, r)
	set := firstCookie(rec.Result().Cookies(), csrfCookie)
	switch {
	case signedIn:
		if tok != e.sessCSRF || set != nil {
			t.Fatalf("cookie %q: signed in, got token %q (set %v), want the session's", cookie, tok, set)
		}
		return
	case carried != nil && e.a.validSignedToken(carried.Value):
		if tok != carried.Value || set != nil {
			t.Fatalf("cookie %q: a valid CSRF cookie was not reused (got %q, set %v)", cookie, tok, set)
		}
	default:
		if set == nil || set.Value != tok || !e.a.validSignedToken(tok) {
			t.Fatalf("cookie %q: fresh CSRF token %q, Set-Cookie %v", cookie, tok, set)
		}
	}
	// The token the form carries back, with the cookie the browser keeps,
	// passes VerifyCSRF.
	post := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{CSRFField: {tok}}.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.AddCookie(&http.Cookie{Name: csrfCookie, Value: tok})
	if err := e.a.VerifyCSRF(post); err != nil {
		t.Fatalf("cookie %q: the handed-out token %q fails VerifyCSRF: %v", cookie, tok, err)
	}
}

func (e *cookieFuzzEnv) checkOAuthState(t *testing.T, cookie, query string) {
	r := cookieRequest("GET", "/auth/github/callback", cookie)
	r.URL.RawQuery = query
	q, _ := url.ParseQuery(query)
	st := firstCookie(r.Cookies(), oauthStateCookie)
	rec := httptest.NewRecorder()
	_, err := e.a.GitHubCallback(rec, r)
	if err == nil {
		t.Fatalf("cookie %q query %q: a callback succeeded with no GitHub to ask", cookie, query)
	}
	if firstCookie(rec.Result().Cookies(), SessionCookie) != nil {
		t.Fatalf("cookie %q query %q: a failed callback started a session", cookie, query)
	}
	stateOK := false
	if st != nil {
		want, verifier, ok := strings.Cut(st.Value, ".")
		stateOK = ok && verifier != "" && canonical(want) && len(want) == tokenLen && want == q.Get("state")
	}
	if !stateOK {
		if !errors.Is(err, ErrOAuthState) {
			t.Fatalf("cookie %q query %q: state does not match, got %v", cookie, query, err)
		}
		return
	}
	if errors.Is(err, ErrOAuthState) {
		t.Fatalf("cookie %q query %q: a matching state was refused", cookie, query)
	}
	if q.Get("error") == "" && q.Get("code") != "" && !errors.Is(err, errNoNetwork) {
		t.Fatalf("cookie %q query %q: want the exchange to be tried, got %v", cookie, query, err)
	}
}
