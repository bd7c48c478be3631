//! The resource-server example (`server/examples/resource_server.rs`), run against the real
//! server: it verifies tokenpair's access tokens with the JWKS and jsonwebtoken only.

mod common;

#[path = "../examples/resource_server.rs"]
#[allow(dead_code)]
mod example;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use serde_json::Value;
use tokenpair_server::db::now_ms;
use tokenpair_server::tokens::key_store::{self, KeySchedule};
use tokenpair_testkit::dpop::ProofKey;

async fn serve_example(server: &TestServer) -> String {
    let verifier = example::Verifier::new(
        &server.url("/.well-known/jwks.json"),
        "tokenpair",
        "tokenpair-api",
    )
    .await
    .expect("the JWKS loads");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, example::app(Arc::new(verifier))).await;
    });
    format!("http://{addr}/hello")
}

async fn hello(url: &str, token: Option<&str>) -> (StatusCode, Value) {
    let mut request = client().get(url);
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let r = request.send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap())
}

#[tokio::test]
async fn the_example_accepts_a_real_token_and_refuses_everything_else() {
    let server = start_with(|c| c.tokens.access_token_secret = None).await;
    let url = serve_example(&server).await;
    let t = server.login(USER1).await;
    let (status, body) = hello(&url, Some(&t.access)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["hello"], "1");
    assert_eq!(body["session"], t.sid.as_str());

    assert_eq!(hello(&url, None).await.0, StatusCode::UNAUTHORIZED);
    let (input, signature) = t.access.rsplit_once('.').unwrap();
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    let tampered = format!("{input}.{flipped}{}", &signature[1..]);
    assert_eq!(
        hello(&url, Some(&tampered)).await.0,
        StatusCode::UNAUTHORIZED
    );
    // An HS256 token from a server with a shared secret: no such key in the JWKS.
    let hs = start().await;
    let other = hs.session(USER1_ID).await;
    let (status, body) = hello(&url, Some(&other.access)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["error"].as_str().unwrap().contains("unknown key"),
        "{body}"
    );
}

