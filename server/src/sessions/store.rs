//! The session store: starting a family (and keeping a user's count bounded), listing a page,
//! revoking, finding the live session of a credential, and pruning what has ended.
//! Every function is one short statement or transaction, the same SQL on both backends.

use super::crypto::hash_token;
use super::{EndReason, Grant, SessionRow, Sessions};
use crate::authentication::{Authentication, Method};
use crate::clock::Timestamp;
use crate::db::{ms, DbError, Tx};
use crate::ids::{SessionId, UserId};
use crate::security_events::{Client, Event, Kind, Recorded};

/// Ended sessions are deleted this long after they ended. Must outlast the access tokens (so a
/// restart reloads the revocation) and is long enough that a replayed token of a just-ended
/// session is still recognised as reuse.
pub const ENDED_RETENTION_MS: i64 = 24 * 3600 * 1000;

/// The lapsed sessions a prune deletes per transaction.
const PRUNE_BATCH: i64 = 500;

/// The prune's first delete: a batch of sessions that lapsed unnoticed (never ended), as
/// their events need them. `$1`/`$2` as in [`PRUNE_SESSIONS`], `$3` the batch size.
const DELETE_LAPSED: &str = "DELETE FROM sessions WHERE id IN (
         SELECT id FROM sessions
         WHERE revoked_at IS NULL AND (expires_at < $1 OR last_used_at < $2)
         LIMIT $3)
     RETURNING id, user_id, user_agent, expires_at, last_used_at";

/// A session [`DELETE_LAPSED`] deleted.
#[derive(sqlx::FromRow)]
struct Lapsed {
    id: SessionId,
    user_id: UserId,
    user_agent: Option<String>,
    expires_at: i64,
    last_used_at: i64,
}

/// A session a statement ended, as `RETURNING id, user_agent` gives it.
#[derive(sqlx::FromRow)]
struct EndedSession {
    id: SessionId,
    user_agent: Option<String>,
}

/// What one prune pass deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub sessions: u64,
}

/// Where a page of the sessions list starts: after this (created_at, id), newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: i64,
    pub id: SessionId,
}

impl Cursor {
    /// `<created_at>.<id>`, as the `Link: rel="next"` URL carries it.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.created_at, self.id)
    }

    pub fn parse(s: &str) -> Option<Cursor> {
        let (at, id) = s.split_once('.')?;
        Some(Cursor {
            created_at: at.parse().ok()?,
            id: SessionId::parse(id)?,
        })
    }
}

/// One page of a user's live sessions, and where the next one starts.
#[derive(Debug)]
pub struct Page {
    pub rows: Vec<SessionRow>,
    pub next: Option<Cursor>,
}

/// The prune job's delete: `$1` = the cutoff for ended and expired sessions, `$2` = the
/// cutoff for idle ones. Each condition has its index (migration 0004), so it never scans.
pub const PRUNE_SESSIONS: &str = "DELETE FROM sessions
     WHERE (revoked_at IS NOT NULL AND revoked_at < $1) OR expires_at < $1 OR last_used_at < $2";

impl Sessions {
    /// Starts a new family for a signed-in user (every sign-in does). If the user then has more
    /// than `max_per_user` live sessions, the least recently used ones end (`evicted`).
    ///
    /// The sign-ins of one user take turns ([`crate::db::Db::lock_user`]): each counts the others' new
    /// sessions, so concurrent sign-ins can neither exceed the cap nor evict crosswise
    /// (on PostgreSQL that deadlocked).
    pub async fn start(
        &self,
        user_id: UserId,
        username: String,
        client: &Client,
    ) -> Result<Grant, DbError> {
        self.start_bound(user_id, username, client, None, Method::Password)
            .await
    }

