//! Ed25519 signing keys in the database: bootstrap, scheduled and manual rotation, retirement.
//!
//! ## The timeline of a key
//! ```text
//! created ──(published, not signing: ≥ SIGNING_KEY_ROTATION ahead, ≥ 20 min)──▶ activates
//!   ──(signs: SIGNING_KEY_ROTATION, default 30 d)──▶ the next key activates
//!   ──(retired: verifies and stays published for the access-token lifetime + 1 min)──▶ deleted
//! ```
//! There is always a *current* key (the latest activated) and a *next* key (published, not yet
//! signing). When the next key's time comes, every instance switches to it at the same moment —
//! the activation time is in the database, already loaded — and the first instance to notice
//! creates the following next key. `tokenpair-server keys rotate` activates the next key now.
//!
//! Changes are made under a table lock on PostgreSQL (SQLite has one writer anyway), so
//! instances starting or rotating together never create two keys for one slot.
//!
//! ## How private keys are stored
//! Sealed under the key-encryption key from `SIGNING_KEY_ENCRYPTION_KEY`
//! ([`crate::key_encryption`]): a copy of the database alone cannot mint tokens. Without one
//! (`make run`'s demo mode only — the server refuses to start otherwise) as the raw 32-byte
//! seed. They are never sent anywhere: the JWKS carries public keys only, and no log line or
//! `Debug` prints a seed.

use crate::security_events::{record, AddressPolicy, Event, Kind, Recorded};
use std::time::Duration;

use super::keys::{ed25519_kid, Ed25519Pair};
use crate::clock::Timestamp;
use crate::db::{ms, Backend, Db, DbError, Tx};
use crate::key_encryption::KeyEncryption;

/// `Cache-Control: max-age` of the JWKS.
pub const JWKS_MAX_AGE: Duration = Duration::from_secs(600);
/// The least time a key is published before it signs (twice the JWKS cache time).
pub const PUBLISH_LEAD: Duration = Duration::from_secs(2 * 600);
/// How often every instance re-reads the keys (a rotation elsewhere is picked up within this).
pub use crate::config::KEY_RELOAD_EVERY as RELOAD_EVERY;
/// Clock differences between instances and verifiers, added to every "until".
const MARGIN: Duration = Duration::from_secs(60);

/// When keys rotate and how long their tokens live.
#[derive(Debug, Clone, Copy)]
pub struct KeySchedule {
    /// How long a key signs before the next one takes over (`SIGNING_KEY_ROTATION`).
    pub rotation: Duration,
    /// The longest an access token can be valid after it was signed (lifetime + leeway).
    pub token_lifetime: Duration,
    /// How the private keys are sealed at rest.
    pub encryption: KeyEncryption,
}

/// A stored key.
#[derive(Debug, Clone)]
pub struct StoredKey {
    pub kid: String,
    pub pair: Ed25519Pair,
    pub created_at: i64,
    pub activates_at: i64,
}

/// Where a key is in its timeline at some moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Next,
    Current,
    Retired,
}

/// A key with its state and the end of its phases (unix ms; `None`: not scheduled yet).
#[derive(Debug, Clone)]
pub struct KeyStatus {
    pub key: StoredKey,
    pub state: KeyState,
    /// When it stops signing (the next key's activation).
    pub signs_until: Option<i64>,
    /// When it leaves the JWKS and the database.
    pub unpublished_at: Option<i64>,
}

impl KeySchedule {
    /// The schedule the configuration asks for.
    pub fn from_config(config: &crate::config::TokenConfig) -> Self {
        KeySchedule {
            rotation: config.signing_key_rotation,
            token_lifetime: config.access_token_expiry + config.access_token_leeway,
            encryption: config.key_encryption,
        }
    }

    /// Every key with its state at `now`, by activation.
    pub fn statuses(&self, keys: &[StoredKey], now: i64) -> Vec<KeyStatus> {
        let mut keys = keys.to_vec();
        keys.sort_by_key(|k| k.activates_at);
        let current = keys.iter().rposition(|k| k.activates_at <= now);
        keys.iter()
            .enumerate()
            .map(|(i, k)| {
                let signs_until = keys.get(i + 1).map(|n| n.activates_at);
                KeyStatus {
                    key: k.clone(),
                    state: match current {
                        Some(c) if i == c => KeyState::Current,
                        Some(c) if i < c => KeyState::Retired,
                        _ => KeyState::Next,
                    },
                    signs_until,
                    unpublished_at: signs_until
                        .map(|until| until + ms(self.token_lifetime) + ms(MARGIN)),
                }
            })
            .collect()
    }
}

/// Every stored key (opened with `encryption`).
pub async fn load(db: &Db, encryption: &KeyEncryption) -> Result<Vec<StoredKey>, DbError> {
    Ok(load_from(&db.pool, encryption).await?.0)
}

