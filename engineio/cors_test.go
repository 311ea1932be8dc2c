package engineio

import (
	"net/http"
	"strings"
	"testing"
)

const forbiddenBody = `{"code":4,"message":"Forbidden"}`

// originHeader returns a header carrying Origin.
func originHeader(origin string) http.Header { return http.Header{"Origin": {origin}} }

// expectForbidden checks that a foreign Origin is refused on every kind of request: polling
// handshake, preflight, WebSocket handshake, and requests on an existing session (which must not
// suffer for it).
func expectForbidden(t *testing.T, e *env, origin string) {
	t.Helper()
	h := originHeader(origin)
	before := e.srv.Count()
	for _, m := range []string{http.MethodGet, http.MethodOptions} {
		r := e.mustDo(t, m, "EIO=4&transport=polling", nil, h)
		if r.status != http.StatusForbidden || r.body != forbiddenBody {
			t.Errorf("Origin %q, %s handshake: %d %q", origin, m, r.status, r.body)
		}
		if r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("Origin %q, %s: CORS headers on a refusal", origin, m)
		}
	}
	if status, body := e.dialWSStatus(t, "EIO=4&transport=websocket", h); status != http.StatusForbidden || body != forbiddenBody {
		t.Errorf("Origin %q, WebSocket handshake: %d %q", origin, status, body)
	}
	sid := e.handshake(t).SID
	if r := e.mustDo(t, http.MethodPost, pollQuery(sid), strings.NewReader("1"), h); r.status != http.StatusForbidden {
		t.Errorf("Origin %q, POST on a session: %d %q", origin, r.status, r.body)
	}
	if status, _ := e.dialWSStatus(t, "EIO=4&transport=websocket&sid="+sid, h); status != http.StatusForbidden {
		t.Errorf("Origin %q, upgrade: %d", origin, status)
	}
	if e.rec.isClosed(t, sid) {
		t.Errorf("Origin %q: a refused request closed the session it named", origin)
	}
	e.post(t, sid, "4fine")
	if got := e.get(t, sid); got != "4fine" {
		t.Errorf("session after the refused requests: GET = %q", got)
	}
	if n := e.srv.Count(); n != before+1 {
		t.Errorf("Origin %q: Count() = %d, want %d", origin, n, before+1)
	}
}

// expectAllowed checks that Origin may open sessions over both transports, and that the answer
// carries the CORS headers a browser needs to read it with credentials.
func expectAllowed(t *testing.T, e *env, origin string) {
	t.Helper()
	h := originHeader(origin)
	r := e.mustDo(t, http.MethodGet, "EIO=4&transport=polling", nil, h)
	if r.status != http.StatusOK {
		t.Fatalf("Origin %q: handshake %d %q", origin, r.status, r.body)
	}
	if _, err := parseOpen(r.body); err != nil {
		t.Error(err)
	}
	if got := r.header.Get("Access-Control-Allow-Origin"); got != origin {
		t.Errorf("Origin %q: Access-Control-Allow-Origin %q", origin, got)
	}
	if got := r.header.Get("Access-Control-Allow-Credentials"); got != "true" {
		t.Errorf("Origin %q: Access-Control-Allow-Credentials %q", origin, got)
	}
	if got := r.header.Values("Vary"); !strings.Contains(strings.Join(got, ","), "Origin") {
		t.Errorf("Origin %q: Vary %q", origin, got)
	}
	c := e.dialWSHeader(t, "EIO=4&transport=websocket", h)
	if _, err := parseOpen(readText(t, c)); err != nil {
		t.Error(err)
	}
}

// TestOriginDefault checks the default policy: same-origin pages and non-browser clients (no
// Origin) are served; a foreign page is refused with 403, on long-polling and on WebSocket.
func TestOriginDefault(t *testing.T) {
	e := newEnv(t, Config{})
	hs := e.openHealthy(t) // no Origin header: a non-browser client
	expectAllowed(t, e, e.ts.URL)
	expectAllowed(t, e, strings.ToUpper(e.ts.URL[:4])+e.ts.URL[4:]) // scheme case does not matter
	expectForbidden(t, e, "http://evil.example")
	expectForbidden(t, e, "null")
	expectForbidden(t, e, "http://127.0.0.1.evil.example")
	// The server's host and port under another scheme is another origin.
	expectForbidden(t, e, "https"+strings.TrimPrefix(e.ts.URL, "http"))
	expectForbidden(t, e, "ws"+strings.TrimPrefix(e.ts.URL, "http"))
	hs.check(t)
}

// TestOriginAllowList checks AllowedOrigins: listed origins (any case, with or without a trailing
// slash in the list) are allowed, as is the server's own; everything else is refused.
func TestOriginAllowList(t *testing.T) {
	e := newEnv(t, Config{AllowedOrigins: []string{"https://chat.example/", "HTTPS://Other.Example"}})
	hs := e.openHealthy(t)
	expectAllowed(t, e, "https://chat.example")
	expectAllowed(t, e, "https://other.example")
	expectAllowed(t, e, e.ts.URL)
	expectForbidden(t, e, "https://evil.example")
	expectForbidden(t, e, "http://chat.example") // another scheme is another origin
	expectForbidden(t, e, "https://chat.example.evil.example")
	hs.check(t)
}

// TestOriginWildcard checks that "*" allows every origin, still echoing it (a literal "*" would
// make browsers drop the credentials).
func TestOriginWildcard(t *testing.T) {
	e := newEnv(t, Config{AllowedOrigins: []string{"*"}})
	expectAllowed(t, e, "https://anything.example")
	expectAllowed(t, e, "null")
}

// TestCheckOrigin checks that a CheckOrigin function replaces the list for requests with an
// Origin, and is not consulted for requests without one.
func TestCheckOrigin(t *testing.T) {
	e := newEnv(t, Config{
		AllowedOrigins: []string{"https://listed.example"},
		CheckOrigin: func(r *http.Request) bool {
			if r.Header.Get("Origin") == "" {
				panic("CheckOrigin called without an Origin")
			}
			return strings.HasSuffix(r.Header.Get("Origin"), ".good.example")
		},
	})
	e.openHealthy(t)
	expectAllowed(t, e, "https://a.good.example")
	expectForbidden(t, e, "https://listed.example")
}

// TestCORSPreflight checks the answer to a browser's OPTIONS preflight.
func TestCORSPreflight(t *testing.T) {
	e := newEnv(t, Config{AllowedOrigins: []string{"https://chat.example"}})
	h := originHeader("https://chat.example")
	h.Set("Access-Control-Request-Method", "POST")
	h.Set("Access-Control-Request-Headers", "content-type, x-custom")
	r := e.mustDo(t, http.MethodOptions, "EIO=4&transport=polling", nil, h)
	if r.status != http.StatusNoContent {
		t.Errorf("status %d", r.status)
	}
	for k, want := range map[string]string{
		"Access-Control-Allow-Origin":      "https://chat.example",
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Allow-Headers":     "content-type, x-custom",
	} {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if m := r.header.Get("Access-Control-Allow-Methods"); !strings.Contains(m, "POST") || !strings.Contains(m, "GET") {
		t.Errorf("Access-Control-Allow-Methods = %q", m)
	}
	if n := e.srv.Count(); n != 0 {
		t.Errorf("a preflight opened a session: Count() = %d", n)
	}
	// Without an Origin there is no CORS at all.
	r = e.mustDo(t, http.MethodGet, "EIO=4&transport=polling", nil, nil)
	if v := r.header.Get("Access-Control-Allow-Origin"); v != "" {
		t.Errorf("Access-Control-Allow-Origin %q without an Origin", v)
	}
}
