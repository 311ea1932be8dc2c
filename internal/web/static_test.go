package web

import (
	"net/http"
	"strings"
	"testing"
	"testing/fstest"
)

func TestStaticFiles(t *testing.T) {
	s := newSite(t, nil, nil)
	c := s.browser()
	for path, ctype := range map[string]string{
		"/public/client.js": "text/javascript; charset=utf-8",
		"/public/style.css": "text/css; charset=utf-8",
	} {
		r := s.get(c, path)
		if r.StatusCode != http.StatusOK || r.body == "" {
			t.Fatalf("GET %s = %d (%d bytes)", path, r.StatusCode, len(r.body))
		}
		if got := r.Header.Get("Content-Type"); got != ctype {
			t.Errorf("GET %s Content-Type %q, want %q", path, got, ctype)
		}
		etag := r.Header.Get("ETag")
		if etag == "" {
			t.Fatalf("GET %s has no ETag", path)
		}
		req, _ := http.NewRequest("GET", s.srv.URL+path, nil)
		req.Header.Set("If-None-Match", etag)
		if r := s.do(c, req); r.StatusCode != http.StatusNotModified {
			t.Errorf("revalidating %s: %d, want 304", path, r.StatusCode)
		}
	}
	if r := s.get(c, "/public/client.js"); !strings.Contains(r.body, "io()") {
		t.Error("client.js is not the chat client")
	}
}

func TestStaticServesOnlyTopLevelFiles(t *testing.T) {
	fsys := fstest.MapFS{
		"client.js":      {Data: []byte("// js")},
		"sub/secret.txt": {Data: []byte("secret")},
		"style.css":      {Data: []byte("body{}")},
	}
	s := newSite(t, nil, func(c *Config) { c.Static = fsys })
	c := s.browser()
	if r := s.get(c, "/public/client.js"); r.body != "// js" {
		t.Errorf("configured Static not used: %q", r.body)
	}
	for _, path := range []string{"/public/sub", "/public/sub/secret.txt", "/public/sub%2fsecret.txt"} {
		if r := s.get(c, path); r.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d %q, want 404", path, r.StatusCode, r.body)
		}
	}
}
