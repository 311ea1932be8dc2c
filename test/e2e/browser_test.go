package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's Chromium, which `make chromium` installs.
const chromiumPath = "/usr/bin/chromium"

// browserStepTimeout bounds one browser step (a navigation, a click, an evaluation).
const browserStepTimeout = 20 * time.Second

// browser is one headless Chromium process with its own profile (and so its own cookies), and
// the tab the test drives.
type browser struct {
	t    *testing.T
	name string
	ctx  context.Context
	kill func() // ends the Chromium process at once, as a crash would
}

// newBrowser starts a headless Chromium with a fresh profile in t.TempDir(). It is closed, and
// its processes reaped, when the test ends.
func newBrowser(t *testing.T, name string) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s is missing: run `make chromium` (make test installs it) to get Debian's Chromium for the browser test (%v)", chromiumPath, err)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1000, 720),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		// A graceful close first, bounded; then the allocator kills whatever is left and waits
		// for the process.
		closeCtx, cancelClose := context.WithTimeout(ctx, 10*time.Second)
		_ = chromedp.Cancel(closeCtx)
		cancelClose()
		cancel()
		cancelAlloc()
	})
	b := &browser{t: t, name: name, ctx: ctx, kill: cancelAlloc}
	// The first action starts the browser; it must not run under a timeout context, whose end
	// would stop the browser, so it is bounded by a timer instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx, chromedp.Navigate("about:blank")) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("%s: starting Chromium: %v", name, err)
		}
	case <-time.After(30 * time.Second):
		cancelAlloc()
		t.Fatalf("%s: Chromium did not start within 30 s", name)
	}
	return b
}

// do runs steps in the tab, bounded by browserStepTimeout.
func (b *browser) do(desc string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %s: %v", b.name, desc, err)
	}
}

// eval evaluates a JavaScript expression in the page, bounded by browserStepTimeout.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("%s: evaluating %s: %v", b.name, expr, err)
	}
	return v
}

// location returns the page's URL.
func (b *browser) location() string {
	b.t.Helper()
	return eval[string](b, "location.href")
}

// lines returns the text of each line in #messages.
func (b *browser) lines() []string {
	b.t.Helper()
	return eval[[]string](b, `Array.from(document.querySelectorAll('#messages li'), li => li.textContent)`)
}

// waitUsers waits until #num-users reads want.
func (b *browser) waitUsers(want string) {
	b.t.Helper()
	waitFor(b.t, waitTimeout, fmt.Sprintf("%s's page to read %q", b.name, want), func() (bool, string) {
		got := eval[string](b, `(document.querySelector('#num-users') || {}).textContent || ''`)
		return got == want, fmt.Sprintf("#num-users reads %q", got)
	})
}

// waitLine waits until #messages holds at least n lines equal to want.
func (b *browser) waitLine(want string, n int) {
	b.t.Helper()
	waitFor(b.t, waitTimeout, fmt.Sprintf("%d× %q in %s's #messages", n, want, b.name), func() (bool, string) {
		lines := b.lines()
		count := 0
		for _, l := range lines {
			if l == want {
				count++
			}
		}
		// The status line says whether the page lost its connection meanwhile, which is what
		// a missing announcement most likely means.
		status := eval[string](b, `(document.querySelector('#status') || {}).textContent || ''`)
		return count >= n, fmt.Sprintf("lines %q, status %q", lines, status)
	})
}

// registerAndEnter signs name up through the home page's registration form, checks the profile
// page, and follows its link into the chat room.
func (b *browser) registerAndEnter(base, name string) {
	b.t.Helper()
	b.do("registering",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#register-form")),
		chromedp.SendKeys(chromedp.CSS("#register-username"), name),
		chromedp.SendKeys(chromedp.CSS("#register-password"), testPassword),
		chromedp.Click(chromedp.CSS("#register-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#welcome")),
	)
	if got := b.location(); got != base+"/profile" {
		b.t.Fatalf("%s: after registering the page is %s, want %s/profile", b.name, got, base)
	}
	if got, want := eval[string](b, `document.querySelector('#welcome').textContent`), "Welcome, "+name+"!"; got != want {
		b.t.Fatalf("%s: profile reads %q, want %q", b.name, got, want)
	}
	b.enterRoom(base)
}

// enterRoom clicks the profile page's link into the chat room.
func (b *browser) enterRoom(base string) {
	b.t.Helper()
	b.do("entering the chat room",
		chromedp.Click(chromedp.CSS(`a[href="/chat"]`)),
		chromedp.WaitVisible(chromedp.CSS("#num-users")),
	)
	if got := b.location(); got != base+"/chat" {
		b.t.Fatalf("%s: the chat link led to %s, want %s/chat", b.name, got, base)
	}
}