#[tokio::test]
async fn the_example_follows_a_key_rotation_by_refetching_the_jwks() {
    let server = start_with(|c| {
        c.tokens.access_token_secret = None;
        c.tokens.key_reload_every = Duration::from_millis(200);
    })
    .await;
    let url = serve_example(&server).await;
    let schedule = KeySchedule::from_config(&server.config.tokens);
    // Two rotations: the second one's key was not in the JWKS the example fetched at start.
    let mut newest = String::new();
    for _ in 0..2 {
        newest = key_store::rotate(&server.state.db, &schedule, now_ms())
            .await
            .unwrap()
            .current;
    }
    wait_for("the server to sign with the newest key", || async {
        server.state.tokens.kid().as_deref() == Some(newest.as_str())
    })
    .await;
    let t = server.login(USER1).await;
    let (status, body) = hello(&url, Some(&t.access)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// The issuer's JWKS, relayed with `Cache-Control: max-age=1` (tokenpair says 600 s) so the
/// test need not wait ten minutes.
async fn relay_jwks_with_max_age_1(server: &TestServer) -> String {
    let upstream = server.url("/.well-known/jwks.json");
    let app = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            let upstream = upstream.clone();
            async move {
                let body = client()
                    .get(&upstream)
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                (
                    [
                        (reqwest::header::CACHE_CONTROL, "public, max-age=1"),
                        (reqwest::header::CONTENT_TYPE, "application/json"),
                    ],
                    body,
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}/jwks.json")
}

#[tokio::test]
async fn a_key_that_left_the_jwks_stops_being_trusted_once_the_cached_set_expires() {
    let server = start_with(|c| {
        c.tokens.access_token_secret = None;
        c.tokens.key_reload_every = Duration::from_millis(200);
    })
    .await;
    let verifier = example::Verifier::new(
        &relay_jwks_with_max_age_1(&server).await,
        "tokenpair",
        "tokenpair-api",
    )
    .await
    .expect("the JWKS loads");
    let leaked = server.login(USER1).await.access;
    let leaked_kid = server.state.tokens.kid().expect("a signing key");
    assert!(
        verifier.verify(&leaked).await.is_ok(),
        "trusted while published"
    );

    // The operator rotates and then removes the leaked key at once.
    let schedule = KeySchedule::from_config(&server.config.tokens);
    key_store::rotate(&server.state.db, &schedule, now_ms())
        .await
        .unwrap();
    sqlx::query("DELETE FROM signing_keys WHERE kid = $1")
        .bind(&leaked_kid)
        .execute(&server.state.db.pool)
        .await
        .unwrap();
    server.state.tokens.reload().await.unwrap();
    wait_for("the example to stop trusting the removed key", || async {
        verifier.verify(&leaked).await.is_err()
    })
    .await;
    let why = verifier.verify(&leaked).await.unwrap_err();
    assert!(why.contains("unknown key"), "{why}");
    // Tokens of the new key are still fine.
    let fresh = server.login(USER1).await.access;
    assert!(verifier.verify(&fresh).await.is_ok());
}

/// A session bound to `key` (a sign-in with its proof): the access token.
async fn bound_token(server: &TestServer, key: &ProofKey) -> String {
    let url = server.url("/api/auth/login");
    let response = client()
        .post(&url)
        .header("X-Requested-With", "XMLHttpRequest")
        .header("DPoP", key.proof("POST", &url, None, None))
        .json(&serde_json::json!({"username": USER1.0, "password": USER1.1}))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "DPoP", "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

async fn hello_with(url: &str, authorization: &str, proof: Option<&str>) -> (StatusCode, Value) {
    let mut request = client()
        .get(url)
        .header(reqwest::header::AUTHORIZATION, authorization);
    if let Some(p) = proof {
        request = request.header("DPoP", p);
    }
    let r = request.send().await.unwrap();
    let status = r.status();
    let challenge = r
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned());
    let mut body: Value = r.json().await.unwrap();
    body["www_authenticate"] = challenge.into();
    (status, body)
}

#[tokio::test]
async fn the_example_takes_a_dpop_bound_token_only_with_a_fresh_proof_by_its_key() {
    let server = start_with(|c| c.tokens.access_token_secret = None).await;
    let url = serve_example(&server).await;
    let (key, thief) = (ProofKey::new(), ProofKey::new());
    let token = bound_token(&server, &key).await;
    let dpop = format!("DPoP {token}");

    let proof = key.proof("GET", &url, Some(&token), None);
    let (status, body) = hello_with(&url, &dpop, Some(&proof)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["hello"], "1");

    let refused = |what: &'static str, expected: &'static str| {
        move |(status, body): (StatusCode, Value)| {
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
            let error = body["error"].as_str().unwrap_or_default();
            assert!(error.contains(expected), "{what}: {body}");
            assert!(
                body["www_authenticate"]
                    .as_str()
                    .is_some_and(|h| h.starts_with("DPoP ")),
                "{what}: {body}"
            );
        }
    };
    refused("the same proof again", "used before")(hello_with(&url, &dpop, Some(&proof)).await);
    refused("as Bearer", "bound to a key")(
        hello_with(&url, &format!("Bearer {token}"), None).await,
    );
    refused("without a proof", "no DPoP proof")(hello_with(&url, &dpop, None).await);
    let other_key = thief.proof("GET", &url, Some(&token), None);
    refused("a proof by another key", "another key")(
        hello_with(&url, &dpop, Some(&other_key)).await,
    );
    let other_url = key.proof("GET", &server.url("/hello"), Some(&token), None);
    refused("a proof for another URL", "the proof is for")(
        hello_with(&url, &dpop, Some(&other_url)).await,
    );
    let other_token = key.proof("GET", &url, Some("another token"), None);
    refused("a proof for another token", "ath")(hello_with(&url, &dpop, Some(&other_token)).await);
    let post = key.proof("POST", &url, Some(&token), None);
    refused("a proof for another method", "the proof is for")(
        hello_with(&url, &dpop, Some(&post)).await,
    );

    // An unbound token stays Bearer-only.
    let bearer = server.login(USER1).await.access;
    let (status, body) = hello_with(&url, &format!("Bearer {bearer}"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let proof = key.proof("GET", &url, Some(&bearer), None);
    let (status, body) = hello_with(&url, &format!("DPoP {bearer}"), Some(&proof)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}
