//! "You will be signed out in 60 s": the warning before the server session's idle timeout or
//! absolute end, "Stay signed in" (a refresh that moves the idle deadline), and the end itself.
#![cfg(target_arch = "wasm32")]

mod common;

use std::time::Duration;

use common::{config, eventually, signed_in, FakeServer};
use tokenpair_client::{Notice, RefreshOutcome, SessionEnding};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// A server whose sessions idle out after `idle_s` seconds, and a client warning 1 s before.
async fn tab(server: &FakeServer, name: &str) -> common::Client {
    let mut cfg = config(name);
    cfg.session_warning = Duration::from_secs(1);
    signed_in(server, cfg).await
}

fn server(idle_s: Option<u64>, absolute_s: Option<u64>) -> FakeServer {
    let server = FakeServer::with_session(300);
    server.0.borrow_mut().idle_s = idle_s;
    server.0.borrow_mut().absolute_s = absolute_s;
    server
}

#[wasm_bindgen_test]
async fn a_session_about_to_idle_out_warns_and_staying_signed_in_moves_its_end() {
    let server = server(Some(3), Some(3_600));
    let client = tab(&server, "idle-warn").await;
    let store = client.store();
    assert_eq!(
        store.session_ending(),
        None,
        "no warning while far from the end"
    );
    eventually(3_000, "the warning", || {
        store.session_ending() == Some(SessionEnding::Idle)
    })
    .await;
    assert_eq!(client.stay_signed_in().await, RefreshOutcome::Refreshed);
    assert_eq!(
        store.session_ending(),
        None,
        "a new token, a new idle deadline"
    );
    assert_eq!(store.signed_in(), Some(true));
    client.shutdown();
}

#[wasm_bindgen_test]
async fn an_ignored_warning_ends_the_session_at_its_deadline() {
    let server = server(Some(2), Some(3_600));
    let client = tab(&server, "idle-end").await;
    let store = client.store();
    eventually(3_000, "signed out at the deadline", || {
        store.signed_in() == Some(false)
    })
    .await;
    assert_eq!(store.notice(), Some(Notice::SessionEnded));
    assert_eq!(store.session_ending(), None);
    client.shutdown();
}

#[wasm_bindgen_test]
async fn staying_signed_in_in_one_tab_clears_the_warning_in_the_others() {
    let server = server(Some(3), Some(3_600));
    let a = tab(&server, "idle-tabs").await;
    let b = tab(&server, "idle-tabs").await;
    eventually(3_000, "both warn", || {
        a.store().session_ending().is_some() && b.store().session_ending().is_some()
    })
    .await;
    assert_eq!(a.stay_signed_in().await, RefreshOutcome::Refreshed);
    eventually(500, "the other tab's warning is gone", || {
        b.store().session_ending().is_none()
    })
    .await;
    assert_eq!(b.store().signed_in(), Some(true));
    a.shutdown();
    b.shutdown();
}

#[wasm_bindgen_test]
async fn the_absolute_end_is_announced_as_one_a_refresh_cannot_move() {
    let server = server(Some(3_600), Some(3));
    let client = tab(&server, "absolute").await;
    let store = client.store();
    let signed_in_at = js_sys::Date::now();
    eventually(3_000, "the warning", || {
        store.session_ending() == Some(SessionEnding::Absolute)
    })
    .await;
    // "Stay signed in" refreshes — and the end stays where it was.
    assert_eq!(client.stay_signed_in().await, RefreshOutcome::Refreshed);
    let left = store
        .token()
        .and_then(|t| t.session_remaining_secs(&tokenpair_client::Instant::now()));
    assert!(
        left.is_some_and(|s| s <= 2),
        "the end did not move: {left:?} s left"
    );
    eventually(500, "still warned, as the absolute end", || {
        store.session_ending() == Some(SessionEnding::Absolute)
    })
    .await;
    eventually(2_500, "signed out at the original end", || {
        store.signed_in() == Some(false)
    })
    .await;
    let ended_after = js_sys::Date::now() - signed_in_at;
    assert!(
        ended_after < 3_600.0,
        "ended {ended_after} ms after sign-in: the refresh moved the 3 s end"
    );
    assert_eq!(store.notice(), Some(Notice::SessionEnded));
    client.shutdown();
}
