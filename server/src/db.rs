//! The embedded SQLite database: opening, schema, and running queries off the async runtime.
//!
//! One connection is plenty for this workload (a rotation is one short transaction), and it
//! makes every rotation trivially serialised. The connection lives on a thread of its own that
//! runs the queued calls one after the other, so a slow disk never stalls the request-handling
//! threads. (Running each call on tokio's blocking pool behind a mutex instead made every
//! concurrent request park a pool thread on that mutex: 64 concurrent refreshes grew the
//! server to 200 threads.)

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::mpsc;

use rusqlite::Connection;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT    NOT NULL,          -- Argon2id PHC string
    created_at    INTEGER NOT NULL           -- unix ms
);

-- A session is one refresh-token family: it starts at sign-in and ends at sign-out,
-- revocation, reuse detection, idle timeout or its absolute expiry.
CREATE TABLE IF NOT EXISTS sessions (
    id             TEXT    PRIMARY KEY,      -- the `sid` claim of its access tokens
    user_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at     INTEGER NOT NULL,
    last_used_at   INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,         -- absolute; rotation never moves it
    user_agent     TEXT,
    generation     INTEGER NOT NULL,         -- generation of the current refresh token
    rotated_at     INTEGER NOT NULL,         -- when the current refresh token was issued
    revoked_at     INTEGER,
    revoked_reason TEXT                      -- logout | logout_global | revoked | reuse | expired
);
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions(user_id);

-- Every refresh token ever issued, by SHA-256 only. Old generations stay so that a replay
-- is recognised (and revokes the family) instead of looking like an unknown token.
CREATE TABLE IF NOT EXISTS refresh_tokens (
    hash             BLOB    PRIMARY KEY,    -- SHA-256 of the token
    session_id       TEXT    NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    generation       INTEGER NOT NULL,
    issued_at        INTEGER NOT NULL,
    successor_sealed BLOB                    -- see sessions.rs, "the grace answer"
);
CREATE INDEX IF NOT EXISTS refresh_tokens_by_session ON refresh_tokens(session_id);
"#;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot create the database directory {path}: {source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot start the database thread: {0}")]
    Thread(std::io::Error),
    #[error(
        "the database call did not complete (it panicked, or the database thread has stopped)"
    )]
    Unavailable,
}

/// A call queued for the database thread.
type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// A handle to the database thread. Clones share it; the thread (and the connection) end when
/// the last handle is dropped.
#[derive(Clone)]
pub struct Db {
    jobs: mpsc::Sender<Job>,
}

impl Db {
    /// Opens (creating if needed) the database file, brings the schema up to date, and starts
    /// the thread that owns the connection.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| DbError::Dir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;

        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("tokenpair-db".into())
            .spawn(move || {
                for job in queue {
                    // A panicking call fails alone (its caller gets `Unavailable`; an open
                    // transaction rolls back as it is dropped); the thread carries on.
                    let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut conn)));
                }
            })
            .map_err(DbError::Thread)?;
        Ok(Db { jobs })
    }

    /// Runs `f` with the connection on the database thread.
    pub async fn call<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, DbError> + Send + 'static,
    {
        let (done, result) = tokio::sync::oneshot::channel();
        self.submit(Box::new(move |c| {
            let _ = done.send(f(c));
        }))?;
        result.await.map_err(|_| DbError::Unavailable)?
    }

    /// Same as [`Db::call`] for code that is already off the async runtime (startup).
    pub fn call_blocking<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, DbError> + Send + 'static,
    {
        let (done, result) = mpsc::sync_channel(1);
        self.submit(Box::new(move |c| {
            let _ = done.send(f(c));
        }))?;
        result.recv().map_err(|_| DbError::Unavailable)?
    }

    fn submit(&self, job: Job) -> Result<(), DbError> {
        self.jobs.send(job).map_err(|_| DbError::Unavailable)
    }
}

/// Milliseconds since the Unix epoch: every timestamp in the database.
pub fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// RFC 3339 (UTC, whole seconds) for a database timestamp, as the API shows it.
pub fn rfc3339(ms: i64) -> String {
    let t =
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_seconds(t).to_string()
}
