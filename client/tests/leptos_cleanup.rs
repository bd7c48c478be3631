//! After the Leptos owner that created the client is cleaned up (a component unmounted, an app
//! torn down in a test), nothing may panic: a refresh already on the wire finishes quietly, and
//! reading the store gives "nothing known".
#![cfg(target_arch = "wasm32")]

mod common;

use common::{config, eventually, sleep, FakeServer};
use leptos::prelude::*;
use tokenpair_api::paths;
use tokenpair_client::{provide_auth_with, RefreshOutcome, TokenpairProtocol};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn a_refresh_that_ends_after_the_owner_is_cleaned_up_does_not_panic() {
    let server = FakeServer::with_session(300);
    let owner = Owner::new();
    let auth = owner.with(|| {
        provide_auth_with(
            TokenpairProtocol::new(),
            config("cleanup"),
            server.transport(),
        )
    });
    let client = auth.client();
    eventually(2_000, "restored", || {
        client.store().signed_in() == Some(true)
    })
    .await;
    eventually(1_000, "the restore settled", || !client.is_refreshing()).await;
    // A slow refresh is on the wire when the owner goes away.
    server.set_latency(paths::REFRESH, 200);
    let refresh = client.refresh();
    sleep(50).await;
    owner.cleanup();
    drop(owner);
    let outcome = refresh.await;
    assert_eq!(outcome, RefreshOutcome::Stale, "dropped quietly");
    sleep(300).await;
    // The store's signals are gone: reads give "nothing known" instead of panicking.
    assert_eq!(auth.store().signed_in(), None);
    assert_eq!(auth.store().user(), None);
    assert_eq!(auth.route_condition(), None);
}
