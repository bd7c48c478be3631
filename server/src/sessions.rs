//! Sessions and refresh-token rotation: the one place where refresh tokens are minted,
//! rotated, recognised on replay, and revoked.
//!
//! A *session* is a refresh-token family. Each refresh token is an opaque 256-bit random
//! string; only its SHA-256 is stored. Presenting a token (`rotate`) does exactly one of:
//!
//! * **current token** → a conditional `UPDATE … WHERE generation = ?` moves the session to the
//!   next generation and stores the successor's hash. Rotation happens inside one SQLite
//!   transaction on one connection, so a token never gets two successors.
//! * **immediate predecessor, within the grace window** (`REFRESH_REUSE_GRACE`) → the benign
//!   race: another tab won, or our response was lost. We answer with the session's *current*
//!   token, not a new branch (see "the grace answer" below).
//! * **any older token, or the predecessor after the grace window** → reuse: somebody is
//!   replaying a rotated token. The whole family is revoked, its access tokens stop working at
//!   once (see [`Revocations`]), and the caller gets `refresh_token_reused`.
//!
//! ## The grace answer, storing only hashes
//! When token `T(n)` is rotated to `T(n+1)`, we store `T(n+1) XOR HMAC-SHA256(T(n), label)`
//! on `T(n)`'s row. Only someone who presents `T(n)` itself can unseal it; the database alone
//! (hashes and sealed values) reveals no usable token. So a grace request gets back the very
//! cookie the winner got, and the family stays one straight chain.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use rand::RngCore;
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha256};

use crate::db::{now_ms, rfc3339, Db, DbError};

/// Refresh tokens are 32 random bytes, base64url without padding (43 characters).
const TOKEN_BYTES: usize = 32;
const SEAL_LABEL: &[u8] = b"tokenpair/refresh-grace-seal/v1";

#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub absolute: Duration,
    pub idle: Duration,
    pub grace: Duration,
    /// How long a revoked session's access tokens could still be alive (access TTL + leeway):
    /// the revocation list keeps a `sid` that long.
    pub access_lifetime: Duration,
}

/// A refresh token handed to the client (only ever in the cookie).
pub struct RefreshToken(pub String);

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshToken(<redacted>)")
    }
}

