//! **Where rotation is.** Presenting a refresh token does exactly one of:
//!
//! * **current token of a live session** → one conditional `UPDATE … RETURNING` moves the
//!   session to the next generation. Its `WHERE` names the hash of the presented token, so of
//!   any number of concurrent presentations — on one instance or on several — exactly one
//!   matches: on PostgreSQL the others wait for the row lock and then no longer match; on SQLite
//!   the single connection serialises them. The same statement keeps the presented token as the
//!   predecessor, with the sealed successor ([`super::crypto`]).
//! * **current token, but the session refreshed too often** (`REFRESH_RATE_LIMIT` per minute)
//!   → `rate_limited` with `Retry-After`; nothing changes, the token stays valid.
//! * **immediate predecessor, within the grace window** (`REFRESH_REUSE_GRACE`) → the benign
//!   race: another tab won, or our response was lost. The answer is the session's *current*
//!   token, unsealed from the predecessor's — which works whichever instance answers — unless
//!   the session ended or moved on while we looked (the answer's `UPDATE` is guarded too).
//! * **any older generation (MAC-checked), or the predecessor after the grace window** →
//!   reuse: somebody is replaying a rotated token. The whole family is revoked in the same
//!   transaction, its access tokens stop working at once ([`super::revocations`]), and the
//!   caller gets `refresh_token_reused`.
//!
//! A session is one row whatever its rotation count: see [`super::crypto`] for how an older
//! generation is recognised without keeping it.

use std::time::Duration;

use super::crypto::{hash_token, seal, unseal, Presented};
use super::store::{end_session, lapse};
use super::{EndReason, Grant, RefreshError, RefreshToken, Sessions};
use crate::authentication::Authentication;
use crate::clock::Timestamp;
use crate::db::{ms, Tx};
use crate::ids::{SessionId, UserId};
use crate::security_events::{Client, Event, Kind, Recorded};

/// The rate-limit window of refreshes per session.
pub const RATE_WINDOW: Duration = Duration::from_secs(60);

/// What the winning rotation's `UPDATE … RETURNING` gives back.
#[derive(sqlx::FromRow)]
struct Won {
    user_id: UserId,
    expires_at: i64,
    username: String,
    dpop_jkt: Option<String>,
    auth_time: i64,
    amr: Option<String>,
}

/// The session a presented token names, read when the conditional update did not match.
#[derive(sqlx::FromRow)]
struct Found {
    user_id: UserId,
    username: String,
    generation: i64,
    token_hash: Option<Vec<u8>>,
    prev_token_hash: Option<Vec<u8>>,
    prev_successor_sealed: Option<Vec<u8>>,
    rotated_at: i64,
    last_used_at: i64,
    expires_at: i64,
    revoked_reason: Option<String>,
    refresh_window_start: i64,
    refresh_count: i64,
    user_agent: Option<String>,
    dpop_jkt: Option<String>,
    auth_time: i64,
    amr: Option<String>,
}

/// What a refresh request proved of a DPoP key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proved<'a> {
    /// A valid proof by the key with this thumbprint.
    Key(&'a str),
    /// No proof.
    Nothing,
    /// DPoP is off: proofs are not checked, and bindings not enforced.
    Unchecked,
}

impl Sessions {
    /// Rotates a refresh token presented by `client` (see the module docs for the outcomes).
    pub async fn rotate(&self, presented: &str, client: &Client) -> Result<Grant, RefreshError> {
        self.rotate_proving(presented, client, Proved::Nothing)
            .await
    }

