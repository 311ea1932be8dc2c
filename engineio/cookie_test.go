package engineio

import (
	"net/http"
	"testing"
)

// TestSessionCookie: with Config.Cookie the polling handshake sets a cookie naming the session,
// with Node's defaults; without it, none.
func TestSessionCookie(t *testing.T) {
	plain := newEnv(t, Config{})
	if r := plain.mustDo(t, http.MethodGet, "EIO=4&transport=polling", nil, nil); len(r.header.Values("Set-Cookie")) != 0 {
		t.Errorf("a cookie without Config.Cookie: %q", r.header.Values("Set-Cookie"))
	}
	e := newEnv(t, Config{Cookie: &Cookie{}})
	r := e.mustDo(t, http.MethodGet, "EIO=4&transport=polling", nil, nil)
	o, err := parseOpen(r.body)
	if err != nil {
		t.Fatal(err)
	}
	res := http.Response{Header: r.header}
	cookies := res.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies %q, want one", r.header.Values("Set-Cookie"))
	}
	c := cookies[0]
	if c.Name != "io" || c.Value != o.SID || c.Path != "/" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure {
		t.Errorf("cookie %+v, want io=<sid>; Path=/; HttpOnly; SameSite=Lax", c)
	}
	named := newEnv(t, Config{Cookie: &Cookie{Name: "sticky", Path: "/socket.io/", AllowScripts: true}})
	res = http.Response{Header: named.mustDo(t, http.MethodGet, "EIO=4&transport=polling", nil, nil).header}
	if cs := res.Cookies(); len(cs) != 1 || cs[0].Name != "sticky" || cs[0].Path != "/socket.io/" || cs[0].HttpOnly {
		t.Errorf("configured cookie %+v", cs)
	}
}
