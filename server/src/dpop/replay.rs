//! The replay store: a proof's `jti` is accepted once, on every instance. First use is decided
//! by the database (`INSERT … ON CONFLICT DO NOTHING` on the primary key), so two instances
//! that receive the same proof at the same moment cannot both accept it. Rows live as long as
//! the proof could still pass its `iat` check, then the prune job deletes them: the table holds
//! at most the proofs of one window.
//!
//! Every DPoP request writes a row, so the writes are **batched** ([`ReplayStore`]): while one
//! batch is being written, the proofs that arrive queue up and go in the next one, as one
//! multi-row `INSERT … RETURNING` (group commit). On SQLite, whose one connection serialises
//! writes, this is what keeps DPoP near the Bearer path's throughput (docs/performance.md).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};
use sqlx::Row;
use tokio::sync::oneshot;

use crate::clock::Timestamp;
use crate::db::{Db, DbError};
use crate::hex::hex;

/// The prune job's delete: `$1` = now.
pub const PRUNE: &str = "DELETE FROM dpop_jti WHERE expires_at < $1";

/// The most rows one `INSERT` writes (two parameters each, far below SQLite's limit).
const BATCH: usize = 256;

/// The most proofs waiting for their batch. Beyond, a proof is refused as the server being
/// busy (a database that cannot keep up must not make the queue grow without bound).
const MAX_WAITING: usize = 20_000;

/// One proof waiting for its batch.
struct Waiting {
    key: String,
    until: Timestamp,
    answer: oneshot::Sender<Result<bool, String>>,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Waiting>,
    /// A writer task is running (it takes the queue until it finds it empty).
    writing: bool,
}

/// First use of proof ids, written in batches (see the module docs). Cheap to clone.
#[derive(Clone)]
pub struct ReplayStore {
    db: Db,
    queue: Arc<Mutex<Queue>>,
}

impl ReplayStore {
    pub fn new(db: Db) -> ReplayStore {
        ReplayStore {
            db,
            queue: Arc::default(),
        }
    }

    /// Records the proof `jti` of key `jkt`, refused by its `iat` after `until`. `false` when
    /// it was seen before (a replay). The write happens in a task of its own, so a request
    /// that goes away meanwhile cancels nobody's answer.
    pub async fn first_use(&self, jkt: &str, jti: &str, until: Timestamp) -> Result<bool, DbError> {
        let key = hex(&Sha256::digest(
            [jkt.as_bytes(), b"\n", jti.as_bytes()].concat(),
        ));
        let (answer, answered) = oneshot::channel();
        let start_writer = {
            let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            if queue.waiting.len() >= MAX_WAITING {
                return Err(DbError::Sql(sqlx::Error::PoolTimedOut));
            }
            queue.waiting.push(Waiting { key, until, answer });
            !std::mem::replace(&mut queue.writing, true)
        };
        if start_writer {
            tokio::spawn(self.clone().write_until_empty());
        }
        match answered.await {
            Ok(Ok(first)) => Ok(first),
            Ok(Err(why)) => Err(DbError::Sql(sqlx::Error::Protocol(why))),
            Err(_) => Err(DbError::Sql(sqlx::Error::Protocol(
                "the replay store's writer stopped".into(),
            ))),
        }
    }

    async fn write_until_empty(self) {
        // Should this task panic, the next proof starts a new writer.
        struct Done(Arc<Mutex<Queue>>);
        impl Drop for Done {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    self.0.lock().unwrap_or_else(|e| e.into_inner()).writing = false;
                }
            }
        }
        let _done = Done(self.queue.clone());
        loop {
            let batch = {
                let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
                // Proofs whose request went away need no answer, nor a row.
                queue.waiting.retain(|w| !w.answer.is_closed());
                if queue.waiting.is_empty() {
                    queue.writing = false;
                    return;
                }
                let take = queue.waiting.len().min(BATCH);
                queue.waiting.drain(..take).collect::<Vec<_>>()
            };
            self.write(batch).await;
        }
    }

    /// One `INSERT` for the batch; each waiting proof learns whether it was first.
    async fn write(&self, batch: Vec<Waiting>) {
        // A key twice in one batch: the first occurrence is written, the others are replays.
        let mut seen = HashSet::with_capacity(batch.len());
        let (mut fresh, repeated): (Vec<_>, Vec<_>) =
            batch.into_iter().partition(|w| seen.insert(w.key.clone()));
        // In key order: two instances inserting overlapping batches then take their row
        // locks in the same order (PostgreSQL would otherwise see a deadlock and abort one).
        fresh.sort_by(|a, b| a.key.cmp(&b.key));
        for w in repeated {
            let _ = w.answer.send(Ok(false));
        }
        let placeholders = (0..fresh.len())
            .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO dpop_jti (jti_key, expires_at) VALUES {placeholders} \
             ON CONFLICT (jti_key) DO NOTHING RETURNING jti_key"
        );
        let mut query = sqlx::query(&sql);
        for w in &fresh {
            query = query.bind(w.key.as_str()).bind(w.until);
        }
        match query.fetch_all(&self.db.pool).await {
            Ok(rows) => {
                let inserted: HashSet<String> = rows
                    .iter()
                    .filter_map(|r| r.try_get::<String, _>(0).ok())
                    .collect();
                for w in fresh {
                    let first = inserted.contains(&w.key);
                    let _ = w.answer.send(Ok(first));
                }
            }
            Err(e) => {
                let why = format!("replay store: {e}");
                for w in fresh {
                    let _ = w.answer.send(Err(why.clone()));
                }
            }
        }
    }
}

/// Deletes the `jti`s whose proofs can no longer pass. Returns how many.
pub async fn prune(db: &Db, now: Timestamp) -> Result<u64, DbError> {
    Ok(sqlx::query(PRUNE)
        .bind(now)
        .execute(&db.pool)
        .await?
        .rows_affected())
}
