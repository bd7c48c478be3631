//! Refresh tokens and sessions (checklist 8-11): opaque 256-bit tokens stored only as SHA-256,
//! rotation on every use with exactly one successor (also under 100 concurrent refreshes),
//! reuse detection that kills the family, the grace window for benign races, the absolute
//! lifetime and the idle timeout.

mod common;

use sqlx::Row;

use std::time::Duration;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use common::*;
use futures::future::join_all;
use reqwest::StatusCode;
use sha2::{Digest, Sha256};

#[tokio::test]
async fn the_refresh_token_is_96_chars_of_base64url_carrying_a_256_bit_random_secret() {
    let server = start().await;
    let a = server.login(USER1).await.refresh;
    let b = server.refresh_ok(&a).await.refresh;
    for token in [&a, &b] {
        assert_eq!(token.len(), 96, "{token}");
        assert!(
            token
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'),
            "{token}"
        );
        assert_eq!(URL_SAFE_NO_PAD.decode(token).expect("base64url").len(), 72);
    }
    assert_ne!(secret_of(&a), secret_of(&b));
}

/// The 32 random bytes of a refresh token (after the session id and the generation).
fn secret_of(token: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(token).expect("base64url")[24..56].to_vec()
}

#[tokio::test]
async fn only_the_sha256_of_a_refresh_token_is_stored_never_the_token() {
    let server = start().await;
    let first = server.login(USER1).await;
    let second = server.refresh_ok(&first.refresh).await;

    for token in [&first.refresh, &second.refresh] {
        let hash = Sha256::digest(token.as_bytes()).to_vec();
        let stored: i64 = sqlx::query(
            "SELECT COUNT(*) FROM sessions WHERE token_hash = $1 OR prev_token_hash = $1",
        )
        .bind(hash)
        .fetch_one(&server.state.db.pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
        assert_eq!(stored, 1, "the SHA-256 of the token is stored");
    }

    // No column of any table holds the token, as text or as its 32 raw bytes …
    let tables_sql = match test_backend() {
        TestBackend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table'",
        TestBackend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'"
        }
    };
    let tables: Vec<String> = server
        .db()
        .rows(tables_sql, None)
        .await
        .iter()
        .map(|r| r.try_get::<String, _>(0).unwrap())
        // sqlx's own bookkeeping (migration checksums, with types the Any driver does not read)
        .filter(|t| !t.starts_with("_sqlx") && !t.starts_with("sqlite_"))
        .collect();
    assert!(tables.contains(&"sessions".to_owned()));
    let secrets: Vec<Vec<u8>> = [&first.refresh, &second.refresh]
        .iter()
        .flat_map(|t| [t.as_bytes().to_vec(), secret_of(t)])
        .collect();
    let mut cells = 0;
    for table in &tables {
        for row in server
            .db()
            .rows(&format!("SELECT * FROM \"{table}\""), None)
            .await
        {
            for i in 0..row.columns().len() {
                cells += 1;
                let bytes: Vec<u8> = if let Ok(Some(t)) = row.try_get::<Option<String>, _>(i) {
                    t.into_bytes()
                } else if let Ok(Some(b)) = row.try_get::<Option<Vec<u8>>, _>(i) {
                    b
                } else {
                    continue;
                };
                for secret in &secrets {
                    assert!(
                        !contains_bytes(&bytes, secret),
                        "table {table} column {i} holds a refresh token"
                    );
                }
            }
        }
    }
    assert!(cells > 10, "the scan looked at the data");
    // … and neither do the database files themselves (WAL included), on SQLite.
    if let Some(path) = server.sqlite_path() {
        let files = database_bytes(path);
        assert!(files.len() > 4096, "the files were read");
        for secret in &secrets {
            assert!(
                !contains_bytes(&files, secret),
                "a database file holds a refresh token"
            );
        }
    }
}

#[tokio::test]
async fn every_refresh_rotates_the_token_and_issues_a_new_access_token() {
    let server = start().await;
    let t0 = server.login(USER1).await;
    let t1 = server.refresh_ok(&t0.refresh).await;
    let t2 = server.refresh_ok(&t1.refresh).await;
    assert_ne!(t0.refresh, t1.refresh);
    assert_ne!(t1.refresh, t2.refresh);
    assert_ne!(t0.access, t1.access);
    assert_eq!(
        (t1.sid.as_str(), t2.sid.as_str()),
        (t0.sid.as_str(), t0.sid.as_str()),
        "same session"
    );
    server.assert_access_works(&t2.access, USER1_ID).await;
    assert_eq!(
        server.generation(&t0.sid).await,
        Some(2),
        "a straight chain, one token per generation"
    );
}

