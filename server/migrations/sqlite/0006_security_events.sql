-- Security activity (issue 23): an append-only record of what happened to an account — sign-ins
-- and their failures, sign-outs, refresh-token reuse, evictions, expiries, revocations, throttle
-- blocks — and to the deployment (signing-key rotations, no user). Each row is written in the
-- same transaction as the change it records (server/src/security_events/). Pruned after
-- SECURITY_EVENT_RETENTION and bounded per user by the prune job. Same table as
-- ../postgres/0006_security_events.sql.
CREATE TABLE security_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,           -- unix ms
    user_id    INTEGER REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,           -- tokenpair_api::SecurityEventKind, snake_case
    session_id TEXT,                       -- the session it concerns, if any
    device     TEXT,                       -- "Firefox on Linux": a summary of the user agent
    address    TEXT,                       -- the client address, as SECURITY_EVENT_ADDRESS keeps it
    detail     TEXT                        -- a short machine-readable detail ("idle", "3")
);
-- A user's page, newest first; the retention prune by time.
CREATE INDEX security_events_by_user ON security_events (user_id, at, id);
CREATE INDEX security_events_by_at ON security_events (at);

-- The dashboard shows an alarming event (a replayed refresh token) once: the newest such event
-- its owner has been shown (POST /api/security-events/notice).
ALTER TABLE users ADD COLUMN notice_seen_up_to INTEGER NOT NULL DEFAULT 0;
