package httpguard

import (
	"io"
	"net/http"
	"sync"
	"time"
)

// handler gives each request's body a read deadline, and stops counting the connection as
// pending once the request is in hand: at once for a request without a body, else when the
// body has been read (or the handler returns).
func (g *Guard) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Context().Value(connKey{}).(*conn)
		done := func() {
			if c != nil {
				g.remove(c)
			}
		}
		if r.Body == nil || r.Body == http.NoBody {
			done()
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Now().Add(g.cfg.BodyTimeout))
		b := &deadlineBody{ReadCloser: r.Body, rc: rc, done: done}
		r.Body = b
		defer b.stopCounting()
		next.ServeHTTP(w, r)
	})
}

// deadlineBody is a request body under a read deadline. Once it has been read to its end, the
// deadline is lifted: a handler that goes on working after reading the body (a password check)
// must not have its connection, and so its context, cut by it. A body left unread keeps the
// deadline, so that the server's draining of it after the handler is bounded too.
type deadlineBody struct {
	io.ReadCloser
	rc       *http.ResponseController
	done     func()
	doneOnce sync.Once
	liftOnce sync.Once
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.liftOnce.Do(func() { _ = b.rc.SetReadDeadline(time.Time{}) })
	}
	if err != nil {
		b.stopCounting()
	}
	return n, err
}

// stopCounting stops counting the connection as pending, once.
func (b *deadlineBody) stopCounting() { b.doneOnce.Do(b.done) }
