//! Server-wide secrets that every instance of a deployment must share, kept in the database
//! (`server_secrets`): the first instance to start creates them, the others read the same
//! values. They are keys for MACs only (refresh-token authenticity, device cookies) — never
//! something a client could use to sign in.
//!
//! Somebody who can read the database can forge such MACs; what that buys is limited to
//! ending sessions (an "older generation" refresh token) or a device cookie's exemption from
//! the account-wide sign-in limit — not a session, for which the current token's hash must match.

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::db::{now_ms, Db, DbError};

/// The keys, 32 bytes each.
#[derive(Clone)]
pub struct Secrets {
    /// MAC of refresh tokens (see [`crate::sessions::crypto`]).
    pub refresh_mac: [u8; 32],
    /// MAC of device cookies (see [`crate::trusted_devices`]).
    pub device_mac: [u8; 32],
    /// Key of the DPoP nonces (see [`crate::dpop::nonce`]).
    pub dpop_nonce: [u8; 32],
    /// When this deployment first named the refresh cookie `__Secure-…` (unix ms; the
    /// creation time of a marker row, the same for every instance): see [`crate::http::cookies`].
    pub secure_cookie_since: i64,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(<redacted>)")
    }
}

impl Secrets {
    /// Loads the keys, creating any that do not exist yet (race-free across instances: an
    /// insert that loses to another instance's is ignored, and both then read the winner's).
    pub async fn load(db: &Db) -> Result<Self, DbError> {
        Ok(Secrets {
            refresh_mac: load_or_create(db, "refresh_mac").await?,
            device_mac: load_or_create(db, "device_mac").await?,
            dpop_nonce: load_or_create(db, "dpop_nonce").await?,
            secure_cookie_since: created_at(db, "secure_cookie_name").await?,
        })
    }
}

/// HMAC-SHA256 of `label ‖ data` under `key`: every MAC of the server goes through here.
pub fn hmac_sha256(key: &[u8], label: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC-SHA256 accepts keys of any length, so this never fails.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(label);
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// [`hmac_sha256`] truncated to 128 bits (the tags in refresh tokens and device cookies).
pub fn mac128(key: &[u8], label: &[u8], data: &[u8]) -> [u8; 16] {
    let full = hmac_sha256(key, label, data);
    std::array::from_fn(|i| full[i])
}

async fn load_or_create(db: &Db, name: &str) -> Result<[u8; 32], DbError> {
    let mut fresh = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut fresh);
    sqlx::query(
        "INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(fresh.to_vec())
    .bind(now_ms())
    .execute(&db.pool)
    .await?;
    let value: Vec<u8> = sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1")
        .bind(name)
        .fetch_one(&db.pool)
        .await?;
    value.try_into().map_err(|v: Vec<u8>| {
        DbError::Corrupt(format!(
            "server secret {name:?} is {} bytes long, expected 32",
            v.len()
        ))
    })
}

/// When the row `name` was created (creating it now if it is not there).
async fn created_at(db: &Db, name: &str) -> Result<i64, DbError> {
    load_or_create(db, name).await?;
    Ok(
        sqlx::query_scalar("SELECT created_at FROM server_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(&db.pool)
            .await?,
    )
}
