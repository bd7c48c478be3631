//! While the server is unavailable: backoff with jitter, one probe at a time, waiting for
//! `online`; and noticing that the machine slept.
#![cfg(target_arch = "wasm32")]

mod common;

use common::{config, eventually, signed_in, sleep, FakeServer, Fault};
use tokenpair_api::{paths, Me};
use tokenpair_client::{Problem, TimelineKind};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const HEALTH: &str = "/api/health";

fn eval(js: &str) {
    js_sys::eval(js).expect("test script");
}

#[wasm_bindgen_test]
async fn probes_back_off_exponentially_with_jitter_and_one_at_a_time() {
    let server = FakeServer::with_session(300);
    let client = signed_in(&server, config("backoff")).await;
    server.set_fault(paths::ME, Fault::Network);
    server.set_fault(HEALTH, Fault::Network);
    let _ = client.api().get_json::<Me>(paths::ME).await;
    assert_eq!(client.store().problem(), Some(Problem::Unreachable));
    sleep(2_000).await;
    let at = server.arrivals(HEALTH);
    assert!(at.len() >= 4, "kept probing: {at:?}");
    // Backoff: initial 50 ms, ×2, cap 400 ms, up to 50% jitter.
    for (k, pair) in at.windows(2).enumerate() {
        let base = (50.0 * 2f64.powi(k as i32 + 1)).min(400.0);
        let gap = pair[1] - pair[0];
        assert!(
            gap >= 0.5 * base - 15.0,
            "gap {k} = {gap} ms, base {base} ms: {at:?}"
        );
    }
    assert!(
        at.len() <= 10,
        "capped, not a busy loop: {} probes in 2 s",
        at.len()
    );
    assert_eq!(server.max_in_flight(HEALTH), 1);
    // A hanging probe is never joined by a second one.
    server.set_fault(HEALTH, Fault::Hang);
    sleep(1_500).await;
    assert_eq!(
        server.max_in_flight(HEALTH),
        1,
        "one probe in flight at a time"
    );
    server.clear_faults();
    eventually(2_000, "recovered", || client.store().problem().is_none()).await;
    client.shutdown();
}

#[wasm_bindgen_test]
async fn while_the_browser_is_offline_the_probe_waits_for_the_online_event() {
    let server = FakeServer::with_session(300);
    let client = signed_in(&server, config("offline")).await;
    eval("Object.defineProperty(navigator, 'onLine', { configurable: true, get: () => false })");
    server.set_fault(paths::ME, Fault::Network);
    let _ = client.api().get_json::<Me>(paths::ME).await;
    sleep(800).await;
    assert_eq!(server.requests(HEALTH), 0, "no probe while offline");
    server.clear_faults();
    eval("delete navigator.onLine; window.dispatchEvent(new Event('online'))");
    eventually(1_000, "probed once online", || server.requests(HEALTH) >= 1).await;
    eventually(1_000, "recovered", || client.store().problem().is_none()).await;
    client.shutdown();
}

#[wasm_bindgen_test]
async fn waking_from_sleep_is_noticed_and_an_expired_token_is_refreshed_at_once() {
    let server = FakeServer::with_session(300);
    let mut cfg = config("wake");
    cfg.wake_check_every = std::time::Duration::from_millis(100);
    let client = signed_in(&server, cfg).await;
    let rotations = server.counters(|c| c.rotations);
    // The machine "sleeps" ten minutes: the wall clock jumps, the monotonic clock does not.
    eval("window.__realNow = Date.now; Date.now = () => window.__realNow() + 600000;");
    let result = async {
        eventually(1_000, "a wake is detected", || {
            client
                .store()
                .timeline()
                .iter()
                .any(|e| e.kind == TimelineKind::Woke)
        })
        .await;
        eventually(1_000, "the expired token is refreshed", || {
            server.counters(|c| c.rotations) > rotations
        })
        .await;
    };
    result.await;
    eval("Date.now = window.__realNow;");
    client.shutdown();
}

#[wasm_bindgen_test]
async fn a_dropped_client_sends_nothing_more() {
    let server = FakeServer::with_session(1);
    let client = signed_in(&server, config("dropped")).await;
    let store = client.store();
    drop(client);
    let before = server.requests(paths::REFRESH);
    sleep(1_500).await;
    assert_eq!(
        server.requests(paths::REFRESH),
        before,
        "no timer outlived the client"
    );
    let _ = (store, JsValue::NULL);
}

#[wasm_bindgen_test]
async fn the_wake_detector_keeps_running_through_a_signed_out_visit_and_a_later_sign_in() {
    let server = FakeServer::new(); // nobody signed in: the restore ends signed out
    let mut cfg = config("wake-after-visit");
    cfg.wake_check_every = std::time::Duration::from_millis(100);
    let client = common::started(&server, cfg).await;
    assert_eq!(client.store().signed_in(), Some(false));
    assert!(
        client.is_watching_for_wake(),
        "still watching after the signed-out visit"
    );
    client
        .auth()
        .sign_in(tokenpair_client::TokenpairSignIn::password(
            "user1",
            "password1",
        ))
        .await
        .unwrap();
    let rotations = server.counters(|c| c.rotations);
    eval("window.__realNow = Date.now; Date.now = () => window.__realNow() + 600000;");
    let woke = async {
        eventually(1_000, "a wake is detected", || {
            client
                .store()
                .timeline()
                .iter()
                .any(|e| e.kind == TimelineKind::Woke)
        })
        .await;
        eventually(1_000, "the expired token is refreshed", || {
            server.counters(|c| c.rotations) > rotations
        })
        .await;
    };
    woke.await;
    eval("Date.now = window.__realNow;");
    client.shutdown();
    assert!(!client.is_watching_for_wake(), "stopped at shutdown");
}
