//! Bounded storage per session and per user (issue 15, items 5–6): one row per session
//! whatever its rotation count, with reuse of any older token still detected; a refresh rate
//! limit per session; a cap on live sessions per user (least recently used evicted); and a
//! paginated sessions list.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn a_session_is_one_row_whatever_its_rotation_count_and_old_tokens_are_still_reuse() {
    let server = start_with(|c| c.sessions.refresh_rate_limit = 0).await;
    let first = server.session(USER1_ID).await;
    let mut tokens = vec![first.refresh.clone()];
    let mut current = first;
    for _ in 0..200 {
        current = server.refresh_ok(&current.refresh).await;
        tokens.push(current.refresh.clone());
    }
    assert_eq!(server.generation(&current.sid).await, Some(200));
    assert_eq!(server.db().count("SELECT COUNT(*) FROM sessions").await, 1);
    let tables_named_refresh_tokens = match test_backend() {
        TestBackend::Sqlite => {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'refresh_tokens'"
        }
        TestBackend::Postgres => {
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'refresh_tokens'"
        }
    };
    assert_eq!(
        server.db().count(tables_named_refresh_tokens).await,
        0,
        "no per-token table any more"
    );
    // Generation 3 of 200: no row was kept for it, and it is still recognised as a replay.
    expect_refresh_refused(server.refresh(&tokens[3]).await, "refresh_token_reused").await;
    assert_eq!(
        server.revoked_reason(&current.sid).await.as_deref(),
        Some("reuse")
    );
    assert_eq!(
        server.me(&current.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_forged_old_generation_token_is_not_ours_and_ends_nothing() {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    let server = start().await;
    let t = server.session(USER1_ID).await;
    let t = server.refresh_ok(&t.refresh).await;
    let t = server.refresh_ok(&t.refresh).await;
    // The same session, generation 0, a made-up secret and MAC.
    let mut bytes = URL_SAFE_NO_PAD.decode(&t.refresh).unwrap();
    bytes[16..24].copy_from_slice(&0i64.to_be_bytes());
    bytes[24] ^= 1;
    let forged = URL_SAFE_NO_PAD.encode(&bytes);
    expect_refresh_refused(server.refresh(&forged).await, "invalid_refresh_token").await;
    assert_eq!(server.revoked_reason(&t.sid).await, None);
    server.refresh_ok(&t.refresh).await;
}

#[tokio::test]
async fn a_session_that_refreshes_too_often_gets_429_and_keeps_its_token() {
    let server = start_with(|c| c.sessions.refresh_rate_limit = 5).await;
    let mut t = server.session(USER1_ID).await;
    for _ in 0..5 {
        t = server.refresh_ok(&t.refresh).await;
    }
    let response = server.refresh(&t.refresh).await;
    assert!(
        set_cookies(response.headers()).is_empty(),
        "the cookie is kept"
    );
    let limited = expect_error(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    let wait: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    // A minute later (the window moved back in the database) the same token rotates.
    sqlx::query("UPDATE sessions SET refresh_window_start = refresh_window_start - 61000")
        .execute(&server.state.db.pool)
        .await
        .unwrap();
    let next = server.refresh_ok(&t.refresh).await;
    server.assert_access_works(&next.access, USER1_ID).await;
}

#[tokio::test]
async fn a_sign_in_beyond_the_cap_ends_the_least_recently_used_session() {
    let server = start_with(|c| c.sessions.max_per_user = 3).await;
    let tick = || tokio::time::sleep(std::time::Duration::from_millis(3));
    let a = server.session(USER1_ID).await;
    tick().await;
    let b = server.session(USER1_ID).await;
    tick().await;
    let c = server.session(USER1_ID).await;
    tick().await;
    // `a` is the oldest but was just used: `b` is the least recently used.
    let a = server.refresh_ok(&a.refresh).await;
    let d = server.session(USER1_ID).await;
    assert_eq!(
        server.revoked_reason(&b.sid).await.as_deref(),
        Some("evicted")
    );
    expect_refresh_refused(server.refresh(&b.refresh).await, "session_expired").await;
    assert_eq!(
        server.me(&b.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    for live in [&a, &c, &d] {
        server.assert_access_works(&live.access, USER1_ID).await;
    }
    let live = server
        .db()
        .count("SELECT COUNT(*) FROM sessions WHERE user_id = 1 AND revoked_at IS NULL")
        .await;
    assert_eq!(live, 3);
    // Another user's sessions are not counted.
    let other = server.session(USER2_ID).await;
    server.assert_access_works(&other.access, USER2_ID).await;
}

#[tokio::test]
async fn the_sessions_list_comes_in_pages_linked_by_rel_next() {
    let server = start().await;
    let mut sids = Vec::new();
    for _ in 0..5 {
        sids.push(server.session(USER1_ID).await);
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let me = sids.last().unwrap().clone();
    let mut url = "/api/sessions?limit=2".to_owned();
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let response = server.get_bearer(&url, &me.access).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let link = response
            .headers()
            .get("link")
            .map(|v| v.to_str().unwrap().to_owned());
        let page: Vec<Value> = response.json().await.unwrap();
        assert!(page.len() <= 2);
        seen.extend(page.iter().map(|s| s["id"].as_str().unwrap().to_owned()));
        pages += 1;
        match link {
            Some(link) => {
                assert!(link.ends_with("; rel=\"next\""), "{link}");
                url = link
                    .trim_start_matches('<')
                    .split('>')
                    .next()
                    .unwrap()
                    .to_owned();
                assert!(url.starts_with("/api/sessions?limit=2&cursor="), "{url}");
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let newest_first: Vec<String> = sids.iter().rev().map(|t| t.sid.clone()).collect();
    assert_eq!(seen, newest_first, "every session once, newest first");

    // Without `limit`: one page of up to 20; nonsense is a 400.
    let all: Vec<Value> = server
        .get_bearer("/api/sessions", &me.access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all.len(), 5);
    for bad in [
        "limit=0",
        "limit=101",
        "limit=x",
        "cursor=nonsense",
        "cursor=1.a%20b",
    ] {
        let r = server
            .get_bearer(&format!("/api/sessions?{bad}"), &me.access)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sign_ins_of_one_user_never_leave_more_live_sessions_than_the_cap() {
    let server = start_with(|c| c.sessions.max_per_user = 3).await;
    for round in 0..3 {
        let starts = (0..16).map(|i| {
            let sessions = server.state.sessions.clone();
            tokio::spawn(async move {
                sessions
                    .start(
                        tokenpair_server::ids::UserId(USER1_ID),
                        "user1".into(),
                        &tokenpair_server::security_events::Client {
                            addr: None,
                            user_agent: Some(format!("round {round} #{i}")),
                        },
                    )
                    .await
            })
        });
        for started in futures::future::join_all(starts).await {
            started.expect("task").expect("a session");
        }
        let live = server
            .db()
            .count(&format!(
                "SELECT COUNT(*) FROM sessions WHERE user_id = {USER1_ID} AND revoked_at IS NULL"
            ))
            .await;
        assert_eq!(live, 3, "round {round}: the cap is 3");
    }
}
