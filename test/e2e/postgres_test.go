package e2e_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/internal/pgtest"
)

// startPostgresServer starts a throwaway PostgreSQL server for t alone (so the test may stop
// it), creates an empty database on it and starts herald with DATABASE_URL pointing there.
func startPostgresServer(t *testing.T) (*pgtest.Server, *server) {
	t.Helper()
	pg := pgtest.Start(t)
	dbURL, err := pg.CreateDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	srv := startServerWithDB(t, dbURL)
	t.Cleanup(func() {
		if strings.Contains(srv.logs.String(), pgtest.Password) {
			t.Errorf("herald's log shows the database password")
		}
	})
	return pg, srv
}

// TestBrowserChatPostgres: the browser test (two Chromiums through the real pages) on PostgreSQL.
func TestBrowserChatPostgres(t *testing.T) {
	_, srv := startPostgresServer(t)
	browserChat(t, srv)
}

// TestInteropMessagesAndRestartPostgres: acks, validation, the rate limit and the kill -9
// durability test, on PostgreSQL: every acknowledged message is in the history after the crash.
func TestInteropMessagesAndRestartPostgres(t *testing.T) {
	_, srv := startPostgresServer(t)
	messagesAndRestart(t, srv)
}

// status returns the status of GET path, or 0 when the server does not answer.
func status(c *http.Client, base, path string) int {
	resp, err := c.Get(base + path)
	if err != nil {
		return 0
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// TestPostgresOutage: the database goes away under a running node. Messages are refused with
// {ok:false}, pages that need the database answer 503 (not a crash, not a signed-out page),
// /healthz says unhealthy; once the database is back the same node serves again by itself,
// and every message acknowledged before, during and after is in the history.
func TestPostgresOutage(t *testing.T) {
	pg, srv := startPostgresServer(t)
	alice := register(t, srv.url, "alice")
	p := startPeer(t, srv.url)
	p.mustConnect("alice", alice, defaultOpts)
	p.waitCounts(1, "alice")

	p.emitAck("alice", "before", 1, "before the outage")
	before := decode[ackData](t, p.acks("before", 1)[0])
	if !before.OK {
		t.Fatalf("ack before the outage: %+v", before)
	}

	pg.Stop()
	p.emitAck("alice", "during", 1, "during the outage")
	if during := decode[ackData](t, p.acks("during", 1)[0]); during.OK || during.Error == "" {
		t.Errorf("ack while the database is down: %+v, want {ok:false, error}", during)
	}
	hc := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if got := status(hc, srv.url, "/healthz"); got != http.StatusServiceUnavailable {
		t.Errorf("/healthz while the database is down: %d, want 503", got)
	}
	// Registering needs the database: 503 with Retry-After, the form shown again.
	b := newBrowserless(t, srv.url)
	_, _, home := b.get("/")
	m := csrfField.FindStringSubmatch(home)
	if m == nil {
		t.Fatalf("no csrf_token on the home page while the database is down:\n%s", tail(home, 2000))
	}
	resp, err := b.c.PostForm(srv.url+"/register", url.Values{"username": {"bob"}, "password": {testPassword}, "csrf_token": {html.UnescapeString(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("POST /register while the database is down: %d (Retry-After %q), want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}

	if err := pg.Restart(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(waitTimeout)
	for status(hc, srv.url, "/healthz") != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatalf("/healthz not 200 within %v of the database's return", waitTimeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The node took the outage without a restart: messages and sign-ups work again.
	var after ackData
	for i := 0; ; i++ {
		tag := "after" + string(rune('a'+i))
		p.emitAck("alice", tag, 1, "after the outage")
		if after = decode[ackData](t, p.acks(tag, 1)[0]); after.OK || i == 4 {
			break
		}
		time.Sleep(400 * time.Millisecond) // past the rate limit's refill
	}
	if !after.OK || after.ID <= before.ID {
		t.Fatalf("ack after the database's return: %+v (before: id %d), want ok with a larger id", after, before.ID)
	}
	register(t, srv.url, "bob")

	p.mustConnect("later", alice, defaultOpts)
	h := decode[[]chatMessage](t, p.wait("history after the outage", func(e event) bool { return e.Name == "later" && e.Ev == "history" }))
	var ids []int64
	for _, msg := range h {
		if msg.Message == "during the outage" {
			t.Errorf("history holds the message refused during the outage: %+v", msg)
		}
		ids = append(ids, msg.ID)
	}
	for _, id := range []int64{before.ID, after.ID} {
		if !slices.Contains(ids, id) {
			t.Errorf("acknowledged message %d missing from the history %v", id, ids)
		}
	}
}

// TestStartupDatabaseErrors: a bad DATABASE_URL stops herald at start-up with a message saying
// what is wrong (never the password), and leaves nothing behind in the working directory — in
// particular no SQLite file made from a URL.
func TestStartupDatabaseErrors(t *testing.T) {
	pg := pgtest.Start(t)
	good, err := pg.CreateDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	down := pgtest.Start(t)
	downURL := down.URL("herald")
	down.Stop()
	for _, tc := range []struct{ name, url, want string }{
		{"unknown scheme", "x://somewhere/herald", `unknown scheme "x"`},
		{"misspelt scheme", "postgre://herald@127.0.0.1/herald", `unknown scheme "postgre"`},
		{"wrong password", strings.Replace(good, ":"+pgtest.Password+"@", ":wrong-secret@", 1), "refused the password"},
		{"missing database", pg.URL("nodb"), "createdb"},
		{"unreachable", downURL, "cannot reach PostgreSQL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, heraldBin, "-port", strconv.Itoa(freePort(t)))
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "DATABASE_URL="+tc.url, "SESSION_SECRET="+sessionSecret)
			out, err := cmd.CombinedOutput()
			if err == nil || ctx.Err() != nil {
				t.Fatalf("herald with DATABASE_URL %s: exit %v (timeout: %v), want a prompt failure; output:\n%s", tc.name, err, ctx.Err(), out)
			}
			if !strings.Contains(string(out), tc.want) {
				t.Errorf("output does not say %q:\n%s", tc.want, out)
			}
			for _, secret := range []string{pgtest.Password, "wrong-secret"} {
				if strings.Contains(string(out), secret) {
					t.Errorf("output shows the password:\n%s", out)
				}
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				t.Errorf("herald left %q in its working directory", e.Name())
			}
		})
	}
}
