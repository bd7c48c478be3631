//! One client against the fake server: the 401 retry, single flight, which answers end a
//! session and which do not, deadlines, versions. Runs in Chromium (wasm-bindgen-test).
#![cfg(target_arch = "wasm32")]

mod common;

use common::{config, eventually, signed_in, sleep, FakeServer, Fault};
use futures::future::join_all;
use tokenpair_api::{paths, Me};
use tokenpair_client::{AuthState, ClientError, Notice, Problem, RefreshOutcome, Request};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// A started client that restored the fake server's session.
#[wasm_bindgen_test]
async fn concurrent_401s_share_exactly_one_refresh_and_every_request_succeeds() {
    let server = FakeServer::with_session(300);
    let client = signed_in(&server, config("concurrent")).await;
    server.forget_access_tokens();
    let before = server.counters(|c| c.refresh_requests);
    let api = client.api();
    let results = join_all((0..8).map(|_| api.get_json::<Me>(paths::ME))).await;
    assert!(
        results
            .iter()
            .all(|r| r.as_ref().is_ok_and(|m| m.username == "user1")),
        "{results:?}"
    );
    assert_eq!(
        server.counters(|c| c.refresh_requests) - before,
        1,
        "one refresh for eight 401s"
    );
    client.shutdown();
}

#[wasm_bindgen_test]
async fn a_request_started_during_a_refresh_waits_for_it_instead_of_sending_the_old_token() {
    let server = FakeServer::with_session(300);
    let client = signed_in(&server, config("waits")).await;
    server.0.borrow_mut().latency_ms = 60;
    server.forget_access_tokens();
    let refresh = client.refresh();
    let me = client.api().get_json::<Me>(paths::ME).await;
    assert!(me.is_ok(), "{me:?}");
    assert_eq!(refresh.await, RefreshOutcome::Refreshed);
    assert_eq!(
        server.counters(|c| c.me_401),
        0,
        "no 401 round trip: it waited"
    );
    client.shutdown();
}

#[wasm_bindgen_test]
async fn the_original_request_is_retried_at_most_once() {
    let server = FakeServer::with_session(300);
    let client = signed_in(&server, config("once")).await;
    // Every access token is refused, even fresh ones.
    server.set_fault(
        paths::ME,
        Fault::Status {
            status: 401,
            code: "invalid_token",
            retry_after: None,
        },
    );
    let me_before = server.requests(paths::ME);
    let result = client.api().get_json::<Me>(paths::ME).await;
    assert!(
        matches!(&result, Err(ClientError::Api(e)) if e.status == 401),
        "{result:?}"
    );
    sleep(300).await;
    assert_eq!(
        server.requests(paths::ME) - me_before,
        2,
        "the request and exactly one retry, then the second 401 is returned"
    );
    assert_eq!(
        server.counters(|c| c.refresh_requests),
        2,
        "the restore and exactly one refresh"
    );
    client.shutdown();
}

#[wasm_bindgen_test]
async fn only_the_three_refusal_codes_end_a_session() {
    for code in [
        "invalid_refresh_token",
        "refresh_token_reused",
        "session_expired",
    ] {
        let server = FakeServer::with_session(300);
        let client = signed_in(&server, config(&format!("ends-{code}"))).await;
        server.set_fault(
            paths::REFRESH,
            Fault::Status {
                status: 401,
                code,
                retry_after: None,
            },
        );
        assert_eq!(client.refresh().await, RefreshOutcome::Ended, "{code}");
        assert_eq!(client.store().signed_in(), Some(false), "{code}");
        assert_eq!(client.store().notice(), Some(Notice::SessionEnded));
        client.shutdown();
    }
}

