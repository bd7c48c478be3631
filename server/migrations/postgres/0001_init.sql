-- tokenpair schema, PostgreSQL flavour. Same tables, columns and meaning as ../sqlite/0001_init.sql;
-- only the types differ (BIGINT/BYTEA here, INTEGER/BLOB there). Timestamps are unix ms.

CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    username      TEXT      NOT NULL,
    password_hash TEXT      NOT NULL,        -- Argon2id PHC string
    created_at    BIGINT    NOT NULL
);
-- Usernames are unique whatever their case.
CREATE UNIQUE INDEX users_by_lower_name ON users (lower(username));

-- A session is one refresh-token family: it starts at sign-in and ends at sign-out,
-- revocation, reuse detection, idle timeout or its absolute expiry.
CREATE TABLE sessions (
    id             TEXT    PRIMARY KEY,      -- the `sid` claim of its access tokens
    user_id        BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at     BIGINT  NOT NULL,
    last_used_at   BIGINT  NOT NULL,
    expires_at     BIGINT  NOT NULL,         -- absolute; rotation never moves it
    user_agent     TEXT,
    generation     BIGINT  NOT NULL,         -- generation of the current refresh token
    rotated_at     BIGINT  NOT NULL,         -- when the current refresh token was issued
    revoked_at     BIGINT,
    revoked_reason TEXT                      -- logout | logout_global | revoked | reuse | expired | replaced
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_revoked_at ON sessions (revoked_at);

-- Every refresh token of a live session, by SHA-256 only. Old generations stay while the
-- session lives so that a replay is recognised (and revokes the family).
CREATE TABLE refresh_tokens (
    hash             BYTEA   PRIMARY KEY,    -- SHA-256 of the token
    session_id       TEXT    NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    generation       BIGINT  NOT NULL,
    issued_at        BIGINT  NOT NULL,
    successor_sealed BYTEA                   -- see sessions/crypto.rs, "the grace answer"
);
CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id, generation);

-- Failed sign-ins, counted per key (address, account, account+address) across instances.
CREATE TABLE login_throttle (
    key           TEXT    PRIMARY KEY,
    failures      BIGINT  NOT NULL,
    last_failure  BIGINT  NOT NULL,
    blocked_until BIGINT  NOT NULL
);

-- Every instance LISTENs on `tokenpair_revoked`: a session that ends is announced, in the
-- same transaction, to all of them (see server/src/sessions/revocations.rs).
CREATE FUNCTION tokenpair_notify_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tokenpair_revoked', NEW.id);
    RETURN NEW;
END;
$$;
CREATE TRIGGER sessions_revoked
    AFTER UPDATE OF revoked_at ON sessions
    FOR EACH ROW
    WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION tokenpair_notify_revoked();
