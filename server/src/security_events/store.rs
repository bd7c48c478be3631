//! The `security_events` table: insert inside the caller's transaction, a page of one user's
//! events (newest first), and the prune.

use super::{AddressPolicy, Event, Logged, Recorded, SecurityEvents, StoredEvent};
use crate::clock::{Clock, Timestamp};
use crate::db::{Db, DbError, Tx};
use crate::ids::{SessionId, UserId};

/// Where a page starts: after this (at, id), newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub at: i64,
    pub id: i64,
}

impl Cursor {
    /// `<at>.<id>`, as the `Link: rel="next"` URL carries it.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.at, self.id)
    }

    pub fn parse(s: &str) -> Option<Cursor> {
        let (at, id) = s.split_once('.')?;
        Some(Cursor {
            at: at.parse().ok()?,
            id: id.parse().ok()?,
        })
    }
}

/// One page of a user's events, and where the next one starts.
#[derive(Debug)]
pub struct Page {
    pub rows: Vec<StoredEvent>,
    pub next: Option<Cursor>,
}

/// The prune's deletes: `$1` = the retention cutoff; then, for each user with more than `$1`
/// events, all but the newest `$1`.
pub const PRUNE_OLD: &str = "DELETE FROM security_events WHERE at < $1";
pub const PRUNE_BEYOND_CAP: &str = "DELETE FROM security_events WHERE id IN (
     SELECT id FROM (
         SELECT id, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY at DESC, id DESC) AS n
         FROM security_events
         WHERE user_id IN (SELECT user_id FROM security_events WHERE user_id IS NOT NULL
                           GROUP BY user_id HAVING COUNT(*) > $1)
     ) ranked WHERE n > $1)";

impl SecurityEvents {
    pub fn new(db: Db, policy: super::EventPolicy, clock: Clock) -> SecurityEvents {
        SecurityEvents { db, policy, clock }
    }

    /// Now, on the clock the events are dated by.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn policy(&self) -> super::EventPolicy {
        self.policy
    }

    /// Inserts `event` in `tx`: it commits with the change it records, or not at all.
    pub async fn record(&self, tx: &mut Tx<'_>, event: Event) -> Result<Recorded, DbError> {
        record(tx, event, self.policy.address).await
    }

    /// A page of `user_id`'s events, newest first: at most `limit`, after `after`.
    pub async fn list(
        &self,
        user_id: UserId,
        limit: u32,
        after: Option<&Cursor>,
    ) -> Result<Page, DbError> {
        let (after_at, after_id) = after.map_or((i64::MAX, i64::MAX), |c| (c.at, c.id));
        let mut rows: Vec<StoredEvent> = sqlx::query_as(
            "SELECT id, at, kind, session_id, device, address, detail FROM security_events
             WHERE user_id = $1 AND (at < $2 OR (at = $2 AND id < $3))
             ORDER BY at DESC, id DESC
             LIMIT $4",
        )
        .bind(user_id)
        .bind(after_at)
        .bind(after_id)
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.db.pool)
        .await?;
        let next = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last().map(|r| Cursor { at: r.at, id: r.id })
        } else {
            None
        };
        Ok(Page { rows, next })
    }

    /// The newest alarming event (one the dashboard shows as a notice) that `user_id` has not
    /// been shown yet — and from now on it counts as shown. `None` when there is none.
    pub async fn take_notice(&self, user_id: UserId) -> Result<Option<StoredEvent>, DbError> {
        // The kinds are this build's constants (snake_case words), not input.
        let alarming: Vec<String> = super::NOTICE_KINDS
            .iter()
            .map(|k| format!("'{}'", k.as_str()))
            .collect();
        let sql = format!(
            "SELECT e.id, e.at, e.kind, e.session_id, e.device, e.address, e.detail
             FROM security_events e JOIN users u ON u.id = e.user_id
             WHERE e.user_id = $1 AND e.id > u.notice_seen_up_to AND e.kind IN ({})
             ORDER BY e.id DESC LIMIT 1",
            alarming.join(", ")
        );
        let mut tx = self.db.begin_write().await?;
        let event: Option<StoredEvent> = sqlx::query_as(&sql)
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(event) = event else {
            return Ok(None);
        };
        // Conditional: of two tabs asking at once (on PostgreSQL), one gets the notice, and an
        // older event never moves the mark back.
        let marked = sqlx::query(
            "UPDATE users SET notice_seen_up_to = $1 WHERE id = $2 AND notice_seen_up_to < $1",
        )
        .bind(event.id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok((marked == 1).then_some(event))
    }

    /// Deletes events older than the retention, then all but the newest `max_per_user` of
    /// each user. Returns how many went.
    pub async fn prune(&self, now: Timestamp) -> Result<u64, DbError> {
        prune(&self.db, now, self.policy).await
    }
}

/// Inserts `event` in `tx`, keeping as much of its address as `policy` says.
pub async fn record(
    tx: &mut Tx<'_>,
    event: Event,
    policy: AddressPolicy,
) -> Result<Recorded, DbError> {
    let device = event
        .client
        .user_agent
        .as_deref()
        .map(|ua| crate::device::name(Some(ua)));
    let address = event.client.addr.and_then(|a| policy.keep(a));
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO security_events (at, user_id, kind, session_id, device, address, detail)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(event.at)
    .bind(event.user_id)
    .bind(event.kind.as_str())
    .bind(event.session_id.as_ref().map(SessionId::as_str))
    .bind(device.as_deref())
    .bind(address.as_deref())
    .bind(event.detail.as_deref())
    .fetch_one(&mut **tx)
    .await?;
    Ok(Recorded(vec![Logged {
        id,
        kind: event.kind,
        user_id: event.user_id,
        session_id: event.session_id,
        device,
        address,
        detail: event.detail,
    }]))
}

async fn prune(db: &Db, now: Timestamp, policy: super::EventPolicy) -> Result<u64, DbError> {
    let old = sqlx::query(PRUNE_OLD)
        .bind(now.before(policy.retention))
        .execute(&db.pool)
        .await?
        .rows_affected();
    let beyond = sqlx::query(PRUNE_BEYOND_CAP)
        .bind(i64::from(policy.max_per_user))
        .execute(&db.pool)
        .await?
        .rows_affected();
    Ok(old + beyond)
}

#[cfg(test)]
mod tests {
    use super::Cursor;

    #[test]
    fn a_cursor_round_trips_and_garbage_is_no_cursor() {
        let c = Cursor {
            at: 1_700_000_000_123,
            id: 42,
        };
        assert_eq!(Cursor::parse(&c.encode()), Some(c));
        for bad in ["", "x", "12", "12.", "x.1", "1.x", "1.2.3"] {
            assert_eq!(Cursor::parse(bad), None, "{bad}");
        }
    }
}
