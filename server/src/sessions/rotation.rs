//! **Where rotation is.** Presenting a refresh token does exactly one of:
//!
//! * **current token of a live session** → one conditional `UPDATE … RETURNING` moves the
//!   session to the next generation. Its `WHERE` names the generation of the presented token,
//!   so of any number of concurrent presentations — on one instance or on several — exactly one
//!   matches: on PostgreSQL the others wait for the row lock and then no longer match; on SQLite
//!   the single connection serialises them. The winner stores the successor's hash, and on the
//!   presented token's row the sealed successor ([`super::crypto`]), in the same transaction.
//! * **immediate predecessor, within the grace window** (`REFRESH_REUSE_GRACE`) → the benign
//!   race: another tab won, or our response was lost. The answer is the session's *current*
//!   token, unsealed from the predecessor's row — which works whichever instance answers.
//! * **any older token, or the predecessor after the grace window** → reuse: somebody is
//!   replaying a rotated token. The whole family is revoked in the same transaction, its access
//!   tokens stop working at once ([`super::revocations`]), and the caller gets
//!   `refresh_token_reused`.

use sqlx::Row;

use super::crypto::{encode, hash_token, new_token, seal, unseal, Presented};
use super::store::end_session;
use super::{EndReason, Grant, RefreshError, Sessions};
use crate::db::{ms, now_ms, Tx};

/// The presented token and its session, read when the conditional update did not match.
struct Found {
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

impl Sessions {
    /// Rotates a presented refresh token (see the module docs for the three outcomes).
    pub async fn rotate(&self, presented: &str) -> Result<Grant, RefreshError> {
        let Some(p) = Presented::parse(presented) else {
            return Err(RefreshError::Invalid);
        };
        let now = now_ms();
        let mut tx = self.db.begin().await?;

        // The one conditional UPDATE: only the current token of a live session moves it on.
        let won = sqlx::query(
            "UPDATE sessions SET generation = generation + 1, rotated_at = $2, last_used_at = $2
             WHERE id = (SELECT session_id FROM refresh_tokens WHERE hash = $1)
               AND generation = (SELECT generation FROM refresh_tokens WHERE hash = $1)
               AND revoked_at IS NULL AND expires_at > $2 AND last_used_at >= $3
             RETURNING id, user_id, generation, expires_at,
                       (SELECT username FROM users WHERE users.id = sessions.user_id)",
        )
        .bind(p.hash.to_vec())
        .bind(now)
        .bind(now - ms(self.policy.idle))
        .fetch_optional(&mut *tx)
        .await?;

        if let Some(row) = won {
            let session_id: String = row.try_get(0)?;
            let user_id: i64 = row.try_get(1)?;
            let generation: i64 = row.try_get(2)?;
            let expires_at: i64 = row.try_get(3)?;
            let username: String = row.try_get(4)?;
            let (next, next_raw) = new_token();
            // One statement for both token rows: the successor is inserted, and the presented
            // token's existing row only gets the sealed successor (its other columns are left
            // as they are by the conflict clause).
            sqlx::query(
                "INSERT INTO refresh_tokens (hash, session_id, generation, issued_at, successor_sealed)
                 VALUES ($1, $3, $4, $5, NULL), ($2, $3, $4 - 1, $5, $6)
                 ON CONFLICT (hash) DO UPDATE SET successor_sealed = excluded.successor_sealed",
            )
            .bind(hash_token(&next.0).to_vec())
            .bind(p.hash.to_vec())
            .bind(&session_id)
            .bind(generation)
            .bind(now)
            .bind(seal(&p.raw, &next_raw).to_vec())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(Grant {
                session_id,
                user_id,
                username,
                refresh_token: next,
                expires_at,
                grace: false,
            });
        }

        // Not the current token of a live session: find out what it is.
        let Some(f) = find(&mut tx, &p.hash).await? else {
            return Err(RefreshError::Invalid);
        };
        if let Some(reason) = f.revoked_reason.as_deref() {
            return Err(if reason == EndReason::Reuse.as_str() {
                RefreshError::Reused
            } else {
                RefreshError::Expired
            });
        }
        if now >= f.expires_at || f.last_used_at < now - ms(self.policy.idle) {
            end_session(&mut tx, &f.session_id, EndReason::Expired, now).await?;
            tx.commit().await?;
            self.revocations.insert(&f.session_id);
            return Err(RefreshError::Expired);
        }
        if f.generation == f.current_generation {
            // Only possible if the session changed between the two statements; the client
            // may simply try again.
            return Err(RefreshError::Invalid);
        }

        let within_grace = now - f.rotated_at <= ms(self.policy.grace);
        if f.generation + 1 == f.current_generation && within_grace {
            if let Some(token) = grace_answer(&mut tx, &p, &f).await? {
                sqlx::query("UPDATE sessions SET last_used_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(&f.session_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                return Ok(Grant {
                    session_id: f.session_id,
                    user_id: f.user_id,
                    username: f.username,
                    refresh_token: token,
                    expires_at: f.expires_at,
                    grace: true,
                });
            }
        }

        // Replay of a rotated token: revoke the whole family.
        end_session(&mut tx, &f.session_id, EndReason::Reuse, now).await?;
        tx.commit().await?;
        self.revocations.insert(&f.session_id);
        tracing::warn!(session = %f.session_id, user = f.user_id, generation = f.generation,
            current = f.current_generation, "refresh token reuse detected; session revoked");
        Err(RefreshError::Reused)
    }
}

async fn find(tx: &mut Tx<'_>, hash: &[u8; 32]) -> Result<Option<Found>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT t.session_id, t.generation, t.successor_sealed, s.user_id, u.username,
                s.generation, s.rotated_at, s.last_used_at, s.expires_at, s.revoked_reason
         FROM refresh_tokens t
         JOIN sessions s ON s.id = t.session_id
         JOIN users u ON u.id = s.user_id
         WHERE t.hash = $1",
    )
    .bind(hash.to_vec())
    .fetch_optional(&mut **tx)
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(Found {
        session_id: r.try_get(0)?,
        generation: r.try_get(1)?,
        successor_sealed: r.try_get(2)?,
        user_id: r.try_get(3)?,
        username: r.try_get(4)?,
        current_generation: r.try_get(5)?,
        rotated_at: r.try_get(6)?,
        last_used_at: r.try_get(7)?,
        expires_at: r.try_get(8)?,
        revoked_reason: r.try_get(9)?,
    }))
}

/// The session's current token, unsealed from the predecessor's row — if what unseals really
/// is the current token.
async fn grace_answer(
    tx: &mut Tx<'_>,
    p: &Presented,
    f: &Found,
) -> Result<Option<super::RefreshToken>, sqlx::Error> {
    let Some(successor) = f
        .successor_sealed
        .as_deref()
        .and_then(|s| unseal(&p.raw, s))
    else {
        return Ok(None);
    };
    let token = encode(&successor);
    let matches: i64 = sqlx::query(
        "SELECT COUNT(*) FROM refresh_tokens WHERE hash = $1 AND session_id = $2 AND generation = $3",
    )
    .bind(hash_token(&token.0).to_vec())
    .bind(&f.session_id)
    .bind(f.current_generation)
    .fetch_one(&mut **tx)
    .await?
    .try_get(0)?;
    Ok((matches == 1).then_some(token))
}
