package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/herald-chat/herald/internal/store"
)

// Message ids must commit in increasing order on every node, so appends are
// serialised on the message_ids row, each holding it until its commit. One
// transaction per message would cap a room at one message per commit latency
// (a WAL flush, and a round trip), whatever the pool size. The appender is
// group commit done by the node: one goroutine takes every message waiting,
// inserts them in one statement and one commit, and answers each caller.
// Under light load a batch is a single message and costs what a lone insert
// would; under heavy load a batch is as large as what arrived during the
// previous commit.

// maxBatch bounds the messages of one insert.
const maxBatch = 256

// batchTimeout bounds one batch's statement. A caller's own context bounds
// its wait; this bounds the appender's, so a server that stopped answering
// does not stall every later message for longer.
const batchTimeout = 10 * time.Second

// errClosed is returned by appends after the database was closed.
var errClosed = errors.New("postgres: database closed")

// appendBatchSQL takes len(batch) ids from the message_ids row and inserts
// the batch with them, in arrival order (the ordinality), in one statement.
// An empty username is filled from the author's account; the foreign key
// rejects an unknown author, and with it the whole statement.
const appendBatchSQL = `
WITH next AS (
	UPDATE message_ids SET last_id = last_id + cardinality($1::bigint[])
	RETURNING last_id - cardinality($1::bigint[]) AS base
)
INSERT INTO messages (id, user_id, username, text, created_at)
SELECT next.base + r.ord, r.user_id,
	COALESCE(NULLIF(r.username, ''), (SELECT u.username FROM users u WHERE u.id = r.user_id), ''),
	r.text, $4
FROM next, unnest($1::bigint[], $2::text[], $3::text[]) WITH ORDINALITY AS r(user_id, username, text, ord)
RETURNING id, username`

// appendRequest is one caller's message waiting for its batch.
type appendRequest struct {
	ctx   context.Context
	msg   store.Message
	reply chan appendResult // buffered: the appender never blocks on a caller that gave up
}

type appendResult struct {
	msg store.Message
	err error
}

// appender is the node's single writer of messages.
type appender struct {
	db    *DB
	queue chan *appendRequest

	stopOnce sync.Once
	stop     chan struct{} // closed by close
	done     chan struct{} // closed when run has returned
}

func newAppender(db *DB) *appender {
	a := &appender{
		db:    db,
		queue: make(chan *appendRequest, 4*maxBatch),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	go a.run()
	return a
}

// close stops the appender; messages still queued fail with errClosed.
func (a *appender) close() {
	a.stopOnce.Do(func() { close(a.stop) })
	<-a.done
}

// append queues m and waits for its batch to commit or ctx to end. A message
// whose caller gave up before its batch started is not stored; one whose
// caller gave up during the commit may be (as with any lost reply).
func (a *appender) append(ctx context.Context, m store.Message) (store.Message, error) {
	req := &appendRequest{ctx: ctx, msg: m, reply: make(chan appendResult, 1)}
	select {
	case a.queue <- req:
	case <-a.stop:
		return store.Message{}, errClosed
	case <-ctx.Done():
		return store.Message{}, classify(ctx.Err())
	}
	select {
	case r := <-req.reply:
		return r.msg, r.err
	case <-ctx.Done():
		return store.Message{}, classify(ctx.Err())
	}
}

func (a *appender) run() {
	defer close(a.done)
	for {
		var first *appendRequest
		select {
		case first = <-a.queue:
		case <-a.stop:
			a.failQueued()
			return
		}
		batch := []*appendRequest{first}
	more:
		for len(batch) < maxBatch {
			select {
			case r := <-a.queue:
				batch = append(batch, r)
			default:
				break more
			}
		}
		a.insert(batch)
	}
}

// failQueued answers every request still queued at close.
func (a *appender) failQueued() {
	for {
		select {
		case r := <-a.queue:
			r.reply <- appendResult{err: errClosed}
		default:
			return
		}
	}
}

// insert stores the live requests of batch and answers each. When the batch
// fails on a foreign key (an unknown author), each message is retried alone
// so that only the offending ones fail.
func (a *appender) insert(batch []*appendRequest) {
	live := batch[:0]
	for _, r := range batch {
		if r.ctx.Err() == nil { // a caller that gave up already has its answer
			live = append(live, r)
		}
	}
	if len(live) == 0 {
		return
	}
	msgs, err := a.insertBatch(live)
	if isForeignKeyViolation(err) && len(live) > 1 {
		for _, r := range live {
			a.insert([]*appendRequest{r})
		}
		return
	}
	for i, r := range live {
		switch {
		case isForeignKeyViolation(err):
			r.reply <- appendResult{err: fmt.Errorf("append message: author %d: %w", r.msg.UserID, store.ErrNotFound)}
		case err != nil:
			r.reply <- appendResult{err: fmt.Errorf("append message: %w", classify(err))}
		default:
			r.reply <- appendResult{msg: msgs[i]}
		}
	}
}

// insertBatch runs appendBatchSQL and returns the stored messages in the
// order of batch.
func (a *appender) insertBatch(batch []*appendRequest) ([]store.Message, error) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	at := now()
	userIDs := make([]int64, len(batch))
	usernames := make([]string, len(batch))
	texts := make([]string, len(batch))
	for i, r := range batch {
		userIDs[i], usernames[i], texts[i] = r.msg.UserID, r.msg.Username, r.msg.Text
	}
	rows, err := a.db.pool.Query(ctx, appendBatchSQL, userIDs, usernames, texts, at)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type stored struct {
		id       int64
		username string
	}
	var got []stored
	for rows.Next() {
		var s stored
		if err := rows.Scan(&s.id, &s.username); err != nil {
			return nil, err
		}
		got = append(got, s)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(got) != len(batch) {
		return nil, fmt.Errorf("batch of %d messages stored %d", len(batch), len(got))
	}
	// The ids are base+1 … base+n in batch order; RETURNING's order is not
	// promised, so place each row by its id.
	minID := got[0].id
	for _, s := range got {
		minID = min(minID, s.id)
	}
	msgs := make([]store.Message, len(batch))
	for _, s := range got {
		i := s.id - minID
		if i < 0 || i >= int64(len(batch)) {
			return nil, fmt.Errorf("batch of %d messages got non-contiguous id %d", len(batch), s.id)
		}
		m := batch[i].msg
		m.ID, m.Username, m.Time = s.id, s.username, at
		msgs[i] = m
	}
	return msgs, nil
}
