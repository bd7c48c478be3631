//! The test databases, on the backend the run asks for, and read-only looks into them.
//!
//! * `TOKENPAIR_TEST_BACKEND` = `sqlite` (default) or `postgres`: where every test server keeps
//!   its data. SQLite: a file in the test's temporary directory. PostgreSQL: a fresh database
//!   per test server on the throwaway cluster.
//! * `TOKENPAIR_TEST_PG_URL`: that cluster (an admin URL such as
//!   `postgres://postgres@127.0.0.1:54321/postgres`), started by `scripts/pg.sh`. The
//!   two-instance tests always need it. Missing when needed → the test fails (never skips).

use std::path::{Path, PathBuf};

use sqlx::any::AnyRow;
use sqlx::{Connection, Executor, Row};
use tokenpair_server::clock::Clock;
use tokenpair_server::db::{Database, Db};
use tokenpair_server::security_events::{Client, EventPolicy, SecurityEvents};
use tokenpair_server::users::{CreateUserError, Users};

/// Argon2id PHC strings of `password1` and `password2` (made by the server's own
/// `hash_blocking`), so a test server does not spend two debug-build Argon2 runs seeding them.
const DEMO_HASHES: [(&str, &str); 2] = [
    ("user1", "$argon2id$v=19$m=19456,t=2,p=1$NxCOVR4GHZAgfcgjtU+B1g$pTNVRr+gJ46xxCjpdCTOr0rY9WOB0bpONPi+56yifAU"),
    ("user2", "$argon2id$v=19$m=19456,t=2,p=1$YG2RcwF6i7PFreE2cmLG0A$JHSaW5RHK8+zDXsraHYMhr8MWiZo1zXNkSZ+Fz05gj0"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
}

/// The backend of this run (`TOKENPAIR_TEST_BACKEND`).
pub fn test_backend() -> TestBackend {
    match std::env::var("TOKENPAIR_TEST_BACKEND").as_deref() {
        Err(_) | Ok("") | Ok("sqlite") => TestBackend::Sqlite,
        Ok("postgres") => TestBackend::Postgres,
        Ok(other) => panic!("TOKENPAIR_TEST_BACKEND={other:?}: use sqlite or postgres"),
    }
}

/// The throwaway cluster's admin URL. Panics with how to get one.
pub fn pg_admin_url() -> String {
    std::env::var("TOKENPAIR_TEST_PG_URL").unwrap_or_else(|_| {
        panic!(
            "TOKENPAIR_TEST_PG_URL is not set: these tests need PostgreSQL. Run them through \
             `make test-native` or `scripts/pg.sh cargo test -p tokenpair-server`, which start \
             a throwaway cluster."
        )
    })
}

/// A new, empty database on the test cluster.
pub async fn fresh_pg_database() -> Database {
    let admin = pg_admin_url();
    let name = format!(
        "t_{}",
        tokenpair_server::tokens::random_id(9)
            .to_lowercase()
            .replace(['-', '_'], "x")
    );
    let mut conn = sqlx::postgres::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("cannot reach the test cluster at {admin}: {e}"));
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create a test database");
    let _ = conn.close().await;
    let (base, _) = admin
        .rsplit_once('/')
        .expect("an admin URL ends in /<database>");
    Database::Postgres(format!("{base}/{name}"))
}

/// Where a new test server keeps its data, on this run's backend.
pub async fn fresh_database(dir: &Path) -> Database {
    match test_backend() {
        TestBackend::Sqlite => Database::Sqlite(dir.join("tokenpair.db")),
        TestBackend::Postgres => fresh_pg_database().await,
    }
}

/// Writes the demo accounts (with [`DEMO_HASHES`]) into `database` (migrating it first).
pub async fn preseed(database: &Database) {
    let db = Db::connect(database).await.expect("open the test database");
    let events = SecurityEvents::new(db.clone(), EventPolicy::default(), Clock::System);
    let users = Users::new(db.clone(), events, Clock::System);
    for (name, hash) in DEMO_HASHES {
        match users
            .create_with_hash(name, hash.to_owned(), &Client::default())
            .await
        {
            Ok(_) | Err(CreateUserError::Taken) => {}
            Err(e) => panic!("seed the demo accounts: {e}"),
        }
    }
    db.close().await;
}

/// Read-only looks into a server's database, through its own pool.
pub struct Inspect<'a>(pub &'a sqlx::AnyPool);

impl Inspect<'_> {
    pub async fn rows(&self, sql: &str, bind: Option<&str>) -> Vec<AnyRow> {
        let mut q = sqlx::query(sql);
        if let Some(b) = bind {
            q = q.bind(b.to_owned());
        }
        q.fetch_all(self.0)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The first column of the first row as an integer.
    pub async fn int(&self, sql: &str, bind: Option<&str>) -> i64 {
        let rows = self.rows(sql, bind).await;
        rows.first()
            .unwrap_or_else(|| panic!("no row: {sql}"))
            .try_get(0)
            .expect("an integer")
    }

    pub async fn count(&self, sql: &str) -> i64 {
        self.int(sql, None).await
    }

    /// The first column of the first row as optional text.
    pub async fn text(&self, sql: &str, bind: Option<&str>) -> Option<String> {
        let rows = self.rows(sql, bind).await;
        rows.first()
            .unwrap_or_else(|| panic!("no row: {sql}"))
            .try_get(0)
            .expect("text")
    }
}

/// Every file of an SQLite database (main file, WAL, shared memory), concatenated.
pub fn database_bytes(db_path: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = db_path.as_os_str().to_owned();
        p.push(suffix);
        if let Ok(bytes) = std::fs::read(PathBuf::from(p)) {
            all.extend(bytes);
        }
    }
    all
}

pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}
