package auth

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestCSRFSignedOut(t *testing.T) {
	e := newEnv(t, nil)
	rec := httptest.NewRecorder()
	tok := e.a.CSRFToken(rec, httptest.NewRequest("GET", "/", nil))
	cookie := cookieNamed(rec.Result().Cookies(), csrfCookie)
	if tok == "" || cookie == nil || cookie.Value != tok || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode {
		t.Fatalf("token %q, cookie %+v", tok, cookie)
	}
	// A second page load reuses the cookie, so two open tabs both work.
	rec2 := httptest.NewRecorder()
	if tok2 := e.a.CSRFToken(rec2, withCookies(httptest.NewRequest("GET", "/", nil), cookie)); tok2 != tok {
		t.Errorf("second token %q differs from %q", tok2, tok)
	}
	if len(rec2.Result().Cookies()) != 0 {
		t.Error("valid cookie re-set")
	}

	post := func(token string, cs ...*http.Cookie) *http.Request {
		r := formPost("/login", url.Values{CSRFField: {token}, "username": {"a"}})
		return withCookies(r, cs...)
	}
	if err := e.a.VerifyCSRF(post(tok, cookie)); err != nil {
		t.Errorf("valid token refused: %v", err)
	}

	// A cookie minted with another secret: a forger's own signed pair.
	other := newEnv(t, func(c *Config) { c.Secret = []byte("another secret, also 32 bytes!!!") })
	orec := httptest.NewRecorder()
	foreignTok := other.a.CSRFToken(orec, httptest.NewRequest("GET", "/", nil))
	foreignCookie := cookieNamed(orec.Result().Cookies(), csrfCookie)

	unsigned := newToken() + ".AAAA"
	for name, r := range map[string]*http.Request{
		"missing field":          post("", cookie),
		"missing cookie":         post(tok),
		"wrong token":            post(newToken(), cookie),
		"token from cookie only": withCookies(formPost("/login", url.Values{"username": {"a"}}), cookie),
		"forged signature":       post(unsigned, &http.Cookie{Name: csrfCookie, Value: unsigned}),
		"other secret":           post(foreignTok, foreignCookie),
		"truncated":              post(tok[:len(tok)-2], &http.Cookie{Name: csrfCookie, Value: tok[:len(tok)-2]}),
	} {
		if err := e.a.VerifyCSRF(r); !errors.Is(err, ErrCSRF) {
			t.Errorf("%s: VerifyCSRF = %v, want ErrCSRF", name, err)
		}
	}
}

func TestCSRFSignedIn(t *testing.T) {
	e := newEnv(t, nil)
	cs := e.signIn(t, "alice")
	tok := e.a.CSRFToken(httptest.NewRecorder(), withCookies(httptest.NewRequest("GET", "/", nil), cs...))
	sess, _, _ := e.a.SessionFromRequest(withCookies(httptest.NewRequest("GET", "/", nil), cs...))
	if tok != sess.CSRFToken {
		t.Fatalf("signed-in token %q, want the session's %q", tok, sess.CSRFToken)
	}
	ok := withCookies(formPost("/x", url.Values{CSRFField: {tok}}), cs...)
	if err := e.a.VerifyCSRF(ok); err != nil {
		t.Errorf("session token refused: %v", err)
	}
	// Another user's session token is no good.
	bob := e.signIn(t, "bob")
	bobSess, _, _ := e.a.SessionFromRequest(withCookies(httptest.NewRequest("GET", "/", nil), bob...))
	bad := withCookies(formPost("/x", url.Values{CSRFField: {bobSess.CSRFToken}}), cs...)
	if err := e.a.VerifyCSRF(bad); !errors.Is(err, ErrCSRF) {
		t.Errorf("bob's token with alice's session: %v, want ErrCSRF", err)
	}
}

