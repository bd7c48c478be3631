//! **Where a session's authentication is renewed** (RFC 9470 step-up): a re-authentication
//! moves the session's `auth_time` (and `amr`) forward — same session, same refresh token
//! family, no new cookie — and a password change ends every other session with it.

use super::{EndReason, Sessions};
use crate::authentication::{Authentication, Method};
use crate::clock::Timestamp;
use crate::db::{ms, DbError};
use crate::ids::{SessionId, UserId};
use crate::security_events::{Client, Event, Kind};

/// A live session whose authentication was just renewed: what its new access token needs.
#[derive(Debug, Clone)]
pub struct Renewed {
    pub username: String,
    /// The session's absolute end.
    pub expires_at: Timestamp,
    pub dpop_jkt: Option<String>,
    pub auth: Authentication,
}

#[derive(sqlx::FromRow)]
struct RenewedRow {
    expires_at: i64,
    dpop_jkt: Option<String>,
    username: String,
}

impl Sessions {
    /// Records that the person behind live session `sid` of `user_id` just proved who they are
    /// again, by `method`. `None` when the session is not live (ended, expired or idle).
    pub async fn reauthenticated(
        &self,
        sid: &SessionId,
        user_id: UserId,
        method: Method,
        client: &Client,
    ) -> Result<Option<Renewed>, DbError> {
        let now = self.clock.now_ms();
        let mut tx = self.db.begin_write().await?;
        let row: Option<RenewedRow> = sqlx::query_as(
            "UPDATE sessions SET auth_time = $1, amr = $2
             WHERE id = $3 AND user_id = $4 AND revoked_at IS NULL
               AND expires_at > $1 AND last_used_at >= $5
             RETURNING expires_at, dpop_jkt,
                       (SELECT username FROM users WHERE users.id = sessions.user_id) AS username",
        )
        .bind(now)
        .bind(method.as_str())
        .bind(sid)
        .bind(user_id)
        .bind(now - ms(self.policy.idle))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let event = Event::new(Kind::Reauthenticated, Timestamp(now), Some(user_id))
            .session(sid)
            .client(client)
            .detail(method.as_str());
        let recorded = self.events.record(&mut tx, event).await?;
        tx.commit().await?;
        recorded.log();
        Ok(Some(Renewed {
            username: row.username,
            expires_at: Timestamp(row.expires_at),
            dpop_jkt: row.dpop_jkt,
            auth: Authentication {
                at: Timestamp(now),
                method,
            },
        }))
    }

    /// The authentication of live session `sid` (for an action authorised by the refresh
    /// cookie, which carries no `auth_time`). `None` when it is not live.
    pub async fn authentication(
        &self,
        sid: &SessionId,
    ) -> Result<Option<(Authentication, Option<String>)>, DbError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            auth_time: i64,
            amr: Option<String>,
            dpop_jkt: Option<String>,
        }
        let now = self.clock.now_ms();
        let row: Option<Row> = sqlx::query_as(
            "SELECT COALESCE(auth_time, created_at) AS auth_time, amr, dpop_jkt FROM sessions
             WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2 AND last_used_at >= $3",
        )
        .bind(sid)
        .bind(now)
        .bind(now - ms(self.policy.idle))
        .fetch_optional(&self.db.pool)
        .await?;
        Ok(row.map(|r| {
            (
                Authentication::stored(r.auth_time, r.amr.as_deref()),
                r.dpop_jkt,
            )
        }))
    }

    /// Stores `user_id`'s new password hash and ends every other session of theirs, in one
    /// transaction: one `password_changed` event (detail: how many ended). Session `keep`
    /// (the one that changed it) lives on. Returns how many ended; `None` when `keep` is no
    /// longer live (then nothing changed).
    pub async fn password_changed(
        &self,
        user_id: UserId,
        keep: &SessionId,
        new_hash: &str,
        client: &Client,
    ) -> Result<Option<usize>, DbError> {
        let now = self.clock.now_ms();
        let mut tx = self.db.begin_write().await?;
        self.db.lock_user(&mut tx, user_id).await?;
        let live: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sessions WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL
               AND expires_at > $3",
        )
        .bind(keep)
        .bind(user_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        if live == 0 {
            return Ok(None);
        }
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(new_hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let ended: Vec<String> = sqlx::query_scalar(
            "UPDATE sessions SET revoked_at = $1, revoked_reason = $2
             WHERE user_id = $3 AND id <> $4 AND revoked_at IS NULL RETURNING id",
        )
        .bind(now)
        .bind(EndReason::PasswordChanged.as_str())
        .bind(user_id)
        .bind(keep)
        .fetch_all(&mut *tx)
        .await?;
        let event = Event::new(Kind::PasswordChanged, Timestamp(now), Some(user_id))
            .session(keep)
            .client(client)
            .detail(ended.len().to_string());
        let recorded = self.events.record(&mut tx, event).await?;
        tx.commit().await?;
        recorded.log();
        for sid in &ended {
            self.revocations.insert(sid);
        }
        Ok(Some(ended.len()))
    }
}
