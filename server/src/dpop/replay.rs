//! The replay store: a proof's `jti` is accepted once, on every instance. First use is decided
//! by the database (`INSERT … ON CONFLICT DO NOTHING` on the primary key), so two instances
//! that receive the same proof at the same moment cannot both accept it. Rows live as long as
//! the proof could still pass its `iat` check, then the prune job deletes them: the table holds
//! at most the proofs of one window.

use sha2::{Digest, Sha256};

use crate::clock::Timestamp;
use crate::db::{Db, DbError};

/// The prune job's delete: `$1` = now.
pub const PRUNE: &str = "DELETE FROM dpop_jti WHERE expires_at < $1";

/// Records the proof `jti` of key `jkt`, refused by its `iat` after `until`. `false` when it
/// was seen before (a replay).
pub async fn first_use(db: &Db, jkt: &str, jti: &str, until: Timestamp) -> Result<bool, DbError> {
    let key = hex(&Sha256::digest(
        [jkt.as_bytes(), b"\n", jti.as_bytes()].concat(),
    ));
    let inserted = sqlx::query(
        "INSERT INTO dpop_jti (jti_key, expires_at) VALUES ($1, $2) ON CONFLICT (jti_key) DO NOTHING",
    )
    .bind(key)
    .bind(until)
    .execute(&db.pool)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Deletes the `jti`s whose proofs can no longer pass. Returns how many.
pub async fn prune(db: &Db, now: Timestamp) -> Result<u64, DbError> {
    Ok(sqlx::query(PRUNE)
        .bind(now)
        .execute(&db.pool)
        .await?
        .rows_affected())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
