//! Cookie planting (issue 22, item 5): the refresh cookie is `__Secure-refresh_token`, which a
//! network attacker on plain http cannot set; the old name is honoured only for sessions that
//! began before the rename, once, moved to the new name; and the `Cookie` header is read as
//! bytes, so a non-ASCII cookie beside the refresh cookie does not hide it.

mod common;

use common::*;
use reqwest::header::{self, HeaderValue};
use reqwest::StatusCode;

async fn refresh_with_cookie(
    server: &TestServer,
    cookie: HeaderValue,
    optional: bool,
) -> reqwest::Response {
    let path = if optional {
        "/api/auth/refresh?optional=1"
    } else {
        "/api/auth/refresh"
    };
    server
        .client
        .post(server.url(path))
        .header(XRW.0, XRW.1)
        .header(header::COOKIE, cookie)
        .send()
        .await
        .expect("refresh")
}

fn cookie(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).expect("a cookie header")
}

#[tokio::test]
async fn the_refresh_cookie_carries_the_secure_prefix() {
    let server = start().await;
    let response = server.try_login(USER1.0, USER1.1).await;
    let set = the_refresh_cookie(response.headers());
    assert_eq!(set.name, "__Secure-refresh_token", "{}", set.raw);
    assert!(set.attr("secure").is_some(), "{}", set.raw);
    assert_eq!(set.attr("path"), Some(Some("/api/auth")), "{}", set.raw);
}

#[tokio::test]
async fn a_non_ascii_cookie_beside_the_refresh_cookie_does_not_hide_it() {
    let server = start().await;
    let t = server.login(USER1).await;
    let mut raw = b"theme=\xc3\xa9t\xc3\xa9; __Secure-refresh_token=".to_vec();
    raw.extend_from_slice(t.refresh.as_bytes());
    raw.extend_from_slice(b"; other=\xff");
    let value = HeaderValue::from_bytes(&raw).expect("an opaque header value");
    let response = refresh_with_cookie(&server, value, false).await;
    granted(response, StatusCode::OK).await;
}

/// Makes the session look as if it began before this deployment renamed the cookie.
async fn begun_before_the_rename(server: &TestServer, sid: &str) {
    let before = server.state.legacy_cookie_cutoff - 60_000;
    sqlx::query("UPDATE sessions SET created_at = $1, rotated_at = $1 WHERE id = $2")
        .bind(before)
        .bind(sid)
        .execute(&server.state.db.pool)
        .await
        .expect("backdate the session");
}

#[tokio::test]
async fn an_old_name_cookie_of_a_session_from_before_the_rename_is_moved_to_the_new_name() {
    let server = start().await;
    let t = server.login(USER1).await;
    begun_before_the_rename(&server, &t.sid).await;
    let response = refresh_with_cookie(
        &server,
        cookie(&format!("refresh_token={}", t.refresh)),
        false,
    )
    .await;
    let cookies = set_cookies(response.headers());
    let cleared_old = cookies
        .iter()
        .find(|c| c.name == "refresh_token")
        .expect("the old name is cleared");
    assert_eq!(cleared_old.value, "");
    assert_eq!(cleared_old.max_age(), 0);
    assert_eq!(cleared_old.attr("path"), Some(Some("/api/auth")));
    let moved = granted(response, StatusCode::OK).await;
    // From now on the new name carries the session…
    let next = server.refresh_ok(&moved.tokens.refresh).await;
    // …and the old name no longer does, even for this session: its tokens are newer now (an
    // attacker cannot keep a pre-rename session alive under the old name to plant it).
    let again = refresh_with_cookie(
        &server,
        cookie(&format!("refresh_token={}", next.refresh)),
        false,
    )
    .await;
    expect_refresh_refused(again, "invalid_refresh_token").await;
}

#[tokio::test]
async fn a_planted_old_name_cookie_of_a_newer_session_counts_as_no_session() {
    let server = start().await;
    // The attacker's own, fresh session, planted under the old name in a signed-out browser.
    let attacker = server.login(USER2).await;
    let planted = cookie(&format!("refresh_token={}", attacker.refresh));
    let response = refresh_with_cookie(&server, planted.clone(), true).await;
    assert_eq!(
        response.status(),
        StatusCode::NO_CONTENT,
        "nobody is signed in"
    );
    assert!(
        set_cookies(response.headers())
            .iter()
            .any(|c| c.name == "refresh_token" && c.max_age() == 0),
        "the planted cookie is cleared"
    );
    let response = refresh_with_cookie(&server, planted, false).await;
    expect_refresh_refused(response, "invalid_refresh_token").await;
    // Nothing happened to the attacker's session either (it was not rotated).
    server.refresh_ok(&attacker.refresh).await;
}