    /// [`Sessions::start`], the session bound to the DPoP key `dpop_jkt` when there is one
    /// (every refresh must then prove that key), for a person who proved who they are by
    /// `method` (the tokens' `amr`; now is their `auth_time`).
    pub async fn start_bound(
        &self,
        user_id: UserId,
        username: String,
        client: &Client,
        dpop_jkt: Option<String>,
        method: Method,
    ) -> Result<Grant, DbError> {
        let id = SessionId::random();
        let (token, _) = self.minter.mint(id.as_str(), 0);
        let now = self.clock.now_ms();
        let expires_at = now + ms(self.policy.absolute);
        let mut tx = self.db.begin_write().await?;
        self.db.lock_user(&mut tx, user_id).await?;
        sqlx::query(
            "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, user_agent,
                                   generation, rotated_at, token_hash, dpop_jkt,
                                   auth_time, amr)
             VALUES ($1, $2, $3, $3, $4, $5, 0, $3, $6, $7, $3, $8)",
        )
        .bind(&id)
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .bind(client.user_agent.as_deref())
        .bind(hash_token(&token.0).to_vec())
        .bind(dpop_jkt.as_deref())
        .bind(method.as_str())
        .execute(&mut *tx)
        .await?;
        let evicted: Vec<EndedSession> = sqlx::query_as(
            "UPDATE sessions SET revoked_at = $1, revoked_reason = $2
             WHERE id IN (SELECT id FROM sessions
                          WHERE user_id = $3 AND revoked_at IS NULL AND expires_at > $1
                            AND last_used_at >= $4
                          ORDER BY last_used_at DESC, created_at DESC, id DESC
                          LIMIT 1000000 OFFSET $5)
             RETURNING id, user_agent",
        )
        .bind(now)
        .bind(EndReason::Evicted.as_str())
        .bind(user_id)
        .bind(now - ms(self.policy.idle))
        .bind(i64::from(self.policy.max_per_user.max(1)))
        .fetch_all(&mut *tx)
        .await?;
        // One sign-in, one event; its kind says how.
        let kind = match method {
            Method::Password => Kind::SignedIn,
            Method::Passkey => Kind::SignedInWithPasskey,
        };
        let signed_in = Event::new(kind, Timestamp(now), Some(user_id))
            .session(&id)
            .client(client);
        let mut recorded = self.events.record(&mut tx, signed_in).await?;
        let mut evicted_ids = Vec::with_capacity(evicted.len());
        for row in evicted {
            let device = Client::device(row.user_agent);
            let event = Event::new(Kind::SessionEvicted, Timestamp(now), Some(user_id))
                .session(&row.id)
                .client(&device);
            recorded = recorded.and(self.events.record(&mut tx, event).await?);
            evicted_ids.push(row.id);
        }
        tx.commit().await?;
        recorded.log();
        for sid in &evicted_ids {
            self.revocations.insert(sid.as_str());
        }
        Ok(Grant {
            session_id: id,
            user_id,
            username,
            refresh_token: token,
            expires_at: Timestamp(expires_at),
            grace: false,
            dpop_jkt,
            auth: Authentication {
                at: Timestamp(now),
                method,
            },
        })
    }

    /// Whether the session this refresh token names last rotated — its current token was
    /// issued — before `cutoff` (unix ms). A token that names no session did not.
    pub async fn issued_before(&self, presented: &str, cutoff: i64) -> Result<bool, DbError> {
        let Some(p) = self.minter.parse(presented) else {
            return Ok(false);
        };
        let created: Option<i64> =
            match &p.claim {
                Some(claim) => {
                    sqlx::query_scalar("SELECT rotated_at FROM sessions WHERE id = $1")
                        .bind(&claim.sid)
                        .fetch_optional(&self.db.pool)
                        .await?
                }
                None => sqlx::query_scalar(
                    "SELECT rotated_at FROM sessions WHERE token_hash = $1 OR prev_token_hash = $1",
                )
                .bind(p.hash.to_vec())
                .fetch_optional(&self.db.pool)
                .await?,
            };
        Ok(created.is_some_and(|at| at < cutoff))
    }

    /// The live session whose *current* credential this refresh token is: the session's
    /// current token, or its predecessor within the grace window. Anything else — a rotated
    /// token, a token of an ended session, garbage — is `None` (logout then changes nothing).
    pub async fn live_session_of_token(
        &self,
        presented: &str,
    ) -> Result<Option<(SessionId, UserId)>, DbError> {
        let Some(p) = self.minter.parse(presented) else {
            return Ok(None);
        };
        let now = self.clock.now_ms();
        #[derive(sqlx::FromRow)]
        struct Live {
            id: SessionId,
            user_id: UserId,
        }
        let row: Option<Live> = sqlx::query_as(
            "SELECT id, user_id FROM sessions
             WHERE (token_hash = $1 OR (prev_token_hash = $1 AND rotated_at >= $2))
               AND revoked_at IS NULL AND expires_at > $3 AND last_used_at >= $4",
        )
        .bind(p.hash.to_vec())
        .bind(now - ms(self.policy.grace))
        .bind(now)
        .bind(now - ms(self.policy.idle))
        .fetch_optional(&self.db.pool)
        .await?;
        Ok(row.map(|r| (r.id, r.user_id)))
    }

    /// Whether session `sid` of `user_id` is live (not ended, not expired, not idle).
    pub async fn is_live(&self, sid: &SessionId, user_id: UserId) -> Result<bool, DbError> {
        let now = self.clock.now_ms();
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sessions WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL
               AND expires_at > $3 AND last_used_at >= $4",
        )
        .bind(sid)
        .bind(user_id)
        .bind(now)
        .bind(now - ms(self.policy.idle))
        .fetch_one(&self.db.pool)
        .await?;
        Ok(n > 0)
    }

    /// Ends one session, recording why and at whose request (`client`). Returns false if it
    /// did not exist, was not `user_id`'s, or had ended.
    pub async fn revoke(
        &self,
        sid: &SessionId,
        user_id: Option<UserId>,
        reason: EndReason,
        client: &Client,
    ) -> Result<bool, DbError> {
        let now = self.clock.now_ms();
        let mut tx = self.db.begin_write().await?;
        let ended: Option<UserId> = sqlx::query_scalar(
            "UPDATE sessions SET revoked_at = $1, revoked_reason = $2
             WHERE id = $3 AND revoked_at IS NULL AND ($4 IS NULL OR user_id = $4)
             RETURNING user_id",
        )
        .bind(now)
        .bind(reason.as_str())
        .bind(sid)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(owner) = ended else {
            return Ok(false);
        };
        let event = Event::new(reason.event(), Timestamp(now), Some(owner))
            .session(sid)
            .client(client);
        let recorded = self.events.record(&mut tx, event).await?;
        tx.commit().await?;
        recorded.log();
        self.revocations.insert(sid.as_str());
        Ok(true)
    }

    /// Ends every live session of a user ("sign out everywhere"), asked from `client`'s
    /// session `from`. Returns how many.
    pub async fn revoke_all(
        &self,
        user_id: UserId,
        reason: EndReason,
        from: &SessionId,
        client: &Client,
    ) -> Result<usize, DbError> {
        let now = self.clock.now_ms();
        let mut tx = self.db.begin_write().await?;
        let ended: Vec<String> = sqlx::query_scalar(
            "UPDATE sessions SET revoked_at = $1, revoked_reason = $2
             WHERE user_id = $3 AND revoked_at IS NULL RETURNING id",
        )
        .bind(now)
        .bind(reason.as_str())
        .bind(user_id)
        .fetch_all(&mut *tx)
        .await?;
        let event = Event::new(reason.event(), Timestamp(now), Some(user_id))
            .session(from)
            .client(client)
            .detail(ended.len().to_string());
        let recorded = self.events.record(&mut tx, event).await?;
        tx.commit().await?;
        recorded.log();
        for sid in &ended {
            self.revocations.insert(sid);
        }
        Ok(ended.len())
    }

    /// A page of the user's live sessions, newest first: at most `limit`, after `after`.
    pub async fn list(
        &self,
        user_id: UserId,
        limit: u32,
        after: Option<&Cursor>,
    ) -> Result<Page, DbError> {
        let now = self.clock.now_ms();
        let (after_at, after_id) = match after {
            Some(c) => (c.created_at, c.id.to_string()),
            None => (i64::MAX, String::new()),
        };
        let mut rows: Vec<SessionRow> = sqlx::query_as(
            "SELECT id, created_at, last_used_at, expires_at, user_agent FROM sessions
             WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND last_used_at >= $3
               AND (created_at < $4 OR (created_at = $4 AND ($5 = '' OR id < $5)))
             ORDER BY created_at DESC, id DESC
             LIMIT $6",
        )
        .bind(user_id)
        .bind(now)
        .bind(now - ms(self.policy.idle))
        .bind(after_at)
        .bind(after_id)
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.db.pool)
        .await?;
        let next = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last().map(|r| Cursor {
                created_at: r.created_at,
                id: r.id.clone(),
            })
        } else {
            None
        };
        Ok(Page { rows, next })
    }

    /// Deletes sessions that ended (revoked, expired, idle) more than [`ENDED_RETENTION_MS`]
    /// before `now` ([`PRUNE_SESSIONS`]), and forgets revocations whose access tokens have all
    /// expired. Run periodically by [`crate::maintenance`].
    pub async fn prune(&self, now: Timestamp) -> Result<Pruned, DbError> {
        // The revocation set follows the access tokens, which are checked against the system
        // clock (their `exp`), whatever clock the sessions read.
        self.revocations.prune(crate::db::now_ms());
        let cutoff = now.ms() - ENDED_RETENTION_MS;
        let idle_cutoff = cutoff - ms(self.policy.idle);
        // Sessions that lapsed by themselves and were never found out (no refresh came after
        // the end): each goes with its `session_expired` event, dated when it lapsed. The
        // DELETE … RETURNING decides which pass records them (two instances pruning at once
        // record each once), a batch per transaction (other writers wait one batch at most).
        let mut lapsed_total = 0;
        loop {
            let mut tx = self.db.begin_write().await?;
            let lapsed: Vec<Lapsed> = sqlx::query_as(DELETE_LAPSED)
                .bind(cutoff)
                .bind(idle_cutoff)
                .bind(PRUNE_BATCH)
                .fetch_all(&mut *tx)
                .await?;
            let mut recorded = Recorded::default();
            let batch = lapsed.len();
            for row in lapsed {
                let (at, why) = lapse(row.expires_at, row.last_used_at + ms(self.policy.idle));
                let device = Client::device(row.user_agent);
                let event = Event::new(Kind::SessionExpired, Timestamp(at), Some(row.user_id))
                    .session(&row.id)
                    .client(&device)
                    .detail(why);
                recorded = recorded.and(self.events.record(&mut tx, event).await?);
            }
            tx.commit().await?;
            recorded.log();
            lapsed_total += batch as u64;
            if (batch as i64) < PRUNE_BATCH {
                break;
            }
        }
        let ended = sqlx::query(PRUNE_SESSIONS)
            .bind(cutoff)
            .bind(idle_cutoff)
            .execute(&self.db.pool)
            .await?
            .rows_affected();
        Ok(Pruned {
            sessions: lapsed_total + ended,
        })
    }
}

/// When a session lapsed, and why: whichever of its absolute end and its idle end came first.
pub(super) fn lapse(expires_at: i64, idle_at: i64) -> (i64, &'static str) {
    if expires_at <= idle_at {
        (expires_at, "absolute")
    } else {
        (idle_at, "idle")
    }
}

/// Ends a session inside a transaction (rotation's reuse and expiry outcomes). Returns whether
/// it was live until now.
pub(super) async fn end_session(
    tx: &mut Tx<'_>,
    sid: &SessionId,
    reason: EndReason,
    now: i64,
) -> Result<bool, DbError> {
    let changed = sqlx::query(
        "UPDATE sessions SET revoked_at = $1, revoked_reason = $2 WHERE id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(reason.as_str())
    .bind(sid)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(changed > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_is_no_cursor() {
        let c = Cursor {
            created_at: 1_700_000_000_123,
            id: SessionId::parse("AbC-_0123456789abcdefgh").unwrap(),
        };
        assert_eq!(Cursor::parse(&c.encode()), Some(c));
        for bad in ["", "x", "12", "12.", "x.abc", "1.a b", "1.a\0b"] {
            assert_eq!(Cursor::parse(bad), None, "{bad}");
        }
    }
}
