//! Bounded growth (issue 11): the periodic prune job deletes ended sessions — revoked, expired
//! or idle — (one row each, whatever their rotation count) once the retention has passed, and quiet throttle
//! counters; live sessions and their history (needed for reuse detection) stay.

mod common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use tokenpair_server::clock::Timestamp;
use tokenpair_server::db::now_ms;
use tokenpair_server::ids::UserId;
use tokenpair_server::maintenance::prune;
use tokenpair_server::security_events::Client;
use tokenpair_server::sessions::store::{Pruned, ENDED_RETENTION_MS};

async fn count(server: &TestServer, table: &str) -> i64 {
    server
        .db()
        .count(&format!("SELECT COUNT(*) FROM {table}"))
        .await
}

#[tokio::test]
async fn prune_deletes_ended_sessions_and_keeps_live_ones() {
    let server = start().await;
    let live = server.session(USER1_ID).await;
    let live = server.refresh_ok(&live.refresh).await;
    let ended = server.session(USER2_ID).await;
    let ended = server.refresh_ok(&ended.refresh).await;
    assert_eq!(
        server.logout(&ended.refresh).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(count(&server, "sessions").await, 2);

    let now = prune(&server.state, Timestamp(now_ms())).await.unwrap();
    assert_eq!(
        now,
        Pruned::default(),
        "nothing before the retention has passed"
    );

    let later = now_ms() + ENDED_RETENTION_MS + 1_000;
    let pruned = prune(&server.state, Timestamp(later)).await.unwrap();
    assert_eq!(pruned, Pruned { sessions: 1 });
    assert_eq!(count(&server, "sessions").await, 1);
    assert_eq!(
        server.generation(&live.sid).await,
        Some(1),
        "live history stays"
    );
    let next = server.refresh_ok(&live.refresh).await;
    server.assert_access_works(&next.access, USER1_ID).await;
}

#[tokio::test]
async fn prune_deletes_sessions_that_went_idle() {
    let server = start_with(|c| {
        c.sessions.refresh_token_idle_timeout = Duration::from_secs(3600);
        c.sessions.refresh_token_expiry = Duration::from_secs(30 * 24 * 3600);
    })
    .await;
    let idle = server.session(USER1_ID).await;
    let soon = now_ms() + ENDED_RETENTION_MS + 1_000;
    let kept = prune(&server.state, Timestamp(soon)).await.unwrap();
    assert_eq!(kept.sessions, 0, "idle for less than an hour: kept");
    assert_eq!(server.generation(&idle.sid).await, Some(0));
    let later = now_ms() + 3_600_000 + ENDED_RETENTION_MS + 1_000;
    let pruned = prune(&server.state, Timestamp(later)).await.unwrap();
    assert_eq!(pruned.sessions, 1);
    assert_eq!(server.generation(&idle.sid).await, None);
    expect_refresh_refused(server.refresh(&idle.refresh).await, "invalid_refresh_token").await;
}

#[tokio::test]
async fn prune_deletes_sessions_past_their_absolute_expiry() {
    // The idle timeout is far away: only the absolute end can delete this session.
    let server = start_with(|c| {
        c.sessions.refresh_token_expiry = Duration::from_secs(3600);
        c.sessions.refresh_token_idle_timeout = Duration::from_secs(7 * 24 * 3600);
    })
    .await;
    let expired = server.session(USER1_ID).await;
    let soon = now_ms() + ENDED_RETENTION_MS + 1_000;
    let kept = prune(&server.state, Timestamp(soon)).await.unwrap();
    assert_eq!(
        kept.sessions, 0,
        "not yet past its end plus the retention: kept"
    );
    assert_eq!(server.generation(&expired.sid).await, Some(0));
    let later = now_ms() + 3_600_000 + ENDED_RETENTION_MS + 1_000;
    let pruned = prune(&server.state, Timestamp(later)).await.unwrap();
    assert_eq!(pruned.sessions, 1);
    assert_eq!(server.generation(&expired.sid).await, None);
    expect_refresh_refused(
        server.refresh(&expired.refresh).await,
        "invalid_refresh_token",
    )
    .await;
}

#[tokio::test]
async fn prune_forgets_quiet_throttle_counters_only() {
    let server = start().await;
    let response = server.try_login("user1", "wrong password").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        count(&server, "login_throttle").await,
        3,
        "pair, address, account"
    );
    // Counters are kept as long as the longest-remembered rule needs them (a week), so
    // escalation survives quiet periods (issue 22).
    let memory = tokenpair_server::db::ms(tokenpair_server::throttle::LONGEST_MEMORY);
    prune(&server.state, Timestamp(now_ms())).await.unwrap();
    assert_eq!(count(&server, "login_throttle").await, 3, "still counting");
    prune(&server.state, Timestamp(now_ms() + memory - 60_000))
        .await
        .unwrap();
    assert_eq!(
        count(&server, "login_throttle").await,
        3,
        "quiet for less than a week: kept"
    );
    prune(&server.state, Timestamp(now_ms() + memory + 60_000))
        .await
        .unwrap();
    assert_eq!(
        count(&server, "login_throttle").await,
        0,
        "quiet for a week"
    );
}

/// The file itself is SQLite's alone (the PostgreSQL pass skips `sqlite_file::`; there,
/// autovacuum gives space back by itself).
mod sqlite_file {
    use super::*;

    #[tokio::test]
    async fn after_a_prune_the_rows_are_gone_and_the_sqlite_file_shrinks() {
        let server = start().await;
        let path = server
            .sqlite_path()
            .expect("an SQLite run (the PostgreSQL pass skips sqlite_file::)")
            .to_path_buf();
        let sessions = &server.state.sessions;
        for _ in 0..400 {
            let grant = sessions
                .start(UserId(USER1_ID), "user1".into(), &Client::default())
                .await
                .unwrap();
            let ended = sessions
                .revoke(
                    &grant.session_id,
                    None,
                    tokenpair_server::sessions::EndReason::Logout,
                    &Client::default(),
                )
                .await
                .unwrap();
            assert!(ended);
        }
        let checkpoint = || async {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&server.state.db.pool)
                .await
                .unwrap();
        };
        let file_size = || std::fs::metadata(&path).expect("the SQLite file").len();
        checkpoint().await;
        let before = file_size();
        let pruned = prune(
            &server.state,
            Timestamp(now_ms() + ENDED_RETENTION_MS + 1_000),
        )
        .await
        .unwrap();
        assert_eq!(pruned.sessions, 400);
        assert_eq!(count(&server, "sessions").await, 0);
        checkpoint().await;
        let after = file_size();
        assert!(
            after < before,
            "the SQLite file gave pages back: {before} -> {after} bytes"
        );
    }
}
