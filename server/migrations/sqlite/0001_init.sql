-- tokenpair schema, SQLite flavour. Same tables, columns and meaning as ../postgres/0001_init.sql;
-- only the types differ (INTEGER/BLOB here, BIGINT/BYTEA there). Timestamps are unix ms.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL COLLATE NOCASE,
    password_hash TEXT    NOT NULL,          -- Argon2id PHC string
    created_at    INTEGER NOT NULL
);
-- Usernames are unique whatever their case.
CREATE UNIQUE INDEX users_by_lower_name ON users (lower(username));

-- A session is one refresh-token family: it starts at sign-in and ends at sign-out,
-- revocation, reuse detection, idle timeout or its absolute expiry.
CREATE TABLE sessions (
    id             TEXT    PRIMARY KEY,      -- the `sid` claim of its access tokens
    user_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at     INTEGER NOT NULL,
    last_used_at   INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,         -- absolute; rotation never moves it
    user_agent     TEXT,
    generation     INTEGER NOT NULL,         -- generation of the current refresh token
    rotated_at     INTEGER NOT NULL,         -- when the current refresh token was issued
    revoked_at     INTEGER,
    revoked_reason TEXT                      -- logout | logout_global | revoked | reuse | expired | replaced
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_revoked_at ON sessions (revoked_at);

-- Every refresh token of a live session, by SHA-256 only. Old generations stay while the
-- session lives so that a replay is recognised (and revokes the family).
CREATE TABLE refresh_tokens (
    hash             BLOB    PRIMARY KEY,    -- SHA-256 of the token
    session_id       TEXT    NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    generation       INTEGER NOT NULL,
    issued_at        INTEGER NOT NULL,
    successor_sealed BLOB                    -- see sessions/crypto.rs, "the grace answer"
);
CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id, generation);

-- Failed sign-ins, counted per key (address, account, account+address) across instances.
CREATE TABLE login_throttle (
    key           TEXT    PRIMARY KEY,
    failures      INTEGER NOT NULL,
    last_failure  INTEGER NOT NULL,
    blocked_until INTEGER NOT NULL
);
