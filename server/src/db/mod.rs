//! The database: one sqlx pool over SQLite (embedded, the default) or PostgreSQL (several
//! instances), chosen by `DATABASE_URL`.
//!
//! Every query in the server is written once, in the SQL both backends understand (`$1`
//! parameters, `RETURNING`, `ON CONFLICT`), and runs through sqlx's `Any` driver. Where the two
//! differ — column types, the revocation trigger — the difference lives in the migration files
//! (`server/migrations/{sqlite,postgres}/`), which are compiled into the binary and applied at
//! startup.
//!
//! * **SQLite**: a pool of one connection. SQLite has one writer anyway; queueing in the pool
//!   instead of spinning on `SQLITE_BUSY` keeps a rotation burst fast and every transaction
//!   trivially serialised. WAL journal, `synchronous=NORMAL`.
//! * **PostgreSQL**: a pool of several connections; rotation is serialised by the row lock of
//!   its conditional `UPDATE` (see [`crate::sessions::rotation`]).

pub mod health;

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// Where the data lives, parsed from `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// An SQLite file (created with its directory).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://…` or `postgresql://…`).
    Postgres(String),
}

impl Database {
    /// `sqlite://path`, `sqlite:path`, a plain path, or `postgres://…`.
    pub fn parse(url: &str) -> Option<Database> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Some(Database::Postgres(url.to_owned()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        // Drop query options such as `?mode=rwc`: we always open read-write-create.
        let path = path.split('?').next().unwrap_or_default();
        if path.is_empty() || path.contains("://") || path == ":memory:" {
            return None;
        }
        Some(Database::Sqlite(PathBuf::from(path)))
    }

    /// For messages: the file, or the URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Database::Sqlite(p) => p.display().to_string(),
            Database::Postgres(url) => redact_password(url),
        }
    }

    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Database::Sqlite(p) => Some(p),
            Database::Postgres(_) => None,
        }
    }
}

/// sqlx's refusal to begin on a connection it believes is still inside a transaction.
fn left_inside_a_transaction(e: &sqlx::Error) -> bool {
    e.to_string().contains("non-zero transaction depth")
}

/// The URL without its password, parsed as a URL (a password may hold `@`, `:` or `/`); one
/// that does not parse is not printed at all.
fn redact_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("****"));
            }
            // sqlx also takes the password as a query parameter.
            if parsed.query().is_some() {
                let pairs: Vec<(String, String)> = parsed
                    .query_pairs()
                    .map(|(k, v)| {
                        let v = if k.eq_ignore_ascii_case("password") {
                            "****".to_owned()
                        } else {
                            v.into_owned()
                        };
                        (k.into_owned(), v)
                    })
                    .collect();
                parsed.query_pairs_mut().clear().extend_pairs(pairs);
            }
            parsed.to_string()
        }
        Err(_) => {
            let scheme = url.split_once("://").map_or("postgres", |(s, _)| s);
            format!("{scheme}://(a URL that does not parse; not printed)")
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the database holds something unexpected: {0}")]
    Corrupt(String),
    #[error("cannot create the database directory {path}: {source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The pool, and which backend it talks to. Clones share the pool.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    pub database: Database,
}

