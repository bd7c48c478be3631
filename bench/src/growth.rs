//! Bounded growth: 20,000 rotations (100 sessions × 200), the rows and the bytes they leave,
//! then every session signed out and one prune pass past the retention — rows and bytes again.

use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{header, Request, StatusCode};
use sqlx::Row;
use tokenpair_server::clock::{Clock, Timestamp};
use tokenpair_server::db::{now_ms, Database, Db};
use tokenpair_server::security_events::{EventPolicy, SecurityEvents};
use tokenpair_server::sessions::store::ENDED_RETENTION_MS;
use tokenpair_server::sessions::{SessionPolicy, Sessions, TokenMinter};

use crate::load::{connect, login, send, BoxError};

pub const SESSIONS: usize = 100;
pub const ROTATIONS_EACH: usize = 200;

/// Rows and bytes at one moment.
#[derive(Debug)]
pub struct Snapshot {
    pub sessions: i64,
    /// SQLite: the file plus its WAL. PostgreSQL: the sessions table with its indexes and TOAST.
    pub bytes: i64,
}

impl std::fmt::Display for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} session rows (the only per-session table), {:.1} MiB",
            self.sessions,
            self.bytes as f64 / (1024.0 * 1024.0)
        )
    }
}

/// Rotates 20,000 times through the server at `addr`; returns the sessions' last cookies.
pub async fn rotate(addr: SocketAddr) -> Result<Vec<String>, BoxError> {
    let mut conn = connect(addr).await?;
    let mut cookies = Vec::with_capacity(SESSIONS);
    for _ in 0..SESSIONS {
        cookies.push(login(&mut conn, addr).await?.refresh);
    }
    let chains = cookies.into_iter().map(|mut cookie| {
        tokio::spawn(async move {
            let mut conn = connect(addr).await?;
            for _ in 0..ROTATIONS_EACH {
                let answer = send(
                    &mut conn,
                    cookie_request(addr, "/api/auth/refresh", &cookie)?,
                )
                .await?;
                match answer.refresh_cookie {
                    Some(next) if answer.status == StatusCode::OK => cookie = next,
                    _ => {
                        return Err::<String, BoxError>(
                            format!("rotation refused: {}", answer.status).into(),
                        )
                    }
                }
            }
            Ok(cookie)
        })
    });
    let mut last = Vec::with_capacity(SESSIONS);
    for chain in chains.collect::<Vec<_>>() {
        last.push(chain.await??);
    }
    Ok(last)
}

/// Signs every session out (`POST /api/auth/logout` with its cookie).
pub async fn sign_out(addr: SocketAddr, cookies: &[String]) -> Result<(), BoxError> {
    let mut conn = connect(addr).await?;
    for cookie in cookies {
        let answer = send(&mut conn, cookie_request(addr, "/api/auth/logout", cookie)?).await?;
        if answer.status != StatusCode::NO_CONTENT {
            return Err(format!("logout answered {}", answer.status).into());
        }
    }
    Ok(())
}

fn cookie_request(
    addr: SocketAddr,
    path: &str,
    cookie: &str,
) -> Result<Request<Full<Bytes>>, BoxError> {
    Ok(Request::post(path)
        .header(header::HOST, addr.to_string())
        .header("x-requested-with", "XMLHttpRequest")
        .header(header::COOKIE, format!("__Secure-refresh_token={cookie}"))
        .body(Full::default())?)
}

/// Counts rows and bytes.
pub async fn snapshot(database: &Database) -> Result<Snapshot, BoxError> {
    let db = Db::connect(database).await?;
    let count = |table: &'static str| {
        let pool = db.pool.clone();
        async move {
            let n: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&pool)
                .await?
                .try_get(0)?;
            Ok::<i64, BoxError>(n)
        }
    };
    let sessions = count("sessions").await?;
    let bytes = match database {
        Database::Sqlite(path) => {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&db.pool)
                .await?;
            let mut total = 0;
            for suffix in ["", "-wal"] {
                let mut p = path.as_os_str().to_owned();
                p.push(suffix);
                total += std::fs::metadata(&p).map(|m| m.len() as i64).unwrap_or(0);
            }
            total
        }
        Database::Postgres(_) => sqlx::query("SELECT pg_total_relation_size('sessions')")
            .fetch_one(&db.pool)
            .await?
            .try_get(0)?,
    };
    db.close().await;
    Ok(Snapshot { sessions, bytes })
}

/// One prune pass as the server's job would run it once the retention has passed.
pub async fn prune_after_retention(database: &Database) -> Result<u64, BoxError> {
    let db = Db::connect(database).await?;
    let policy = SessionPolicy {
        absolute: Duration::from_secs(7 * 86400),
        idle: Duration::from_secs(86400),
        grace: Duration::from_secs(10),
        access_lifetime: Duration::from_secs(301),
        refresh_per_minute: 0,
        max_per_user: 1000,
    };
    // Pruning needs no key: any will do.
    let clock = Clock::System;
    let events = SecurityEvents::new(db.clone(), EventPolicy::default(), clock.clone());
    let sessions =
        Sessions::new(db.clone(), policy, TokenMinter::new([0; 32]), events, clock).await?;
    let pruned = sessions
        .prune(Timestamp(now_ms() + ENDED_RETENTION_MS + 60_000))
        .await?;
    db.reclaim_space().await?;
    if let Database::Postgres(_) = database {
        // What autovacuum does in the background: the space becomes reusable.
        sqlx::query("VACUUM sessions").execute(&db.pool).await?;
    }
    db.close().await;
    Ok(pruned.sessions)
}
