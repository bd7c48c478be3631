//! Is the database really there? `GET /api/health` and a watch task ask [`DbHealth::check`]:
//!
//! * an SQLite file must still be the file that was opened: deleted or replaced while the
//!   server runs, SQLite keeps writing into the unlinked inode and everything written since is
//!   lost at the next start — so that is reported, loudly;
//! * a write must succeed (one upsert of a one-row table, with a deadline): a full disk, a
//!   read-only file system or a PostgreSQL that is gone all show up here.
//!
//! Results are reused for a second, so a load balancer polling health cannot turn it into load.
//! The watch task logs every change of state (an error when it breaks, with the details; an
//! info line when it recovers). The endpoint is public: it says only *what kind* of failure
//! ([`Unhealthy::reason`]) — never a file path or the database driver's own words.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::{now_ms, Db};

const REUSE_FOR: Duration = Duration::from_secs(1);
const PROBE_DEADLINE: Duration = Duration::from_secs(3);
pub const WATCH_EVERY: Duration = Duration::from_secs(5);

/// Why the database is not healthy: a reason for anyone, details for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unhealthy {
    /// Public: one of a few fixed sentences.
    pub reason: &'static str,
    /// For the log only: paths, driver errors.
    pub detail: String,
}

impl Unhealthy {
    fn new(reason: &'static str, detail: String) -> Self {
        Unhealthy { reason, detail }
    }
}

const REPLACED: &str = "the database file was replaced while the server runs";
const DELETED: &str = "the database file was deleted while the server runs";
const UNREADABLE: &str = "the database file cannot be inspected";
const REFUSES_WRITES: &str = "the database refuses writes";
const TOO_SLOW: &str = "a write to the database did not finish in time";

#[derive(Clone)]
pub struct DbHealth {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    /// The SQLite file and its identity (device, inode) when it was opened.
    file: Option<(PathBuf, FileId)>,
    last: Mutex<Option<(Instant, Result<(), Unhealthy>)>>,
    probing: tokio::sync::Mutex<()>,
}

type FileId = (u64, u64);

#[cfg(unix)]
fn file_id(path: &std::path::Path) -> std::io::Result<FileId> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path)?;
    Ok((m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(path: &std::path::Path) -> std::io::Result<FileId> {
    std::fs::metadata(path).map(|_| (0, 0))
}

impl DbHealth {
    /// Remembers which file was opened (call right after connecting).
    pub fn new(db: Db) -> Self {
        let file = db
            .database
            .sqlite_path()
            .and_then(|p| file_id(p).ok().map(|id| (p.to_path_buf(), id)));
        DbHealth {
            inner: Arc::new(Inner {
                db,
                file,
                last: Mutex::new(None),
                probing: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// `Ok` when the database is the one opened and takes writes; otherwise why not.
    pub async fn check(&self) -> Result<(), Unhealthy> {
        let _one_at_a_time = self.inner.probing.lock().await;
        if let Some((at, result)) = self.cached() {
            if at.elapsed() < REUSE_FOR {
                return result;
            }
        }
        let result = self.probe().await;
        *self
            .inner
            .last
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some((Instant::now(), result.clone()));
        result
    }

    fn cached(&self) -> Option<(Instant, Result<(), Unhealthy>)> {
        self.inner
            .last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    async fn probe(&self) -> Result<(), Unhealthy> {
        if let Some((path, opened)) = &self.inner.file {
            match file_id(path) {
                Ok(id) if id == *opened => {}
                Ok(_) => {
                    return Err(Unhealthy::new(
                        REPLACED,
                        format!(
                            "the database file {} was replaced while the server runs; it still \
                             writes to the old one, which is lost at the next start — restart it",
                            path.display()
                        ),
                    ))
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(Unhealthy::new(
                        DELETED,
                        format!(
                            "the database file {} was deleted while the server runs; what it \
                             writes now is lost at the next start — restore the file or restart",
                            path.display()
                        ),
                    ))
                }
                Err(e) => {
                    return Err(Unhealthy::new(
                        UNREADABLE,
                        format!(
                            "the database file {} cannot be inspected: {e}",
                            path.display()
                        ),
                    ))
                }
            }
        }
        let write = sqlx::query(
            "INSERT INTO health_probe (id, at) VALUES (1, $1)
             ON CONFLICT (id) DO UPDATE SET at = excluded.at",
        )
        .bind(now_ms())
        .execute(&self.inner.db.pool);
        match tokio::time::timeout(PROBE_DEADLINE, write).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(Unhealthy::new(
                REFUSES_WRITES,
                format!("the database refuses writes: {e}"),
            )),
            Err(_) => Err(Unhealthy::new(
                TOO_SLOW,
                format!(
                    "a write to the database did not finish within {} s",
                    PROBE_DEADLINE.as_secs()
                ),
            )),
        }
    }

    /// Checks every [`WATCH_EVERY`] and logs each change of state, until aborted.
    pub fn spawn_watch(&self) -> tokio::task::JoinHandle<()> {
        let health = self.clone();
        tokio::spawn(async move {
            let mut was_ok = true;
            let mut every = tokio::time::interval(WATCH_EVERY);
            loop {
                every.tick().await;
                match health.check().await {
                    Ok(()) if !was_ok => {
                        tracing::info!("database healthy again");
                        was_ok = true;
                    }
                    Ok(()) => {}
                    Err(why) => {
                        if was_ok {
                            tracing::error!(why = %why.detail, "database unhealthy");
                        }
                        was_ok = false;
                    }
                }
            }
        })
    }
}