#[wasm_bindgen_test]
async fn rate_limits_timeouts_missing_routes_proxies_and_outages_keep_the_session() {
    let faults = [
        Fault::Status {
            status: 429,
            code: "too_many_attempts",
            retry_after: Some(1),
        },
        Fault::Status {
            status: 408,
            code: "timeout",
            retry_after: None,
        },
        Fault::Status {
            status: 404,
            code: "not_found",
            retry_after: None,
        },
        Fault::Status {
            status: 403,
            code: "csrf_rejected",
            retry_after: None,
        },
        Fault::Status {
            status: 401,
            code: "invalid_token",
            retry_after: None,
        },
        Fault::Status {
            status: 503,
            code: "unavailable",
            retry_after: None,
        },
        Fault::Network,
        Fault::Hang,
    ];
    for (i, fault) in faults.into_iter().enumerate() {
        let server = FakeServer::with_session(300);
        let client = signed_in(&server, config(&format!("keeps-{i}"))).await;
        server.set_fault(paths::REFRESH, fault.clone());
        let outcome = client.refresh().await;
        assert!(
            matches!(outcome, RefreshOutcome::Unavailable(_)),
            "{fault:?}: {outcome:?}"
        );
        let store = client.store();
        assert_eq!(store.signed_in(), Some(true), "{fault:?} kept the session");
        assert!(store.problem().is_some(), "{fault:?} is shown as a problem");
        // The fault ends: the retry (backoff, or Retry-After for 429) restores a fresh token.
        server.clear_faults();
        eventually(3_000, "the problem clears by itself", || {
            store.problem().is_none()
        })
        .await;
        assert_eq!(store.signed_in(), Some(true));
        client.shutdown();
    }
}

#[wasm_bindgen_test]
async fn a_429_is_not_retried_before_its_retry_after() {
    // 1 s tokens: the proactive refresh comes 200 ms before expiry and meets the 429.
    let server = FakeServer::with_session(1);
    let client = signed_in(&server, config("retry-after")).await;
    let before = server.requests(paths::REFRESH);
    server.set_fault(
        paths::REFRESH,
        Fault::Status {
            status: 429,
            code: "too_many_attempts",
            retry_after: Some(1),
        },
    );
    eventually(3_000, "two refused refreshes", || {
        server.requests(paths::REFRESH) >= before + 2
    })
    .await;
    assert_eq!(
        client.store().problem(),
        Some(Problem::RateLimited {
            retry_after: Some(std::time::Duration::from_secs(1))
        })
    );
    assert_eq!(client.store().signed_in(), Some(true));
    let at = server.arrivals(paths::REFRESH);
    let gap = at[before + 1] - at[before];
    assert!(gap >= 990.0, "the retry waited for Retry-After: {gap} ms");
    server.clear_faults();
    eventually(3_000, "recovered", || client.store().problem().is_none()).await;
    client.shutdown();
}

#[wasm_bindgen_test]
async fn a_hung_refresh_at_boot_times_out_shows_the_problem_and_recovers_when_the_server_answers() {
    let server = FakeServer::with_session(300);
    server.set_fault(paths::REFRESH, Fault::Hang);
    let client = common::client(&server, config("hung-boot"));
    client.start();
    let store = client.store();
    // Deadline 500 ms in the test config.
    eventually(1_500, "a timed-out problem", || {
        store.problem() == Some(Problem::TimedOut)
    })
    .await;
    assert_eq!(
        store.state(),
        AuthState::Restoring,
        "still restoring, not signed out"
    );
    server.clear_faults();
    eventually(3_000, "restored after the hang ends", || {
        store.signed_in() == Some(true)
    })
    .await;
    assert_eq!(store.problem(), None);
    client.shutdown();
}

#[wasm_bindgen_test]
async fn a_refresh_asked_for_before_sign_out_never_posts() {
    let server = FakeServer::with_session(300);
    let client = signed_in(&server, config("stale")).await;
    server.0.borrow_mut().latency_ms = 40;
    let before = server.counters(|c| c.refresh_requests);
    let refresh = client.refresh();
    // Sign out before the refresh's first poll reaches the network.
    let sign_out = client
        .auth()
        .sign_out(tokenpair_client::SignOutScope::ThisDevice);
    let (outcome, ()) = futures::join!(refresh, sign_out);
    assert_eq!(outcome, RefreshOutcome::Stale);
    assert_eq!(
        server.counters(|c| c.refresh_requests),
        before,
        "no rotation after sign-out"
    );
    client.shutdown();
}