#[tokio::test]
async fn the_immediate_predecessor_within_the_grace_window_gets_the_current_token_not_a_new_branch()
{
    let server = start().await;
    let t0 = server.session(USER1_ID).await;
    let t1 = server.refresh_ok(&t0.refresh).await;
    // A second tab (or a retry after a lost response) presents T0 again.
    let again = server.refresh_ok(&t0.refresh).await;
    assert_eq!(
        again.refresh, t1.refresh,
        "the grace answer is the successor that already exists"
    );
    assert_eq!(
        server.generation(&t0.sid).await,
        Some(1),
        "no second successor"
    );
    server.assert_access_works(&again.access, USER1_ID).await;
    // And the chain goes on from T1.
    let t2 = server.refresh_ok(&t1.refresh).await;
    assert_eq!(server.generation(&t0.sid).await, Some(2));
    server.assert_access_works(&t2.access, USER1_ID).await;
    // Now T1 is the immediate predecessor: it gets the session's current token, T2.
    assert_eq!(server.refresh_ok(&t1.refresh).await.refresh, t2.refresh);
    assert_eq!(server.generation(&t0.sid).await, Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_refreshes_with_one_token_all_succeed_with_exactly_one_successor() {
    let server = start().await;
    let t0 = server.login(USER1).await;
    let answers = join_all((0..100).map(|_| server.refresh(&t0.refresh))).await;
    let mut successors = std::collections::HashSet::new();
    for response in answers {
        let got = granted(response, StatusCode::OK).await;
        successors.insert(got.tokens.refresh.clone());
        assert_eq!(got.tokens.sid, t0.sid);
    }
    assert_eq!(
        successors.len(),
        1,
        "every answer carries the same successor"
    );
    assert_eq!(
        server.generation(&t0.sid).await,
        Some(1),
        "the token has exactly one successor"
    );
    assert_eq!(
        server.revoked_reason(&t0.sid).await,
        None,
        "nobody was logged out"
    );

    // The user carries on.
    let t1 = successors.into_iter().next().unwrap();
    let t2 = server.refresh_ok(&t1).await;
    server.assert_access_works(&t2.access, USER1_ID).await;
    assert_eq!(server.generation(&t0.sid).await, Some(2));
}

#[tokio::test]
async fn reusing_an_older_token_revokes_the_whole_family() {
    let server = start().await;
    let t0 = server.login(USER1).await;
    let t1 = server.refresh_ok(&t0.refresh).await;
    let t2 = server.refresh_ok(&t1.refresh).await;
    server.assert_access_works(&t2.access, USER1_ID).await;

    // T0 is two generations old: no grace, whatever the clock says.
    let err =
        expect_refresh_refused(server.refresh(&t0.refresh).await, "refresh_token_reused").await;
    assert!(err.message.contains("already used"), "{}", err.message);
    assert_eq!(
        server.revoked_reason(&t0.sid).await.as_deref(),
        Some("reuse")
    );

    // The legitimate holder's current token is dead too, and so is its access token.
    expect_refresh_refused(server.refresh(&t2.refresh).await, "refresh_token_reused").await;
    expect_refresh_refused(server.refresh(&t1.refresh).await, "refresh_token_reused").await;
    expect_invalid_token(server.me(&t2.access).await).await;
    expect_invalid_token(server.me(&t0.access).await).await;
}

#[tokio::test]
async fn the_predecessor_after_the_grace_window_counts_as_reuse() {
    let server = start_with(|c| c.sessions.refresh_reuse_grace = Duration::from_millis(500)).await;
    let t0 = server.session(USER1_ID).await;
    let t1 = server.refresh_ok(&t0.refresh).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    expect_refresh_refused(server.refresh(&t0.refresh).await, "refresh_token_reused").await;
    expect_refresh_refused(server.refresh(&t1.refresh).await, "refresh_token_reused").await;
    expect_invalid_token(server.me(&t1.access).await).await;
}

#[tokio::test]
async fn reuse_in_one_session_leaves_the_users_other_sessions_alone() {
    let server = start().await;
    let victim = server.session(USER1_ID).await;
    let other = server.session(USER1_ID).await;
    let v1 = server.refresh_ok(&victim.refresh).await;
    server.refresh_ok(&v1.refresh).await;
    expect_refresh_refused(
        server.refresh(&victim.refresh).await,
        "refresh_token_reused",
    )
    .await;
    server.assert_access_works(&other.access, USER1_ID).await;
    server.refresh_ok(&other.refresh).await;
}

#[tokio::test]
async fn an_unknown_or_missing_refresh_token_is_refused_and_the_cookie_cleared() {
    let server = start().await;
    let unknown = b64(&[42u8; 32]);
    expect_refresh_refused(server.refresh(&unknown).await, "invalid_refresh_token").await;
    let no_cookie = server.auth_post("/api/auth/refresh").send().await.unwrap();
    expect_refresh_refused(no_cookie, "invalid_refresh_token").await;
}

#[tokio::test]
async fn the_absolute_lifetime_ends_the_session_however_often_it_is_refreshed() {
    let server = start_with(|c| {
        c.tokens.access_token_expiry = Duration::from_secs(1);
        c.sessions.refresh_token_expiry = Duration::from_secs(4);
    })
    .await;
    let signed_in = tokio::time::Instant::now();
    let t0 = server.login(USER1).await;
    let mut current = t0.refresh.clone();
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(800)).await;
        current = server.refresh_ok(&current).await.refresh;
    }
    // ~2.4 s in (1.6 s to spare on a slow machine); past 4 s the session is over, although
    // it was refreshed moments ago.
    tokio::time::sleep_until(signed_in + Duration::from_millis(4_200)).await;
    let err = expect_refresh_refused(server.refresh(&current).await, "session_expired").await;
    assert!(err.message.contains("ended"), "{}", err.message);
    assert_eq!(
        server.revoked_reason(&t0.sid).await.as_deref(),
        Some("expired")
    );
}