func TestCheckOrigin(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AllowedOrigins = []string{"https://chat.example.com/"} })
	for _, tc := range []struct {
		name    string
		headers map[string]string
		host    string
		ok      bool
	}{
		{"no headers", nil, "example.com", true},
		{"same origin", map[string]string{"Origin": "http://example.com"}, "example.com", true},
		{"https page, http server", map[string]string{"Origin": "https://example.com"}, "example.com", false},
		{"https page with the server's port", map[string]string{"Origin": "https://localhost:3000"}, "localhost:3000", false},
		{"same origin with port", map[string]string{"Origin": "http://localhost:3000"}, "localhost:3000", true},
		{"default port", map[string]string{"Origin": "http://example.com:80"}, "example.com", true},
		{"https default port is not http's", map[string]string{"Origin": "https://example.com:443"}, "example.com", false},
		{"host case", map[string]string{"Origin": "http://EXAMPLE.com"}, "example.com", true},
		{"allowed list", map[string]string{"Origin": "https://chat.example.com"}, "example.com", true},
		{"same-origin referer", map[string]string{"Referer": "http://example.com/"}, "example.com", true},
		{"foreign", map[string]string{"Origin": "https://evil.example"}, "example.com", false},
		{"other port", map[string]string{"Origin": "http://localhost:4000"}, "localhost:3000", false},
		{"lookalike suffix", map[string]string{"Origin": "http://example.com.evil.example"}, "example.com", false},
		{"null origin", map[string]string{"Origin": "null"}, "example.com", false},
		{"non-http scheme", map[string]string{"Origin": "file://example.com"}, "example.com", false},
		{"foreign referer", map[string]string{"Referer": "https://evil.example/page"}, "example.com", false},
		{"foreign origin beats referer", map[string]string{"Origin": "https://evil.example", "Referer": "http://example.com/"}, "example.com", false},
		{"cross-site fetch metadata", map[string]string{"Sec-Fetch-Site": "cross-site"}, "example.com", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/login", strings.NewReader(""))
			r.Host = tc.host
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			err := e.a.CheckOrigin(r)
			if tc.ok && err != nil {
				t.Errorf("CheckOrigin = %v, want accepted", err)
			}
			if !tc.ok && !errors.Is(err, ErrForeignOrigin) {
				t.Errorf("CheckOrigin = %v, want ErrForeignOrigin", err)
			}
		})
	}
}

// TestCheckOriginScheme: over TLS the server's own origin is https; behind a
// TLS-terminating proxy, PublicURL decides.
func TestCheckOriginScheme(t *testing.T) {
	direct := newEnv(t, nil)
	r := httptest.NewRequest("POST", "https://example.com/login", nil) // r.TLS set
	r.Header.Set("Origin", "https://example.com")
	if err := direct.a.CheckOrigin(r); err != nil {
		t.Errorf("https page on a TLS server = %v, want accepted", err)
	}
	r.Header.Set("Origin", "http://example.com")
	if err := direct.a.CheckOrigin(r); !errors.Is(err, ErrForeignOrigin) {
		t.Errorf("http page on a TLS server = %v, want ErrForeignOrigin", err)
	}

	proxied := newEnv(t, func(c *Config) { c.PublicURL = "https://chat.example.com/" })
	for origin, ok := range map[string]bool{
		"https://chat.example.com":     true,
		"https://CHAT.example.com:443": true,
		"http://chat.example.com":      false, // the request's own scheme: not the public one
		"http://127.0.0.1:3000":        false, // the request's own Host
	} {
		r := httptest.NewRequest("POST", "/login", nil) // plain HTTP from the proxy
		r.Host = "127.0.0.1:3000"
		r.Header.Set("Origin", origin)
		if got := proxied.a.OriginAllowed(r); got != ok {
			t.Errorf("PublicURL https://chat.example.com, Origin %s: allowed %v, want %v", origin, got, ok)
		}
	}
	if _, err := New(Config{Users: proxied.db.Users(), Sessions: proxied.db.Sessions(), Secret: []byte("0123456789abcdef"), PublicURL: "chat.example.com"}); err == nil {
		t.Error("a PublicURL without a scheme was accepted")
	}
}

func TestVerifyCSRFChecksOriginFirst(t *testing.T) {
	e := newEnv(t, nil)
	rec := httptest.NewRecorder()
	tok := e.a.CSRFToken(rec, httptest.NewRequest("GET", "/", nil))
	r := withCookies(formPost("/login", url.Values{CSRFField: {tok}}), rec.Result().Cookies()...)
	r.Header.Set("Origin", "https://evil.example")
	if err := e.a.VerifyCSRF(r); !errors.Is(err, ErrForeignOrigin) {
		t.Errorf("foreign origin with a valid token: %v, want ErrForeignOrigin", err)
	}
}

func TestClientIP(t *testing.T) {
	plain := newEnv(t, nil)
	proxied := newEnv(t, func(c *Config) { c.TrustProxyHeaders = true })
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "192.0.2.10:5555"
	r.Header.Add("X-Forwarded-For", "6.6.6.6, 10.0.0.1")
	r.Header.Add("X-Forwarded-For", "203.0.113.5")
	if got := plain.a.ClientIP(r); got != "192.0.2.10" {
		t.Errorf("untrusted ClientIP = %q, want the peer address", got)
	}
	if got := proxied.a.ClientIP(r); got != "203.0.113.5" {
		t.Errorf("trusted ClientIP = %q, want the last hop 203.0.113.5", got)
	}
	r.Header.Del("X-Forwarded-For")
	if got := proxied.a.ClientIP(r); got != "192.0.2.10" {
		t.Errorf("trusted ClientIP without header = %q", got)
	}
}
