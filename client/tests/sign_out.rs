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

/// A fixed 300 ms between sign-out attempts (no growth, no jitter), and room for a slow login.
fn steady(name: &str) -> tokenpair_client::ClientConfig {
    let mut cfg = config(name);
    cfg.backoff = tokenpair_client::Backoff::new(
        std::time::Duration::from_millis(300),
        1.0,
        std::time::Duration::from_millis(300),
        0.0,
    );
    cfg.request_timeout = std::time::Duration::from_secs(2);
    cfg.lock_timeout = std::time::Duration::from_secs(3);
    cfg
}

fn unavailable() -> Fault {
    Fault::Status {
        status: 503,
        code: "unavailable",
        retry_after: None,
    }
}

#[wasm_bindgen_test]
async fn a_sign_out_retry_queued_behind_a_sign_in_in_another_tab_never_ends_the_new_session() {
    let server = FakeServer::with_session(300);
    let a = signed_in(&server, steady("retry-vs-other-tab")).await;
    let b = signed_in(&server, steady("retry-vs-other-tab")).await;
    server.set_fault(paths::LOGOUT, unavailable());
    wasm_bindgen_futures::spawn_local(a.auth().sign_out(SignOutScope::ThisDevice));
    eventually(1_000, "the first attempt was refused", || {
        a.store().problem().is_some()
    })
    .await;
    // While a's loop waits 300 ms for its next attempt, b signs in; the slow login (1 s) holds
    // the lock, so a's retry queues behind it — and would then post the new cookie.
    server.clear_faults();
    server.set_latency(paths::LOGIN, 500);
    b.auth()
        .sign_in(TokenpairSignIn::password("user2", "password2"))
        .await
        .expect("signed in");
    common::sleep(1_000).await;
    assert!(
        server.jar_session_alive(),
        "the new sign-in's session lives"
    );
    assert_eq!(server.live_families(), 1);
    for tab in [&a, &b] {
        assert_eq!(
            tab.store().user().map(|u| u.username).as_deref(),
            Some("user2"),
            "every tab shows the new sign-in"
        );
    }
    a.shutdown();
    b.shutdown();
}

#[wasm_bindgen_test]
async fn a_sign_out_retry_queued_behind_a_sign_in_in_the_same_tab_never_ends_the_new_session() {
    let server = FakeServer::with_session(300);
    let a = signed_in(&server, steady("retry-vs-same-tab")).await;
    server.set_fault(paths::LOGOUT, unavailable());
    wasm_bindgen_futures::spawn_local(a.auth().sign_out(SignOutScope::ThisDevice));
    eventually(1_000, "the first attempt was refused", || {
        a.store().problem().is_some()
    })
    .await;
    server.clear_faults();
    server.set_latency(paths::LOGIN, 500);
    a.auth()
        .sign_in(TokenpairSignIn::password("user2", "password2"))
        .await
        .expect("signed in");
    common::sleep(1_000).await;
    assert!(
        server.jar_session_alive(),
        "the new sign-in's session lives"
    );
    assert_eq!(server.live_families(), 1);
    assert_eq!(
        server.counters(|c| c.logout_done),
        1,
        "one logout: the sign-in's own, with the old cookie"
    );
    assert_eq!(a.store().user().map(|u| u.id), Some(2));
    a.shutdown();
}

#[wasm_bindgen_test]
async fn another_tabs_confirmation_stops_this_tabs_sign_out_retries() {
    let server = FakeServer::with_session(300);
    // Two tabs reloaded while a sign-out was pending: both resume it.
    local_storage()
        .set_item("test-confirm-elsewhere:pending-sign-out", "here")
        .unwrap();
    server.set_fault(paths::LOGOUT, unavailable());
    let a = common::client(&server, steady("confirm-elsewhere"));
    let b = common::client(&server, steady("confirm-elsewhere"));
    a.start();
    b.start();
    eventually(1_000, "both retry", || {
        server.counters(|c| c.logout_requests) >= 2
    })
    .await;
    server.clear_faults();
    eventually(2_000, "both hear the confirmation", || {
        a.store().pending_sign_out().is_none() && b.store().pending_sign_out().is_none()
    })
    .await;
    common::sleep(500).await;
    assert_eq!(
        server.counters(|c| c.logout_done),
        1,
        "the other tab's loop stopped instead of posting again"
    );
    for tab in [&a, &b] {
        assert_eq!(tab.store().notice(), Some(Notice::SignedOut));
    }
    a.shutdown();
    b.shutdown();
}

