//! Passkeys (WebAuthn) after they are added: adding and deleting need a recent sign-in (RFC
//! 9470 step-up) and pass after a re-authentication, with a password or a passkey of the
//! account's own; renaming; another user's passkey is not found; a cloned authenticator is
//! caught by its counter; expired ceremonies are refused and pruned; a server reached by IP
//! address has passkeys off. Same software authenticator as `passkeys.rs`.

mod common;
#[path = "common/passkey.rs"]
mod passkey;

use std::time::Duration;

use common::*;
use passkey::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokenpair_server::clock::Clock;

const MAX_AGE: Duration = Duration::from_secs(60);
const CHALLENGE: &str = "Bearer error=\"insufficient_user_authentication\", error_description=\"This action needs a recent sign-in: confirm it is you, then try again.\", max_age=60";

fn clock() -> Clock {
    Clock::manual(tokenpair_server::db::now_ms())
}

async fn server_on(clock: &Clock) -> TestServer {
    start_on_clock(clock.clone(), |c| {
        passkeys_on_localhost(c);
        c.sessions.reauth.max_age = MAX_AGE;
    })
    .await
}

async fn delete(server: &TestServer, access: &str, id: &str) -> reqwest::Response {
    server
        .client
        .delete(server.url(&format!("/api/passkeys/{id}")))
        .header(XRW.0, XRW.1)
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
}

