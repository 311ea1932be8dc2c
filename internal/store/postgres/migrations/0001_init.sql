-- 1: users, sessions and the chat history.

CREATE TABLE users (
	id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	username      TEXT        NOT NULL,
	password_hash TEXT        NOT NULL DEFAULT '',
	github_id     BIGINT      UNIQUE, -- NULL when not linked
	created_at    TIMESTAMPTZ NOT NULL
);
-- Usernames are unique without regard to case (they are ASCII: see package auth).
CREATE UNIQUE INDEX users_username_lower ON users (lower(username));

CREATE TABLE sessions (
	id         TEXT        PRIMARY KEY, -- hex SHA-256 of the cookie token
	user_id    BIGINT      NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	csrf_token TEXT        NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE INDEX sessions_user_id ON sessions (user_id);

-- The last message id handed out, in a single row. Each insert takes the next
-- id by updating this row, which holds the row's lock until the insert
-- commits: ids are therefore committed in increasing order, and a reader that
-- sees id n has already been able to see every smaller id. (A sequence would
-- hand out ids in call order but let them commit in any order, and the page
-- merges history by id.)
CREATE TABLE message_ids (
	singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
	last_id   BIGINT  NOT NULL
);
INSERT INTO message_ids (last_id) VALUES (0);

CREATE TABLE messages (
	id         BIGINT      PRIMARY KEY, -- from message_ids, never reused
	user_id    BIGINT      NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	username   TEXT        NOT NULL,
	text       TEXT        NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX messages_user_id ON messages (user_id);
