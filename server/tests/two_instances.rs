//! Two instances on one PostgreSQL database (issue 11): nothing that matters is per-process.
//! Sessions, rotation, grace, reuse detection, revocations and the login throttle all hold
//! across instances, and killing one instance loses nothing.
//!
//! These tests always run on PostgreSQL (`TOKENPAIR_TEST_PG_URL`, started by `scripts/pg.sh`);
//! without it they fail — they never skip.

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures::future::join_all;
use reqwest::StatusCode;
use tokenpair_server::db::Database;
use tokenpair_testkit::{server_command, ServerProcess};

const BIN: &str = env!("CARGO_BIN_EXE_tokenpair-server");

/// Polls `/api/me` with `access` on `server` until it is refused; panics after `within`.
/// Returns how long it took.
async fn refused_within(server: &TestServer, access: &str, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let status = server.me(access).await.status();
        if status == StatusCode::UNAUTHORIZED {
            return started.elapsed();
        }
        assert_eq!(status, StatusCode::OK, "only 200 or 401 are expected");
        assert!(
            started.elapsed() < within,
            "the other instance still accepts the access token after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn two_instances_sign_in_on_a_then_use_and_refresh_on_b() {
    let (a, b) = start_pair_with(|_| {}).await;
    let login = a.login(USER1).await;
    b.assert_access_works(&login.access, USER1_ID).await;
    let refreshed = b.refresh_ok(&login.refresh).await;
    assert_eq!(refreshed.sid, login.sid, "the same session, moved on by B");
    a.assert_access_works(&refreshed.access, USER1_ID).await;
    let again = a.refresh_ok(&refreshed.refresh).await;
    assert_eq!(a.generation(&login.sid).await, Some(2));
    b.assert_access_works(&again.access, USER1_ID).await;
}

#[tokio::test]
async fn two_instances_reuse_seen_by_a_kills_the_family_on_b() {
    let (a, b) = start_pair_with(|_| {}).await;
    let t0 = a.session(USER1_ID).await;
    let t1 = a.refresh_ok(&t0.refresh).await;
    let t2 = b.refresh_ok(&t1.refresh).await;
    b.assert_access_works(&t2.access, USER1_ID).await;

    // T0 is two generations old: no grace, on any instance.
    expect_refresh_refused(a.refresh(&t0.refresh).await, "refresh_token_reused").await;
    let took = refused_within(&b, &t2.access, Duration::from_secs(1)).await;
    eprintln!("B refused the revoked family's access token after {took:?}");
    expect_refresh_refused(b.refresh(&t2.refresh).await, "refresh_token_reused").await;
    assert_eq!(b.revoked_reason(&t0.sid).await.as_deref(), Some("reuse"));
}

#[tokio::test]
async fn two_instances_logout_on_one_is_refused_by_the_other_within_a_second() {
    let (a, b) = start_pair_with(|_| {}).await;
    let t = a.session(USER1_ID).await;
    b.assert_access_works(&t.access, USER1_ID).await;
    assert_eq!(a.logout(&t.refresh).await.status(), StatusCode::NO_CONTENT);
    refused_within(&b, &t.access, Duration::from_secs(1)).await;
    expect_refresh_refused(b.refresh(&t.refresh).await, "session_expired").await;
}

#[tokio::test]
async fn two_instances_a_session_revoked_on_b_is_refused_by_a_within_a_second() {
    let (a, b) = start_pair_with(|_| {}).await;
    let mine = b.session(USER1_ID).await;
    let other = a.session(USER1_ID).await;
    a.assert_access_works(&other.access, USER1_ID).await;
    let response = b
        .client
        .delete(b.url(&format!("/api/sessions/{}", other.sid)))
        .bearer_auth(&mine.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    refused_within(&a, &other.access, Duration::from_secs(1)).await;
    a.assert_access_works(&mine.access, USER1_ID).await;
}

#[tokio::test]
async fn two_instances_global_logout_reaches_every_session_on_the_other_instance() {
    let (a, b) = start_pair_with(|_| {}).await;
    let here = a.session(USER1_ID).await;
    let there = b.session(USER1_ID).await;
    let response = a
        .auth_post("/api/auth/logout?scope=global")
        .header(
            reqwest::header::COOKIE,
            format!("__Secure-refresh_token={}", here.refresh),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    refused_within(&b, &there.access, Duration::from_secs(1)).await;
    refused_within(&b, &here.access, Duration::from_secs(1)).await;
}

#[tokio::test]
async fn two_instances_100_concurrent_refreshes_spread_over_both_give_one_successor() {
    let (a, b) = start_pair_with(|_| {}).await;
    let t0 = a.session(USER1_ID).await;
    let responses = join_all((0..100).map(|i| {
        let server = if i % 2 == 0 { &a } else { &b };
        let cookie = t0.refresh.clone();
        async move { server.refresh(&cookie).await }
    }))
    .await;
    let mut cookies = Vec::new();
    for response in responses {
        cookies.push(granted(response, StatusCode::OK).await.tokens);
    }
    assert_eq!(
        a.generation(&t0.sid).await,
        Some(1),
        "exactly one successor"
    );
    let successor = &cookies[0].refresh;
    assert!(
        cookies.iter().all(|t| &t.refresh == successor),
        "every answer carries the one successor (the winner's or the grace answer)"
    );
    // The user stays signed in, on both instances.
    assert_eq!(a.revoked_reason(&t0.sid).await, None);
    let next = b.refresh_ok(successor).await;
    a.assert_access_works(&next.access, USER1_ID).await;
    b.assert_access_works(&next.access, USER1_ID).await;
}

#[tokio::test]
async fn two_instances_the_grace_answer_works_whichever_instance_gets_the_predecessor() {
    let (a, b) = start_pair_with(|_| {}).await;
    let t0 = a.session(USER1_ID).await;
    let t1 = a.refresh_ok(&t0.refresh).await;
    // The same predecessor, now at B (a second tab whose request went elsewhere).
    let grace = b.refresh_ok(&t0.refresh).await;
    assert_eq!(grace.refresh, t1.refresh, "B answers with A's successor");
    assert_eq!(b.generation(&t0.sid).await, Some(1));
}

#[tokio::test]
async fn two_instances_failed_logins_spread_over_both_are_throttled_as_one() {
    let (a, b) = start_pair_with(|_| {}).await;
    // Five failures (the pair's free allowance), alternating between the instances.
    for i in 0..5 {
        let server = if i % 2 == 0 { &a } else { &b };
        let response = server.try_login("user1", "wrong password").await;
        expect_error(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    for server in [&a, &b] {
        let err = expect_error(
            server.try_login("user1", "password1").await,
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
        )
        .await;
        assert!(err.headers.contains_key(reqwest::header::RETRY_AFTER));
    }
}

#[tokio::test]
async fn two_instances_a_dropped_revocation_listener_reconnects_and_misses_nothing() {
    let (a, b) = start_pair_with(|_| {}).await;
    let t = a.session(USER1_ID).await;
    b.assert_access_works(&t.access, USER1_ID).await;
    // Cut every LISTEN connection of this database (B's included), then revoke at once.
    let Database::Postgres(url) = b.database() else {
        unreachable!("start_pair_with is on PostgreSQL")
    };
    let db_name = url.rsplit('/').next().unwrap().to_owned();
    let admin = sqlx::PgPool::connect(&pg_admin_url()).await.unwrap();
    let cut: Vec<(bool,)> = sqlx::query_as(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = $1 AND query ILIKE 'LISTEN%'",
    )
    .bind(&db_name)
    .fetch_all(&admin)
    .await
    .unwrap();
    assert!(cut.len() >= 2, "both listeners were cut: {cut:?}");
    assert_eq!(a.logout(&t.refresh).await.status(), StatusCode::NO_CONTENT);
    // B was not listening when the notification went out: it must reload on reconnecting.
    refused_within(&b, &t.access, Duration::from_secs(3)).await;
    admin.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_kill_9_of_one_instance_loses_no_session() {
    let database = fresh_pg_database().await;
    preseed(&database).await;
    let Database::Postgres(url) = &database else {
        unreachable!()
    };
    let secret = std::str::from_utf8(SECRET).unwrap();
    let spawn = || {
        let mut cmd = server_command(BIN, url);
        cmd.env("ACCESS_TOKEN_SECRET", secret)
            .arg("--static-dir")
            .arg("/nonexistent");
        ServerProcess::spawn(cmd)
    };
    let (a, b) = (spawn(), spawn());
    let c = client();
    let post = |base: &str, path: &str| c.post(format!("{base}{path}")).header(XRW.0, XRW.1);
    let login = granted(
        post(&a.base, "/api/auth/login")
            .json(&serde_json::json!({"username": "user1", "password": "password1"}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await
    .tokens;
    let refreshed = granted(
        post(&a.base, "/api/auth/refresh")
            .header(
                reqwest::header::COOKIE,
                format!("__Secure-refresh_token={}", login.refresh),
            )
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await
    .tokens;
    let a_log = tokio::task::spawn_blocking(move || a.kill9())
        .await
        .unwrap();
    assert!(
        !a_log.contains("shutting down"),
        "killed, not shut down: {a_log}"
    );

    // B carries on with everything A handed out.
    let me = c
        .get(format!("{}/api/me", b.base))
        .bearer_auth(&refreshed.access)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let next = granted(
        post(&b.base, "/api/auth/refresh")
            .header(
                reqwest::header::COOKIE,
                format!("__Secure-refresh_token={}", refreshed.refresh),
            )
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await
    .tokens;
    assert_eq!(next.sid, login.sid);
    tokio::task::spawn_blocking(move || b.stop()).await.unwrap();
}