async fn rename(server: &TestServer, access: &str, id: &str, name: Value) -> reqwest::Response {
    server
        .client
        .patch(server.url(&format!("/api/passkeys/{id}")))
        .header(XRW.0, XRW.1)
        .bearer_auth(access)
        .json(&json!({ "name": name }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn adding_and_deleting_a_passkey_need_a_recent_sign_in_and_pass_after_reauthenticating() {
    let clock = clock();
    let server = server_on(&clock).await;
    let me = server.login(USER1).await;
    let options = server.registration_options_ok(&me.access).await;
    let mut key = Authenticator::new();
    let credential = key.create(&options);
    clock.advance(MAX_AGE + Duration::from_secs(1));

    // Too old: the exact challenge, and nothing added (the ceremony waits).
    let body = json!({"name": "Laptop", "credential": credential});
    assert_step_up_required(server.add_passkey(&me.access, &body).await, CHALLENGE).await;
    assert_step_up_required(
        server.passkey_registration_options(&me.access).await,
        CHALLENGE,
    )
    .await;
    assert_eq!(server.db().count("SELECT COUNT(*) FROM passkeys").await, 0);

    let response = server
        .reauthenticate(&me.access, json!({"password": "password1"}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let fresh: Value = response.json().await.unwrap();
    let fresh = fresh["access_token"].as_str().unwrap().to_owned();
    let response = server.add_passkey(&fresh, &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let added: Value = response.json().await.unwrap();
    let id = added["id"].as_str().unwrap();

    // Renaming is not dangerous: the old token will do.
    let response = rename(&server, &me.access, id, json!("Work laptop")).await;
    assert_eq!(response.status(), StatusCode::OK);

    clock.advance(MAX_AGE + Duration::from_secs(1));
    assert_step_up_required(delete(&server, &fresh, id).await, CHALLENGE).await;
    assert_eq!(server.db().count("SELECT COUNT(*) FROM passkeys").await, 1);
    let response = server
        .reauthenticate(&fresh, json!({"password": "password1"}))
        .await;
    let fresh: Value = response.json().await.unwrap();
    let fresh = fresh["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        delete(&server, &fresh, id).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(server.db().count("SELECT COUNT(*) FROM passkeys").await, 0);
    assert_eq!(
        events(&server, "passkey_deleted").await,
        [Some("Work laptop".into())]
    );
    // Deleted: it signs nobody in any more.
    let options = server.passkey_options().await;
    expect_error(
        server.passkey_sign_in(&key.get(&options)).await,
        StatusCode::BAD_REQUEST,
        "passkey_refused",
    )
    .await;
}

#[tokio::test]
async fn renaming_trims_the_name_records_it_and_refuses_a_bad_name_or_someone_elses_passkey() {
    let server = server().await;
    let me = server.session(USER1_ID).await;
    let added = server
        .register_passkey(&me.access, &mut Authenticator::new(), "Laptop")
        .await;
    let id = added["id"].as_str().unwrap();

    let response = rename(&server, &me.access, id, json!("  Phone  ")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let renamed: Value = response.json().await.unwrap();
    assert_eq!(renamed["name"], "Phone");
    assert_eq!(renamed["id"], added["id"]);
    assert_eq!(renamed["created_at"], added["created_at"]);
    assert_eq!(
        events(&server, "passkey_renamed").await,
        [Some("Phone".into())]
    );

    for bad in [
        json!(""),
        json!("   "),
        json!("x".repeat(65)),
        json!("a\nb"),
    ] {
        expect_error(
            rename(&server, &me.access, id, bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
    }
    let other = server.session(USER2_ID).await;
    for (access, id) in [
        (&other.access, id),
        (&me.access, "AAAAAAAAAAAAAAAAAAAAAA"),
        (&me.access, "not%20an%20id"),
    ] {
        expect_error(
            rename(&server, access, id, json!("Mine now")).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    assert_eq!(server.passkeys(&me.access).await[0]["name"], "Phone");
    assert_eq!(events(&server, "passkey_renamed").await.len(), 1);
}

#[tokio::test]
async fn deleting_another_users_passkey_is_not_found_and_changes_nothing() {
    let server = server().await;
    let me = server.session(USER1_ID).await;
    let mut key = Authenticator::new();
    let added = server
        .register_passkey(&me.access, &mut key, "Laptop")
        .await;
    let id = added["id"].as_str().unwrap();
    let other = server.session(USER2_ID).await;
    for (access, id) in [(&other.access, id), (&me.access, "AAAAAAAAAAAAAAAAAAAAAA")] {
        expect_error(
            delete(&server, access, id).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    assert_eq!(server.passkeys(&me.access).await.len(), 1);
    assert!(events(&server, "passkey_deleted").await.is_empty());
    let options = server.passkey_options().await;
    granted(
        server.passkey_sign_in(&key.get(&options)).await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn reauthenticating_with_a_passkey_gives_amr_hwk_user_and_a_fresh_auth_time_but_not_with_someone_elses(
) {
    let clock = clock();
    let server = server_on(&clock).await;
    let me = server.login(USER1).await;
    let mut mine = Authenticator::new();
    server
        .register_passkey(&me.access, &mut mine, "Laptop")
        .await;
    let other = server.session(USER2_ID).await;
    let mut theirs = Authenticator::new();
    server
        .register_passkey(&other.access, &mut theirs, "Theirs")
        .await;
    clock.advance(MAX_AGE * 3);
    assert_step_up_required(
        server.passkey_registration_options(&me.access).await,
        CHALLENGE,
    )
    .await;
    let before = snapshot(&server).await;

    // Another account's passkey: refused, recorded, nothing changed.
    let options = server.passkey_options().await;
    let response = server
        .reauthenticate(&me.access, json!({"credential": theirs.get(&options)}))
        .await;
    let error = expect_error(response, StatusCode::BAD_REQUEST, "passkey_refused").await;
    assert_eq!(error.message, "This passkey belongs to another account.");
    assert_eq!(snapshot(&server).await, before);
    assert_eq!(
        events(&server, "reauthentication_failed").await,
        [Some("passkey_refused".into())]
    );
    // Nor anything that is not one.
    let response = server
        .reauthenticate(&me.access, json!({"credential": {"id": "x"}}))
        .await;
    expect_error(response, StatusCode::BAD_REQUEST, "passkey_refused").await;
    assert_step_up_required(
        server.passkey_registration_options(&me.access).await,
        CHALLENGE,
    )
    .await;

    // One's own: a new access token for the same session, amr hwk+user, auth_time now.
    let options = server.passkey_options().await;
    let response = server
        .reauthenticate(&me.access, json!({"credential": mine.get(&options)}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(set_cookies(response.headers()).is_empty(), "no new cookie");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["session_id"], json!(me.sid));
    let fresh = body["access_token"].as_str().unwrap();
    let claims = claims_of(fresh);
    assert_eq!(claims["amr"], json!(["hwk", "user"]));
    assert_eq!(claims["auth_time"], json!(clock.now_ms() / 1000));
    assert_eq!(
        events(&server, "reauthenticated").await,
        [Some("hwk user".into())]
    );
    let response = server.passkey_registration_options(fresh).await;
    assert_eq!(response.status(), StatusCode::OK);
    // The refresh keeps the passkey's amr.
    let refreshed = server.refresh_ok(&me.refresh).await;
    assert_eq!(claims_of(&refreshed.access)["amr"], json!(["hwk", "user"]));
}

#[tokio::test]
async fn a_cloned_authenticator_whose_counter_does_not_go_up_is_refused_and_recorded() {
    let server = server().await;
    let me = server.session(USER1_ID).await;
    let mut original = Authenticator::token();
    server
        .register_passkey(&me.access, &mut original, "Security key")
        .await;
    let mut clone = original.copy();

    let options = server.passkey_options().await;
    granted(
        server.passkey_sign_in(&original.get(&options)).await,
        StatusCode::OK,
    )
    .await;
    let before = snapshot(&server).await;
    assert_eq!(before.2[0].1, 1);

    // The copy signs with the counter the original already used.
    let options = server.passkey_options().await;
    let response = server.passkey_sign_in(&clone.get(&options)).await;
    let error = expect_error(response, StatusCode::BAD_REQUEST, "passkey_refused").await;
    assert!(error.message.contains("counter"), "{}", error.message);
    assert_eq!(
        snapshot(&server).await,
        before,
        "no session, the counter stays"
    );
    assert_eq!(
        events(&server, "passkey_clone_suspected").await,
        [Some("Security key".into())]
    );
    let owner = server
        .db()
        .count("SELECT user_id FROM security_events WHERE kind = 'passkey_clone_suspected'")
        .await;
    assert_eq!(owner, USER1_ID);
    // The original goes on working.
    let options = server.passkey_options().await;
    granted(
        server.passkey_sign_in(&original.get(&options)).await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn expired_ceremonies_are_refused_and_pruned() {
    let clock = clock();
    let server = server_on(&clock).await;
    let me = server.session(USER1_ID).await;
    let mut key = Authenticator::new();
    server
        .register_passkey(&me.access, &mut key, "Laptop")
        .await;
    let options = server.passkey_options().await;
    let late = key.get(&options);
    server.passkey_options().await;
    clock.advance(Duration::from_secs(301));
    let fresh = server.passkey_options().await;
    assert_eq!(ceremonies(&server).await, 3);
    expect_error(
        server.passkey_sign_in(&late).await,
        StatusCode::BAD_REQUEST,
        "passkey_refused",
    )
    .await;
    tokenpair_server::maintenance::prune(&server.state, clock.now())
        .await
        .unwrap();
    assert_eq!(ceremonies(&server).await, 1, "only the fresh one is left");
    granted(
        server.passkey_sign_in(&key.get(&fresh)).await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn a_server_reached_by_ip_address_answers_every_passkey_endpoint_with_passkey_refused() {
    // Reached by an IP address (PUBLIC_URL=http://192.168.1.10:8080): never a relying party id.
    let server = start_with(|c| {
        c.passkeys = tokenpair_server::passkeys::RelyingParty::at("http://192.168.1.10:8080")
            .expect("a relying party, off");
    })
    .await;
    let me = server.session(USER1_ID).await;
    let response = server
        .auth_post("/api/auth/passkey/options")
        .send()
        .await
        .unwrap();
    let error = expect_error(response, StatusCode::BAD_REQUEST, "passkey_refused").await;
    assert!(
        error.message.contains("domain name such as localhost"),
        "{}",
        error.message
    );
    expect_error(
        server.passkey_registration_options(&me.access).await,
        StatusCode::BAD_REQUEST,
        "passkey_refused",
    )
    .await;
    expect_error(
        server.passkey_sign_in(&json!({"id": "x"})).await,
        StatusCode::BAD_REQUEST,
        "passkey_refused",
    )
    .await;
    expect_error(
        server
            .add_passkey(&me.access, &json!({"credential": {}}))
            .await,
        StatusCode::BAD_REQUEST,
        "passkey_refused",
    )
    .await;
    let response = server
        .reauthenticate(&me.access, json!({"credential": {}}))
        .await;
    expect_error(response, StatusCode::BAD_REQUEST, "passkey_refused").await;
    assert_eq!(ceremonies(&server).await, 0);
    // Listing still works (an empty list).
    assert!(server.passkeys(&me.access).await.is_empty());
}
