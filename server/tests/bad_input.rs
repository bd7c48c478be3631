//! Bad input (checklist 7 and 19): malformed, mistyped, oversized or hostile requests get a 4xx
//! with a JSON `{error, message}` that says what is wrong — never a 500, never a panic, never a
//! state change — and the server keeps serving afterwards.

mod common;

use common::*;
use reqwest::header::{self, HeaderValue};
use reqwest::StatusCode;
use serde_json::json;

async fn post_login_raw(
    server: &TestServer,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    let mut request = server.auth_post("/api/auth/login").body(body);
    if let Some(ct) = content_type {
        request = request.header(header::CONTENT_TYPE, ct);
    }
    request.send().await.unwrap()
}

async fn assert_still_healthy(server: &TestServer) {
    let response = server.get("/api/health").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn malformed_json_is_a_400_that_says_so() {
    let server = start().await;
    for body in [
        "{",
        "not json",
        r#"{"username": "user1", "password": "password1""#,
        "",
        "\u{0}",
    ] {
        for path in ["/api/auth/login", "/api/auth/register"] {
            let response = server
                .auth_post(path)
                .header(header::CONTENT_TYPE, "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let err = expect_error(response, StatusCode::BAD_REQUEST, "bad_request").await;
            assert!(
                err.message.contains("not valid JSON"),
                "{path} {body:?}: {}",
                err.message
            );
        }
    }
    assert_still_healthy(&server).await;
}

#[tokio::test]
async fn wrong_types_and_missing_fields_are_a_422_naming_the_field() {
    let server = start().await;
    for (body, mentions) in [
        (
            json!({ "username": 1, "password": "password1" }),
            "username",
        ),
        (json!({ "username": "user1", "password": true }), "password"),
        (json!({ "username": "user1" }), "password"),
        (json!({ "password": "password1" }), "username"),
        (json!({}), "username"),
        (json!([]), "expected struct Credentials"),
        (
            json!("user1"),
            "invalid type: string \"user1\", expected struct Credentials",
        ),
        (
            json!(null),
            "invalid type: null, expected struct Credentials",
        ),
    ] {
        for path in ["/api/auth/login", "/api/auth/register"] {
            let response = server.auth_post(path).json(&body).send().await.unwrap();
            let err = expect_error(
                response,
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
            )
            .await;
            assert!(
                err.message.contains(mentions),
                "{path} {body}: {}",
                err.message
            );
        }
    }
}

#[tokio::test]
async fn a_body_that_is_not_declared_json_is_a_415() {
    let server = start().await;
    let body = r#"{"username":"user1","password":"password1"}"#;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data"),
    ] {
        let err = expect_error(
            post_login_raw(&server, content_type, body).await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        )
        .await;
        assert!(err.message.contains("application/json"), "{}", err.message);
    }
    // A charset parameter is fine.
    let ok = post_login_raw(&server, Some("application/json; charset=utf-8"), body).await;
    assert_eq!(ok.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_body_over_16_kib_is_a_413_whether_declared_or_chunked() {
    let server = start().await;
    let huge = format!(
        r#"{{"username":"user1","password":"{}"}}"#,
        "p".repeat(17 * 1024)
    );
    for path in [
        "/api/auth/login",
        "/api/auth/register",
        "/api/auth/refresh",
        "/api/me",
    ] {
        let response = server
            .client
            .post(server.url(path))
            .header(XRW.0, XRW.1)
            .header(header::CONTENT_TYPE, "application/json")
            .body(huge.clone())
            .send()
            .await
            .unwrap();
        expect_error(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    }
    // Without Content-Length (chunked), the limit holds while reading.
    let chunk = "p".repeat(17 * 1024);
    let body = format!(r#"{{"username":"user1","password":"{chunk}"}}"#);
    let request = format!(
        "POST /api/auth/login HTTP/1.1\r\nHost: {}\r\nX-Requested-With: XMLHttpRequest\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
         {:x}\r\n{body}\r\n0\r\n\r\n",
        server.addr,
        body.len()
    );
    let (status, text) = server.raw(request.as_bytes()).await;
    assert_eq!(status, 413, "{text}");
    assert!(text.contains(r#""error":"payload_too_large""#), "{text}");
    assert_still_healthy(&server).await;
}

#[tokio::test]
async fn overlong_usernames_and_passwords_at_sign_in_are_a_422_without_a_password_check() {
    let server = start().await;
    for (username, password, says) in [
        (
            "u".repeat(33),
            "password1".to_owned(),
            "Username must be at most 32",
        ),
        (
            "u".repeat(5000),
            "password1".to_owned(),
            "Username must be at most 32",
        ),
        (
            "user1".to_owned(),
            "p".repeat(257),
            "Password must be at most 256",
        ),
        (String::new(), "password1".to_owned(), "Enter a username"),
        (
            "user1".to_owned(),
            String::new(),
            "Enter a username and a password",
        ),
        ("   ".to_owned(), "password1".to_owned(), "Enter a username"),
    ] {
        let err = expect_error(
            server.try_login(&username, &password).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert!(err.message.contains(says), "{}", err.message);
    }
    // None of that counted as a failed attempt: user1 signs in normally.
    server.login(USER1).await;
}

#[tokio::test]
async fn garbage_refresh_cookies_are_a_401_invalid_refresh_token_never_a_500() {
    let server = start().await;
    let garbage = [
        "%%%".to_owned(),
        "x".repeat(10 * 1024),
        "!".repeat(43),
        "a".repeat(44),
        "a".repeat(42),
        String::new(),
        "\"quoted\"".to_owned(),
        // 43 base64url characters whose last one has stray low bits: not a canonical token.
        format!("{}B", "A".repeat(42)),
    ];
    for value in &garbage {
        let response = server
            .auth_post("/api/auth/refresh")
            .header(header::COOKIE, format!("__Secure-refresh_token={value}"))
            .send()
            .await
            .unwrap();
        expect_refresh_refused(response, "invalid_refresh_token").await;
        let response = server
            .auth_post("/api/auth/logout")
            .header(header::COOKIE, format!("__Secure-refresh_token={value}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::NO_CONTENT,
            "logout with garbage is still a logout"
        );
    }
    // Two cookies of the same name (refused as ambiguous, nothing cleared), and a cookie
    // header of raw non-ASCII bytes.
    let response = server
        .auth_post("/api/auth/refresh")
        .header(
            header::COOKIE,
            "__Secure-refresh_token=a; __Secure-refresh_token=b",
        )
        .send()
        .await
        .unwrap();
    let refused = expect_error(
        response,
        StatusCode::BAD_REQUEST,
        "multiple_refresh_cookies",
    )
    .await;
    assert!(set_cookies(&refused.headers).is_empty());
    let response = server
        .auth_post("/api/auth/refresh")
        .header(
            header::COOKIE,
            HeaderValue::from_bytes(b"__Secure-refresh_token=\xff\xfe").unwrap(),
        )
        .send()
        .await
        .unwrap();
    expect_refresh_refused(response, "invalid_refresh_token").await;
    assert_still_healthy(&server).await;
}

#[tokio::test]
async fn garbage_authorization_headers_are_a_401_invalid_token() {
    let server = start().await;
    let session = server.session(USER1_ID).await;
    let values: Vec<HeaderValue> = vec![
        HeaderValue::from_static("Bearer"),
        HeaderValue::from_static("Bearer "),
        HeaderValue::from_static("Basic dXNlcjE6cGFzc3dvcmQx"),
        HeaderValue::from_static("Basic xyz"),
        HeaderValue::from_static("Bearer a.b"),
        HeaderValue::from_static("Bearer a.b.c"),
        HeaderValue::from_static("Bearer ..."),
        HeaderValue::from_static("Bearer e30.e30.e30"),
        HeaderValue::from_str(&format!("Token {}", session.access)).unwrap(),
        HeaderValue::from_str(&format!("Bearer {}", "A".repeat(8 * 1024))).unwrap(),
        HeaderValue::from_str(&format!("Bearer {}x", session.access)).unwrap(),
        HeaderValue::from_bytes(b"Bearer \xc3\xa9\xff.\xfe.\xfd").unwrap(),
        HeaderValue::from_static("\t"),
    ];
    for value in values {
        let response = server
            .get("/api/me")
            .header(header::AUTHORIZATION, value.clone())
            .send()
            .await
            .unwrap();
        expect_invalid_token(response).await;
    }
    // The scheme is case-insensitive (RFC 7235), so this one is fine.
    let response = server
        .get("/api/me")
        .header(header::AUTHORIZATION, format!("bearer {}", session.access))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_still_healthy(&server).await;
}

#[tokio::test]
async fn unknown_api_paths_are_a_json_404_not_the_spa() {
    let server = start().await;
    for path in [
        "/api/nope",
        "/api/auth/nope",
        "/api",
        "/api/",
        "/api/sessions/",
        "/api/me/extra",
    ] {
        let response = server.get(path).send().await.unwrap();
        expect_error(response, StatusCode::NOT_FOUND, "not_found").await;
    }
    let response = server.auth_post("/api/nope").send().await.unwrap();
    expect_error(response, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn known_api_paths_with_the_wrong_method_are_a_json_405() {
    let server = start().await;
    for (method, path) in [
        (reqwest::Method::POST, "/api/me"),
        (reqwest::Method::DELETE, "/api/sessions"),
        (reqwest::Method::GET, "/api/sessions/some-id"),
        (reqwest::Method::POST, "/api/health"),
    ] {
        let response = server
            .client
            .request(method, server.url(path))
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
}

#[tokio::test]
async fn revoking_someone_elses_session_is_a_404_and_changes_nothing() {
    let server = start().await;
    let mine = server.session(USER1_ID).await;
    let theirs = server.session(USER2_ID).await;
    let response = server
        .client
        .delete(server.url(&format!("/api/sessions/{}", theirs.sid)))
        .bearer_auth(&mine.access)
        .send()
        .await
        .unwrap();
    expect_error(response, StatusCode::NOT_FOUND, "not_found").await;
    server.assert_access_works(&theirs.access, USER2_ID).await;
    server.refresh_ok(&theirs.refresh).await;
}

#[tokio::test]
async fn revoking_a_nonexistent_or_garbled_session_id_is_a_json_4xx() {
    let server = start().await;
    let mine = server.session(USER1_ID).await;
    let long = "x".repeat(4000);
    for id in [
        "does-not-exist",
        "%27%20OR%201%3D1--",
        long.as_str(),
        "%00",
        "%E2%82%AC",
    ] {
        let response = server
            .client
            .delete(server.url(&format!("/api/sessions/{id}")))
            .bearer_auth(&mine.access)
            .send()
            .await
            .unwrap();
        expect_error(response, StatusCode::NOT_FOUND, "not_found").await;
    }
    // Invalid UTF-8 after percent-decoding.
    let response = server
        .client
        .delete(server.url("/api/sessions/%FF%FE"))
        .bearer_auth(&mine.access)
        .send()
        .await
        .unwrap();
    let status = response.status();
    assert!(
        status == StatusCode::NOT_FOUND || status == StatusCode::BAD_REQUEST,
        "{status}"
    );
    let code = if status == StatusCode::NOT_FOUND {
        "not_found"
    } else {
        "bad_request"
    };
    expect_error(response, status, code).await;
    server.assert_access_works(&mine.access, USER1_ID).await;
}

#[tokio::test]
async fn a_bad_logout_scope_is_a_json_4xx_and_logs_nobody_out() {
    let server = start().await;
    let t = server.session(USER1_ID).await;
    for query in [
        "scope=everything",
        "scope=global&scope=session",
        "scope=%FF",
    ] {
        let response = server
            .auth_post(&format!("/api/auth/logout?{query}"))
            .header(
                header::COOKIE,
                format!("__Secure-refresh_token={}", t.refresh),
            )
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert!(status.is_client_error(), "{query}: {status}");
        let code = if status == StatusCode::BAD_REQUEST {
            "bad_request"
        } else {
            "validation_failed"
        };
        let err = expect_error(response, status, code).await;
        assert!(err.message.contains("scope"), "{query}: {}", err.message);
    }
    server.assert_access_works(&t.access, USER1_ID).await;
    server.refresh_ok(&t.refresh).await;
}

#[tokio::test]
async fn a_nul_byte_in_the_sign_in_name_is_a_wrong_password_not_a_server_error() {
    // PostgreSQL refuses text with NUL; the server must never pass one on.
    let server = start().await;
    let response = server.try_login("user1\u{0}", "password1").await;
    expect_error(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let response = server.try_login("user1\u{0}", "password1").await;
    expect_error(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}