impl Db {
    /// Connects (creating an SQLite file and its directory if needed) and applies the
    /// migrations of the backend.
    pub async fn connect(database: &Database) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let (url, backend, options) = match database {
            Database::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|source| DbError::Dir {
                        path: dir.display().to_string(),
                        source,
                    })?;
                }
                let url = format!("sqlite://{}?mode=rwc", path.display());
                let options = AnyPoolOptions::new()
                    .max_connections(1)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // auto_vacuum first: it only takes effect on a new, empty file
                            // (then pruned pages can be given back, see `reclaim_space`).
                            conn.execute(
                                "PRAGMA auto_vacuum = INCREMENTAL; \
                                 PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                            )
                            .await?;
                            Ok(())
                        })
                    });
                (url, Backend::Sqlite, options)
            }
            Database::Postgres(url) => (
                url.clone(),
                Backend::Postgres,
                AnyPoolOptions::new().max_connections(16),
            ),
        };
        let connect: AnyConnectOptions = url.parse()?;
        let pool = options
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(connect)
            .await?;
        match backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
        }
        if let Database::Sqlite(path) = database {
            owner_only(path);
        }
        Ok(Db {
            pool,
            backend,
            database: database.clone(),
        })
    }

    pub async fn begin(&self) -> Result<Tx<'static>, DbError> {
        self.begin_with("BEGIN").await
    }

    /// Starts a transaction with `statement`. A connection that a failed transaction left
    /// behind as still inside one is replaced, once: on SQLite, a `COMMIT` that fails on a
    /// full disk makes SQLite roll back by itself, sqlx's `ROLLBACK` then fails too, and sqlx
    /// keeps counting the connection as inside a transaction — every later `BEGIN` on it is
    /// refused, so without this the server never recovers once the disk has space again.
    async fn begin_with(&self, statement: &'static str) -> Result<Tx<'static>, DbError> {
        match self.pool.begin_with(statement).await {
            // SQLite's pool has one connection: the one acquired next is the stuck one.
            Err(e) if self.backend == Backend::Sqlite && left_inside_a_transaction(&e) => {
                tracing::warn!(
                    error = %e,
                    "a database connection was left inside a failed transaction; replacing it"
                );
                let stuck = self.pool.acquire().await?;
                let _ = stuck.close().await;
                Ok(self.pool.begin_with(statement).await?)
            }
            other => Ok(other?),
        }
    }

    /// A transaction that reads, then writes what it read decides. On SQLite `BEGIN IMMEDIATE`
    /// takes the write lock first (waiting up to `busy_timeout`): after a plain `BEGIN`, a
    /// write by another connection between this one's first read and its first write makes
    /// the write fail at once with "database is locked" (`SQLITE_BUSY_SNAPSHOT`), which no
    /// timeout retries. PostgreSQL: a plain `BEGIN` (callers lock what they need).
    pub async fn begin_write(&self) -> Result<Tx<'static>, DbError> {
        match self.backend {
            Backend::Sqlite => self.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.begin().await,
        }
    }

    /// Makes the writes concerning one user take turns until `tx` ends: PostgreSQL locks the
    /// user's row; on SQLite a write transaction ([`Db::begin_write`]) already excludes every
    /// other writer.
    pub async fn lock_user(
        &self,
        tx: &mut Tx<'_>,
        user_id: crate::ids::UserId,
    ) -> Result<(), DbError> {
        if self.backend == Backend::Postgres {
            // NO KEY UPDATE: sign-ins of the user still take turns, but the foreign-key checks
            // of rows that reference the user (a security event written while a session row
            // is locked) do not wait for it — with FOR UPDATE they did, a lock cycle with a
            // sign-in evicting that very session.
            sqlx::query("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE")
                .bind(user_id)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// After a prune: SQLite gives the freed pages back to the file system (a file created by
    /// this server has `auto_vacuum = INCREMENTAL`); PostgreSQL's autovacuum does the same job
    /// by itself, so there nothing is done.
    pub async fn reclaim_space(&self) -> Result<(), DbError> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA incremental_vacuum")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Closes every connection (waits for those in use).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The SQLite file holds password hashes and the Ed25519 signing keys: readable and writable
/// by the server's user only (`0600`), with its WAL and shared-memory files. Best effort: a
/// file system without Unix permissions keeps what it has, with a warning.
fn owner_only(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            let file = PathBuf::from(file);
            if !file.exists() {
                continue;
            }
            if let Err(e) = std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
            {
                tracing::warn!(file = %file.display(), error = %e, "cannot make the database file private");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Milliseconds since the Unix epoch: every timestamp in the database.
pub fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// A duration in milliseconds, saturating.
pub fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// RFC 3339 (UTC, whole seconds) for a database timestamp, as the API shows it.
pub fn rfc3339(ms: i64) -> String {
    let t =
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_seconds(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_accepts_sqlite_urls_plain_paths_and_postgres_urls() {
        for (url, path) in [
            ("sqlite://data/x.db", "data/x.db"),
            ("sqlite:x.db?mode=rwc", "x.db"),
            ("/tmp/y.db", "/tmp/y.db"),
        ] {
            assert_eq!(
                Database::parse(url),
                Some(Database::Sqlite(PathBuf::from(path)))
            );
        }
        assert_eq!(
            Database::parse("postgres://u:p@db/tokenpair"),
            Some(Database::Postgres("postgres://u:p@db/tokenpair".into()))
        );
        assert_eq!(Database::parse("mysql://db"), None);
        assert_eq!(Database::parse("sqlite::memory:"), None);
    }

    #[test]
    fn a_postgres_password_never_appears_in_messages() {
        let db = Database::parse("postgres://app:s3cret@db:5432/tokenpair").unwrap();
        assert_eq!(db.describe(), "postgres://app:****@db:5432/tokenpair");
    }
}

#[cfg(test)]
mod redaction_tests {
    use super::*;

    #[test]
    fn a_password_never_shows_in_the_description_whatever_it_contains() {
        for (url, shown) in [
            (
                "postgres://tokenpair:s3cr@t-pass@db.internal:5432/tokenpair",
                "postgres://tokenpair:****@db.internal:5432/tokenpair",
            ),
            (
                "postgres://tokenpair:a:b%2Fc@db.internal/tokenpair",
                "postgres://tokenpair:****@db.internal/tokenpair",
            ),
            (
                "postgres://tokenpair@db.internal/tokenpair",
                "postgres://tokenpair@db.internal/tokenpair",
            ),
        ] {
            let described = Database::parse(url).unwrap().describe();
            assert_eq!(described, shown);
        }
        let query =
            Database::parse("postgres://app@db/tokenpair?sslmode=require&password=hunter22")
                .unwrap()
                .describe();
        assert!(
            !query.contains("hunter22") && query.contains("sslmode=require"),
            "{query}"
        );
        let odd = Database::Postgres("postgres://u:pw@[bad".into()).describe();
        assert!(!odd.contains("pw"), "{odd}");
    }
}
