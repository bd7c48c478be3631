//! The simulation: several clients (tabs) in one page, sharing the real Web Locks and
//! BroadcastChannel and one cookie jar, against the fake server that rotates like the real one
//! (single use, grace, reuse revokes the family), over many access-token lifetimes.
#![cfg(target_arch = "wasm32")]

mod common;

use common::{config, eventually, sleep, FakeServer, Fault};
use tokenpair_api::paths;
use tokenpair_client::RefreshOutcome;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Access tokens live 1 s; each is refreshed 200 ms before expiry (20% margin).
const LIFETIME_S: u64 = 1;
const CYCLE_MS: f64 = 800.0;

async fn tabs(server: &FakeServer, name: &str, n: usize) -> Vec<common::Client> {
    let tabs: Vec<common::Client> = (0..n)
        .map(|_| common::client(server, config(name)))
        .collect();
    for t in &tabs {
        t.start();
    }
    for t in &tabs {
        let store = t.store();
        eventually(3_000, "every tab restored", || {
            store.signed_in() == Some(true)
        })
        .await;
        eventually(1_000, "the restore finished", || !t.is_refreshing()).await;
    }
    tabs
}

async fn many_tabs_over_many_cycles(n: usize) {
    let server = FakeServer::with_session(LIFETIME_S);
    let name = format!("sim-{n}");
    let tabs = tabs(&server, &name, n).await;
    let start = js_sys::Date::now();
    let rotations_at_start = server.counters(|c| c.rotations);
    // Every tab keeps calling the API the whole time.
    for _ in 0..8 {
        sleep(700).await;
        for t in &tabs {
            let me = t.api().get_json::<tokenpair_api::Me>(paths::ME).await;
            assert!(me.is_ok(), "{n} tabs: a call failed: {me:?}");
        }
    }
    let elapsed = js_sys::Date::now() - start;
    let cycles = (elapsed / CYCLE_MS).ceil() as u32;
    let rotations = server.counters(|c| c.rotations) - rotations_at_start;
    for t in &tabs {
        assert_eq!(
            t.store().signed_in(),
            Some(true),
            "{n} tabs: nobody signed out"
        );
    }
    assert_eq!(
        server.counters(|c| c.reuse_detected),
        0,
        "{n} tabs: no reuse detected"
    );
    assert!(
        rotations >= cycles.saturating_sub(2),
        "{n} tabs: kept refreshing ({rotations} in {cycles} cycles)"
    );
    assert!(
        rotations <= cycles + 1,
        "{n} tabs: at most one rotation per cycle in total, got {rotations} in {cycles} cycles"
    );
    assert_eq!(
        server.counters(|c| c.grace_answers),
        0,
        "{n} tabs: no overlapping refreshes"
    );
    for t in &tabs {
        t.shutdown();
    }
}

#[wasm_bindgen_test]
async fn two_tabs_over_many_cycles_rotate_once_per_cycle_and_stay_signed_in() {
    many_tabs_over_many_cycles(2).await;
}

#[wasm_bindgen_test]
async fn three_tabs_over_many_cycles_rotate_once_per_cycle_and_stay_signed_in() {
    many_tabs_over_many_cycles(3).await;
}

#[wasm_bindgen_test]
async fn five_tabs_over_many_cycles_rotate_once_per_cycle_and_stay_signed_in() {
    many_tabs_over_many_cycles(5).await;
}

#[wasm_bindgen_test]
async fn a_hung_refresh_is_abandoned_at_its_deadline_and_every_tab_recovers() {
    let server = FakeServer::with_session(300);
    let tabs = tabs(&server, "sim-hang", 3).await;
    server.set_fault(paths::REFRESH, Fault::Hang);
    let started = js_sys::Date::now();
    let outcome = tabs[0].refresh().await;
    let waited = js_sys::Date::now() - started;
    assert!(
        matches!(outcome, RefreshOutcome::Unavailable(_)),
        "{outcome:?}"
    );
    assert!(
        waited < 1_000.0,
        "given up at the 500 ms deadline, not later: {waited} ms"
    );
    server.clear_faults();
    for t in &tabs {
        let store = t.store();
        eventually(3_000, "recovered", || store.problem().is_none()).await;
        assert_eq!(store.signed_in(), Some(true));
    }
    for t in &tabs {
        t.shutdown();
    }
}

#[wasm_bindgen_test]
async fn a_starved_lock_is_given_up_at_its_deadline_and_the_refresh_proceeds() {
    let server = FakeServer::with_session(300);
    let tabs = tabs(&server, "sim-starved", 2).await;
    // Something holds the refresh lock and never lets go.
    let release: js_sys::Function = js_sys::eval(
        "(() => { let release; navigator.locks.request('test-sim-starved:refresh', () => new Promise(r => { release = r; })); return () => release(); })()",
    )
    .unwrap()
    .unchecked_into();
    sleep(50).await;
    let started = js_sys::Date::now();
    let outcome = tabs[0].refresh().await;
    let waited = js_sys::Date::now() - started;
    assert_eq!(outcome, RefreshOutcome::Refreshed);
    assert!(
        (700.0..2_000.0).contains(&waited),
        "waited about the 800 ms lock deadline: {waited} ms"
    );
    release.call0(&JsValue::NULL).unwrap();
    assert_eq!(server.counters(|c| c.reuse_detected), 0);
    for t in &tabs {
        assert_eq!(t.store().signed_in(), Some(true));
        t.shutdown();
    }
}

#[wasm_bindgen_test]
async fn a_refresh_answer_lost_on_the_way_is_covered_by_the_grace_window() {
    let server = FakeServer::with_session(300);
    let tabs = tabs(&server, "sim-lost", 2).await;
    server.set_fault(paths::REFRESH, Fault::LoseAnswer);
    let outcome = tabs[0].refresh().await;
    assert!(
        matches!(outcome, RefreshOutcome::Unavailable(_)),
        "{outcome:?}"
    );
    server.clear_faults();
    // The retry presents the predecessor (the browser never got the new cookie): grace.
    for t in &tabs {
        let store = t.store();
        eventually(3_000, "recovered", || store.problem().is_none()).await;
        assert_eq!(store.signed_in(), Some(true));
    }
    assert_eq!(server.counters(|c| c.grace_answers), 1);
    assert_eq!(server.counters(|c| c.reuse_detected), 0);
    for t in &tabs {
        t.shutdown();
    }
}
