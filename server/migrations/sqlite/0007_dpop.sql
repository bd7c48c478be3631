-- DPoP (issue 24): a session bound to a key (its RFC 7638 thumbprint; NULL = not bound), and
-- the proofs' `jti`s seen within the `iat` window, shared by every instance (first use wins:
-- the primary key), pruned once they can no longer be presented. Same as
-- ../postgres/0007_dpop.sql.
ALTER TABLE sessions ADD COLUMN dpop_jkt TEXT;
CREATE TABLE dpop_jti (
    jti_key    TEXT    PRIMARY KEY,   -- SHA-256 (hex) of the key's thumbprint and the jti
    expires_at INTEGER NOT NULL       -- unix ms after which the proof is refused by its iat
);
CREATE INDEX dpop_jti_by_expiry ON dpop_jti (expires_at);