// say types text into #m, presses Send and waits until the server acknowledged it (the page
// clears the box on a positive ack).
func (b *browser) say(text string) {
	b.t.Helper()
	b.do("sending a message",
		chromedp.WaitEnabled(chromedp.CSS("#form button")),
		chromedp.SendKeys(chromedp.CSS("#m"), text),
		chromedp.Click(chromedp.CSS("#form button")),
	)
	waitFor(b.t, waitTimeout, b.name+"'s message to be acknowledged", func() (bool, string) {
		v := eval[string](b, `document.querySelector('#m').value`)
		status := eval[string](b, `document.querySelector('#status').textContent`)
		return v == "", fmt.Sprintf("#m holds %q, status %q", v, status)
	})
}

// TestBrowserChat: two people in two browsers sign up through the real forms, meet in the
// room, see each other come and go and the live count, talk (user text shown as text, never
// as HTML), and one logs out; a screenshot of the room is saved as a test artifact.
func TestBrowserChat(t *testing.T) { browserChat(t, startServer(t)) }

// browserChat is TestBrowserChat on a server the caller started (SQLite or PostgreSQL).
func browserChat(t *testing.T, srv *server) {
	alice := newBrowser(t, "alice")
	bob := newBrowser(t, "bob")

	// bob arrives first; alice joins him, and bob sees it.
	bob.registerAndEnter(srv.url, "bob")
	bob.waitUsers("1 user online")
	alice.registerAndEnter(srv.url, "alice")
	alice.waitUsers("2 users online")
	bob.waitUsers("2 users online")
	bob.waitLine("alice has joined the chat.", 1)

	// bob steps out to his profile and comes back: alice sees him leave and join.
	bob.do("going to the profile", chromedp.Navigate(srv.url+"/profile"), chromedp.WaitVisible(chromedp.CSS("#welcome")))
	alice.waitUsers("1 user online")
	alice.waitLine("bob has left the chat.", 1)
	bob.enterRoom(srv.url)
	alice.waitUsers("2 users online")
	bob.waitUsers("2 users online")
	alice.waitLine("bob has joined the chat.", 1)

	// alice talks; both see it.
	alice.say("hello bob")
	alice.waitLine("alice: hello bob", 1)
	bob.waitLine("alice: hello bob", 1)

	// Markup typed by a user stays text.
	const markup = `<script>window.pwned=1</script><b>x</b>`
	alice.say(markup)
	for _, b := range []*browser{alice, bob} {
		b.waitLine("alice: "+markup, 1)
		text := eval[string](b, `(() => {
			const spans = document.querySelectorAll('#messages li.chat .text');
			return spans.length ? spans[spans.length - 1].textContent : '';
		})()`)
		if !strings.Contains(text, "<script>") || text != markup {
			t.Errorf("%s: the last chat line's text is %q, want the literal %q", b.name, text, markup)
		}
		if got := eval[string](b, `typeof window.pwned`); got != "undefined" {
			t.Errorf("%s: window.pwned is %s: the message ran as script", b.name, got)
		}
		if n := eval[int](b, `document.querySelectorAll('#messages b, #messages script').length`); n != 0 {
			t.Errorf("%s: #messages holds %d <b>/<script> elements: the message was parsed as HTML", b.name, n)
		}
	}

	// bob logs out with the link: he lands on the home page, alice sees him go.
	bob.do("logging out", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	if got := bob.location(); got != srv.url+"/" {
		t.Errorf("bob: after Logout the page is %s, want %s/", got, srv.url)
	}
	alice.waitUsers("1 user online")
	alice.waitLine("bob has left the chat.", 2)
	if lines := alice.lines(); lines[len(lines)-1] != "bob has left the chat." {
		t.Errorf("alice's last line is %q, want \"bob has left the chat.\" (all: %q)", lines[len(lines)-1], lines)
	}
	want := []string{"bob has left the chat.", "bob has joined the chat.", "alice: hello bob", "alice: " + markup, "bob has left the chat."}
	if got := alice.lines(); !slices.Equal(got, want) {
		t.Errorf("alice's #messages:\n got %q\nwant %q", got, want)
	}

	saveScreenshot(t, alice, "room.png")
}

// saveScreenshot saves a full-page PNG of b's page as a test artifact: in $HERALD_ARTIFACTS
// when set, else in test/e2e/artifacts/ (git-ignored).
func saveScreenshot(t *testing.T, b *browser, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("%s: screenshot: %v", b.name, err)
	}
	dir := os.Getenv("HERALD_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(repoRoot, "test", "e2e", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of %s's room: %s", b.name, path)
}
