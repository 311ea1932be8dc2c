package web

import (
	"io/fs"
	"strings"
	"testing"
)

func TestStatic(t *testing.T) {
	for _, name := range []string{"client.js", "style.css"} {
		b, err := fs.ReadFile(Static, name)
		if err != nil {
			t.Fatalf("Static lacks %s: %v", name, err)
		}
		if len(b) == 0 {
			t.Errorf("%s is empty", name)
		}
	}
}

// The chat script must never turn user text into HTML.
func TestClientScriptUsesTextContentOnly(t *testing.T) {
	b, err := fs.ReadFile(Static, "client.js")
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	for _, banned := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("} {
		if strings.Contains(src, banned) {
			t.Errorf("client.js uses %s", banned)
		}
	}
	for _, want := range []string{
		"io()", "'user count'", "'user'", "'chat message'", "'history'",
		"socket.timeout(", "'unauthorized'", "'reconnect'", "data-id", "textContent",
	} {
		if !strings.Contains(src, want) {
			t.Errorf("client.js lacks %s", want)
		}
	}
}

func TestClientBundleBuildsWithoutNpm(t *testing.T) {
	// Whatever npm did or did not do, the FS exists and is rooted at dist.
	entries, err := fs.ReadDir(ClientBundle, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			t.Errorf("unexpected directory %s in ClientBundle", e.Name())
		}
	}
}