    /// [`Sessions::rotate`] with what the request proved of a DPoP key. A session bound to a
    /// key moves on only with a proof by that key; a proof by another key is theft — the
    /// session ends (`dpop_key_mismatch`) — and no proof changes nothing. With DPoP turned off
    /// ([`Proved::Unchecked`]) a bound session moves on as a Bearer one: its new tokens are
    /// not bound (the server no longer checks proofs, so it could not accept them).
    pub async fn rotate_proving(
        &self,
        presented: &str,
        client: &Client,
        proved: Proved<'_>,
    ) -> Result<Grant, RefreshError> {
        let (checked, proved) = match proved {
            Proved::Key(key) => (true, Some(key)),
            Proved::Nothing => (true, None),
            Proved::Unchecked => (false, None),
        };
        let Some(p) = self.minter.parse(presented) else {
            return Err(RefreshError::Invalid);
        };
        let now = self.clock.now_ms();
        // A token of the previous format is looked up (read) before the UPDATE (write).
        let mut tx = self.db.begin_write().await?;
        let Some((sid, generation)) = self.claim_of(&mut tx, &p).await? else {
            return Err(RefreshError::Invalid);
        };
        let limit = i64::from(self.policy.refresh_per_minute);
        let window = now - ms(RATE_WINDOW);

        // The one conditional UPDATE: only the current token of a live session, within the
        // session's refresh rate, moves it on.
        let (next, next_secret) = self.minter.mint(sid.as_str(), generation + 1);
        let won: Option<Won> = sqlx::query_as(
            "UPDATE sessions SET
                 generation = generation + 1, rotated_at = $3, last_used_at = $3,
                 prev_token_hash = token_hash, token_hash = $4, prev_successor_sealed = $5,
                 refresh_count = CASE WHEN refresh_window_start <= $6 THEN 1 ELSE refresh_count + 1 END,
                 refresh_window_start = CASE WHEN refresh_window_start <= $6 THEN $3 ELSE refresh_window_start END
             WHERE id = $1 AND token_hash = $2 AND generation = $9
               AND revoked_at IS NULL AND expires_at > $3 AND last_used_at >= $7
               AND ($8 = 0 OR refresh_window_start <= $6 OR refresh_count < $8)
               AND (dpop_jkt IS NULL OR dpop_jkt = $10 OR $11 = 0)
             RETURNING user_id, expires_at,
                       (SELECT username FROM users WHERE users.id = sessions.user_id) AS username,
                       dpop_jkt, COALESCE(auth_time, created_at) AS auth_time, amr",
        )
        .bind(&sid)
        .bind(p.hash.to_vec())
        .bind(now)
        .bind(hash_token(&next.0).to_vec())
        .bind(seal(&p.secret, &next_secret).to_vec())
        .bind(window)
        .bind(now - ms(self.policy.idle))
        .bind(limit)
        .bind(generation)
        .bind(proved)
        .bind(i64::from(checked))
        .fetch_optional(&mut *tx)
        .await?;

        if let Some(row) = won {
            tx.commit().await?;
            return Ok(Grant {
                session_id: sid,
                user_id: row.user_id,
                expires_at: Timestamp(row.expires_at),
                username: row.username,
                refresh_token: next,
                grace: false,
                dpop_jkt: row.dpop_jkt.filter(|_| checked),
                auth: Authentication::stored(row.auth_time, row.amr.as_deref()),
            });
        }

        // Not a rotation: find out what the token is.
        let Some(f) = find(&mut tx, &sid).await? else {
            return Err(RefreshError::Invalid);
        };
        if let Some(reason) = f.revoked_reason.as_deref() {
            let theft = [EndReason::Reuse, EndReason::DpopKeyMismatch];
            return Err(if theft.iter().any(|r| r.as_str() == reason) {
                RefreshError::Reused
            } else {
                RefreshError::Expired
            });
        }
        let idle_at = f.last_used_at + ms(self.policy.idle);
        if now >= f.expires_at || now > idle_at {
            if end_session(&mut tx, &sid, EndReason::Expired, now).await? {
                let (at, why) = lapse(f.expires_at, idle_at);
                let event = Event::new(
                    Kind::SessionExpired,
                    Timestamp(at.min(now)),
                    Some(f.user_id),
                )
                .session(&sid)
                .client(&Client::device(f.user_agent.clone()))
                .detail(why);
                let recorded = self.events.record(&mut tx, event).await?;
                tx.commit().await?;
                recorded.log();
            } else {
                tx.commit().await?;
            }
            self.revocations.insert(sid.as_str());
            return Err(RefreshError::Expired);
        }
        if let Some(bound) = f.dpop_jkt.as_deref().filter(|_| checked) {
            match proved {
                None => return Err(RefreshError::DpopProofMissing),
                Some(key) if key != bound => {
                    let ended = end_session(&mut tx, &sid, EndReason::DpopKeyMismatch, now).await?;
                    let recorded = if ended {
                        let event =
                            Event::new(Kind::DpopKeyMismatch, Timestamp(now), Some(f.user_id))
                                .session(&sid)
                                .client(client);
                        self.events.record(&mut tx, event).await?
                    } else {
                        Recorded::default()
                    };
                    tx.commit().await?;
                    recorded.log();
                    self.revocations.insert(sid.as_str());
                    tracing::warn!(session = %sid, user = f.user_id.0,
                        "a refresh proved another DPoP key than the session's; session revoked");
                    return Err(RefreshError::Reused);
                }
                Some(_) => {}
            }
        }
        let is = |stored: &Option<Vec<u8>>| stored.as_deref() == Some(&p.hash[..]);
        if is(&f.token_hash) {
            if limit > 0 && f.refresh_window_start > window && f.refresh_count >= limit {
                let wait = f.refresh_window_start + ms(RATE_WINDOW) - now;
                tracing::warn!(session = %sid, user = f.user_id.0, "refresh rate limit reached");
                return Err(RefreshError::RateLimited {
                    retry_after: Duration::from_millis(u64::try_from(wait).unwrap_or(1000)),
                });
            }
            // The session moved between the two statements; the client may simply try again.
            return Err(RefreshError::Invalid);
        }

        let within_grace = now - f.rotated_at <= ms(self.policy.grace);
        if is(&f.prev_token_hash) && within_grace {
            if let Some(token) = self.grace_answer(&p, &sid, &f) {
                // Guarded like the rotation: a sign-out (or another rotation) that committed
                // since `find` — on PostgreSQL this UPDATE waited for its row lock — wins.
                let still = sqlx::query(
                    "UPDATE sessions SET last_used_at = $1
                     WHERE id = $2 AND revoked_at IS NULL AND generation = $3",
                )
                .bind(now)
                .bind(&sid)
                .bind(f.generation)
                .execute(&mut *tx)
                .await?;
                if still.rows_affected() == 0 {
                    let ended = find(&mut tx, &sid).await?;
                    return Err(match ended.and_then(|f| f.revoked_reason) {
                        Some(reason) if reason == EndReason::Reuse.as_str() => RefreshError::Reused,
                        Some(_) => RefreshError::Expired,
                        // Rotated again meanwhile: this token is no longer the predecessor.
                        None => RefreshError::Invalid,
                    });
                }
                tx.commit().await?;
                return Ok(Grant {
                    session_id: sid,
                    user_id: f.user_id,
                    username: f.username,
                    refresh_token: token,
                    expires_at: Timestamp(f.expires_at),
                    grace: true,
                    dpop_jkt: f.dpop_jkt.clone().filter(|_| checked),
                    auth: Authentication::stored(f.auth_time, f.amr.as_deref()),
                });
            }
        }

        // A genuine token of this session that is neither current nor a grace predecessor:
        // replay of a rotated token — revoke the whole family. (A token naming a generation
        // the session has not reached is not ours to judge: it is refused and nothing changes.)
        if generation > f.generation || (p.claim.is_none() && !is(&f.prev_token_hash)) {
            return Err(RefreshError::Invalid);
        }
        // Recorded once: a concurrent replay (or sign-out) that ended the session first wins.
        let recorded = if end_session(&mut tx, &sid, EndReason::Reuse, now).await? {
            let event = Event::new(Kind::RefreshTokenReused, Timestamp(now), Some(f.user_id))
                .session(&sid)
                .client(client)
                .detail(format!("generation={generation} current={}", f.generation));
            self.events.record(&mut tx, event).await?
        } else {
            Recorded::default()
        };
        tx.commit().await?;
        recorded.log();
        self.revocations.insert(sid.as_str());
        tracing::warn!(session = %sid, user = f.user_id.0, generation,
            current = f.generation, "refresh token reuse detected; session revoked");
        Err(RefreshError::Reused)
    }

