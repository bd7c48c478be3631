//! Stale credentials and ambiguous cookies change nothing (issue 15, items 9–11): logout acts
//! only for a current credential; a refresh that fails on the server's side keeps the cookie;
//! a request with two refresh cookies is refused without touching either session.

mod common;

use common::*;
use reqwest::header;
use reqwest::StatusCode;

async fn global_logout(
    server: &TestServer,
    cookie: Option<&str>,
    bearer: Option<&str>,
) -> StatusCode {
    let mut request = server.auth_post("/api/auth/logout?scope=global");
    if let Some(c) = cookie {
        request = request.header(header::COOKIE, format!("__Secure-refresh_token={c}"));
    }
    if let Some(b) = bearer {
        request = request.bearer_auth(b);
    }
    request.send().await.expect("logout").status()
}

#[tokio::test]
async fn global_logout_with_a_stale_credential_revokes_nothing() {
    let server = start().await;
    let live = server.session(USER1_ID).await;

    // A session that was signed out: its last refresh token and its access token.
    let ended = server.session(USER1_ID).await;
    assert_eq!(
        server.logout(&ended.refresh).await.status(),
        StatusCode::NO_CONTENT
    );
    // A token rotated two generations ago (past any grace), of a session that lives on.
    let old = server.session(USER1_ID).await;
    let newer = server.refresh_ok(&old.refresh).await;
    let newest = server.refresh_ok(&newer.refresh).await;

    for (what, cookie, bearer) in [
        (
            "the cookie of a signed-out session",
            Some(ended.refresh.as_str()),
            None,
        ),
        ("a revoked access token", None, Some(ended.access.as_str())),
        (
            "both",
            Some(ended.refresh.as_str()),
            Some(ended.access.as_str()),
        ),
    ] {
        assert_eq!(
            global_logout(&server, cookie, bearer).await,
            StatusCode::NO_CONTENT,
            "{what}"
        );
        server.assert_access_works(&live.access, USER1_ID).await;
    }
    // The rotated token: logout does not count it as reuse either (refresh would).
    let _ = newer;
    assert_eq!(
        global_logout(&server, Some(&old.refresh), None).await,
        StatusCode::NO_CONTENT
    );
    server.assert_access_works(&live.access, USER1_ID).await;
    server.assert_access_works(&newest.access, USER1_ID).await;
    assert_eq!(server.revoked_reason(&live.sid).await, None);

    // A current credential still signs out everywhere.
    assert_eq!(
        global_logout(&server, Some(&newest.refresh), None).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        server.me(&live.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_refresh_that_fails_on_the_server_side_keeps_the_cookie_and_the_token_works_later() {
    let server = start().await;
    let t = server.session(USER1_ID).await;
    make_writes_fail(&server, true).await;
    let response = server.refresh(&t.refresh).await;
    assert!(response.status().is_server_error(), "{}", response.status());
    assert!(
        set_cookies(response.headers()).is_empty(),
        "no Set-Cookie (above all no clearing one) on a 5xx"
    );
    let health = server.get("/api/health").send().await.unwrap();
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    make_writes_fail(&server, false).await;
    let next = server.refresh_ok(&t.refresh).await;
    server.assert_access_works(&next.access, USER1_ID).await;
}

#[tokio::test]
async fn two_refresh_cookies_are_refused_and_neither_session_changes() {
    let server = start().await;
    let victim = server.session(USER1_ID).await;
    let attacker = server.session(USER2_ID).await;
    let both = format!(
        "__Secure-refresh_token={}; __Secure-refresh_token={}",
        victim.refresh, attacker.refresh
    );
    for path in [
        "/api/auth/refresh",
        "/api/auth/logout",
        "/api/auth/logout?scope=global",
    ] {
        let response = server
            .auth_post(path)
            .header(header::COOKIE, &both)
            .send()
            .await
            .unwrap();
        let refused = expect_error(
            response,
            StatusCode::BAD_REQUEST,
            "multiple_refresh_cookies",
        )
        .await;
        assert!(
            set_cookies(&refused.headers).is_empty(),
            "{path}: no cookie touched"
        );
    }
    // Two Cookie headers are the same thing.
    let response = server
        .auth_post("/api/auth/refresh")
        .header(
            header::COOKIE,
            format!("__Secure-refresh_token={}", victim.refresh),
        )
        .header(
            header::COOKIE,
            format!("__Secure-refresh_token={}", attacker.refresh),
        )
        .send()
        .await
        .unwrap();
    expect_error(
        response,
        StatusCode::BAD_REQUEST,
        "multiple_refresh_cookies",
    )
    .await;

    assert_eq!(server.generation(&victim.sid).await, Some(0));
    assert_eq!(server.generation(&attacker.sid).await, Some(0));
    server.refresh_ok(&victim.refresh).await;
    server.refresh_ok(&attacker.refresh).await;
}
