-- Security activity (issue 23): see ../sqlite/0006_security_events.sql; the same table.
CREATE TABLE security_events (
    id         BIGSERIAL PRIMARY KEY,
    at         BIGINT NOT NULL,
    user_id    BIGINT REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT   NOT NULL,
    session_id TEXT,
    device     TEXT,
    address    TEXT,
    detail     TEXT
);
CREATE INDEX security_events_by_user ON security_events (user_id, at, id);
CREATE INDEX security_events_by_at ON security_events (at);

ALTER TABLE users ADD COLUMN notice_seen_up_to BIGINT NOT NULL DEFAULT 0;