    /// The session and generation a token names; for a previous-format token, the session
    /// whose current or previous token it is.
    async fn claim_of(
        &self,
        tx: &mut Tx<'_>,
        p: &Presented,
    ) -> Result<Option<(SessionId, i64)>, sqlx::Error> {
        if let Some(c) = &p.claim {
            return Ok(SessionId::parse(&c.sid).map(|sid| (sid, c.generation)));
        }
        #[derive(sqlx::FromRow)]
        struct Claimed {
            id: SessionId,
            generation: i64,
        }
        let row: Option<Claimed> = sqlx::query_as(
            "SELECT id, CASE WHEN token_hash = $1 THEN generation ELSE generation - 1 END
                        AS generation
             FROM sessions WHERE token_hash = $1 OR prev_token_hash = $1",
        )
        .bind(p.hash.to_vec())
        .fetch_optional(&mut **tx)
        .await?;
        Ok(row.map(|r| (r.id, r.generation)))
    }

    /// The session's current token, unsealed with the predecessor's secret — if what unseals
    /// really is the current token.
    fn grace_answer(&self, p: &Presented, sid: &SessionId, f: &Found) -> Option<RefreshToken> {
        let secret = unseal(&p.secret, f.prev_successor_sealed.as_deref()?)?;
        let token = self.minter.assemble(sid.as_str(), f.generation, &secret);
        (f.token_hash.as_deref() == Some(&hash_token(&token.0)[..])).then_some(token)
    }
}

async fn find(tx: &mut Tx<'_>, sid: &SessionId) -> Result<Option<Found>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.user_id, u.username, s.generation, s.token_hash, s.prev_token_hash,
                s.prev_successor_sealed, s.rotated_at, s.last_used_at, s.expires_at,
                s.revoked_reason, s.refresh_window_start, s.refresh_count, s.user_agent,
                s.dpop_jkt, COALESCE(s.auth_time, s.created_at) AS auth_time, s.amr
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id = $1",
    )
    .bind(sid)
    .fetch_optional(&mut **tx)
    .await
}