async fn load_in(
    tx: &mut Tx<'_>,
    encryption: &KeyEncryption,
) -> Result<(Vec<StoredKey>, bool), DbError> {
    load_from(&mut **tx, encryption).await
}

/// The keys, read through the pool or inside a transaction. A stored kid that does not match
/// its private key means the table was edited by hand: refused, never guessed at.
/// Also says whether a key is not sealed under the current KEK (it should be re-sealed).
async fn load_from<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    encryption: &KeyEncryption,
) -> Result<(Vec<StoredKey>, bool), DbError> {
    #[derive(sqlx::FromRow)]
    struct KeyRow {
        kid: String,
        private_key: Vec<u8>,
        created_at: i64,
        activates_at: i64,
    }
    let rows: Vec<KeyRow> = sqlx::query_as(
        "SELECT kid, private_key, created_at, activates_at FROM signing_keys
         WHERE alg = 'EdDSA' ORDER BY activates_at",
    )
    .fetch_all(executor)
    .await?;
    let mut keys = Vec::with_capacity(rows.len());
    let mut reseal = false;
    for r in rows {
        let kid = r.kid;
        let opened = encryption
            .open(&kid, &r.private_key)
            .map_err(|e| DbError::Corrupt(e.to_string()))?;
        reseal |= opened.reseal;
        let pair = Ed25519Pair::from_seed(opened.seed);
        if ed25519_kid(&pair.public) != kid {
            return Err(DbError::Corrupt(format!(
                "signing key {kid} does not match its private key"
            )));
        }
        keys.push(StoredKey {
            kid,
            pair,
            created_at: r.created_at,
            activates_at: r.activates_at,
        });
    }
    Ok((keys, reseal))
}

/// Seals every key under the current KEK that is not yet (a plain seed from demo mode, or one
/// sealed under the previous KEK). Returns how many.
async fn reseal(
    tx: &mut Tx<'_>,
    keys: &[StoredKey],
    encryption: &KeyEncryption,
) -> Result<usize, DbError> {
    for key in keys {
        sqlx::query("UPDATE signing_keys SET private_key = $1 WHERE kid = $2")
            .bind(encryption.seal(&key.kid, &key.pair.seed))
            .bind(&key.kid)
            .execute(&mut **tx)
            .await?;
    }
    Ok(keys.len())
}

/// Makes sure there is a current and a next key and that keys whose tokens have all expired
/// are gone. Returns whether anything changed.
pub async fn ensure(db: &Db, schedule: &KeySchedule, now: i64) -> Result<bool, DbError> {
    // Most calls change nothing: look first without the lock.
    let (keys, unsealed) = load_from(&db.pool, &schedule.encryption).await?;
    if !unsealed && !needs_work(schedule, &keys, now) {
        return Ok(false);
    }
    let mut tx = locked(db).await?;
    let (keys, unsealed) = load_in(&mut tx, &schedule.encryption).await?;
    let mut changed = false;
    if unsealed {
        let n = reseal(&mut tx, &keys, &schedule.encryption).await?;
        tracing::info!(
            keys = n,
            "sealed the signing keys under the current SIGNING_KEY_ENCRYPTION_KEY"
        );
        changed = true;
    }
    let statuses = schedule.statuses(&keys, now);
    for s in &statuses {
        if s.unpublished_at.is_some_and(|at| at <= now) {
            sqlx::query("DELETE FROM signing_keys WHERE kid = $1")
                .bind(&s.key.kid)
                .execute(&mut *tx)
                .await?;
            tracing::info!(kid = %s.key.kid, "retired signing key deleted (its tokens have all expired)");
            changed = true;
        }
    }
    let current = statuses.iter().find(|s| s.state == KeyState::Current);
    let has_next = statuses.iter().any(|s| s.state == KeyState::Next);
    let current_since = match current {
        Some(c) => c.key.activates_at,
        None => {
            let kid = insert(&mut tx, &schedule.encryption, now, now).await?;
            tracing::info!(%kid, "created the first Ed25519 signing key");
            changed = true;
            now
        }
    };
    let mut recorded = Recorded::default();
    if !has_next {
        let at = (current_since + ms(schedule.rotation)).max(now + ms(PUBLISH_LEAD));
        let kid = insert(&mut tx, &schedule.encryption, now, at).await?;
        tracing::info!(%kid, activates_at = %crate::db::rfc3339(at), "published the next signing key");
        if let Some(current) = current {
            // The scheduled rotation: the key published before now signs, and a new next one
            // is published (the first start creates both; that is no rotation).
            let event = Event::new(Kind::SigningKeyRotated, Timestamp(now), None)
                .detail(format!("current={} next={kid}", current.key.kid));
            recorded = record(&mut tx, event, AddressPolicy::None).await?;
        }
        changed = true;
    }
    tx.commit().await?;
    recorded.log();
    Ok(changed)
}

