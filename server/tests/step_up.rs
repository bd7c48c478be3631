//! Step-up (RFC 9470): access tokens say when and how the person signed in (`auth_time`,
//! `amr`); dangerous actions need that to be within `REAUTH_MAX_AGE`, and answer the exact
//! challenge otherwise; `POST /api/auth/reauthenticate` renews it for the same session.
//! The server runs on a manual clock, so "eleven minutes later" takes no time.

mod common;

use std::time::Duration;

use common::*;
use reqwest::{header, StatusCode};
use serde_json::{json, Value};
use tokenpair_server::clock::Clock;

const MAX_AGE: Duration = Duration::from_secs(600);
const CHALLENGE: &str = "Bearer error=\"insufficient_user_authentication\", error_description=\"This action needs a recent sign-in: confirm it is you, then try again.\", max_age=600";

async fn server_on(clock: &Clock) -> TestServer {
    start_on_clock(clock.clone(), |c| {
        c.sessions.reauth.max_age = MAX_AGE;
    })
    .await
}

fn clock() -> Clock {
    Clock::manual(tokenpair_server::db::now_ms())
}

async fn change_password(
    server: &TestServer,
    access: &str,
    current: &str,
    new: &str,
) -> reqwest::Response {
    server
        .auth_post("/api/account/password")
        .bearer_auth(access)
        .json(&json!({"current_password": current, "new_password": new}))
        .send()
        .await
        .unwrap()
}

