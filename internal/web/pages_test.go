package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/herald-chat/herald/internal/auth"
)

func TestHomePage(t *testing.T) {
	s := newSite(t, nil, nil)
	r := s.get(s.browser(), "/")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("GET / status %d", r.StatusCode)
	}
	if ct := r.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	for _, want := range []string{
		`action="/login"`, `action="/register"`, `name="username"`, `name="password"`,
		`type="password"`, `name="csrf_token"`, `href="/public/style.css"`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("home page lacks %s", want)
		}
	}
	if strings.Contains(r.body, "/auth/github") || strings.Contains(r.body, "Login with GitHub") {
		t.Error("GitHub link shown although GitHub is not configured")
	}
	if strings.Contains(r.body, `class="error"`) {
		t.Error("error area shown without an error")
	}
}

func TestSecurityHeaders(t *testing.T) {
	s := newSite(t, nil, nil)
	c := s.browser()
	for _, path := range []string{"/", "/profile", "/public/client.js", "/healthz", "/nope"} {
		r := s.get(c, path)
		for h, want := range map[string]string{
			"X-Content-Type-Options": "nosniff",
			"X-Frame-Options":        "DENY",
			"Referrer-Policy":        "same-origin",
		} {
			if got := r.Header.Get(h); got != want {
				t.Errorf("%s: %s = %q, want %q", path, h, got, want)
			}
		}
		csp := r.Header.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %s", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP allows unsafe sources: %q", path, csp)
		}
	}
}

func TestSignedInOnlyPages(t *testing.T) {
	s := newSite(t, nil, nil)
	anon := s.browser()
	forged := s.browser()
	forged.Jar.SetCookies(mustURL(s.srv.URL), []*http.Cookie{{Name: auth.SessionCookie, Value: strings.Repeat("A", 43)}})
	garbage := s.browser()
	garbage.Jar.SetCookies(mustURL(s.srv.URL), []*http.Cookie{{Name: auth.SessionCookie, Value: "<script>"}})
	for name, c := range map[string]*http.Client{"anonymous": anon, "forged cookie": forged, "garbage cookie": garbage} {
		for _, path := range []string{"/profile", "/chat"} {
			r := s.get(c, path)
			if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
				t.Errorf("%s GET %s = %d → %q, want 303 /", name, path, r.StatusCode, r.Header.Get("Location"))
			}
		}
	}
}

func TestProfilePage(t *testing.T) {
	s := newSite(t, nil, nil)
	c := s.register("alice")
	r := s.get(c, "/profile")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("GET /profile status %d", r.StatusCode)
	}
	for _, want := range []string{"<h1>Profile</h1>", "Welcome, alice!", `href="/chat"`, `href="/logout"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("profile lacks %s", want)
		}
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("profile Cache-Control %q, want no-store", cc)
	}
	// The home page knows who is signed in.
	if h := s.get(c, "/"); !strings.Contains(h.body, "signed in as <strong>alice</strong>") {
		t.Error("home page does not say who is signed in")
	}
}

func TestChatPage(t *testing.T) {
	s := newSite(t, nil, nil)
	c := s.register("alice")
	r := s.get(c, "/chat")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("GET /chat status %d", r.StatusCode)
	}
	for _, want := range []string{
		`<div id="num-users"`, `<ul id="messages"`, `<form id="form"`,
		`<input id="m" autocomplete="off"`, `<button type="submit">Send</button>`, `href="/logout"`,
		`<script src="/socket.io/socket.io.js"></script><script src="/public/client.js"></script>`,
		`data-username="alice"`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("chat page lacks %s", want)
		}
	}
	if strings.Contains(r.body, "<script>") || strings.Contains(r.body, " style=") {
		t.Error("chat page has inline script or style, which the CSP forbids")
	}
}

func TestHealthz(t *testing.T) {
	s := newSite(t, nil, nil)
	r := s.get(s.browser(), "/healthz")
	if r.StatusCode != http.StatusOK || r.body != "ok" {
		t.Errorf("GET /healthz = %d %q, want 200 ok", r.StatusCode, r.body)
	}
}

func TestNotFound(t *testing.T) {
	s := newSite(t, nil, nil)
	c := s.browser()
	for _, path := range []string{"/nope", "/index.html", "/public/", "/public/nope.js", "/public/%2e%2e%2fgo.mod", "/chat/x", "/profile/"} {
		r := s.get(c, path)
		if r.StatusCode != http.StatusNotFound || strings.TrimSpace(r.body) != "Not Found" {
			t.Errorf("GET %s = %d %q, want 404 Not Found", path, r.StatusCode, r.body)
		}
	}
	// Dot segments are cleaned by the mux (a redirect to the clean path),
	// never resolved against the static files.
	if r := s.get(c, "/public/../go.mod"); r.StatusCode == http.StatusOK {
		t.Errorf("GET /public/../go.mod served a file: %q", r.body)
	}
	// A known path with the wrong method is unknown too.
	for _, path := range []string{"/profile", "/", "/logout", "/healthz"} {
		r := s.post(c, path, nil)
		if r.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s = %d, want 404", path, r.StatusCode)
		}
	}
}

func TestMountBesideOtherRoutes(t *testing.T) {
	s := newSite(t, nil, nil)
	h, err := New(Config{}, s.a)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("sio")) }))
	mux.Handle("GET /metrics", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("metrics")) }))
	h.Mount(mux) // must not panic on conflicting patterns
	for path, want := range map[string]string{"/socket.io/?EIO=4": "sio", "/metrics": "metrics", "/healthz": "ok"} {
		rec := newRecorder()
		mux.ServeHTTP(rec, newRequest("GET", path))
		if got := rec.Body.String(); got != want {
			t.Errorf("GET %s = %q, want %q", path, got, want)
		}
	}
}