#[wasm_bindgen_test]
async fn a_definitive_refusal_of_the_sign_out_stops_the_retries_and_says_so() {
    for (status, code) in [
        (400, "multiple_refresh_cookies"),
        (404, "not_found"),
        (401, "unauthorized"),
        (403, "csrf_rejected"),
    ] {
        let name = format!("refused-{status}");
        let server = FakeServer::with_session(300);
        let client = signed_in(&server, steady(&name)).await;
        server.set_fault(
            paths::LOGOUT,
            Fault::Status {
                status,
                code,
                retry_after: None,
            },
        );
        // Returns: the loop is over.
        client.auth().sign_out(SignOutScope::ThisDevice).await;
        common::sleep(300).await;
        assert_eq!(
            server.counters(|c| c.logout_requests),
            1,
            "{status}: no retries"
        );
        let store = client.store();
        assert_eq!(store.signed_in(), Some(false), "{status}");
        assert_eq!(store.pending_sign_out(), None, "{status}");
        assert_eq!(store.problem(), None, "{status}");
        assert_eq!(
            store.notice(),
            Some(Notice::SignOutRefused {
                status,
                code: code.into()
            })
        );
        assert!(store
            .notice()
            .unwrap()
            .message()
            .contains("may still be active"));
        let key = format!("test-{name}:pending-sign-out");
        assert_eq!(
            local_storage().get_item(&key).unwrap(),
            None,
            "a reload will not resume it"
        );
        client.shutdown();
    }
}

#[wasm_bindgen_test]
async fn a_sign_out_the_server_says_had_already_ended_counts_as_done() {
    let server = FakeServer::with_session(300);
    let client = signed_in(&server, steady("already-ended")).await;
    server.set_fault(
        paths::LOGOUT,
        Fault::Status {
            status: 401,
            code: "invalid_grant",
            retry_after: None,
        },
    );
    client.auth().sign_out(SignOutScope::ThisDevice).await;
    assert_eq!(server.counters(|c| c.logout_requests), 1);
    assert_eq!(client.store().notice(), Some(Notice::SignedOut));
    assert_eq!(client.store().pending_sign_out(), None);
    client.shutdown();
}

#[wasm_bindgen_test]
async fn a_sign_in_that_first_finishes_a_pending_sign_out_holds_the_lock_no_longer_than_lock_timeout(
) {
    let server = FakeServer::with_session(300);
    let client = signed_in(&server, config("lock-bound")).await;
    // Another tab signed out: this tab has a pending sign-out but runs no loop of its own.
    let session = client
        .store()
        .token()
        .unwrap()
        .session_id()
        .unwrap()
        .to_owned();
    let channel = web_sys::BroadcastChannel::new("test-lock-bound:auth").unwrap();
    let message = serde_json::json!({
        "kind": "signed_out", "user": {"id": 1, "username": "user1"},
        "session_id": session, "everywhere": false, "session_ended": false
    });
    channel
        .post_message(&js_sys::JSON::parse(&message.to_string()).unwrap())
        .unwrap();
    eventually(500, "pending", || {
        client.store().pending_sign_out().is_some()
    })
    .await;
    // Both requests the sign-in makes under the lock hang: each has a 500 ms deadline, the
    // lock 800 ms.
    server.set_fault(paths::LOGOUT, Fault::Hang);
    server.set_fault(paths::LOGIN, Fault::Hang);
    let started = js_sys::Date::now();
    let sign_in = client
        .auth()
        .sign_in(TokenpairSignIn::password("user1", "password1"));
    let granted: js_sys::Promise = js_sys::eval(
        "new Promise(r => setTimeout(() => navigator.locks.request('test-lock-bound:refresh', () => r(Date.now())), 30))",
    )
    .unwrap()
    .into();
    let (result, granted_at) =
        futures::join!(sign_in, wasm_bindgen_futures::JsFuture::from(granted));
    let held = granted_at.unwrap().as_f64().unwrap() - started;
    assert!(
        matches!(result, Err(tokenpair_client::ClientError::Unavailable(_))),
        "{result:?}"
    );
    assert!(
        held <= 800.0 + 150.0,
        "the lock was held {held} ms, longer than lock_timeout (800 ms)"
    );
    channel.close();
    client.shutdown();
}
