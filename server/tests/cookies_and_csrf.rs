//! The refresh cookie and the token responses (checklist 11, 13, 14) and the CSRF defence of
//! the cookie endpoints (checklist 15): exact `Set-Cookie` attributes, `Cache-Control:
//! no-store`, no refresh token in any body, and 403 `csrf_rejected` that changes nothing.

mod common;

use std::time::Duration;

use common::*;
use reqwest::header::{self, HeaderMap};
use reqwest::{Method, StatusCode};
use serde_json::json;

const WEEK: i64 = 7 * 24 * 3600;

fn assert_no_store(headers: &HeaderMap) {
    assert_eq!(
        headers
            .get(header::CACHE_CONTROL)
            .map(|v| v.to_str().unwrap()),
        Some("no-store")
    );
}

/// The body of a token response: exactly the documented fields, and no refresh token.
fn assert_token_body(got: &Granted) {
    let mut keys: Vec<&str> = got
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "access_token",
            "expires_in",
            "idle_expires_in",
            "session_expires_in",
            "session_id",
            "token_type",
            "user"
        ]
    );
    assert_eq!(got.body["token_type"], "Bearer");
    assert!(
        !got.text.contains(&got.tokens.refresh),
        "the refresh token is never in a body"
    );
    assert!(!got.text.contains("refresh"), "{}", got.text);
}

#[tokio::test]
async fn login_sets_the_refresh_cookie_with_exact_attributes_and_max_age_of_the_whole_session() {
    let server = start().await;
    let got = granted(server.try_login("user1", "password1").await, StatusCode::OK).await;
    got.cookie.assert_refresh_cookie_attributes();
    assert_eq!(got.cookie.value.len(), 96);
    let max_age = got.cookie.max_age();
    assert!(
        (WEEK - 2..=WEEK).contains(&max_age),
        "Max-Age ≈ REFRESH_TOKEN_EXPIRY: {}",
        got.cookie.raw
    );
    assert_no_store(&got.headers);
    assert_token_body(&got);
    assert_eq!(got.body["expires_in"], 300);
    assert_eq!(got.body["user"], json!({ "id": 1, "username": "user1" }));
}

#[tokio::test]
async fn register_sets_the_same_cookie_and_no_store() {
    let server = start().await;
    let got = granted(
        server
            .try_register("cookie_monster", "long enough pass")
            .await,
        StatusCode::CREATED,
    )
    .await;
    got.cookie.assert_refresh_cookie_attributes();
    assert!(
        (WEEK - 2..=WEEK).contains(&got.cookie.max_age()),
        "{}",
        got.cookie.raw
    );
    assert_no_store(&got.headers);
    assert_token_body(&got);
}

#[tokio::test]
async fn refresh_sets_the_rotated_cookie_with_no_store_and_no_token_in_the_body() {
    let server = start().await;
    let t0 = server.session(USER1_ID).await;
    let got = granted(server.refresh(&t0.refresh).await, StatusCode::OK).await;
    got.cookie.assert_refresh_cookie_attributes();
    assert_ne!(got.cookie.value, t0.refresh);
    assert_no_store(&got.headers);
    assert_token_body(&got);
    assert!(!got.text.contains(&t0.refresh));
}

#[tokio::test]
async fn rotation_never_extends_the_absolute_expiry_max_age_counts_down() {
    let server = start_with(|c| {
        c.tokens.access_token_expiry = Duration::from_secs(1);
        c.sessions.refresh_token_expiry = Duration::from_secs(60);
    })
    .await;
    let login = granted(server.try_login("user1", "password1").await, StatusCode::OK).await;
    let at_login = login.cookie.max_age();
    assert!((58..=60).contains(&at_login), "{}", login.cookie.raw);
    let expires_at = |sid: String| {
        let server = &server;
        async move {
            server
                .db()
                .int("SELECT expires_at FROM sessions WHERE id = $1", Some(&sid))
                .await
        }
    };
    let end = expires_at(login.tokens.sid.clone()).await;

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let first = granted(server.refresh(&login.tokens.refresh).await, StatusCode::OK).await;
    assert!(
        first.cookie.max_age() < at_login,
        "{} vs {at_login}",
        first.cookie.raw
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = granted(server.refresh(&first.tokens.refresh).await, StatusCode::OK).await;
    assert!(
        second.cookie.max_age() < first.cookie.max_age(),
        "{}",
        second.cookie.raw
    );
    assert_eq!(
        expires_at(login.tokens.sid.clone()).await,
        end,
        "the session's end never moves"
    );
}

#[tokio::test]
async fn logout_clears_the_cookie_with_the_same_name_and_path_and_max_age_0() {
    let server = start().await;
    let t = server.session(USER1_ID).await;
    let response = server.logout(&t.refresh).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    the_refresh_cookie(response.headers()).assert_clears_refresh_cookie();
    // Logging out without any session is idempotent and still clears the cookie.
    let response = server.auth_post("/api/auth/logout").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    the_refresh_cookie(response.headers()).assert_clears_refresh_cookie();
}

#[tokio::test]
async fn a_failed_refresh_clears_the_cookie() {
    let server = start().await;
    let response = server.refresh(&b64(&[9u8; 32])).await;
    expect_refresh_refused(response, "invalid_refresh_token").await;
}

/// The CSRF cases: what a cross-site attacker can make a browser send.
fn hostile_variants(
    server: &TestServer,
    path: &str,
) -> Vec<(&'static str, reqwest::RequestBuilder)> {
    let url = server.url(path);
    let c = &server.client;
    vec![
        ("no X-Requested-With", c.post(&url)),
        (
            "wrong X-Requested-With",
            c.post(&url).header("x-requested-with", "fetch"),
        ),
        (
            "Sec-Fetch-Site: cross-site",
            c.post(&url)
                .header(XRW.0, XRW.1)
                .header("sec-fetch-site", "cross-site"),
        ),
        (
            "Sec-Fetch-Site: same-site",
            c.post(&url)
                .header(XRW.0, XRW.1)
                .header("sec-fetch-site", "same-site"),
        ),
        (
            "foreign Origin",
            c.post(&url)
                .header(XRW.0, XRW.1)
                .header("origin", "https://evil.example"),
        ),
        (
            "Origin null",
            c.post(&url).header(XRW.0, XRW.1).header("origin", "null"),
        ),
        (
            "look-alike Origin",
            c.post(&url)
                .header(XRW.0, XRW.1)
                .header("origin", format!("{}.evil.example", server.base)),
        ),
    ]
}

async fn assert_all_refused(
    server: &TestServer,
    path: &str,
    cookie: Option<&str>,
    body: Option<serde_json::Value>,
) {
    for (case, mut request) in hostile_variants(server, path) {
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, format!("__Secure-refresh_token={cookie}"));
        }
        if let Some(body) = &body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        assert!(
            set_cookies(response.headers()).is_empty(),
            "{path} {case}: a refusal sets no cookie"
        );
        let err = expect_error(response, StatusCode::FORBIDDEN, "csrf_rejected").await;
        assert!(!err.message.is_empty(), "{path} {case}");
    }
}