#[tokio::test]
async fn an_access_token_never_outlives_its_session() {
    let server = start_with(|c| {
        c.tokens.access_token_expiry = Duration::from_secs(60);
        c.sessions.refresh_token_expiry = Duration::from_secs(2);
    })
    .await;
    let t0 = server.session(USER1_ID).await;
    let claims = claims_of(&t0.access);
    assert!(
        claims["exp"].as_u64().unwrap() <= now() + 2,
        "exp capped at the session's end: {claims}"
    );
}

#[tokio::test]
async fn an_idle_session_times_out_while_an_active_one_does_not() {
    let server =
        start_with(|c| c.sessions.refresh_token_idle_timeout = Duration::from_secs(2)).await;
    let active = server.session(USER1_ID).await;
    let idle = server.session(USER1_ID).await;
    // Refreshing every 0.8 s (1.2 s to spare each time) keeps a session alive past the 2 s
    // idle timeout …
    let mut current = active.refresh.clone();
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(800)).await;
        current = server.refresh_ok(&current).await.refresh;
    }
    // … while one left alone for 2.4 s has ended, and so does the active one once left alone.
    expect_refresh_refused(server.refresh(&idle.refresh).await, "session_expired").await;
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    expect_refresh_refused(server.refresh(&current).await, "session_expired").await;
}

#[tokio::test]
async fn a_logged_out_sessions_refresh_token_no_longer_works() {
    let server = start().await;
    let t0 = server.session(USER1_ID).await;
    let t1 = server.refresh_ok(&t0.refresh).await;
    assert_eq!(
        server.logout(&t1.refresh).await.status(),
        StatusCode::NO_CONTENT
    );
    expect_refresh_refused(server.refresh(&t1.refresh).await, "session_expired").await;
    // Even the grace path is closed once the session has ended.
    expect_refresh_refused(server.refresh(&t0.refresh).await, "session_expired").await;
}

#[tokio::test]
async fn an_optional_refresh_without_any_cookie_is_204_and_with_a_bad_cookie_still_401() {
    let server = start().await;
    let none = server
        .auth_post("/api/auth/refresh?optional=1")
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), reqwest::StatusCode::NO_CONTENT);
    assert!(none.headers().get(reqwest::header::SET_COOKIE).is_none());
    let plain = server.auth_post("/api/auth/refresh").send().await.unwrap();
    assert_eq!(
        plain.status(),
        reqwest::StatusCode::UNAUTHORIZED,
        "the contract without the flag"
    );
    let bad = server
        .auth_post("/api/auth/refresh?optional=1")
        .header(
            reqwest::header::COOKIE,
            "__Secure-refresh_token=not-a-real-token",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), reqwest::StatusCode::UNAUTHORIZED);
}

/// A sign-out that commits while a grace refresh of the same session waits for its row
/// (PostgreSQL: the sign-out holds the row lock; SQLite: the write lock) must win: the waiting
/// refresh gets no token for the ended session.
#[tokio::test]
async fn a_grace_refresh_waiting_on_a_sign_out_that_commits_gets_no_token() {
    let server = start().await;
    let t0 = server.login(USER1).await;
    server.refresh_ok(&t0.refresh).await; // t0 is now the grace predecessor

    let mut ending = server.state.db.begin_write().await.expect("a transaction");
    sqlx::query("UPDATE sessions SET revoked_at = $1, revoked_reason = 'logout' WHERE id = $2")
        .bind(i64::try_from(jwt::now() * 1000).unwrap())
        .bind(&t0.sid)
        .execute(&mut *ending)
        .await
        .expect("end the session, uncommitted");
    let grace = {
        let request = server
            .client
            .post(server.url("/api/auth/refresh"))
            .header(XRW.0, XRW.1)
            .header(
                reqwest::header::COOKIE,
                format!("__Secure-refresh_token={}", t0.refresh),
            );
        tokio::spawn(async move { request.send().await.expect("refresh request") })
    };
    // Let the refresh reach the row and wait there, then commit the sign-out.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !grace.is_finished(),
        "the refresh waits for the sign-out's lock"
    );
    ending.commit().await.expect("commit the sign-out");
    let answer = grace.await.expect("the refresh task");
    expect_refresh_refused(answer, "session_expired").await;
}
