-- DPoP (issue 24): see ../sqlite/0007_dpop.sql; the same tables.
ALTER TABLE sessions ADD COLUMN dpop_jkt TEXT;
CREATE TABLE dpop_jti (
    jti_key    TEXT   PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX dpop_jti_by_expiry ON dpop_jti (expires_at);
