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

/// What another user meets while one address floods the password queue with 20 new
/// registrations (each would need an Argon2 run).
struct Crowding {
    /// The other user's sign-in.
    other: StatusCode,
    /// Argon2 runs started between that sign-in being sent and answered, its own included:
    /// how many of the flood's runs it waited behind, plus one.
    runs_while_waiting: u64,
    flood: Vec<StatusCode>,
}

const FLOOD: usize = 20; // the registration throttle lets exactly 20 through per address
const QUEUE_PLACES: usize = 12;

/// Floods from `127.0.1.<flooder>` and, once the flood holds `flood_places` places in the
/// queue (all it can get), signs `user2` in from another address.
async fn flood_then_sign_in(server: &TestServer, flooder: u8, flood_places: usize) -> Crowding {
    let flooder_client = client_at(flooder);
    let passwords = &server.state.passwords;
    let flood = join_all(
        (0..FLOOD).map(|i| register_from(server, &flooder_client, format!("flood{flooder}x{i}"))),
    );
    let other = async {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while passwords.queue().admitted() < flood_places {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the flood never held {flood_places} places in the queue"
            );
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        let before = passwords.runs();
        let r = server
            .login_from(&client_at(flooder + 1), USER2, None)
            .await;
        (r.status(), passwords.runs() - before)
    };
    let (flood, (other, runs_while_waiting)) = tokio::join!(flood, other);
    Crowding {
        other,
        runs_while_waiting,
        flood: flood.iter().map(|r| r.status()).collect(),
    }
}

fn queue_of(per_address: usize) -> impl FnOnce(&mut tokenpair_server::Config) {
    move |cfg| {
        cfg.limits.password_queue.per_address = per_address;
        cfg.limits.password_queue.max_admitted = QUEUE_PLACES;
    }
}

#[tokio::test]
async fn one_address_flooding_the_password_queue_leaves_room_for_everybody_else() {
    // The default limit: two places per address, the rest refused at once (429) instead of
    // queued ahead of everybody else.
    let server = start_with(queue_of(2)).await;
    let seen = flood_then_sign_in(&server, 4, 2).await;
    assert_eq!(
        seen.other,
        StatusCode::OK,
        "another user signs in during the flood"
    );
    // Ahead of it at most the flood's two places (and one more that may start while the
    // answer travels back), never the whole flood.
    assert!(
        seen.runs_while_waiting <= 4,
        "waited behind {} runs",
        seen.runs_while_waiting
    );
    let created = seen
        .flood
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let limited = seen
        .flood
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(created >= 1, "{:?}", seen.flood);
    assert_eq!(created + limited, FLOOD, "{:?}", seen.flood);
    assert!(
        limited >= FLOOD / 2,
        "more than two at once from one address are refused: {:?}",
        seen.flood
    );
    assert_eq!(
        server.state.passwords.queue().admitted(),
        0,
        "every place given back"
    );
}

#[tokio::test]
async fn without_the_per_address_limit_the_same_flood_crowds_the_other_user_out() {
    // The control for the test above: the same flood, the limit lifted. The flood fills the
    // queue, and the other user is refused or waits behind most of it.
    let server = start_with(queue_of(FLOOD)).await;
    let seen = flood_then_sign_in(&server, 6, QUEUE_PLACES).await;
    assert!(
        seen.other == StatusCode::SERVICE_UNAVAILABLE || seen.runs_while_waiting > 8,
        "crowded out: {:?} after {} runs",
        seen.other,
        seen.runs_while_waiting
    );
}
