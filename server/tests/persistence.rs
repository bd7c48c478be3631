//! Sessions live in the database (checklist 12, 6): a restart on the same file loses no session
//! and resurrects no revoked one.

mod common;

use common::*;
use reqwest::StatusCode;

#[tokio::test]
async fn after_a_restart_the_refresh_cookie_still_refreshes_and_the_access_token_still_works() {
    let server = start().await;
    let t0 = server.login(USER1).await;
    let t1 = server.refresh_ok(&t0.refresh).await;

    let server = server.restart().await;
    server.assert_access_works(&t1.access, USER1_ID).await;
    let t2 = server.refresh_ok(&t1.refresh).await;
    server.assert_access_works(&t2.access, USER1_ID).await;
    assert_eq!(
        server.generation(&t0.sid).await,
        Some(2),
        "the chain carried on where it was"
    );
}

#[tokio::test]
async fn a_session_revoked_before_a_restart_stays_revoked_and_its_access_token_stays_refused() {
    let server = start().await;
    let logged_out = server.session(USER1_ID).await;
    let revoked = server.session(USER1_ID).await;
    let keeper = server.session(USER1_ID).await;
    assert_eq!(
        server.logout(&logged_out.refresh).await.status(),
        StatusCode::NO_CONTENT
    );
    let response = server
        .client
        .delete(server.url(&format!("/api/sessions/{}", revoked.sid)))
        .bearer_auth(&keeper.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    let server = server.restart().await;
    for dead in [&logged_out, &revoked] {
        // The access tokens have not expired (5 min), yet they are refused after the restart.
        expect_invalid_token(server.me(&dead.access).await).await;
        expect_refresh_refused(server.refresh(&dead.refresh).await, "session_expired").await;
    }
    server.assert_access_works(&keeper.access, USER1_ID).await;
    server.refresh_ok(&keeper.refresh).await;
}

#[tokio::test]
async fn a_family_revoked_for_reuse_stays_revoked_after_a_restart() {
    let server = start().await;
    let t0 = server.session(USER1_ID).await;
    let t1 = server.refresh_ok(&t0.refresh).await;
    let t2 = server.refresh_ok(&t1.refresh).await;
    expect_refresh_refused(server.refresh(&t0.refresh).await, "refresh_token_reused").await;

    let server = server.restart().await;
    expect_invalid_token(server.me(&t2.access).await).await;
    expect_refresh_refused(server.refresh(&t2.refresh).await, "refresh_token_reused").await;
}

#[tokio::test]
async fn accounts_survive_a_restart_and_the_demo_accounts_are_not_seeded_twice() {
    let server = start_fresh_with(|_| {}).await;
    let got = granted(
        server.try_register("survivor", "long enough pass").await,
        StatusCode::CREATED,
    )
    .await;
    let server = server.restart().await;
    let users = server.db().count("SELECT COUNT(*) FROM users").await;
    assert_eq!(users, 3, "user1, user2, survivor");
    let again = server.login(("survivor", "long enough pass")).await;
    assert_eq!(again.user_id, got.tokens.user_id);
}

#[tokio::test]
async fn without_a_configured_secret_access_tokens_and_sessions_both_survive_a_restart() {
    let server = start_with(|c| c.tokens.access_token_secret = None).await;
    let t = server.session(USER1_ID).await;
    server.assert_access_works(&t.access, USER1_ID).await;

    let server = server.restart().await;
    // The Ed25519 keys are in the database: the token signed before the restart still works.
    server.assert_access_works(&t.access, USER1_ID).await;
    let fresh = server.refresh_ok(&t.refresh).await;
    server.assert_access_works(&fresh.access, USER1_ID).await;
}
