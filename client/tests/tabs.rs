//! Tabs: messages carry the user and session; stale or foreign ones are ignored; everything
//! that sets the cookie takes the lock. Several clients in one page share the real Web Locks
//! and BroadcastChannel.
#![cfg(target_arch = "wasm32")]

mod common;

use common::{config, eventually, started, FakeServer};
use serde_json::{json, Value};
use tokenpair_api::paths;
use tokenpair_client::{AuthState, Notice, SignOutScope, TokenpairSignIn};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

async fn tab(server: &FakeServer, name: &str) -> common::Client {
    started(server, config(name)).await
}

/// Posts a message as another tab would: a plain object on the app's channel.
fn post(name: &str, message: Value) {
    let channel = web_sys::BroadcastChannel::new(&format!("test-{name}:auth")).unwrap();
    let object = js_sys::JSON::parse(&message.to_string()).unwrap();
    channel.post_message(&object).unwrap();
    channel.close();
}

/// Another tab's refreshed token for `session_id` of user `user_id`, valid 900 s.
fn token_for(session_id: &str, user_id: i64) -> Value {
    json!({
        "kind": "token",
        "grant": {
            "access_token": format!("foreign-{session_id}"),
            "expires_in_ms": 900_000.0,
            "session_id": session_id,
            "user": { "id": user_id, "username": format!("user{user_id}") },
            "sent_at": js_sys::Date::now(),
        }
    })
}

fn signed_out(user_id: i64, session_id: &str) -> Value {
    json!({
        "kind": "signed_out",
        "user": { "id": user_id, "username": format!("user{user_id}") },
        "session_id": session_id,
        "everywhere": false,
        "session_ended": false,
    })
}

#[wasm_bindgen_test]
async fn stale_or_foreign_tab_messages_change_nothing() {
    let server = FakeServer::with_session(300);
    let a = tab(&server, "stale-msgs").await;
    let store = a.store();
    let mine = store.token().unwrap();
    let my_session = mine.session_id().unwrap().to_owned();
    post("stale-msgs", signed_out(1, "an-older-session"));
    post("stale-msgs", token_for("an-older-session", 1));
    post("stale-msgs", token_for(&my_session, 2));
    post(
        "stale-msgs",
        json!({ "kind": "from a newer version", "x": 1 }),
    );
    post("stale-msgs", json!("not even an object"));
    common::sleep(200).await;
    assert_eq!(store.signed_in(), Some(true), "a stale sign-out is ignored");
    assert_eq!(
        store.token().unwrap().bearer(),
        mine.bearer(),
        "foreign tokens are ignored"
    );
    // The same message for this tab's own session applies.
    post("stale-msgs", signed_out(1, &my_session));
    eventually(500, "signed out by the other tab", || {
        store.signed_in() == Some(false)
    })
    .await;
    assert_eq!(store.notice(), Some(Notice::SignedOutInAnotherTab));
    a.shutdown();
}

#[wasm_bindgen_test]
async fn sign_in_and_sign_out_in_one_tab_apply_to_the_others() {
    let server = FakeServer::new();
    let a = tab(&server, "follow").await;
    let b = tab(&server, "follow").await;
    assert_eq!(b.store().signed_in(), Some(false));
    let credentials = TokenpairSignIn::password("user2", "password2");
    a.auth().sign_in(credentials).await.expect("sign in");
    eventually(500, "b follows the sign-in", || {
        b.store().user().is_some_and(|u| u.id == 2)
    })
    .await;
    a.auth().sign_out(SignOutScope::ThisDevice).await;
    eventually(500, "b follows the sign-out", || {
        b.store().signed_in() == Some(false)
    })
    .await;
    eventually(500, "b hears the confirmation", || {
        b.store().notice() == Some(Notice::SignedOut)
    })
    .await;
    a.shutdown();
    b.shutdown();
}

#[wasm_bindgen_test]
async fn a_slow_refresh_in_one_tab_cannot_overwrite_a_sign_in_in_another() {
    let server = FakeServer::with_session(300);
    let a = tab(&server, "race").await;
    let b = tab(&server, "race").await;
    server.0.borrow_mut().latency_ms = 150;
    // b refreshes (slowly, holding the lock) while a signs in as user2.
    let refresh = b.refresh();
    common::sleep(20).await;
    let credentials = TokenpairSignIn::password("user2", "password2");
    let (_, signed_in) = futures::join!(refresh, a.auth().sign_in(credentials));
    signed_in.expect("sign in");
    server.0.borrow_mut().latency_ms = 5;
    eventually(1_000, "both tabs are user2", || {
        [&a, &b]
            .iter()
            .all(|t| t.store().user().is_some_and(|u| u.id == 2))
    })
    .await;
    assert!(
        server.jar_session_alive(),
        "the cookie is the new sign-in's, alive"
    );
    // And it keeps working: the next refresh rotates the new session.
    assert_eq!(
        a.refresh().await,
        tokenpair_client::RefreshOutcome::Refreshed
    );
    assert_eq!(server.counters(|c| c.reuse_detected), 0);
    assert!(matches!(a.store().state(), AuthState::SignedIn { .. }));
    a.shutdown();
    b.shutdown();
    let _ = paths::ME;
}
