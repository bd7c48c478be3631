-- The prune job's deletes (server/src/sessions/store.rs PRUNE_SESSIONS, server/src/throttle.rs
-- PRUNE) answered through indexes instead of a scan of the whole table: sessions by when they
-- expire and when they were last used (revoked_at has its index since 0001), throttle counters
-- by their last failure. Checked by server/tests/prune_indexes.rs on both backends.
CREATE INDEX sessions_by_expires_at ON sessions (expires_at);
CREATE INDEX sessions_by_last_used_at ON sessions (last_used_at);
CREATE INDEX login_throttle_by_last_failure ON login_throttle (last_failure);
