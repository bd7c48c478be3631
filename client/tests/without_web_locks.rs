//! Browsers without Web Locks (older Safari, some embedded browsers): the tabs take turns
//! through a lease in `localStorage`, so they still rotate once per token lifetime instead of
//! all refreshing at the same instant. This file's page has `navigator.locks` removed.
#![cfg(target_arch = "wasm32")]

mod common;

use common::{config, eventually, sleep, FakeServer};
use tokenpair_api::{paths, Me};
use tokenpair_client::web_locks_available;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn remove_web_locks() {
    js_sys::eval("delete Navigator.prototype.locks").unwrap();
    assert!(!web_locks_available(), "navigator.locks is gone");
}

#[wasm_bindgen_test]
async fn without_web_locks_tabs_take_turns_through_a_storage_lease_and_rotate_once_per_cycle() {
    remove_web_locks();
    // 1 s tokens: each is refreshed 200–400 ms before it expires (margin + jitter).
    let server = FakeServer::with_session(1);
    let mut cfg = config("lease");
    cfg.refresh_jitter = std::time::Duration::from_millis(200);
    let tabs: Vec<common::Client> = (0..3)
        .map(|_| common::client(&server, cfg.clone()))
        .collect();
    for t in &tabs {
        t.start();
    }
    for t in &tabs {
        let store = t.store();
        eventually(3_000, "restored", || store.signed_in() == Some(true)).await;
    }
    let start = js_sys::Date::now();
    let rotations_before = server.counters(|c| c.rotations);
    for _ in 0..6 {
        sleep(700).await;
        for t in &tabs {
            let me = t.api().get_json::<Me>(paths::ME).await;
            assert!(me.is_ok(), "a call failed: {me:?}");
        }
    }
    let elapsed = js_sys::Date::now() - start;
    let rotations = server.counters(|c| c.rotations) - rotations_before;
    for t in &tabs {
        assert_eq!(t.store().signed_in(), Some(true), "nobody signed out");
    }
    assert_eq!(server.counters(|c| c.reuse_detected), 0, "no reuse");
    // A token lives 1 s and is replaced 200–400 ms early: at most one rotation per 600 ms.
    let most = (elapsed / 600.0).ceil() as u32 + 1;
    assert!(
        rotations <= most,
        "{rotations} rotations in {elapsed} ms: more than one per token"
    );
    assert!(rotations >= 3, "kept refreshing: {rotations}");
    assert!(
        server.max_in_flight(paths::REFRESH) <= 1,
        "never two refreshes at once"
    );
    for t in &tabs {
        t.shutdown();
    }
}
