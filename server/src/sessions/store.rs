//! The session store: starting a family, listing, revoking, and pruning what has ended.
//! Every function is one short statement or transaction, the same SQL on both backends.

use sqlx::Row;

use super::crypto::{hash_token, new_token, Presented};
use super::{EndReason, Grant, SessionRow, Sessions};
use crate::db::{ms, now_ms, DbError, Tx};

/// Ended sessions (and their token rows) are deleted this long after they ended. Must outlast
/// the access tokens (so a restart reloads the revocation) and is long enough that a replayed
/// token of a just-ended session is still recognised as reuse.
pub const ENDED_RETENTION_MS: i64 = 24 * 3600 * 1000;

/// What one prune pass deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub sessions: u64,
    pub refresh_tokens: u64,
}

impl Sessions {
    /// Starts a new family for a signed-in user (every sign-in does).
    pub async fn start(
        &self,
        user_id: i64,
        username: String,
        user_agent: Option<String>,
    ) -> Result<Grant, DbError> {
        let (token, _) = new_token();
        let id = crate::tokens::random_id(16);
        let now = now_ms();
        let expires_at = now + ms(self.policy.absolute);
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, user_agent, generation, rotated_at)
             VALUES ($1, $2, $3, $3, $4, $5, 0, $3)",
        )
        .bind(&id)
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .bind(user_agent)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO refresh_tokens (hash, session_id, generation, issued_at) VALUES ($1, $2, 0, $3)",
        )
        .bind(hash_token(&token.0).to_vec())
        .bind(&id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Grant {
            session_id: id,
            user_id,
            username,
            refresh_token: token,
            expires_at,
            grace: false,
        })
    }

    /// The session a refresh token belongs to, whatever its generation (for logout).
    pub async fn session_of_token(
        &self,
        presented: &str,
    ) -> Result<Option<(String, i64)>, DbError> {
        let Some(p) = Presented::parse(presented) else {
            return Ok(None);
        };
        let row = sqlx::query(
            "SELECT s.id, s.user_id FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
             WHERE t.hash = $1",
        )
        .bind(p.hash.to_vec())
        .fetch_optional(&self.db.pool)
        .await?;
        Ok(match row {
            Some(r) => Some((r.try_get(0)?, r.try_get(1)?)),
            None => None,
        })
    }

    /// Ends one session. Returns false if it did not exist, was not `user_id`'s, or had ended.
    pub async fn revoke(
        &self,
        sid: &str,
        user_id: Option<i64>,
        reason: EndReason,
    ) -> Result<bool, DbError> {
        if !could_be_session_id(sid) {
            // Not one of ours (and PostgreSQL refuses text with a NUL byte): nothing to end.
            return Ok(false);
        }
        let changed = sqlx::query(
            "UPDATE sessions SET revoked_at = $1, revoked_reason = $2
             WHERE id = $3 AND revoked_at IS NULL AND ($4 IS NULL OR user_id = $4)",
        )
        .bind(now_ms())
        .bind(reason.as_str())
        .bind(sid)
        .bind(user_id)
        .execute(&self.db.pool)
        .await?
        .rows_affected();
        if changed > 0 {
            self.revocations.insert(sid);
        }
        Ok(changed > 0)
    }

    /// Ends every live session of a user ("sign out everywhere"). Returns how many.
    pub async fn revoke_all(&self, user_id: i64, reason: EndReason) -> Result<usize, DbError> {
        let rows = sqlx::query(
            "UPDATE sessions SET revoked_at = $1, revoked_reason = $2
             WHERE user_id = $3 AND revoked_at IS NULL RETURNING id",
        )
        .bind(now_ms())
        .bind(reason.as_str())
        .bind(user_id)
        .fetch_all(&self.db.pool)
        .await?;
        for row in &rows {
            self.revocations.insert(&row.try_get::<String, _>(0)?);
        }
        Ok(rows.len())
    }

    /// The user's live sessions, newest first.
    pub async fn list(&self, user_id: i64) -> Result<Vec<SessionRow>, DbError> {
        let now = now_ms();
        let rows = sqlx::query(
            "SELECT id, created_at, last_used_at, expires_at, user_agent FROM sessions
             WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND last_used_at > $3
             ORDER BY created_at DESC",
        )
        .bind(user_id)
        .bind(now)
        .bind(now - ms(self.policy.idle))
        .fetch_all(&self.db.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SessionRow {
                    id: r.try_get(0)?,
                    created_at: r.try_get(1)?,
                    last_used_at: r.try_get(2)?,
                    expires_at: r.try_get(3)?,
                    user_agent: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// Deletes sessions that ended (revoked, expired, idle) more than [`ENDED_RETENTION_MS`]
    /// before `now`, with their refresh-token rows, and forgets revocations whose access
    /// tokens have all expired. Run periodically by [`crate::maintenance`].
    pub async fn prune(&self, now: i64) -> Result<Pruned, DbError> {
        self.revocations.prune(now);
        let cutoff = now - ENDED_RETENTION_MS;
        let ended =
            "(revoked_at IS NOT NULL AND revoked_at < $1) OR expires_at < $1 OR last_used_at < $2";
        let mut tx = self.db.begin().await?;
        // Tokens first (explicitly, so the figure is known; the foreign key would cascade).
        let refresh_tokens = sqlx::query(&format!(
            "DELETE FROM refresh_tokens WHERE session_id IN (SELECT id FROM sessions WHERE {ended})"
        ))
        .bind(cutoff)
        .bind(cutoff - ms(self.policy.idle))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let sessions = sqlx::query(&format!("DELETE FROM sessions WHERE {ended}"))
            .bind(cutoff)
            .bind(cutoff - ms(self.policy.idle))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(Pruned {
            sessions,
            refresh_tokens,
        })
    }
}

/// Session ids are 16 random bytes in base64url (22 characters); anything else is not one.
fn could_be_session_id(sid: &str) -> bool {
    sid.len() <= 64
        && !sid.is_empty()
        && sid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Ends a session inside a transaction (rotation's reuse and expiry outcomes).
pub(super) async fn end_session(
    tx: &mut Tx<'_>,
    sid: &str,
    reason: EndReason,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE sessions SET revoked_at = $1, revoked_reason = $2 WHERE id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(reason.as_str())
    .bind(sid)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
