//! The access token goes only where it may: the page's origin (and the backend's, and the
//! configured ones), never a cookie endpoint — compared by whole path segments of the resolved
//! URL — and a next-page link to another origin is not followed. A refused request is not sent
//! at all.
#![cfg(target_arch = "wasm32")]

mod common;

use common::{config, signed_in, FakeServer};
use tokenpair_api::{paths, Me};
use tokenpair_client::{ClientError, Request};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn origin() -> String {
    web_sys::window().unwrap().location().origin().unwrap()
}

#[wasm_bindgen_test]
async fn the_access_token_is_never_sent_to_another_origin() {
    let server = FakeServer::with_session(300);
    let client = signed_in(&server, config("other-origin")).await;
    let sent_before = server.urls().len();
    let port = web_sys::window().unwrap().location().port().unwrap();
    let other_port = format!(
        "http://127.0.0.1:{}/api/me",
        port.parse::<u16>().unwrap() ^ 1
    );
    for url in [
        "https://evil.example/api/me",
        "//evil.example/api/me",
        "http://localhost.evil.example/api/me",
        other_port.as_str(),
        "javascript:alert(1)",
    ] {
        let result = client.api().get_json::<Me>(url).await;
        assert!(
            matches!(&result, Err(ClientError::Misuse(_))),
            "{url}: {result:?}"
        );
    }
    assert_eq!(server.urls().len(), sent_before, "nothing was sent");
    // The page's own origin, relative or absolute, is fine.
    for url in [paths::ME.to_owned(), format!("{}{}", origin(), paths::ME)] {
        assert!(client.api().get_json::<Me>(&url).await.is_ok(), "{url}");
    }
    client.shutdown();
}

#[wasm_bindgen_test]
async fn a_configured_origin_receives_the_token() {
    let server = FakeServer::with_session(300);
    let mut cfg = config("allowed-origin");
    cfg.allowed_origins.push("https://api.example.test".into());
    let client = signed_in(&server, cfg).await;
    let url = "https://api.example.test/api/me";
    let me = client.api().get_json::<Me>(url).await.expect("allowed");
    assert_eq!(me.username, "user1");
    let bearer = server
        .bearer_sent_to(url)
        .expect("sent")
        .expect("with the token");
    assert_eq!(
        Some(bearer.as_str()),
        client.store().token().as_ref().map(|t| t.bearer())
    );
    client.shutdown();
}

#[wasm_bindgen_test]
async fn a_next_page_on_another_origin_is_not_followed() {
    let server = FakeServer::with_session(300);
    let client = signed_in(&server, config("next-away")).await;
    let result = client.api().get_json_pages::<i64>("/api/away-pages").await;
    assert!(
        matches!(&result, Err(ClientError::Misuse(m)) if m.contains("another origin")),
        "{result:?}"
    );
    assert_eq!(server.counters(|c| c.page_requests), 1);
    assert!(server.urls().iter().all(|u| !u.contains("evil.example")));
    client.shutdown();
}

#[wasm_bindgen_test]
async fn cookie_endpoints_are_recognised_by_whole_path_segments_of_the_resolved_url() {
    let server = FakeServer::with_session(300);
    let client = signed_in(&server, config("segments")).await;
    let here = origin();
    let refused = [
        "/api/auth/refresh".to_owned(),
        "/api//auth/refresh".to_owned(),
        "/api/%61uth/refresh".to_owned(),
        "/api/./auth/refresh".to_owned(),
        "/x/../api/auth/refresh".to_owned(),
        "/api\\auth/refresh".to_owned(),
        "/api/auth".to_owned(),
        format!("{here}/api/auth/logout"),
    ];
    let before = server.urls().len();
    for url in &refused {
        let result = client.api().send(Request::post(url.as_str())).await;
        assert!(
            matches!(&result, Err(ClientError::Misuse(_))),
            "{url}: {result:?}"
        );
    }
    assert_eq!(server.urls().len(), before, "none of them was sent");
    // A path that merely starts with the same letters is an API path like any other.
    let result = client.api().get_json::<Me>("/api/authors").await;
    assert!(
        matches!(&result, Err(ClientError::Api(e)) if e.status == 404),
        "{result:?}"
    );
    assert!(server.urls().iter().any(|u| u.ends_with("/api/authors")));
    client.shutdown();
}
