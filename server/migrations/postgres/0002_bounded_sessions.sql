-- Bounded storage per session (issue 15): a session row keeps only what rotation, grace and
-- reuse detection need — the hash of its current refresh token and of the immediate predecessor
-- (with the sealed successor for the grace answer). Older generations are recognised without a
-- row each: a refresh token names its session and generation and carries a MAC made with a
-- server secret (see server/src/sessions/crypto.rs), so "a genuine token of an older generation"
-- is decided by arithmetic, not by a lookup. Same change as ../sqlite/0002_bounded_sessions.sql.

-- Server-wide secrets shared by every instance of a deployment (created at first start).
CREATE TABLE server_secrets (
    name       TEXT    PRIMARY KEY,
    value      BYTEA   NOT NULL,
    created_at BIGINT  NOT NULL
);

ALTER TABLE sessions ADD COLUMN token_hash BYTEA;              -- SHA-256 of the current refresh token
ALTER TABLE sessions ADD COLUMN prev_token_hash BYTEA;         -- … of its immediate predecessor
ALTER TABLE sessions ADD COLUMN prev_successor_sealed BYTEA;   -- the grace answer, sealed
ALTER TABLE sessions ADD COLUMN refresh_window_start BIGINT NOT NULL DEFAULT 0; -- refresh rate limit
ALTER TABLE sessions ADD COLUMN refresh_count BIGINT NOT NULL DEFAULT 0;

-- Live sessions keep working across the upgrade: their current and previous tokens move over.
UPDATE sessions SET
    token_hash = (SELECT hash FROM refresh_tokens t
                  WHERE t.session_id = sessions.id AND t.generation = sessions.generation),
    prev_token_hash = (SELECT hash FROM refresh_tokens t
                       WHERE t.session_id = sessions.id AND t.generation = sessions.generation - 1),
    prev_successor_sealed = (SELECT successor_sealed FROM refresh_tokens t
                             WHERE t.session_id = sessions.id AND t.generation = sessions.generation - 1);

DROP TABLE refresh_tokens;

CREATE UNIQUE INDEX sessions_by_token_hash ON sessions (token_hash);
CREATE INDEX sessions_by_prev_token_hash ON sessions (prev_token_hash);
CREATE INDEX sessions_by_user_created ON sessions (user_id, created_at);

-- One row the health check writes, to prove the database still takes writes (see
-- server/src/db/health.rs).
CREATE TABLE health_probe (
    id BIGINT PRIMARY KEY,
    at BIGINT NOT NULL
);
