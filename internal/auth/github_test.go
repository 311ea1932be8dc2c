package auth

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/herald-chat/herald/internal/store"
)

// fakeGitHub is a minimal OAuth provider plus GET /user, strict about the
// parts of the protocol Herald must get right (client credentials,
// redirect_uri, PKCE, bearer token).
type fakeGitHub struct {
	t   *testing.T
	srv *httptest.Server

	mu        sync.Mutex
	profile   map[string]any // what GET /user returns
	userFails bool           // GET /user answers 500
	grants    map[string]grant
	tokens    map[string]bool
	exchanges int
}

type grant struct{ redirectURI, challenge string }

func newFakeGitHub(t *testing.T) *fakeGitHub {
	f := &fakeGitHub{t: t, grants: map[string]grant{}, tokens: map[string]bool{},
		profile: map[string]any{"id": 583231, "login": "octocat", "name": "The Octocat"}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/oauth/authorize", f.authorize)
	mux.HandleFunc("POST /login/oauth/access_token", f.token)
	mux.HandleFunc("GET /api/user", f.user)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGitHub) config() GitHubConfig {
	return GitHubConfig{
		ClientID:     "client-id",
		ClientSecret: "client-secret",
		AuthURL:      f.srv.URL + "/login/oauth/authorize",
		TokenURL:     f.srv.URL + "/login/oauth/access_token",
		APIURL:       f.srv.URL + "/api",
	}
}

// authorize stands in for the user clicking "Authorize": it redirects
// straight back with a code.
func (f *fakeGitHub) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != "client-id" || q.Get("state") == "" || q.Get("code_challenge_method") != "S256" {
		http.Error(w, "bad authorize request: "+r.URL.RawQuery, http.StatusBadRequest)
		return
	}
	code := rand.Text()
	f.mu.Lock()
	f.grants[code] = grant{redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge")}
	f.mu.Unlock()
	back, _ := url.Parse(q.Get("redirect_uri"))
	bq := back.Query()
	bq.Set("code", code)
	bq.Set("state", q.Get("state"))
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (f *fakeGitHub) token(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.exchanges++
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	g, ok := f.grants[r.PostForm.Get("code")]
	delete(f.grants, r.PostForm.Get("code")) // codes are single-use
	switch {
	case r.PostForm.Get("client_id") != "client-id" || r.PostForm.Get("client_secret") != "client-secret":
		http.Error(w, "bad client credentials", http.StatusUnauthorized)
		return
	case !ok:
		http.Error(w, "bad code", http.StatusBadRequest)
		return
	case r.PostForm.Get("redirect_uri") != g.redirectURI:
		http.Error(w, "redirect_uri mismatch", http.StatusBadRequest)
		return
	case oauth2.S256ChallengeFromVerifier(r.PostForm.Get("code_verifier")) != g.challenge:
		http.Error(w, "PKCE verification failed", http.StatusBadRequest)
		return
	}
	tok := rand.Text()
	f.tokens[tok] = true
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"access_token":%q,"token_type":"bearer","scope":""}`, tok)
}

func (f *fakeGitHub) user(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch {
	case !ok || !f.tokens[tok]:
		http.Error(w, "bad token", http.StatusUnauthorized)
	case r.Header.Get("User-Agent") == "":
		http.Error(w, "User-Agent required", http.StatusForbidden)
	case f.userFails:
		http.Error(w, "boom", http.StatusInternalServerError)
	default:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(f.profile)
	}
}

// githubApp serves the two routes the way internal/web does.
func githubApp(t *testing.T, a *Auth) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /auth/github", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, a.GitHubAuthURL(w, r), http.StatusFound)
	})
	mux.HandleFunc("GET /auth/github/callback", func(w http.ResponseWriter, r *http.Request) {
		_, err := a.GitHubCallback(w, r)
		switch {
		case errors.Is(err, ErrOAuthState) || errors.Is(err, ErrOAuthIncomplete):
			http.Error(w, err.Error(), http.StatusBadRequest)
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadGateway)
		default:
			http.Redirect(w, r, "/profile", http.StatusSeeOther)
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// browser is an HTTP client with cookies that does not follow redirects,
// so each hop can be inspected.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, u string) *http.Response {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// startGitHubLogin follows /auth/github to the fake provider and returns the
// callback URL it redirects back to.
func startGitHubLogin(t *testing.T, c *http.Client, app *httptest.Server) string {
	t.Helper()
	resp := get(t, c, app.URL+"/auth/github")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("/auth/github status %d", resp.StatusCode)
	}
	resp = get(t, c, resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("fake authorize status %d", resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

func signedInUser(t *testing.T, a *Auth, c *http.Client, app *httptest.Server) (store.User, bool) {
	t.Helper()
	r := httptest.NewRequest("GET", app.URL+"/", nil)
	u, _ := url.Parse(app.URL)
	for _, ck := range c.Jar.Cookies(u) {
		r.AddCookie(ck)
	}
	user, _, ok := a.UserFromRequest(r)
	return user, ok
}

func TestGitHubLoginHappyPath(t *testing.T) {
	gh := newFakeGitHub(t)
	e := newEnv(t, func(c *Config) { c.GitHub = gh.config() })
	app := githubApp(t, e.a)
	// "octocat" is taken by a password account: the GitHub user must get a
	// suffixed name, not that account.
	if _, err := e.a.Register(context.Background(), "OctoCat", "correct horse", "192.0.2.200"); err != nil {
		t.Fatal(err)
	}

	c := browser(t)
	callback := startGitHubLogin(t, c, app)
	if !strings.HasPrefix(callback, app.URL+"/auth/github/callback?") {
		t.Fatalf("provider redirected to %q", callback)
	}
	resp := get(t, c, callback)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/profile" {
		t.Fatalf("callback = %d → %q, want 303 /profile", resp.StatusCode, resp.Header.Get("Location"))
	}
	u, ok := signedInUser(t, e.a, c, app)
	if !ok || u.Username != "octocat2" || u.GitHubID != 583231 {
		t.Fatalf("signed in as %+v (ok=%v), want octocat2 linked to 583231", u, ok)
	}

	// Signing in again finds the same account.
	c2 := browser(t)
	resp = get(t, c2, startGitHubLogin(t, c2, app))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("second sign-in status %d", resp.StatusCode)
	}
	u2, ok := signedInUser(t, e.a, c2, app)
	if !ok || u2.ID != u.ID {
		t.Errorf("second sign-in as %+v, want the same account %d", u2, u.ID)
	}
}

func TestGitHubCallbackBadState(t *testing.T) {
	gh := newFakeGitHub(t)
	e := newEnv(t, func(c *Config) { c.GitHub = gh.config() })
	app := githubApp(t, e.a)

	tamper := func(callback, state string) string {
		u, _ := url.Parse(callback)
		q := u.Query()
		if state == "" {
			q.Del("state")
		} else {
			q.Set("state", state)
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	for name, run := range map[string]func() *http.Response{
		"wrong state": func() *http.Response {
			c := browser(t)
			return get(t, c, tamper(startGitHubLogin(t, c, app), newToken()))
		},
		"missing state": func() *http.Response {
			c := browser(t)
			return get(t, c, tamper(startGitHubLogin(t, c, app), ""))
		},
		"no state cookie": func() *http.Response {
			cb := startGitHubLogin(t, browser(t), app)
			return get(t, browser(t), cb) // another browser: attacker-supplied link
		},
	} {
		t.Run(name, func(t *testing.T) {
			resp := run()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d, want 400", resp.StatusCode)
			}
		})
	}
	gh.mu.Lock()
	exchanges := gh.exchanges
	gh.mu.Unlock()
	if exchanges != 0 {
		t.Errorf("%d code exchanges with a bad state, want none", exchanges)
	}
	if _, err := e.db.Users().ByGitHubID(context.Background(), 583231); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("user created despite bad state: %v", err)
	}
}

func TestGitHubCallbackDeniedAndFailures(t *testing.T) {
	gh := newFakeGitHub(t)
	e := newEnv(t, func(c *Config) { c.GitHub = gh.config() })
	app := githubApp(t, e.a)

	// The user pressed "Cancel" at GitHub.
	c := browser(t)
	cb, _ := url.Parse(startGitHubLogin(t, c, app))
	q := cb.Query()
	q.Del("code")
	q.Set("error", "access_denied")
	cb.RawQuery = q.Encode()
	if resp := get(t, c, cb.String()); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("denied: status %d, want 400", resp.StatusCode)
	}

	// A state may be used once only.
	c = browser(t)
	cbURL := startGitHubLogin(t, c, app)
	get(t, c, cbURL)
	if resp := get(t, c, cbURL); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("replayed callback: status %d, want 400", resp.StatusCode)
	}

	// GitHub's API failing is a gateway error and creates nothing.
	e2 := newEnv(t, func(c *Config) { c.GitHub = gh.config() })
	app2 := githubApp(t, e2.a)
	gh.mu.Lock()
	gh.userFails = true
	gh.mu.Unlock()
	c = browser(t)
	if resp := get(t, c, startGitHubLogin(t, c, app2)); resp.StatusCode != http.StatusBadGateway {
		t.Errorf("GitHub API failure: status %d, want 502", resp.StatusCode)
	}
	if _, err := e2.db.Users().ByGitHubID(context.Background(), 583231); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("user created although GET /user failed: %v", err)
	}
}

func TestGitHubDisabled(t *testing.T) {
	e := newEnv(t, nil)
	if e.a.GitHubEnabled() {
		t.Fatal("GitHub enabled without credentials")
	}
	rec := httptest.NewRecorder()
	if u := e.a.GitHubAuthURL(rec, httptest.NewRequest("GET", "/auth/github", nil)); u != "" {
		t.Errorf("GitHubAuthURL = %q, want empty", u)
	}
	if _, err := e.a.GitHubCallback(rec, httptest.NewRequest("GET", "/auth/github/callback", nil)); !errors.Is(err, ErrGitHubDisabled) {
		t.Errorf("GitHubCallback = %v, want ErrGitHubDisabled", err)
	}
	half := newEnv(t, func(c *Config) { c.GitHub.ClientID = "only-id" })
	if half.a.GitHubEnabled() {
		t.Error("GitHub enabled with a client id but no secret")
	}
}

func TestGitHubAuthURL(t *testing.T) {
	gh := newFakeGitHub(t)
	e := newEnv(t, func(c *Config) {
		c.GitHub = gh.config()
		c.GitHub.CallbackURL = "https://chat.example.com/auth/github/callback"
	})
	rec := httptest.NewRecorder()
	raw := e.a.GitHubAuthURL(rec, httptest.NewRequest("GET", "/auth/github", nil))
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("redirect_uri") != "https://chat.example.com/auth/github/callback" || q.Get("client_id") != "client-id" ||
		q.Get("code_challenge") == "" || q.Get("state") == "" {
		t.Errorf("auth URL %s lacks configured callback, client id, PKCE or state", raw)
	}
	c := cookieNamed(rec.Result().Cookies(), oauthStateCookie)
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/auth/github" || c.MaxAge <= 0 {
		t.Errorf("state cookie = %+v", c)
	}
	if !strings.HasPrefix(c.Value, q.Get("state")+".") {
		t.Error("state cookie does not carry the state sent to GitHub")
	}
}
