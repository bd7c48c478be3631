-- Passkeys (issue 25, WebAuthn). Same tables, columns and meaning as ../sqlite/0009_passkeys.sql;
-- only the types differ. Timestamps are unix ms; flags are 0/1 integers (read the same way
-- through sqlx's Any driver on both backends).

-- The user handle an authenticator keeps with each passkey (WebAuthn `user.id`, returned as
-- `userHandle` at a usernameless sign-in): a random UUID, made at the user's first passkey
-- registration — never derived from the id or the name.
ALTER TABLE users ADD COLUMN webauthn_handle TEXT;
CREATE UNIQUE INDEX users_by_webauthn_handle ON users (webauthn_handle);

CREATE TABLE passkeys (
    id              TEXT    PRIMARY KEY,     -- random, base64url: the API's id
    user_id         BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id   TEXT    NOT NULL UNIQUE, -- base64url; one account per credential
    name            TEXT    NOT NULL,
    passkey         TEXT    NOT NULL,        -- webauthn-rs `Passkey`, JSON (public key, counter, flags)
    counter         BIGINT  NOT NULL,        -- the signature counter (0: the authenticator keeps none)
    backup_eligible BIGINT  NOT NULL,        -- 0/1: may be synced (a "multi-device" passkey)
    backed_up       BIGINT  NOT NULL,        -- 0/1: is synced, as of its last use
    created_at      BIGINT  NOT NULL,
    last_used_at    BIGINT
);
CREATE INDEX passkeys_by_user ON passkeys (user_id, created_at);

-- A ceremony between its two requests (options, then the authenticator's answer): single use
-- (taken by DELETE … RETURNING), shared by every instance, expired after 5 minutes.
CREATE TABLE webauthn_ceremonies (
    challenge  TEXT    PRIMARY KEY,          -- base64url, as the clientDataJSON carries it
    kind       TEXT    NOT NULL,             -- registration | authentication
    user_id    BIGINT  REFERENCES users (id) ON DELETE CASCADE, -- NULL: a sign-in (anyone)
    state      TEXT    NOT NULL,             -- webauthn-rs PasskeyRegistration / DiscoverableAuthentication, JSON
    expires_at BIGINT  NOT NULL
);
CREATE INDEX webauthn_ceremonies_by_expiry ON webauthn_ceremonies (expires_at);
