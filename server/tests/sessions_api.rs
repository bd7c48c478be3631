//! `/api/sessions` and the ways a session ends (checklist 6, 19): the list of signed-in devices,
//! revoking one, signing out here or everywhere — each ends access and refresh at once, and
//! touches nothing else.

mod common;

use common::*;
use reqwest::{header, StatusCode};
use serde_json::Value;

async fn list(server: &TestServer, access: &str) -> Vec<Value> {
    let response = server
        .get_bearer("/api/sessions", access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    response.json().await.unwrap()
}

async fn delete(server: &TestServer, access: &str, sid: &str) -> reqwest::Response {
    server
        .client
        .delete(server.url(&format!("/api/sessions/{sid}")))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_list_shows_the_users_live_sessions_newest_first_and_marks_the_current_one() {
    let server = start().await;
    let a = server.session(USER1_ID).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let b = server.login(USER1).await; // with reqwest's (empty) user agent: none recorded
    server.session(USER2_ID).await; // someone else's: never listed
    let sessions = list(&server, &a.access).await;
    let ids: Vec<&str> = sessions.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [b.sid.as_str(), a.sid.as_str()]);
    assert_eq!(sessions[0]["current"], false);
    assert_eq!(sessions[1]["current"], true);
    assert_eq!(sessions[1]["user_agent"], "integration-test");
    assert!(sessions[0]["user_agent"].is_null(), "{}", sessions[0]);
    for s in &sessions {
        for field in ["created_at", "last_used_at", "expires_at"] {
            let t = s[field].as_str().unwrap();
            assert!(
                t.ends_with('Z') && t.len() == 20,
                "RFC 3339 UTC: {field} = {t}"
            );
        }
    }
}

#[tokio::test]
async fn the_list_records_the_user_agent_of_a_sign_in_and_names_the_device() {
    let server = start().await;
    let ua = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
    let response = server
        .auth_post("/api/auth/login")
        .header(header::USER_AGENT, ua)
        .json(&serde_json::json!({ "username": "user2", "password": "password2" }))
        .send()
        .await
        .unwrap();
    let t = granted(response, StatusCode::OK).await.tokens;
    let sessions = list(&server, &t.access).await;
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["user_agent"], ua);
    assert_eq!(sessions[0]["device"], "Firefox on Linux");
}

#[tokio::test]
async fn revoking_another_device_ends_its_access_and_refresh_and_keeps_mine() {
    let server = start().await;
    let mine = server.session(USER1_ID).await;
    let other = server.session(USER1_ID).await;
    assert_eq!(
        delete(&server, &mine.access, &other.sid).await.status(),
        StatusCode::NO_CONTENT
    );

    expect_invalid_token(server.me(&other.access).await).await;
    expect_refresh_refused(server.refresh(&other.refresh).await, "session_expired").await;
    assert_eq!(
        server.revoked_reason(&other.sid).await.as_deref(),
        Some("revoked")
    );
    let remaining = list(&server, &mine.access).await;
    assert_eq!(remaining.len(), 1);
    assert_eq!(remaining[0]["id"], mine.sid.as_str());
    server.refresh_ok(&mine.refresh).await;

    // Revoking it again: it is no longer an active session.
    expect_error(
        delete(&server, &mine.access, &other.sid).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn revoking_the_current_session_signs_this_device_out() {
    let server = start().await;
    let mine = server.session(USER1_ID).await;
    assert_eq!(
        delete(&server, &mine.access, &mine.sid).await.status(),
        StatusCode::NO_CONTENT
    );
    expect_invalid_token(server.me(&mine.access).await).await;
    expect_refresh_refused(server.refresh(&mine.refresh).await, "session_expired").await;
}

#[tokio::test]
async fn another_users_session_cannot_be_revoked_or_seen() {
    let server = start().await;
    let mine = server.session(USER1_ID).await;
    let theirs = server.session(USER2_ID).await;
    expect_error(
        delete(&server, &mine.access, &theirs.sid).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(server.revoked_reason(&theirs.sid).await, None);
    let visible = list(&server, &mine.access).await;
    assert!(visible.iter().all(|s| s["id"] != theirs.sid.as_str()));
    server.assert_access_works(&theirs.access, USER2_ID).await;
}

#[tokio::test]
async fn logout_with_only_the_access_token_ends_that_session() {
    // A client that lost its cookie can still sign out with the Bearer token.
    let server = start().await;
    let t = server.session(USER1_ID).await;
    let response = server
        .auth_post("/api/auth/logout")
        .bearer_auth(&t.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    the_refresh_cookie(response.headers()).assert_clears_refresh_cookie();
    assert_eq!(
        server.revoked_reason(&t.sid).await.as_deref(),
        Some("logout")
    );
    expect_invalid_token(server.me(&t.access).await).await;
}

#[tokio::test]
async fn global_logout_ends_every_session_of_the_user_and_only_theirs() {
    let server = start().await;
    let here = server.session(USER1_ID).await;
    let there = server.session(USER1_ID).await;
    let other_user = server.session(USER2_ID).await;
    let response = server.logout_everywhere(&here.refresh).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    the_refresh_cookie(response.headers()).assert_clears_refresh_cookie();
    for t in [&here, &there] {
        expect_invalid_token(server.me(&t.access).await).await;
        expect_refresh_refused(server.refresh(&t.refresh).await, "session_expired").await;
        assert_eq!(
            server.revoked_reason(&t.sid).await.as_deref(),
            Some("logout_global")
        );
    }
    server
        .assert_access_works(&other_user.access, USER2_ID)
        .await;
    server.refresh_ok(&other_user.refresh).await;
}

#[tokio::test]
async fn logout_with_someone_elses_bearer_token_but_my_cookie_ends_only_the_cookies_session() {
    // The cookie decides which session ends; a Bearer token is only the fallback.
    let server = start().await;
    let mine = server.session(USER1_ID).await;
    let theirs = server.session(USER2_ID).await;
    let response = server
        .auth_post("/api/auth/logout")
        .header(
            header::COOKIE,
            format!("__Secure-refresh_token={}", mine.refresh),
        )
        .bearer_auth(&theirs.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        server.revoked_reason(&mine.sid).await.as_deref(),
        Some("logout")
    );
    server.assert_access_works(&theirs.access, USER2_ID).await;
}