async fn revoke(server: &TestServer, access: &str, sid: &str) -> reqwest::Response {
    server
        .client
        .delete(server.url(&format!("/api/sessions/{sid}")))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_password_sign_in_carries_auth_time_and_amr_pwd_and_refreshing_keeps_the_original_auth_time(
) {
    let clock = clock();
    let server = server_on(&clock).await;
    let signed_in = server.login(USER1).await;
    let claims = claims_of(&signed_in.access);
    let auth_time = claims["auth_time"].as_u64().expect("auth_time");
    assert_eq!(auth_time, u64::try_from(clock.now_ms() / 1000).unwrap());
    assert_eq!(claims["amr"], json!(["pwd"]));

    clock.advance(Duration::from_secs(120));
    let refreshed = server.refresh_ok(&signed_in.refresh).await;
    let claims = claims_of(&refreshed.access);
    assert_eq!(
        claims["auth_time"],
        json!(auth_time),
        "a refresh is not a sign-in"
    );
    assert_eq!(claims["amr"], json!(["pwd"]));
    // Still recent two minutes on: a dangerous action goes through.
    let other = server.session(USER1_ID).await;
    assert_eq!(
        revoke(&server, &refreshed.access, &other.sid)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn every_dangerous_action_is_refused_with_the_exact_challenge_once_the_sign_in_is_older_than_max_age_and_nothing_changes(
) {
    let clock = clock();
    let server = server_on(&clock).await;
    let me = server.login(USER1).await;
    let other = server.session(USER1_ID).await;
    clock.advance(MAX_AGE + Duration::from_secs(1));

    // Ending another device's session.
    assert_step_up_required(revoke(&server, &me.access, &other.sid).await, CHALLENGE).await;
    // Changing the password (even with the right current password).
    assert_step_up_required(
        change_password(&server, &me.access, "password1", "a new passphrase").await,
        CHALLENGE,
    )
    .await;
    // Signing out everywhere (authorised by the refresh cookie: the session's own sign-in).
    let response = server.logout_everywhere(&me.refresh).await;
    assert!(
        set_cookies(response.headers()).is_empty(),
        "a refused sign-out keeps the cookie"
    );
    assert_step_up_required(response, CHALLENGE).await;

    // Nothing changed: both sessions live, the old password still signs in.
    server.assert_access_works(&me.access, USER1_ID).await;
    server.assert_access_works(&other.access, USER1_ID).await;
    server.refresh_ok(&other.refresh).await;
    server.login(USER1).await;
    // Ending one's own session is a sign-out, not a dangerous action.
    let own = server.login(USER1).await;
    clock.advance(MAX_AGE + Duration::from_secs(1));
    assert_eq!(
        revoke(&server, &own.access, &own.sid).await.status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn reauthenticating_with_the_password_gives_a_fresh_auth_time_for_the_same_session_without_a_cookie_and_the_action_then_passes(
) {
    let clock = clock();
    let server = server_on(&clock).await;
    let me = server.login(USER1).await;
    let other = server.session(USER1_ID).await;
    clock.advance(MAX_AGE + Duration::from_secs(60));
    assert_step_up_required(revoke(&server, &me.access, &other.sid).await, CHALLENGE).await;

    let generation = server.generation(&me.sid).await;
    let response = server
        .reauthenticate(&me.access, json!({"password": "password1"}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(set_cookies(response.headers()).is_empty(), "no new cookie");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["session_id"], json!(me.sid), "same session");
    assert_eq!(body["token_type"], "Bearer");
    let fresh = body["access_token"].as_str().unwrap();
    let claims = claims_of(fresh);
    assert_eq!(claims["sid"], json!(me.sid));
    assert_eq!(claims["auth_time"], json!(clock.now_ms() / 1000));
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert_eq!(
        server.generation(&me.sid).await,
        generation,
        "no rotation, no new family"
    );
    assert_eq!(
        server
            .db()
            .count("SELECT COUNT(*) FROM sessions WHERE user_id = 1")
            .await,
        2
    );

    // The old token still carries the old auth_time: it stays refused.
    assert_step_up_required(revoke(&server, &me.access, &other.sid).await, CHALLENGE).await;
    assert_eq!(
        revoke(&server, fresh, &other.sid).await.status(),
        StatusCode::NO_CONTENT
    );
    // The session's own authentication moved too: the refresh cookie may now sign out
    // everywhere, and a refresh carries the new auth_time.
    let refreshed = server.refresh_ok(&me.refresh).await;
    assert_eq!(
        claims_of(&refreshed.access)["auth_time"],
        json!(clock.now_ms() / 1000)
    );
    assert_eq!(
        server.logout_everywhere(&refreshed.refresh).await.status(),
        StatusCode::NO_CONTENT
    );

    let kinds = server
        .db()
        .rows(
            "SELECT kind, detail FROM security_events WHERE kind = 'reauthenticated'",
            None,
        )
        .await;
    assert_eq!(kinds.len(), 1);
}

#[tokio::test]
async fn a_wrong_password_does_not_reauthenticate_and_is_recorded_and_counted() {
    let clock = clock();
    let server = server_on(&clock).await;
    let me = server.login(USER1).await;
    clock.advance(MAX_AGE * 2);
    let response = server
        .reauthenticate(&me.access, json!({"password": "wrong-password"}))
        .await;
    expect_error(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let failed = server
        .db()
        .count("SELECT COUNT(*) FROM security_events WHERE kind = 'reauthentication_failed' AND detail = 'wrong_password'")
        .await;
    assert_eq!(failed, 1);
    assert_step_up_required(server.logout_everywhere(&me.refresh).await, CHALLENGE).await;
    // Neither both nor nothing.
    expect_error(
        server.reauthenticate(&me.access, json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    // No session at all: nothing to re-authenticate.
    let response = server
        .auth_post("/api/auth/reauthenticate")
        .json(&json!({"password": "password1"}))
        .send()
        .await
        .unwrap();
    expect_error(response, StatusCode::UNAUTHORIZED, "invalid_token").await;
}

#[tokio::test]
async fn reauthentication_works_through_the_refresh_cookie_when_the_access_token_has_expired() {
    let clock = clock();
    let server = server_on(&clock).await;
    let me = server.login(USER1).await;
    clock.advance(MAX_AGE * 2);
    let response = server
        .auth_post("/api/auth/reauthenticate")
        .header(
            header::COOKIE,
            format!("__Secure-refresh_token={}", me.refresh),
        )
        .json(&json!({"password": "password1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["session_id"], json!(me.sid));
}

#[tokio::test]
async fn changing_the_password_ends_every_other_session_keeps_this_one_and_the_old_password_stops_working(
) {
    let clock = clock();
    let server = server_on(&clock).await;
    let me = server.login(USER1).await;
    let phone = server.session(USER1_ID).await;
    let laptop = server.session(USER1_ID).await;
    let someone_else = server.session(USER2_ID).await;

    // A wrong current password changes nothing.
    expect_error(
        change_password(&server, &me.access, "not-my-password", "a new passphrase").await,
        StatusCode::FORBIDDEN,
        "invalid_credentials",
    )
    .await;
    // A new password that breaks the rules: refused before any check.
    expect_error(
        change_password(&server, &me.access, "password1", "short").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    server.assert_access_works(&phone.access, USER1_ID).await;

    let response = change_password(&server, &me.access, "password1", "a new passphrase").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"other_sessions_ended": 2}));

    server.assert_access_works(&me.access, USER1_ID).await;
    server.refresh_ok(&me.refresh).await;
    for ended in [&phone, &laptop] {
        expect_invalid_token(server.me(&ended.access).await).await;
        expect_refresh_refused(server.refresh(&ended.refresh).await, "session_expired").await;
        assert_eq!(
            server.revoked_reason(&ended.sid).await.as_deref(),
            Some("password_changed")
        );
    }
    server
        .assert_access_works(&someone_else.access, USER2_ID)
        .await;
    expect_error(
        server.try_login("user1", "password1").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    server.login(("user1", "a new passphrase")).await;
    let detail = server
        .db()
        .text(
            "SELECT detail FROM security_events WHERE kind = 'password_changed'",
            None,
        )
        .await;
    assert_eq!(detail.as_deref(), Some("2"));
}

#[tokio::test]
async fn a_dpop_bound_session_is_challenged_with_the_dpop_scheme() {
    use tokenpair_testkit::dpop::ProofKey;
    let clock = clock();
    let server = server_on(&clock).await;
    let key = ProofKey::ed25519();
    let login_url = server.url("/api/auth/login");
    let response = server
        .auth_post("/api/auth/login")
        .header("DPoP", key.proof("POST", &login_url, None, None))
        .json(&json!({"username": "user1", "password": "password1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let tokens = granted(response, StatusCode::OK).await.tokens;
    clock.advance(MAX_AGE * 2);
    let response = server.logout_everywhere(&tokens.refresh).await;
    assert_step_up_required(response, &CHALLENGE.replacen("Bearer", "DPoP", 1)).await;
}
