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

/// Makes the browser say it is offline — for at most `ms`: the page restores `navigator.onLine`
/// by itself then, even if the test failed before it could (a failing wasm test does not run
/// its remaining code, and the next tests share the page).
fn go_offline_for(ms: u32) {
    eval(&format!(
        "Object.defineProperty(navigator, 'onLine', {{ configurable: true, get: () => false }});
         window.__offlineUntil = setTimeout(() => {{ delete navigator.onLine; }}, {ms});"
    ));
}

fn go_online() {
    eval("clearTimeout(window.__offlineUntil); delete navigator.onLine; window.dispatchEvent(new Event('online'))");
}

/// Moves the wall clock ten minutes ahead (the monotonic clock stays), as after a sleep — for
/// at most `ms`, restored by the page itself after that (see [`go_offline_for`]).
fn sleep_the_machine_for(ms: u32) {
    eval(&format!(
        "if (!window.__realNow) window.__realNow = Date.now;
         Date.now = () => window.__realNow() + 600000;
         window.__wakeUntil = setTimeout(() => {{ Date.now = window.__realNow; }}, {ms});"
    ));
}

fn restore_the_clock() {
    eval("clearTimeout(window.__wakeUntil); if (window.__realNow) Date.now = window.__realNow;");
}

#[wasm_bindgen_test]
async fn probes_back_off_exponentially_with_jitter_and_one_at_a_time() {
    let server = FakeServer::with_session(300);
    let client = signed_in(&server, config("backoff")).await;
    server.set_fault(paths::ME, Fault::Network);
    server.set_fault(HEALTH, Fault::Network);
    let _ = client.api().get_json::<Me>(paths::ME).await;
    assert_eq!(client.store().problem(), Some(Problem::Unreachable));
    sleep(3_500).await;
    let at = server.arrivals(HEALTH);
    assert!(at.len() >= 8, "kept probing: {at:?}");
    // Backoff: initial 50 ms, ×2, cap 400 ms, each wait shortened by up to 50% (jitter): gap k
    // (after probe k+1) lies in [½·base, base] with base = 50·2^(k+1) capped at 400, plus the
    // request's few ms and timer slack.
    let gaps: Vec<f64> = at.windows(2).map(|p| p[1] - p[0]).collect();
    for (k, gap) in gaps.iter().enumerate() {
        let base = (50.0 * 2f64.powi(k as i32 + 1)).min(400.0);
        assert!(
            (0.5 * base - 15.0..=base + 60.0).contains(gap),
            "gap {k} = {gap} ms is outside [{}, {}] ms: {at:?}",
            0.5 * base,
            base
        );
    }
    // It grows: the first wait is at most ~100 ms, the capped ones at least 200 ms.
    assert!(
        gaps[0] < 160.0 && gaps[2..].iter().all(|g| *g >= 185.0),
        "{gaps:?}"
    );
    // And it is spread: the capped waits are not all the same (jitter).
    let capped = &gaps[2..];
    let spread = capped.iter().cloned().fold(f64::MIN, f64::max)
        - capped.iter().cloned().fold(f64::MAX, f64::min);
    assert!(
        spread > 20.0,
        "no jitter among the capped waits: {capped:?}"
    );
    assert!(
        at.len() <= 16,
        "capped, not a busy loop: {} probes in 3.5 s",
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
    go_offline_for(3_000);
    server.set_fault(paths::ME, Fault::Network);
    let _ = client.api().get_json::<Me>(paths::ME).await;
    sleep(800).await;
    assert_eq!(server.requests(HEALTH), 0, "no probe while offline");
    server.clear_faults();
    go_online();
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
    sleep_the_machine_for(3_000);
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
    restore_the_clock();
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
    sleep_the_machine_for(3_000);
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
    restore_the_clock();
    client.shutdown();
    assert!(!client.is_watching_for_wake(), "stopped at shutdown");
}