#[tokio::test]
async fn csrf_a_refused_logout_leaves_the_session_working() {
    let server = start().await;
    let t = server.session(USER1_ID).await;
    assert_all_refused(&server, "/api/auth/logout", Some(&t.refresh), None).await;
    assert_all_refused(
        &server,
        "/api/auth/logout?scope=global",
        Some(&t.refresh),
        None,
    )
    .await;
    server.assert_access_works(&t.access, USER1_ID).await;
    server.refresh_ok(&t.refresh).await;
}

#[tokio::test]
async fn csrf_a_refused_refresh_does_not_rotate() {
    let server = start().await;
    let t = server.session(USER1_ID).await;
    assert_all_refused(&server, "/api/auth/refresh", Some(&t.refresh), None).await;
    assert_eq!(server.generation(&t.sid).await, Some(0), "nothing rotated");
    // The original token is still the current one (not merely within grace).
    server.refresh_ok(&t.refresh).await;
    assert_eq!(server.generation(&t.sid).await, Some(1));
}

#[tokio::test]
async fn csrf_a_refused_login_starts_no_session() {
    let server = start().await;
    let body = json!({ "username": "user1", "password": "password1" });
    assert_all_refused(&server, "/api/auth/login", None, Some(body)).await;
    let sessions = server.db().count("SELECT COUNT(*) FROM sessions").await;
    assert_eq!(sessions, 0);
}

#[tokio::test]
async fn csrf_a_refused_register_creates_no_account() {
    let server = start().await;
    let body = json!({ "username": "csrf_victim", "password": "long enough pass" });
    assert_all_refused(&server, "/api/auth/register", None, Some(body)).await;
    let users = server
        .db()
        .count("SELECT COUNT(*) FROM users WHERE username = 'csrf_victim'")
        .await;
    assert_eq!(users, 0);
}

#[tokio::test]
async fn csrf_same_origin_requests_pass_with_origin_and_sec_fetch_site() {
    let server = start().await;
    let t = server.session(USER1_ID).await;
    let response = server
        .auth_post("/api/auth/refresh")
        .header(
            header::COOKIE,
            format!("__Secure-refresh_token={}", t.refresh),
        )
        .header("origin", server.base.clone())
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    granted(response, StatusCode::OK).await;
}

#[tokio::test]
async fn csrf_a_configured_extra_origin_is_allowed_and_others_are_not() {
    let server =
        start_with(|c| c.network.allowed_origins = vec!["http://127.0.0.1:8081".into()]).await;
    let t = server.session(USER1_ID).await;
    let from = |origin: &'static str, cookie: String| {
        server
            .auth_post("/api/auth/refresh")
            .header(header::COOKIE, format!("__Secure-refresh_token={cookie}"))
            .header("origin", origin)
            .send()
    };
    expect_error(
        from("http://127.0.0.1:8082", t.refresh.clone())
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
        "csrf_rejected",
    )
    .await;
    granted(
        from("http://127.0.0.1:8081", t.refresh.clone())
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn the_cookie_endpoints_are_post_only_other_methods_get_a_json_405() {
    let server = start().await;
    for path in [
        "/api/auth/login",
        "/api/auth/refresh",
        "/api/auth/logout",
        "/api/auth/register",
    ] {
        for method in [Method::GET, Method::PUT, Method::DELETE] {
            let response = server
                .client
                .request(method.clone(), server.url(path))
                .header(XRW.0, XRW.1)
                .send()
                .await
                .unwrap();
            expect_error(
                response,
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
            )
            .await;
        }
        // A plain link or image (a GET without the custom header) gets the same 405.
        let response = server.get(path).send().await.unwrap();
        expect_error(
            response,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        )
        .await;
    }
}

#[tokio::test]
async fn no_cors_a_preflight_from_a_foreign_origin_gets_no_allow_origin() {
    let server = start().await;
    let response = server
        .client
        .request(Method::OPTIONS, server.url("/api/auth/refresh"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "x-requested-with")
        .send()
        .await
        .unwrap();
    assert!(!response.status().is_success(), "{}", response.status());
    for name in [
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "access-control-allow-headers",
    ] {
        assert!(response.headers().get(name).is_none(), "{name}");
    }
}
