//! Sign-out that the server must confirm, through outages and reloads.
#![cfg(target_arch = "wasm32")]

mod common;

use common::{config, eventually, signed_in, FakeServer, Fault};
use tokenpair_api::paths;
use tokenpair_client::{Notice, SignOutScope, TokenpairSignIn};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn local_storage() -> web_sys::Storage {
    web_sys::window().unwrap().local_storage().unwrap().unwrap()
}

#[wasm_bindgen_test]
async fn a_sign_out_the_server_cannot_hear_keeps_retrying_and_says_so_until_it_is_confirmed() {
    let server = FakeServer::with_session(300);
    let client = signed_in(&server, config("outage")).await;
    server.set_fault(paths::LOGOUT, Fault::Network);
    let store = client.store();
    let sign_out = client.auth().sign_out(SignOutScope::Everywhere);
    wasm_bindgen_futures::spawn_local(sign_out);
    eventually(1_000, "signed out locally at once", || {
        store.signed_in() == Some(false)
    })
    .await;
    assert_eq!(store.pending_sign_out(), Some(SignOutScope::Everywhere));
    common::sleep(600).await;
    assert!(server.requests(paths::LOGOUT) >= 3, "retried with backoff");
    assert_eq!(
        store.notice(),
        None,
        "never 'signed out everywhere' before the server's 204"
    );
    assert!(
        server.jar_session_alive(),
        "the server session is still alive"
    );
    assert_eq!(
        local_storage()
            .get_item("test-outage:pending-sign-out")
            .unwrap()
            .as_deref(),
        Some("everywhere"),
        "remembered for a reload"
    );
    server.clear_faults();
    eventually(3_000, "confirmed", || store.pending_sign_out().is_none()).await;
    assert_eq!(store.notice(), Some(Notice::SignedOutEverywhere));
    assert_eq!(server.live_families(), 0, "the server ended every session");
    assert_eq!(
        local_storage()
            .get_item("test-outage:pending-sign-out")
            .unwrap(),
        None
    );
    client.shutdown();
}

#[wasm_bindgen_test]
async fn a_reload_during_a_pending_sign_out_resumes_it_instead_of_signing_back_in() {
    let server = FakeServer::with_session(300);
    let first = signed_in(&server, config("reload")).await;
    server.set_fault(
        paths::LOGOUT,
        Fault::Status {
            status: 503,
            code: "unavailable",
            retry_after: None,
        },
    );
    wasm_bindgen_futures::spawn_local(first.auth().sign_out(SignOutScope::ThisDevice));
    eventually(1_000, "pending", || {
        first.store().pending_sign_out().is_some()
    })
    .await;
    // The page goes away (reload): a new client starts while the cookie is still valid.
    first.shutdown();
    drop(first);
    let restores_before = server.counters(|c| c.refresh_requests);
    let reloaded = common::client(&server, config("reload"));
    reloaded.start();
    let store = reloaded.store();
    eventually(500, "signed out", || store.signed_in() == Some(false)).await;
    assert_eq!(store.pending_sign_out(), Some(SignOutScope::ThisDevice));
    assert_eq!(
        server.counters(|c| c.refresh_requests),
        restores_before,
        "no restore through the cookie"
    );
    server.clear_faults();
    eventually(3_000, "confirmed after the reload", || {
        store.pending_sign_out().is_none()
    })
    .await;
    assert_eq!(store.notice(), Some(Notice::SignedOut));
    assert!(!server.jar_session_alive());
    reloaded.shutdown();
}

#[wasm_bindgen_test]
async fn signing_in_while_a_sign_out_is_pending_ends_the_old_session_first() {
    let server = FakeServer::with_session(300);
    let client = signed_in(&server, config("pending-then-sign-in")).await;
    server.set_fault(paths::LOGOUT, Fault::Network);
    wasm_bindgen_futures::spawn_local(client.auth().sign_out(SignOutScope::ThisDevice));
    eventually(1_000, "pending", || {
        client.store().pending_sign_out().is_some()
    })
    .await;
    server.clear_faults();
    let credentials = TokenpairSignIn::password("user2", "password2");
    client.auth().sign_in(credentials).await.expect("signed in");
    let store = client.store();
    assert_eq!(store.user().map(|u| u.username).as_deref(), Some("user2"));
    assert_eq!(store.pending_sign_out(), None);
    assert_eq!(server.live_families(), 1, "only the new sign-in lives");
    client.shutdown();
}

#[wasm_bindgen_test]
async fn the_unreachable_problem_is_cleared_on_sign_out() {
    let server = FakeServer::with_session(300);
    let client = signed_in(&server, config("clear-problem")).await;
    server.set_fault(paths::REFRESH, Fault::Network);
    let _ = client.refresh().await;
    assert!(client.store().problem().is_some());
    server.clear_faults();
    client.auth().sign_out(SignOutScope::ThisDevice).await;
    assert_eq!(client.store().problem(), None);
    assert_eq!(client.store().notice(), Some(Notice::SignedOut));
    client.shutdown();
}