/// What a successful sign-in or refresh yields.
#[derive(Debug)]
pub struct Grant {
    pub session_id: String,
    pub user_id: i64,
    pub username: String,
    pub refresh_token: RefreshToken,
    /// Absolute end of the session, unix ms (the cookie's Max-Age counts down to it).
    pub expires_at: i64,
    /// True when this was the grace answer to a just-rotated token.
    pub grace: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("The refresh token is missing or not recognised.")]
    Invalid,
    #[error("This refresh token was already used; the session has been revoked for safety.")]
    Reused,
    #[error("The session has ended; please sign in again.")]
    Expired,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Why a session ended (stored in `sessions.revoked_reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    Logout,
    LogoutGlobal,
    Revoked,
    Reuse,
    Expired,
    Replaced,
}

impl EndReason {
    fn as_str(self) -> &'static str {
        match self {
            EndReason::Logout => "logout",
            EndReason::LogoutGlobal => "logout_global",
            EndReason::Revoked => "revoked",
            EndReason::Reuse => "reuse",
            EndReason::Expired => "expired",
            EndReason::Replaced => "replaced",
        }
    }
}

/// One live session, as `GET /api/sessions` lists it.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: String,
    pub created_at: i64,
    pub last_used_at: i64,
    pub expires_at: i64,
    pub user_agent: Option<String>,
}

impl SessionRow {
    pub fn to_api(&self, current_sid: &str) -> tokenpair_api::SessionInfo {
        tokenpair_api::SessionInfo {
            id: self.id.clone(),
            created_at: rfc3339(self.created_at),
            last_used_at: rfc3339(self.last_used_at),
            expires_at: rfc3339(self.expires_at),
            user_agent: self.user_agent.clone(),
            device: crate::device::name(self.user_agent.as_deref()),
            current: self.id == current_sid,
        }
    }
}

/// Session ids revoked recently enough that access tokens naming them may still be unexpired.
/// Checked on every authenticated request, in memory: no database read on the happy path.
#[derive(Clone, Default)]
pub struct Revocations {
    /// sid → unix ms after which no access token of that session can be valid anyway.
    inner: Arc<RwLock<HashMap<String, i64>>>,
}

impl Revocations {
    pub fn is_revoked(&self, sid: &str) -> bool {
        self.inner
            .read()
            .map(|m| m.contains_key(sid))
            .unwrap_or(true)
    }

    fn insert(&self, sid: String, keep_until: i64) {
        if let Ok(mut m) = self.inner.write() {
            m.insert(sid, keep_until);
        }
    }

    /// Forgets entries whose access tokens have all expired.
    pub fn prune(&self, now: i64) {
        if let Ok(mut m) = self.inner.write() {
            m.retain(|_, keep_until| *keep_until > now);
        }
    }

    pub fn len(&self) -> usize {
        self.inner.read().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Clone)]
pub struct Sessions {
    db: Db,
    policy: SessionPolicy,
    revocations: Revocations,
}

impl Sessions {
    /// Builds the store and reloads recent revocations, so a restart cannot resurrect the
    /// access tokens of a session that was signed out just before it.
    pub fn new(db: Db, policy: SessionPolicy) -> Result<Self, DbError> {
        let sessions = Sessions {
            db,
            policy,
            revocations: Revocations::default(),
        };
        let horizon = now_ms() - ms(policy.access_lifetime);
        let recent: Vec<(String, i64)> = sessions.db.call_blocking(move |c| {
            let mut stmt = c.prepare(
                "SELECT id, revoked_at FROM sessions WHERE revoked_at IS NOT NULL AND revoked_at > ?1",
            )?;
            let rows = stmt
                .query_map(params![horizon], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })?;
        for (sid, at) in recent {
            sessions
                .revocations
                .insert(sid, at + ms(policy.access_lifetime));
        }
        Ok(sessions)
    }

    pub fn revocations(&self) -> &Revocations {
        &self.revocations
    }

    pub fn policy(&self) -> SessionPolicy {
        self.policy
    }

    /// Starts a new family for a signed-in user (every sign-in does).
    pub async fn start(
        &self,
        user_id: i64,
        username: String,
        user_agent: Option<String>,
    ) -> Result<Grant, DbError> {
        let token = new_token();
        let id = crate::tokens::random_id(16);
        let now = now_ms();
        let expires_at = now + ms(self.policy.absolute);
        let (sid, hash) = (id.clone(), hash_token(&token.0));
        self.db
            .call(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                tx.execute(
                    "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, user_agent, generation, rotated_at)
                     VALUES (?1, ?2, ?3, ?3, ?4, ?5, 0, ?3)",
                    params![sid, user_id, now, expires_at, user_agent],
                )?;
                tx.execute(
                    "INSERT INTO refresh_tokens (hash, session_id, generation, issued_at) VALUES (?1, ?2, 0, ?3)",
                    params![hash.as_slice(), sid, now],
                )?;
                tx.commit()?;
                Ok(())
            })
            .await?;
        Ok(Grant {
            session_id: id,
            user_id,
            username,
            refresh_token: token,
            expires_at,
            grace: false,
        })
    }

    /// Rotates a presented refresh token (see the module docs for the three outcomes).
    pub async fn rotate(&self, presented: &str) -> Result<Grant, RefreshError> {
        let Some(raw) = decode_token(presented) else {
            return Err(RefreshError::Invalid);
        };
        let policy = self.policy;
        let hash = hash_token(presented);
        let outcome = self
            .db
            .call(move |c| rotate_in_tx(c, &raw, &hash, policy, now_ms()))
            .await?;
        match outcome {
            Rotation::Granted(grant) => Ok(grant),
            Rotation::Refused { error, revoke } => {
                if let Some(sid) = revoke {
                    self.note_revoked(sid);
                }
                Err(error)
            }
        }
    }

    /// The session a refresh token belongs to, whatever its generation (for logout).
    pub async fn session_of_token(
        &self,
        presented: &str,
    ) -> Result<Option<(String, i64)>, DbError> {
        if decode_token(presented).is_none() {
            return Ok(None);
        }
        let hash = hash_token(presented);
        self.db
            .call(move |c| {
                Ok(c.query_row(
                    "SELECT s.id, s.user_id FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
                     WHERE t.hash = ?1",
                    params![hash.as_slice()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?)
            })
            .await
    }

    /// Ends one session. Returns false if it did not exist, was not `user_id`'s, or had ended.
    pub async fn revoke(
        &self,
        sid: &str,
        user_id: Option<i64>,
        reason: EndReason,
    ) -> Result<bool, DbError> {
        let (id, now) = (sid.to_owned(), now_ms());
        let changed = self
            .db
            .call(move |c| {
                Ok(c.execute(
                    "UPDATE sessions SET revoked_at = ?1, revoked_reason = ?2
                     WHERE id = ?3 AND revoked_at IS NULL AND (?4 IS NULL OR user_id = ?4)",
                    params![now, reason.as_str(), id, user_id],
                )?)
            })
            .await?;
        if changed > 0 {
            self.note_revoked(sid.to_owned());
        }
        Ok(changed > 0)
    }

    /// Ends every live session of a user ("sign out everywhere"). Returns how many.
    pub async fn revoke_all(&self, user_id: i64, reason: EndReason) -> Result<usize, DbError> {
        let now = now_ms();
        let ids: Vec<String> = self
            .db
            .call(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let ids = {
                    let mut stmt = tx.prepare(
                        "UPDATE sessions SET revoked_at = ?1, revoked_reason = ?2
                         WHERE user_id = ?3 AND revoked_at IS NULL RETURNING id",
                    )?;
                    let rows =
                        stmt.query_map(params![now, reason.as_str(), user_id], |r| r.get(0))?;
                    rows.collect::<Result<Vec<String>, _>>()?
                };
                tx.commit()?;
                Ok(ids)
            })
            .await?;
        let n = ids.len();
        for sid in ids {
            self.note_revoked(sid);
        }
        Ok(n)
    }

    /// The user's live sessions, newest first.
    pub async fn list(&self, user_id: i64) -> Result<Vec<SessionRow>, DbError> {
        let now = now_ms();
        let idle = ms(self.policy.idle);
        self.db
            .call(move |c| {
                let mut stmt = c.prepare(
                    "SELECT id, created_at, last_used_at, expires_at, user_agent FROM sessions
                     WHERE user_id = ?1 AND revoked_at IS NULL AND expires_at > ?2 AND last_used_at > ?3
                     ORDER BY created_at DESC",
                )?;
                let rows = stmt
                    .query_map(params![user_id, now, now - idle], |r| {
                        Ok(SessionRow {
                            id: r.get(0)?,
                            created_at: r.get(1)?,
                            last_used_at: r.get(2)?,
                            expires_at: r.get(3)?,
                            user_agent: r.get(4)?,
                        })
                    })?
                    .collect::<Result<_, _>>()?;
                Ok(rows)
            })
            .await
    }

    /// Deletes sessions (and their token hashes) that ended more than a day ago, and forgets
    /// revocations whose access tokens have all expired. Run periodically.
    pub async fn cleanup(&self) -> Result<usize, DbError> {
        let now = now_ms();
        self.revocations.prune(now);
        let cutoff = now - 24 * 3600 * 1000;
        let idle = ms(self.policy.idle);
        self.db
            .call(move |c| {
                Ok(c.execute(
                    "DELETE FROM sessions WHERE (revoked_at IS NOT NULL AND revoked_at < ?1)
                     OR expires_at < ?1 OR last_used_at < ?1 - ?2",
                    params![cutoff, idle],
                )?)
            })
            .await
    }

    fn note_revoked(&self, sid: String) {
        self.revocations
            .insert(sid, now_ms() + ms(self.policy.access_lifetime));
    }
}

enum Rotation {
    Granted(Grant),
    Refused {
        error: RefreshError,
        revoke: Option<String>,
    },
}

fn rotate_in_tx(
    c: &mut rusqlite::Connection,
    raw: &[u8; TOKEN_BYTES],
    hash: &[u8; 32],
    policy: SessionPolicy,
    now: i64,
) -> Result<Rotation, DbError> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let row = tx
        .query_row(
            "SELECT t.session_id, t.generation, t.successor_sealed, s.user_id, u.username,
                    s.generation, s.rotated_at, s.last_used_at, s.expires_at, s.revoked_reason
             FROM refresh_tokens t
             JOIN sessions s ON s.id = t.session_id
             JOIN users u ON u.id = s.user_id
             WHERE t.hash = ?1",
            params![hash.as_slice()],
            |r| {
                Ok(Presented {
                    session_id: r.get(0)?,
                    generation: r.get(1)?,
                    successor_sealed: r.get(2)?,
                    user_id: r.get(3)?,
                    username: r.get(4)?,
                    current_generation: r.get(5)?,
                    rotated_at: r.get(6)?,
                    last_used_at: r.get(7)?,
                    expires_at: r.get(8)?,
                    revoked_reason: r.get(9)?,
                })
            },
        )
        .optional()?;
    let Some(p) = row else {
        return Ok(Rotation::Refused {
            error: RefreshError::Invalid,
            revoke: None,
        });
    };

    if let Some(reason) = p.revoked_reason.as_deref() {
        let error = if reason == EndReason::Reuse.as_str() {
            RefreshError::Reused
        } else {
            RefreshError::Expired
        };
        return Ok(Rotation::Refused {
            error,
            revoke: None,
        });
    }
    if now >= p.expires_at || now - p.last_used_at > ms(policy.idle) {
        end_session(&tx, &p.session_id, EndReason::Expired, now)?;
        tx.commit()?;
        return Ok(Rotation::Refused {
            error: RefreshError::Expired,
            revoke: Some(p.session_id),
        });
    }

    let grant = |refresh_token, grace| Grant {
        session_id: p.session_id.clone(),
        user_id: p.user_id,
        username: p.username.clone(),
        refresh_token,
        expires_at: p.expires_at,
        grace,
    };

    if p.generation == p.current_generation {
        // The normal case: rotate. The WHERE on generation makes this the only successor.
        let (next, next_raw) = new_token_with_raw();
        let moved = tx.execute(
            "UPDATE sessions SET generation = generation + 1, rotated_at = ?1, last_used_at = ?1
             WHERE id = ?2 AND generation = ?3 AND revoked_at IS NULL",
            params![now, p.session_id, p.current_generation],
        )?;
        if moved != 1 {
            return Ok(Rotation::Refused {
                error: RefreshError::Invalid,
                revoke: None,
            });
        }
        tx.execute(
            "INSERT INTO refresh_tokens (hash, session_id, generation, issued_at) VALUES (?1, ?2, ?3, ?4)",
            params![hash_token(&next.0).as_slice(), p.session_id, p.current_generation + 1, now],
        )?;
        tx.execute(
            "UPDATE refresh_tokens SET successor_sealed = ?1 WHERE hash = ?2",
            params![seal(raw, &next_raw).as_slice(), hash.as_slice()],
        )?;
        tx.commit()?;
        return Ok(Rotation::Granted(grant(next, false)));
    }

    let within_grace = now - p.rotated_at <= ms(policy.grace);
    if p.generation + 1 == p.current_generation && within_grace {
        if let Some(successor) = p.successor_sealed.as_deref().and_then(|s| unseal(raw, s)) {
            let token = URL_SAFE_NO_PAD.encode(successor);
            // Make sure what we unsealed really is the session's current token.
            let is_current: bool = tx.query_row(
                "SELECT EXISTS(SELECT 1 FROM refresh_tokens WHERE hash = ?1 AND session_id = ?2 AND generation = ?3)",
                params![hash_token(&token).as_slice(), p.session_id, p.current_generation],
                |r| r.get(0),
            )?;
            if is_current {
                tx.execute(
                    "UPDATE sessions SET last_used_at = ?1 WHERE id = ?2",
                    params![now, p.session_id],
                )?;
                tx.commit()?;
                return Ok(Rotation::Granted(grant(RefreshToken(token), true)));
            }
        }
    }

    // Replay of a rotated token: revoke the whole family.
    end_session(&tx, &p.session_id, EndReason::Reuse, now)?;
    tx.commit()?;
    tracing::warn!(session = %p.session_id, user = p.user_id, generation = p.generation,
        current = p.current_generation, "refresh token reuse detected; session revoked");
    Ok(Rotation::Refused {
        error: RefreshError::Reused,
        revoke: Some(p.session_id),
    })
}

struct Presented {
    session_id: String,
    generation: i64,
    successor_sealed: Option<Vec<u8>>,
    user_id: i64,
    username: String,
    current_generation: i64,
    rotated_at: i64,
    last_used_at: i64,
    expires_at: i64,
    revoked_reason: Option<String>,
}

fn end_session(
    tx: &rusqlite::Transaction<'_>,
    sid: &str,
    reason: EndReason,
    now: i64,
) -> Result<(), DbError> {
    tx.execute(
        "UPDATE sessions SET revoked_at = ?1, revoked_reason = ?2 WHERE id = ?3 AND revoked_at IS NULL",
        params![now, reason.as_str(), sid],
    )?;
    Ok(())
}

fn new_token() -> RefreshToken {
    new_token_with_raw().0
}

/// A new token and its 32 raw bytes.
fn new_token_with_raw() -> (RefreshToken, [u8; TOKEN_BYTES]) {
    let mut raw = [0u8; TOKEN_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    (RefreshToken(URL_SAFE_NO_PAD.encode(raw)), raw)
}

/// The 32 bytes of a well-formed token, or None for anything else (garbage is rejected
/// before it reaches the database).
fn decode_token(token: &str) -> Option<[u8; TOKEN_BYTES]> {
    if token.len() != 43 {
        return None;
    }
    URL_SAFE_NO_PAD.decode(token).ok()?.try_into().ok()
}

/// SHA-256 of the token as sent: the only form in which a refresh token is stored.
pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn seal_pad(key: &[u8; TOKEN_BYTES]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(SEAL_LABEL);
    mac.finalize().into_bytes().into()
}

fn seal(key: &[u8; TOKEN_BYTES], successor: &[u8; TOKEN_BYTES]) -> [u8; 32] {
    let pad = seal_pad(key);
    std::array::from_fn(|i| successor[i] ^ pad[i])
}

fn unseal(key: &[u8; TOKEN_BYTES], sealed: &[u8]) -> Option<[u8; TOKEN_BYTES]> {
    let sealed: &[u8; 32] = sealed.try_into().ok()?;
    let pad = seal_pad(key);
    Some(std::array::from_fn(|i| sealed[i] ^ pad[i]))
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_are_256_bit_base64url() {
        let t = new_token();
        assert_eq!(t.0.len(), 43);
        assert_eq!(decode_token(&t.0).map(|b| b.len()), Some(32));
        assert_ne!(t.0, new_token().0);
        assert!(!format!("{t:?}").contains(&t.0));
    }

    #[test]
    fn garbage_is_not_a_token() {
        for bad in ["", "abc", &"!".repeat(43), &"a".repeat(44), "a.b.c"] {
            assert!(decode_token(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn only_the_predecessor_unseals_its_successor() {
        let (a, b, other) = ([1u8; 32], [2u8; 32], [3u8; 32]);
        let sealed = seal(&a, &b);
        assert_ne!(sealed, b, "the sealed value is not the token");
        assert_eq!(unseal(&a, &sealed), Some(b));
        assert_ne!(unseal(&other, &sealed), Some(b));
    }
}
