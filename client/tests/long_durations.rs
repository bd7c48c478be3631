//! Durations longer than `setTimeout` can hold (2³¹−1 ms, about 24.8 days): a 30-day session,
//! a 30-day access token, a `Retry-After` of a month. Each must wait, not fire at once.
#![cfg(target_arch = "wasm32")]

mod common;

use std::time::Duration;

use common::{config, signed_in, sleep, FakeServer, Fault};
use tokenpair_api::paths;
use tokenpair_client::{Backoff, Problem, RefreshOutcome, TokenpairSignIn};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const THIRTY_DAYS_S: u64 = 30 * 24 * 3600;

#[wasm_bindgen_test]
async fn a_thirty_day_session_is_not_ended_right_after_sign_in() {
    let server = FakeServer::with_session(300);
    server.0.borrow_mut().idle_s = Some(THIRTY_DAYS_S);
    server.0.borrow_mut().absolute_s = Some(THIRTY_DAYS_S);
    let client = signed_in(&server, config("thirty-day-session")).await;
    sleep(400).await;
    let store = client.store();
    assert_eq!(store.signed_in(), Some(true), "still signed in");
    assert_eq!(store.session_ending(), None, "no warning a month early");
    assert_eq!(store.notice(), None);
    client.shutdown();
}

#[wasm_bindgen_test]
async fn a_thirty_day_access_token_is_not_refreshed_right_after_sign_in() {
    let server = FakeServer::new();
    server.0.borrow_mut().access_lifetime_s = THIRTY_DAYS_S;
    let client = common::started(&server, config("thirty-day-token")).await;
    client
        .auth()
        .sign_in(TokenpairSignIn::password("user1", "password1"))
        .await
        .unwrap();
    sleep(500).await;
    assert_eq!(
        server.requests(paths::REFRESH),
        1,
        "only the restore at page load: the proactive refresh is a month away"
    );
    client.shutdown();
}

#[wasm_bindgen_test]
async fn a_retry_after_of_a_month_is_waited_for_not_retried_at_once() {
    let server = FakeServer::with_session(300);
    let client = signed_in(&server, config("month-retry-after")).await;
    server.set_fault(
        paths::REFRESH,
        Fault::Status {
            status: 429,
            code: "rate_limited",
            retry_after: Some(THIRTY_DAYS_S as u32),
        },
    );
    let before = server.requests(paths::REFRESH);
    assert!(matches!(
        client.refresh().await,
        RefreshOutcome::Unavailable(_)
    ));
    sleep(500).await;
    assert_eq!(server.requests(paths::REFRESH), before + 1, "no retry loop");
    assert_eq!(
        client.store().problem(),
        Some(Problem::RateLimited {
            retry_after: Some(Duration::from_secs(THIRTY_DAYS_S))
        })
    );
    assert_eq!(
        client.store().signed_in(),
        Some(true),
        "the session is kept"
    );
    client.shutdown();
}

#[wasm_bindgen_test]
fn backoff_waits_at_least_the_retry_after_however_long_and_never_overflows() {
    let backoff = Backoff::default();
    let month = Duration::from_secs(THIRTY_DAYS_S);
    assert_eq!(backoff.delay(0, 0.5, Some(month)), month);
    let forever = backoff.delay(u32::MAX, 0.0, None);
    assert_eq!(forever, backoff.max, "capped, not overflowed");
}
