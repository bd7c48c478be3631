//! The client address behind a proxy (issue 21, item 1): forwarding headers are believed only
//! from `TRUSTED_PROXIES`, read from the right, and the address they give is what the
//! per-address limits count. Observed through the registration throttle (20 attempts per
//! address, then 429): a taken name costs no Argon2 run, so each attempt is cheap.
//!
//! The test server listens on 127.0.0.1; its own client (`server.client`) connects from
//! 127.0.0.1 — the "proxy" these tests trust — and `client_at(n)` from 127.0.1.n, untrusted.

mod common;

use common::*;
use reqwest::{Client, StatusCode};
use serde_json::json;
use tokenpair_server::forwarding::{AddressHeader, TrustedProxies};

const FREE: usize = 20;

async fn register_taken(
    server: &TestServer,
    client: &Client,
    headers: &[(&str, String)],
) -> StatusCode {
    let mut request = client
        .post(server.url("/api/auth/register"))
        .header(XRW.0, XRW.1)
        .json(&json!({ "username": "user1", "password": "Password123" }));
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    request.send().await.expect("register request").status()
}

/// Spends one client's free attempts (each a 409: the name is taken) and returns what the next
/// attempt got; `headers(i)` are the forwarding headers of attempt `i`.
async fn attempts_until_refused(
    server: &TestServer,
    client: &Client,
    headers: impl Fn(usize) -> Vec<(&'static str, String)>,
) -> Vec<StatusCode> {
    let mut got = Vec::new();
    for i in 0..=FREE {
        got.push(register_taken(server, client, &headers(i)).await);
    }
    got
}

fn spent_then_refused(got: &[StatusCode]) -> bool {
    got[..FREE].iter().all(|s| *s == StatusCode::CONFLICT)
        && got[FREE] == StatusCode::TOO_MANY_REQUESTS
}

async fn trusting(proxies: &[&str], which: AddressHeader) -> TestServer {
    let proxies = TrustedProxies::parse(proxies).expect("proxies");
    start_with(move |c| {
        c.network.trusted_proxies = proxies;
        c.network.client_address_header = which;
    })
    .await
}

fn xff(value: impl Into<String>) -> Vec<(&'static str, String)> {
    vec![("x-forwarded-for", value.into())]
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_is_limited_on_its_own() {
    let server = trusting(&["127.0.0.1"], AddressHeader::Auto).await;
    let got = attempts_until_refused(&server, &server.client, |_| xff("203.0.113.1")).await;
    assert!(spent_then_refused(&got), "{got:?}");
    // Another client behind the same proxy still has all of its attempts.
    let other = register_taken(&server, &server.client, &xff("203.0.113.2")).await;
    assert_eq!(other, StatusCode::CONFLICT, "not throttled with the first");
}

#[tokio::test]
async fn without_trusted_proxies_forwarding_headers_are_ignored() {
    let server = start().await;
    // A new forwarded address on every attempt: all counted against the peer, 127.0.0.1.
    let got = attempts_until_refused(&server, &server.client, |i| {
        let mut h = xff(format!("203.0.113.{i}"));
        h.push(("forwarded", format!("for=198.51.100.{i}")));
        h
    })
    .await;
    assert!(spent_then_refused(&got), "{got:?}");
}

#[tokio::test]
async fn a_forged_x_forwarded_for_from_an_untrusted_peer_changes_nothing() {
    let server = trusting(&["127.0.0.1"], AddressHeader::Auto).await;
    let attacker = client_at(7);
    let got = attempts_until_refused(&server, &attacker, |i| {
        let mut h = xff(format!("203.0.113.{i}, 127.0.0.1"));
        h.push(("forwarded", format!("for=198.51.100.{i}")));
        h
    })
    .await;
    assert!(spent_then_refused(&got), "{got:?}");
    // The proxy's own clients are not the attacker: still free.
    let through_proxy = register_taken(&server, &server.client, &xff("203.0.113.50")).await;
    assert_eq!(through_proxy, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_chain_of_proxies_gives_the_rightmost_address_that_is_not_trusted() {
    // The edge proxy (10.x, trusted) forwarded to the one at 127.0.0.1 (trusted).
    let server = trusting(&["127.0.0.1", "10.0.0.0/8"], AddressHeader::XForwardedFor).await;
    // The client forges a different first entry each time; the edge appended its real address.
    let got = attempts_until_refused(&server, &server.client, |i| {
        xff(format!("192.0.2.{i}, 198.51.100.7, 10.2.3.4"))
    })
    .await;
    assert!(spent_then_refused(&got), "{got:?}");
    let neighbour = register_taken(&server, &server.client, &xff("198.51.100.8, 10.2.3.4")).await;
    assert_eq!(
        neighbour,
        StatusCode::CONFLICT,
        "another client of the edge"
    );
}

#[tokio::test]
async fn forwarded_for_is_read_from_a_trusted_proxy_that_sends_it() {
    let server = trusting(&["127.0.0.1"], AddressHeader::Forwarded).await;
    let got = attempts_until_refused(&server, &server.client, |i| {
        vec![
            (
                "forwarded",
                r#"for="[2001:db8:cafe:1::17]:4711";proto=https"#.to_owned(),
            ),
            // Not the configured header: a client's, passed through. Never read.
            ("x-forwarded-for", format!("203.0.113.{i}")),
        ]
    })
    .await;
    assert!(spent_then_refused(&got), "{got:?}");
    let other = register_taken(
        &server,
        &server.client,
        &[("forwarded", "for=\"[2001:db8:cafe:2::17]\"".to_owned())],
    )
    .await;
    assert_eq!(other, StatusCode::CONFLICT);
}

#[tokio::test]
async fn ipv6_clients_are_limited_per_network_not_per_address() {
    let server = trusting(&["127.0.0.1"], AddressHeader::Auto).await;
    // A new address of the same /64 on every attempt: one client to the limits.
    let got = attempts_until_refused(&server, &server.client, |i| {
        xff(format!("2001:db8:aa:1::{:x}", i + 1))
    })
    .await;
    assert!(spent_then_refused(&got), "{got:?}");
    // The next /64 is somebody else.
    let other = register_taken(&server, &server.client, &xff("2001:db8:aa:2::1")).await;
    assert_eq!(other, StatusCode::CONFLICT);
}

#[tokio::test]
async fn with_a_128_bit_prefix_each_ipv6_address_is_its_own_client() {
    let proxies = TrustedProxies::parse(&["127.0.0.1"]).expect("proxies");
    let server = start_with(move |c| {
        c.network.trusted_proxies = proxies;
        c.network.ipv6_client_prefix = 128;
    })
    .await;
    for i in 0..=FREE {
        let s = register_taken(
            &server,
            &server.client,
            &xff(format!("2001:db8:aa:1::{:x}", i + 1)),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "attempt {i}");
    }
}
