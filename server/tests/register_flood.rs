//! Registration under a flood (issue 15, item 4): throttled per address, a taken name costs no
//! Argon2 run, and the Argon2 queue keeps one address from crowding everybody else out.

mod common;

use common::*;
use futures::future::join_all;
use reqwest::{Client, StatusCode};
use serde_json::json;

async fn register_from(
    server: &TestServer,
    client: &Client,
    name: impl AsRef<str>,
) -> reqwest::Response {
    let name = name.as_ref();
    client
        .post(server.url("/api/auth/register"))
        .header(XRW.0, XRW.1)
        .json(&json!({ "username": name, "password": "Password123" }))
        .send()
        .await
        .expect("register request")
}

#[tokio::test]
async fn registering_a_taken_name_is_refused_before_any_password_hashing() {
    let server = start().await;
    let runs = server.state.passwords.runs();
    let r = register_from(&server, &client_at(1), "user1").await;
    expect_error(r, StatusCode::CONFLICT, "username_taken").await;
    let r = register_from(&server, &client_at(1), "USER1").await;
    expect_error(r, StatusCode::CONFLICT, "username_taken").await;
    assert_eq!(
        server.state.passwords.runs(),
        runs,
        "no Argon2 run for a taken name"
    );
}

#[tokio::test]
async fn a_parallel_flood_of_registrations_from_one_address_is_throttled() {
    let server = start().await;
    let flooder = client_at(2);
    let responses = join_all((0..48).map(|_| register_from(&server, &flooder, "user1"))).await;
    let got: Vec<StatusCode> = responses.iter().map(|r| r.status()).collect();
    let conflicts = got.iter().filter(|s| **s == StatusCode::CONFLICT).count();
    let refused = got
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(
        conflicts, 20,
        "20 free registration attempts per address: {got:?}"
    );
    assert_eq!(refused, 28, "{got:?}");
    let retry_after = responses
        .iter()
        .find(|r| r.status() == StatusCode::TOO_MANY_REQUESTS)
        .and_then(|r| r.headers().get("retry-after"))
        .expect("Retry-After on a 429");
    assert!(retry_after.to_str().unwrap().parse::<u64>().unwrap() >= 1);
    // Another address is not affected.
    let r = register_from(&server, &client_at(3), "newcomer").await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn one_address_flooding_the_password_queue_leaves_room_for_everybody_else() {
    let server = start().await;
    let flooder = client_at(4);
    // New names, so each would need an Argon2 run: the address gets two places in the queue;
    // the rest is refused at once (429), not queued behind the others.
    let flood = join_all((0..16).map(|i| register_from(&server, &flooder, format!("flood{i}"))));
    let other = async {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        server.login_from(&client_at(5), USER2, None).await
    };
    let (flood, other) = tokio::join!(flood, other);
    assert_eq!(
        other.status(),
        StatusCode::OK,
        "another user signs in during the flood"
    );
    let got: Vec<StatusCode> = flood.iter().map(|r| r.status()).collect();
    let created = got.iter().filter(|s| **s == StatusCode::CREATED).count();
    let limited = got
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(created >= 1, "{got:?}");
    assert_eq!(created + limited, 16, "{got:?}");
    assert!(
        limited >= 1,
        "more than two at once from one address are refused: {got:?}"
    );
    assert_eq!(
        server.state.passwords.queue().admitted(),
        0,
        "every place given back"
    );
}
