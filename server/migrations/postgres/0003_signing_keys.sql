-- Ed25519 signing keys for access tokens (the mode without ACCESS_TOKEN_SECRET), shared by every
-- instance on this database. A key is published in /.well-known/jwks.json from `created_at`,
-- signs from `activates_at` until the next key activates, and is deleted once every token it
-- signed has expired (see server/src/tokens/key_store.rs). Same as ../sqlite/0003_signing_keys.sql.
CREATE TABLE signing_keys (
    kid          TEXT    PRIMARY KEY,
    alg          TEXT    NOT NULL,          -- EdDSA
    public_key   BYTEA   NOT NULL,          -- 32 bytes: the JWK's x
    private_key  BYTEA   NOT NULL,          -- the 32-byte Ed25519 seed; never leaves the server
    created_at   BIGINT  NOT NULL,
    activates_at BIGINT  NOT NULL UNIQUE
);