fn needs_work(schedule: &KeySchedule, keys: &[StoredKey], now: i64) -> bool {
    let statuses = schedule.statuses(keys, now);
    !statuses.iter().any(|s| s.state == KeyState::Current)
        || !statuses.iter().any(|s| s.state == KeyState::Next)
        || statuses
            .iter()
            .any(|s| s.unpublished_at.is_some_and(|at| at <= now))
}

/// What `keys rotate` did.
#[derive(Debug)]
pub struct Rotated {
    /// The key that signs from now on.
    pub current: String,
    /// How long it had been published (a verifier caching the JWKS longer may not know it).
    pub published_for: Duration,
    /// The new next key.
    pub next: String,
}

/// `keys rotate`: the next key signs from now on, and a new next key is published.
pub async fn rotate(db: &Db, schedule: &KeySchedule, now: i64) -> Result<Rotated, DbError> {
    ensure(db, schedule, now).await?;
    let mut tx = locked(db).await?;
    let (keys, _) = load_in(&mut tx, &schedule.encryption).await?;
    let statuses = schedule.statuses(&keys, now);
    let next = statuses
        .iter()
        .find(|s| s.state == KeyState::Next)
        .ok_or_else(|| DbError::Corrupt("no next signing key after ensuring one".into()))?;
    // Activation times are unique: after a key that activated this very millisecond.
    let since = statuses
        .iter()
        .filter(|s| s.state != KeyState::Next)
        .map(|s| s.key.activates_at + 1)
        .max()
        .unwrap_or(now)
        .max(now);
    sqlx::query("UPDATE signing_keys SET activates_at = $1 WHERE kid = $2")
        .bind(since)
        .bind(&next.key.kid)
        .execute(&mut *tx)
        .await?;
    let new_next = insert(
        &mut tx,
        &schedule.encryption,
        now,
        since + ms(schedule.rotation),
    )
    .await?;
    let event = Event::new(Kind::SigningKeyRotated, Timestamp(now), None)
        .detail(format!("current={} next={new_next}", next.key.kid));
    let recorded = record(&mut tx, event, AddressPolicy::None).await?;
    tx.commit().await?;
    recorded.log();
    Ok(Rotated {
        current: next.key.kid.clone(),
        published_for: Duration::from_millis(u64::try_from(now - next.key.created_at).unwrap_or(0)),
        next: new_next,
    })
}

/// A transaction in which one instance at a time changes the keys.
async fn locked(db: &Db) -> Result<Tx<'static>, DbError> {
    let mut tx = db.begin_write().await?;
    if db.backend == Backend::Postgres {
        // Conflicts with itself: one instance at a time changes the keys.
        sqlx::query("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
    }
    Ok(tx)
}

async fn insert(
    tx: &mut Tx<'_>,
    encryption: &KeyEncryption,
    now: i64,
    activates_at: i64,
) -> Result<String, DbError> {
    let pair = Ed25519Pair::generate();
    let kid = ed25519_kid(&pair.public);
    sqlx::query(
        "INSERT INTO signing_keys (kid, alg, public_key, private_key, created_at, activates_at)
         VALUES ($1, 'EdDSA', $2, $3, $4, $5)",
    )
    .bind(&kid)
    .bind(pair.public.to_vec())
    .bind(encryption.seal(&kid, &pair.seed))
    .bind(now)
    .bind(activates_at)
    .execute(&mut **tx)
    .await?;
    Ok(kid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(at: i64) -> StoredKey {
        let pair = Ed25519Pair::generate();
        StoredKey {
            kid: ed25519_kid(&pair.public),
            pair,
            created_at: at - 1000,
            activates_at: at,
        }
    }

    #[test]
    fn states_follow_the_activation_times_and_a_retired_key_outlives_its_tokens() {
        let schedule = KeySchedule {
            rotation: Duration::from_secs(30 * 86400),
            token_lifetime: Duration::from_secs(301),
            encryption: KeyEncryption::default(),
        };
        let keys = [key(1_000), key(2_000), key(3_000)];
        let s = schedule.statuses(&keys, 2_500);
        let states: Vec<KeyState> = s.iter().map(|s| s.state).collect();
        assert_eq!(
            states,
            [KeyState::Retired, KeyState::Current, KeyState::Next]
        );
        assert_eq!(s[0].signs_until, Some(2_000));
        assert_eq!(s[0].unpublished_at, Some(2_000 + 301_000 + 60_000));
        assert_eq!(s[2].signs_until, None);
        assert!(needs_work(&schedule, &keys[..2], 2_500), "no next key");
        assert!(!needs_work(&schedule, &keys, 2_500));
        assert!(
            needs_work(&schedule, &keys, 2_000 + 361_000),
            "the retired key is due"
        );
    }
}
