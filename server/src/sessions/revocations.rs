//! Session ids whose access tokens must be refused although they have not expired.
//!
//! Every Bearer request checks the set in memory: no database read on the happy path. It is
//! filled from three sources:
//!
//! 1. this instance's own revocations, at once;
//! 2. at startup, every session revoked within the access-token lifetime (so a restart cannot
//!    resurrect a signed-out session's tokens);
//! 3. on PostgreSQL, every other instance's revocations: a trigger (see the migration) sends
//!    `NOTIFY tokenpair_revoked, '<sid>'` in the transaction that ends a session, and every
//!    instance `LISTEN`s. When the listening connection drops, the follower reconnects,
//!    `LISTEN`s again and only then reloads the recent revocations, so nothing revoked while it
//!    was away is missed.
//!
//! An entry is kept for the access-token lifetime: after that every token naming it has expired.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use sqlx::postgres::PgListener;

use crate::db::{ms, now_ms, Backend, Database, Db, DbError};

/// The PostgreSQL channel the revocation trigger notifies.
pub const CHANNEL: &str = "tokenpair_revoked";

#[derive(Clone)]
pub struct Revocations {
    inner: Arc<Inner>,
}

struct Inner {
    /// sid → unix ms after which no access token of that session can be valid anyway.
    map: RwLock<HashMap<String, i64>>,
    /// `map.len()`, readable without the lock: the common case (nothing revoked lately)
    /// costs one atomic load per request.
    len: AtomicUsize,
    keep_ms: i64,
    follower: std::sync::Mutex<Option<tokio::task::AbortHandle>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Ok(Some(task)) = self.follower.get_mut().map(Option::take) {
            task.abort();
        }
    }
}

impl Revocations {
    /// An empty set that keeps entries for `keep` (the access-token lifetime).
    pub fn new(keep: Duration) -> Self {
        Revocations {
            inner: Arc::new(Inner {
                map: RwLock::default(),
                len: AtomicUsize::new(0),
                keep_ms: ms(keep),
                follower: std::sync::Mutex::new(None),
            }),
        }
    }

    /// The set for a server: recent revocations loaded, and on PostgreSQL a task that follows
    /// other instances' revocations (it stops when the last clone of the set is dropped).
    pub async fn start(db: &Db, keep: Duration) -> Result<Self, DbError> {
        let revocations = Revocations::new(keep);
        match (&db.backend, &db.database) {
            (Backend::Postgres, Database::Postgres(url)) => {
                // LISTEN before loading, so a revocation in between is not missed.
                let listener = listen(url).await?;
                revocations.load_recent(db).await?;
                let follower = tokio::spawn(follow(
                    Arc::downgrade(&revocations.inner),
                    db.clone(),
                    url.clone(),
                    listener,
                ));
                if let Ok(mut slot) = revocations.inner.follower.lock() {
                    *slot = Some(follower.abort_handle());
                }
            }
            _ => {
                revocations.load_recent(db).await?;
            }
        }
        Ok(revocations)
    }

    pub fn is_revoked(&self, sid: &str) -> bool {
        if self.inner.len.load(Ordering::Acquire) == 0 {
            return false;
        }
        self.inner
            .map
            .read()
            .map(|m| m.contains_key(sid))
            .unwrap_or(true)
    }

    /// Records that `sid` ended now.
    pub fn insert(&self, sid: &str) {
        self.insert_until(sid, now_ms() + self.inner.keep_ms);
    }

    fn insert_until(&self, sid: &str, keep_until: i64) {
        if let Ok(mut m) = self.inner.map.write() {
            let entry = m.entry(sid.to_owned()).or_insert(keep_until);
            *entry = (*entry).max(keep_until);
            self.inner.len.store(m.len(), Ordering::Release);
        }
    }

    /// Loads every session revoked within the access-token lifetime. Returns how many.
    pub async fn load_recent(&self, db: &Db) -> Result<usize, DbError> {
        #[derive(sqlx::FromRow)]
        struct Revoked {
            id: String,
            revoked_at: i64,
        }
        let rows: Vec<Revoked> = sqlx::query_as(
            "SELECT id, revoked_at FROM sessions WHERE revoked_at IS NOT NULL AND revoked_at > $1",
        )
        .bind(now_ms() - self.inner.keep_ms)
        .fetch_all(&db.pool)
        .await?;
        for row in &rows {
            self.insert_until(&row.id, row.revoked_at + self.inner.keep_ms);
        }
        Ok(rows.len())
    }

    /// Forgets entries whose access tokens have all expired.
    pub fn prune(&self, now: i64) {
        if let Ok(mut m) = self.inner.map.write() {
            m.retain(|_, keep_until| *keep_until > now);
            self.inner.len.store(m.len(), Ordering::Release);
        }
    }

    pub fn len(&self) -> usize {
        self.inner.len.load(Ordering::Acquire)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

async fn listen(url: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Applies notifications until the set is dropped; reconnects (with backoff) when the
/// listening connection is lost, and reloads what it may have missed.
async fn follow(set: std::sync::Weak<Inner>, db: Db, url: String, mut listener: PgListener) {
    let mut backoff = Duration::from_millis(100);
    loop {
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    let Some(inner) = set.upgrade() else { return };
                    Revocations { inner }.insert(notification.payload());
                }
                // `None`: the connection was lost.
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "revocation listener failed");
                    break;
                }
            }
        }
        tracing::warn!("revocation listener disconnected; reconnecting");
        loop {
            if set.strong_count() == 0 {
                return;
            }
            tokio::time::sleep(backoff).await;
            let reconnected = match listen(&url).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "revocation listener cannot reconnect yet");
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                    continue;
                }
            };
            let Some(inner) = set.upgrade() else { return };
            match (Revocations { inner }).load_recent(&db).await {
                Ok(n) => {
                    tracing::info!(recent = n, "revocation listener reconnected");
                    listener = reconnected;
                    backoff = Duration::from_millis(100);
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot reload revocations yet");
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revoked_sid_is_refused_until_its_tokens_have_expired() {
        let r = Revocations::new(Duration::from_secs(60));
        assert!(!r.is_revoked("a"));
        r.insert("a");
        assert!(r.is_revoked("a"));
        assert!(!r.is_revoked("b"));
        r.prune(now_ms() + 30_000);
        assert!(r.is_revoked("a"), "still inside the access-token lifetime");
        r.prune(now_ms() + 61_000);
        assert!(!r.is_revoked("a"));
        assert!(r.is_empty());
    }
}