#[wasm_bindgen_test]
async fn a_401_is_not_retried_when_the_sign_in_changed_meanwhile() {
    let server = FakeServer::with_session(300);
    let client = signed_in(&server, config("user-changed")).await;
    // A tab outside this client's channel signs in as user2: the cookie is now user2's.
    server.sign_in_elsewhere(2, "user2");
    server.forget_access_tokens();
    let me_before = server.counters(|c| c.me_requests);
    let result = client.api().get_json::<Me>(paths::ME).await;
    assert_eq!(
        result,
        Err(ClientError::UserChanged),
        "never re-sent as user2"
    );
    assert_eq!(
        server.counters(|c| c.me_requests) - me_before,
        1,
        "only the first attempt"
    );
    assert_eq!(
        client.store().user().map(|u| u.username).as_deref(),
        Some("user2")
    );
    client.shutdown();
}

#[wasm_bindgen_test]
async fn the_bearer_client_refuses_the_cookie_endpoints() {
    let server = FakeServer::with_session(300);
    let client = signed_in(&server, config("misuse")).await;
    let before = server.counters(|c| c.refresh_requests);
    let result = client.api().send(Request::post(paths::REFRESH)).await;
    assert!(matches!(result, Err(ClientError::Misuse(_))), "{result:?}");
    assert_eq!(server.counters(|c| c.refresh_requests), before);
    client.shutdown();
}

#[wasm_bindgen_test]
fn request_and_response_debug_output_never_shows_tokens_or_bodies() {
    let request = Request::post("/api/auth/login")
        .json(&tokenpair_api::Credentials {
            username: "u".into(),
            password: "hunter22-secret".into(),
        })
        .header("Authorization", "Bearer eyJ.secret.sig");
    let shown = format!("{request:?}");
    assert!(
        !shown.contains("hunter22") && !shown.contains("eyJ.secret"),
        "{shown}"
    );
    let response = tokenpair_client::Response::new(200, "{\"access_token\":\"eyJ.secret.sig\"}");
    assert!(!format!("{response:?}").contains("eyJ.secret"));
}

#[wasm_bindgen_test]
async fn a_visit_without_any_session_restores_to_signed_out_without_a_failed_request() {
    let server = FakeServer::new(); // no sign-in: no cookie in the jar
    let client = common::client(&server, config("no-cookie"));
    client.start();
    let store = client.store();
    eventually(1_000, "signed out", || store.signed_in() == Some(false)).await;
    assert_eq!(store.notice(), None, "nothing ended: there was no session");
    assert_eq!(store.problem(), None);
    // The restore asked with ?optional=1 and got 204, not a 401.
    assert_eq!(server.requests(paths::REFRESH), 1);
    client.shutdown();
}

#[wasm_bindgen_test]
async fn an_answer_that_arrives_after_the_user_changed_is_dropped() {
    let server = FakeServer::with_session(300);
    let client = signed_in(&server, config("answer-after-switch")).await;
    server.set_latency(paths::ME, 200);
    // The server reads the token when the request arrives: user1's answer is valid, only late.
    server.0.borrow_mut().decide_on_arrival = true;
    let api = client.api();
    let pending = wasm_bindgen_futures::JsFuture::from(wasm_bindgen_futures::future_to_promise({
        let api = api.clone();
        async move {
            let answer = api.get_json::<Me>(paths::ME).await;
            Ok(wasm_bindgen::JsValue::from_str(&format!("{answer:?}")))
        }
    }));
    sleep(50).await;
    // user1's request is on the wire when user2 signs in.
    client
        .auth()
        .sign_in(tokenpair_client::TokenpairSignIn::password(
            "user2",
            "password2",
        ))
        .await
        .unwrap();
    let answer = pending.await.unwrap().as_string().unwrap();
    assert_eq!(
        answer,
        format!("{:?}", Err::<Me, _>(ClientError::UserChanged)),
        "user1's data never reaches user2's view"
    );
    assert_eq!(client.store().user().map(|u| u.id), Some(2));
    client.shutdown();
}
