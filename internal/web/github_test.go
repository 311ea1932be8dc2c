package web

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/herald-chat/herald/internal/auth"
)

// fakeGitHub plays GitHub's OAuth endpoints and GET /user.
type fakeGitHub struct {
	srv *httptest.Server

	mu     sync.Mutex
	grants map[string]string // code → PKCE challenge
	tokens map[string]bool
}

func newFakeGitHub(t *testing.T, id int64, login string) *fakeGitHub {
	f := &fakeGitHub{grants: map[string]string{}, tokens: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/oauth/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		code := rand.Text()
		f.mu.Lock()
		f.grants[code] = q.Get("code_challenge")
		f.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
	})
	mux.HandleFunc("POST /login/oauth/access_token", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		challenge, ok := f.grants[r.PostFormValue("code")]
		if !ok || r.PostFormValue("client_secret") != "secret" ||
			oauth2.S256ChallengeFromVerifier(r.PostFormValue("code_verifier")) != challenge {
			http.Error(w, "bad grant", http.StatusBadRequest)
			return
		}
		delete(f.grants, r.PostFormValue("code"))
		tok := rand.Text()
		f.tokens[tok] = true
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q,"token_type":"bearer"}`, tok)
	})
	mux.HandleFunc("GET /user", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !f.tokens[tok] {
			http.Error(w, "bad token", http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"id": id, "login": login})
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGitHub) configure(c *auth.Config) {
	c.GitHub = auth.GitHubConfig{
		ClientID:     "id",
		ClientSecret: "secret",
		AuthURL:      f.srv.URL + "/login/oauth/authorize",
		TokenURL:     f.srv.URL + "/login/oauth/access_token",
		APIURL:       f.srv.URL,
	}
}

// toProvider follows /auth/github to the fake provider and returns the
// callback URL it sends the browser back to.
func (s *site) toProvider(c *http.Client) string {
	s.t.Helper()
	r := s.get(c, "/auth/github")
	if r.StatusCode != http.StatusFound {
		s.t.Fatalf("/auth/github = %d, want 302", r.StatusCode)
	}
	resp, err := c.Get(r.Header.Get("Location"))
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Get("Location")
}

func TestGitHubNotConfigured(t *testing.T) {
	s := newSite(t, nil, nil)
	for _, path := range []string{"/auth/github", "/auth/github/callback?code=x&state=y"} {
		if r := s.get(s.browser(), path); r.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, r.StatusCode)
		}
	}
}

func TestGitHubSignIn(t *testing.T) {
	gh := newFakeGitHub(t, 1234, "alice")
	s := newSite(t, gh.configure, nil)
	if r := s.get(s.browser(), "/"); !strings.Contains(r.body, `href="/auth/github"`) || !strings.Contains(r.body, "Login with GitHub") {
		t.Error("home page lacks the GitHub link although GitHub is configured")
	}
	s.register("alice") // the GitHub login's name is taken

	c := s.browser()
	r := s.get(c, strings.TrimPrefix(s.toProvider(c), s.srv.URL))
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/profile" {
		t.Fatalf("callback = %d → %q, want 303 /profile", r.StatusCode, r.Header.Get("Location"))
	}
	if p := s.get(c, "/profile"); !strings.Contains(p.body, "Welcome, alice2!") {
		t.Errorf("profile after GitHub sign-in: %s", p.body)
	}
	u, err := s.db.Users().ByGitHubID(context.Background(), 1234)
	if err != nil || u.Username != "alice2" {
		t.Errorf("GitHub user = %+v, %v; want alice2", u, err)
	}
}

func TestGitHubBadState(t *testing.T) {
	gh := newFakeGitHub(t, 1234, "alice")
	s := newSite(t, gh.configure, nil)
	c := s.browser()
	cb, err := url.Parse(s.toProvider(c))
	if err != nil {
		t.Fatal(err)
	}
	q := cb.Query()
	q.Set("state", "forged")
	cb.RawQuery = q.Encode()
	r := s.get(c, cb.RequestURI())
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.body, "state mismatch") {
		t.Errorf("forged state = %d, want 400 with a message; body: %s", r.StatusCode, r.body)
	}
	if s.sessionCookie(c) != nil {
		t.Error("signed in despite a bad state")
	}
	if _, err := s.db.Users().ByGitHubID(context.Background(), 1234); err == nil {
		t.Error("user created despite a bad state")
	}
	// No state at all.
	if r := s.get(s.browser(), "/auth/github/callback?code=abc"); r.StatusCode != http.StatusBadRequest {
		t.Errorf("missing state = %d, want 400", r.StatusCode)
	}
}
