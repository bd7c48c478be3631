//! Typed events: what the client did, as callbacks (and, in Leptos, as a signal), delivered in
//! order after the cross-tab lock is released — so a listener may call the client without
//! the deadlock of a listener run under the lock (supabase auth-js #762).
#![cfg(target_arch = "wasm32")]

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use common::{config, eventually, signed_in, sleep, started, FakeServer, Fault};
use leptos::prelude::*;
use tokenpair_api::{paths, Me};
use tokenpair_client::{
    provide_auth_with, AuthEvent, RefreshFailure, SignOutReason, SignOutScope, TokenpairProtocol,
    TokenpairSignIn, TokenpairUser,
};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// A short name for each event, to compare sequences.
fn name(event: &AuthEvent<TokenpairUser>) -> String {
    match event {
        AuthEvent::SignedIn { user } => format!("signed in {}", user.username),
        AuthEvent::Restored { user } => format!("restored {}", user.username),
        AuthEvent::Refreshed => "refreshed".into(),
        AuthEvent::SignedOut { reason } => format!("signed out {reason:?}"),
        AuthEvent::SessionEndingSoon { ending } => format!("ending {ending:?}"),
        AuthEvent::RefreshFailed { failure } => match failure {
            RefreshFailure::Temporary(_) => "refresh failed for now".into(),
            RefreshFailure::Final { code } => format!("refresh failed for good {code}"),
            _ => "refresh failed".into(),
        },
        AuthEvent::Recovered => "recovered".into(),
        _ => "other".into(),
    }
}

#[wasm_bindgen_test]
async fn events_arrive_in_order_for_everything_the_client_does() {
    let server = FakeServer::new(); // nobody signed in
    let client = common::client(&server, config("events-order"));
    let seen: Rc<RefCell<Vec<String>>> = Rc::default();
    let log = seen.clone();
    client.on_event(move |e| log.borrow_mut().push(name(e)));
    client.start();
    eventually(1_000, "restore done", || {
        client.store().signed_in() == Some(false)
    })
    .await;
    client
        .auth()
        .sign_in(TokenpairSignIn::password("user1", "password1"))
        .await
        .unwrap();
    client.refresh().await;
    server.set_fault(paths::REFRESH, Fault::Network);
    client.refresh().await;
    server.clear_faults();
    eventually(2_000, "the probe recovers", || {
        client.store().problem().is_none()
    })
    .await;
    eventually(1_000, "its refresh settled", || !client.is_refreshing()).await;
    server.set_fault(
        paths::REFRESH,
        Fault::Status {
            status: 401,
            code: "refresh_token_reused",
            retry_after: None,
        },
    );
    client.refresh().await;
    sleep(50).await;
    assert_eq!(
        *seen.borrow(),
        [
            "signed out NoSession",
            "signed in user1",
            "refreshed",
            "refresh failed for now",
            "refreshed",
            "recovered",
            "refresh failed for good refresh_token_reused",
            "signed out SessionEnded { code: \"refresh_token_reused\" }",
        ]
    );
    client.shutdown();
}

#[wasm_bindgen_test]
async fn a_sign_out_by_the_user_is_an_event_with_its_scope() {
    let server = FakeServer::with_session(300);
    let client = signed_in(&server, config("events-sign-out")).await;
    let seen: Rc<RefCell<Vec<AuthEvent<TokenpairUser>>>> = Rc::default();
    let log = seen.clone();
    client.on_event(move |e| log.borrow_mut().push(e.clone()));
    client.auth().sign_out(SignOutScope::Everywhere).await;
    sleep(50).await;
    assert_eq!(
        *seen.borrow(),
        [AuthEvent::SignedOut {
            reason: SignOutReason::ByUser {
                scope: SignOutScope::Everywhere
            }
        }]
    );
    client.shutdown();
}

#[wasm_bindgen_test]
async fn a_listener_that_calls_the_client_does_not_deadlock() {
    let server = FakeServer::with_session(300);
    // A deadlock would wait for the lock's 10 s deadline.
    let mut cfg = config("events-reentrant");
    cfg.lock_timeout = Duration::from_secs(10);
    let client = started(&server, cfg).await;
    let done: Rc<RefCell<Vec<f64>>> = Rc::default();
    let (inner, log) = (client.clone(), done.clone());
    client.on_event(move |event| {
        if matches!(event, AuthEvent::Refreshed) && log.borrow().is_empty() {
            log.borrow_mut().push(js_sys::Date::now());
            let (client, log) = (inner.clone(), log.clone());
            // The listener refreshes again (taking the lock) and calls the API.
            wasm_bindgen_futures::spawn_local(async move {
                client.refresh().await;
                let me = client.api().get_json::<Me>(paths::ME).await;
                assert!(me.is_ok(), "{me:?}");
                log.borrow_mut().push(js_sys::Date::now());
            });
        }
    });
    let started_at = js_sys::Date::now();
    client.refresh().await;
    eventually(1_500, "the listener's own calls finished", || {
        done.borrow().len() == 2
    })
    .await;
    let took = done.borrow()[1] - started_at;
    assert!(took < 1_000.0, "took {took} ms: waited for a lock");
    client.shutdown();
}

#[wasm_bindgen_test]
async fn listeners_run_after_the_lock_is_released() {
    let server = FakeServer::with_session(300);
    let client = signed_in(&server, config("events-unlocked")).await;
    let held: Rc<RefCell<Option<bool>>> = Rc::default();
    let seen = held.clone();
    client.on_event(move |event| {
        if matches!(event, AuthEvent::Refreshed) {
            // Ask the browser, at the moment the listener runs, whether the lock is held.
            let query: js_sys::Promise = js_sys::eval(
                "navigator.locks.query().then(s => s.held.some(l => l.name === 'test-events-unlocked:refresh'))",
            )
            .unwrap()
            .into();
            let seen = seen.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let held = wasm_bindgen_futures::JsFuture::from(query).await.unwrap();
                *seen.borrow_mut() = held.as_bool();
            });
        }
    });
    client.refresh().await;
    eventually(1_000, "the listener ran", || held.borrow().is_some()).await;
    assert_eq!(*held.borrow(), Some(false), "the lock was still held");
    client.shutdown();
}

#[wasm_bindgen_test]
async fn in_leptos_the_events_are_also_a_signal() {
    let server = FakeServer::with_session(300);
    let owner = Owner::new();
    let (auth, events) = owner.with(|| {
        let auth = provide_auth_with(
            TokenpairProtocol::new(),
            config("events-signal"),
            server.transport(),
        );
        (auth, auth.events())
    });
    eventually(2_000, "restored", || {
        matches!(
            events.get_untracked(),
            Some((1, AuthEvent::Restored { .. }))
        )
    })
    .await;
    auth.client().refresh().await;
    eventually(500, "refreshed", || {
        matches!(events.get_untracked(), Some((2, AuthEvent::Refreshed)))
    })
    .await;
    owner.cleanup();
}
