//! DPoP (issue 24, in progress): the proof check with the database behind it — a proof is
//! accepted once, also when its replay reaches another instance; nonces every instance makes
//! alike; the `jti` table pruned. Proofs are made here as the browser makes them: a P-256 key,
//! ES256, the public key in the header.

mod common;

use std::time::Duration;

use common::*;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use tokenpair_server::clock::{Clock, Timestamp};
use tokenpair_server::db::now_ms;
use tokenpair_server::dpop::{replay, Dpop, DpopError, DpopMode, DpopPolicy};
use tokenpair_server::sessions::Proved;

const URL: &str = "http://127.0.0.1/api/me";

/// `URL`, as the one URL a proof may name.
fn urls() -> Vec<String> {
    vec![URL.to_owned()]
}

struct Key(EncodingKey);

impl Key {
    fn new() -> Key {
        let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
        let der = p256::pkcs8::EncodePrivateKey::to_pkcs8_der(&secret).unwrap();
        Key(EncodingKey::from_ec_der(der.as_bytes()))
    }

    fn jwk(&self) -> Jwk {
        Jwk::from_encoding_key(&self.0, Algorithm::ES256).unwrap()
    }

    fn proof(&self, jti: &str, nonce: Option<&str>) -> String {
        self.proof_for("GET", URL, jti, nonce)
    }

    fn proof_for(&self, method: &str, url: &str, jti: &str, nonce: Option<&str>) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(self.jwk());
        let mut claims = json!({
            "jti": jti, "htm": method, "htu": url, "iat": now_ms() / 1000,
        });
        if let Some(n) = nonce {
            claims["nonce"] = json!(n);
        }
        jsonwebtoken::encode(&header, &claims, &self.0).unwrap()
    }
}

fn dpop(server: &TestServer, policy: DpopPolicy) -> Dpop {
    Dpop::new(server.state.db.clone(), policy, [9; 32], Clock::System)
}

#[tokio::test]
async fn two_instances_accept_a_proof_once_whichever_receives_it() {
    let (a, b) = start_pair_with(|_| {}).await;
    let (on_a, on_b) = (
        dpop(&a, DpopPolicy::default()),
        dpop(&b, DpopPolicy::default()),
    );
    let key = Key::new();
    let proof = key.proof("jti-1", None);
    let verified = on_a.check(&proof, "GET", &urls(), None).await.unwrap();
    assert_eq!(
        verified.jkt,
        key.jwk().thumbprint(ThumbprintHash::SHA256).unwrap()
    );
    assert!(matches!(
        on_b.check(&proof, "GET", &urls(), None).await,
        Err(DpopError::Replayed)
    ));
    assert!(matches!(
        on_a.check(&proof, "GET", &urls(), None).await,
        Err(DpopError::Replayed)
    ));
    // Another proof of the same key is a new one.
    on_b.check(&key.proof("jti-2", None), "GET", &urls(), None)
        .await
        .unwrap();
}

#[tokio::test]
async fn two_instances_answer_a_proof_without_the_nonce_with_one_either_accepts() {
    let (a, b) = start_pair_with(|_| {}).await;
    let policy = DpopPolicy {
        mode: DpopMode::Optional,
        nonce: true,
        window: Duration::from_secs(60),
    };
    let (on_a, on_b) = (dpop(&a, policy), dpop(&b, policy));
    let key = Key::new();
    let nonce = match on_a
        .check(&key.proof("n-1", None), "GET", &urls(), None)
        .await
    {
        Err(DpopError::UseNonce { nonce }) => nonce,
        other => panic!("expected use_dpop_nonce, got {other:?}"),
    };
    assert_eq!(
        on_b.nonce(),
        Some(nonce.clone()),
        "every instance makes the same"
    );
    on_b.check(&key.proof("n-2", Some(&nonce)), "GET", &urls(), None)
        .await
        .unwrap();
    assert!(matches!(
        on_a.check(&key.proof("n-3", Some("0.forged")), "GET", &urls(), None)
            .await,
        Err(DpopError::UseNonce { .. })
    ));
}

#[tokio::test]
async fn seen_proofs_are_pruned_once_their_iat_window_has_passed() {
    let server = start().await;
    let on = dpop(&server, DpopPolicy::default());
    on.check(&Key::new().proof("p-1", None), "GET", &urls(), None)
        .await
        .unwrap();
    let db = server.db();
    let count = || db.count("SELECT COUNT(*) FROM dpop_jti");
    assert_eq!(count().await, 1);
    replay::prune(&server.state.db, Timestamp(now_ms()))
        .await
        .unwrap();
    assert_eq!(count().await, 1, "still within the window: kept");
    replay::prune(&server.state.db, Timestamp(now_ms() + 121_000))
        .await
        .unwrap();
    assert_eq!(count().await, 0);
}

/// `POST /api/auth/login` as user1 with `proof` in a `DPoP` header (if any).
async fn sign_in(server: &TestServer, proof: Option<&str>) -> reqwest::Response {
    let mut request = server
        .auth_post("/api/auth/login")
        .json(&json!({ "username": "user1", "password": "password1" }));
    if let Some(p) = proof {
        request = request.header("DPoP", p);
    }
    request.send().await.unwrap()
}

fn login_url(server: &TestServer) -> String {
    server.url("/api/auth/login")
}

#[tokio::test]
async fn a_sign_in_with_a_proof_binds_the_session_and_its_token_to_the_key() {
    let server = start().await;
    let key = Key::new();
    let proof = key.proof_for("POST", &login_url(&server), "s-1", None);
    let response = sign_in(&server, Some(&proof)).await;
    let granted = granted(response, reqwest::StatusCode::OK).await;
    let jkt = key.jwk().thumbprint(ThumbprintHash::SHA256).unwrap();
    assert_eq!(granted.body["token_type"], "DPoP");
    assert_eq!(claims_of(&granted.tokens.access)["cnf"]["jkt"], json!(jkt));
    let stored = server
        .db()
        .text(
            "SELECT dpop_jkt FROM sessions WHERE id = $1",
            Some(&granted.tokens.sid),
        )
        .await;
    assert_eq!(stored.as_deref(), Some(jkt.as_str()));
}

#[tokio::test]
async fn without_a_proof_a_sign_in_stays_bearer_unless_dpop_is_required() {
    let server = start().await;
    let granted = granted(sign_in(&server, None).await, reqwest::StatusCode::OK).await;
    assert_eq!(granted.body["token_type"], "Bearer");
    assert!(claims_of(&granted.tokens.access).get("cnf").is_none());

    let strict = start_with(|c| c.dpop.mode = DpopMode::Required).await;
    let refused = sign_in(&strict, None).await;
    expect_error(
        refused,
        reqwest::StatusCode::BAD_REQUEST,
        "invalid_dpop_proof",
    )
    .await;
    let key = Key::new();
    let proof = key.proof_for("POST", &login_url(&strict), "s-2", None);
    granted_ok(sign_in(&strict, Some(&proof)).await).await;
}

async fn granted_ok(response: reqwest::Response) {
    granted(response, reqwest::StatusCode::OK).await;
}

#[tokio::test]
async fn a_sign_in_whose_proof_fails_or_was_used_before_is_refused_and_starts_no_session() {
    let server = start().await;
    let key = Key::new();
    let elsewhere = key.proof_for("POST", "https://evil.test/api/auth/login", "s-3", None);
    let refused = sign_in(&server, Some(&elsewhere)).await;
    expect_error(
        refused,
        reqwest::StatusCode::BAD_REQUEST,
        "invalid_dpop_proof",
    )
    .await;
    let proof = key.proof_for("POST", &login_url(&server), "s-4", None);
    granted_ok(sign_in(&server, Some(&proof)).await).await;
    let replayed = sign_in(&server, Some(&proof)).await;
    expect_error(
        replayed,
        reqwest::StatusCode::BAD_REQUEST,
        "invalid_dpop_proof",
    )
    .await;
    let sessions = server.db().count("SELECT COUNT(*) FROM sessions").await;
    assert_eq!(sessions, 1, "only the good proof's sign-in");
}

#[tokio::test]
async fn with_nonces_on_a_sign_in_gets_use_dpop_nonce_and_succeeds_with_the_nonce() {
    let server = start_with(|c| c.dpop.nonce = true).await;
    let key = Key::new();
    let first = sign_in(
        &server,
        Some(&key.proof_for("POST", &login_url(&server), "s-5", None)),
    )
    .await;
    let nonce = first.headers()["dpop-nonce"].to_str().unwrap().to_owned();
    expect_error(first, reqwest::StatusCode::BAD_REQUEST, "use_dpop_nonce").await;
    let again = key.proof_for("POST", &login_url(&server), "s-6", Some(&nonce));
    granted_ok(sign_in(&server, Some(&again)).await).await;
}

/// Signs in bound to `key`; returns the refresh cookie value and the session id.
async fn bound_session(server: &TestServer, key: &Key, jti: &str) -> Tokens {
    let proof = key.proof_for("POST", &login_url(server), jti, None);
    granted(sign_in(server, Some(&proof)).await, reqwest::StatusCode::OK)
        .await
        .tokens
}

/// `POST /api/auth/refresh` with `cookie` and, if given, a proof.
async fn refresh_with(server: &TestServer, cookie: &str, proof: Option<&str>) -> reqwest::Response {
    let mut request = server.auth_post("/api/auth/refresh").header(
        reqwest::header::COOKIE,
        format!("__Secure-refresh_token={cookie}"),
    );
    if let Some(p) = proof {
        request = request.header("DPoP", p);
    }
    request.send().await.unwrap()
}

fn refresh_url(server: &TestServer) -> String {
    server.url("/api/auth/refresh")
}

#[tokio::test]
async fn a_bound_session_refreshes_with_its_key_and_without_a_proof_nothing_changes() {
    let server = start().await;
    let key = Key::new();
    let tokens = bound_session(&server, &key, "r-1").await;
    let missing = refresh_with(&server, &tokens.refresh, None).await;
    expect_error(
        missing,
        reqwest::StatusCode::UNAUTHORIZED,
        "invalid_dpop_proof",
    )
    .await;
    assert_eq!(
        server.revoked_reason(&tokens.sid).await,
        None,
        "nothing changed"
    );
    let proof = key.proof_for("POST", &refresh_url(&server), "r-2", None);
    let next = granted(
        refresh_with(&server, &tokens.refresh, Some(&proof)).await,
        reqwest::StatusCode::OK,
    )
    .await;
    assert_eq!(next.body["token_type"], "DPoP");
    assert_eq!(
        claims_of(&next.tokens.access)["cnf"]["jkt"],
        json!(key.jwk().thumbprint(ThumbprintHash::SHA256).unwrap())
    );
}

#[tokio::test]
async fn a_refresh_of_a_bound_session_with_another_key_ends_it_as_theft_and_is_recorded() {
    let server = start().await;
    let (key, thief) = (Key::new(), Key::new());
    let tokens = bound_session(&server, &key, "t-1").await;
    let proof = thief.proof_for("POST", &refresh_url(&server), "t-2", None);
    let stolen = refresh_with(&server, &tokens.refresh, Some(&proof)).await;
    expect_refresh_refused(stolen, "refresh_token_reused").await;
    assert_eq!(
        server.revoked_reason(&tokens.sid).await.as_deref(),
        Some("dpop_key_mismatch")
    );
    let kinds = server
        .db()
        .count("SELECT COUNT(*) FROM security_events WHERE kind = 'dpop_key_mismatch'")
        .await;
    assert_eq!(kinds, 1);
    // The owner's own key no longer helps: the session is over.
    let own = key.proof_for("POST", &refresh_url(&server), "t-3", None);
    let after = refresh_with(&server, &tokens.refresh, Some(&own)).await;
    expect_refresh_refused(after, "refresh_token_reused").await;
}

/// `GET /api/me` with `authorization` and, if given, a proof.
async fn me_with(
    server: &TestServer,
    authorization: &str,
    proof: Option<&str>,
) -> reqwest::Response {
    let mut request = server
        .get("/api/me")
        .header(reqwest::header::AUTHORIZATION, authorization);
    if let Some(p) = proof {
        request = request.header("DPoP", p);
    }
    request.send().await.unwrap()
}

/// A proof for `GET /api/me` presenting `access` (`ath`).
fn me_proof(server: &TestServer, key: &Key, access: &str, jti: &str) -> String {
    me_proof_with(server, key, access, jti, None)
}

/// The same, carrying `nonce`.
fn me_proof_with(
    server: &TestServer,
    key: &Key,
    access: &str,
    jti: &str,
    nonce: Option<&str>,
) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.typ = Some("dpop+jwt".into());
    header.jwk = Some(key.jwk());
    let mut claims = json!({
        "jti": jti, "htm": "GET", "htu": server.url("/api/me"), "iat": now_ms() / 1000,
        "ath": tokenpair_server::dpop::proof::token_hash(access),
    });
    if let Some(n) = nonce {
        claims["nonce"] = json!(n);
    }
    jsonwebtoken::encode(&header, &claims, &key.0).unwrap()
}

#[tokio::test]
async fn a_bound_token_works_only_as_dpop_with_a_proof_by_its_key() {
    let server = start().await;
    let (key, thief) = (Key::new(), Key::new());
    let access = bound_session(&server, &key, "m-1").await.access;
    let ok = me_with(
        &server,
        &format!("DPoP {access}"),
        Some(&me_proof(&server, &key, &access, "m-2")),
    )
    .await;
    assert_eq!(ok.status(), reqwest::StatusCode::OK);

    // As Bearer: no downgrade.
    let bearer = me_with(&server, &format!("Bearer {access}"), None).await;
    let challenge = bearer.headers()[reqwest::header::WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .to_owned();
    expect_error(
        bearer,
        reqwest::StatusCode::UNAUTHORIZED,
        "invalid_dpop_proof",
    )
    .await;
    assert!(
        challenge.starts_with("DPoP ") && challenge.contains("algs=\"ES256 EdDSA\""),
        "{challenge}"
    );
    // A proof by another key, and a proof replayed.
    let stolen = me_with(
        &server,
        &format!("DPoP {access}"),
        Some(&me_proof(&server, &thief, &access, "m-3")),
    )
    .await;
    expect_error(
        stolen,
        reqwest::StatusCode::UNAUTHORIZED,
        "invalid_dpop_proof",
    )
    .await;
    let replayed = me_with(
        &server,
        &format!("DPoP {access}"),
        Some(&me_proof(&server, &key, &access, "m-2")),
    )
    .await;
    expect_error(
        replayed,
        reqwest::StatusCode::UNAUTHORIZED,
        "invalid_dpop_proof",
    )
    .await;
    // A proof for another token (`ath`).
    let other = me_with(
        &server,
        &format!("DPoP {access}"),
        Some(&me_proof(&server, &key, "another-token", "m-4")),
    )
    .await;
    expect_error(
        other,
        reqwest::StatusCode::UNAUTHORIZED,
        "invalid_dpop_proof",
    )
    .await;
}

#[tokio::test]
async fn an_unbound_token_stays_a_bearer_token() {
    let server = start().await;
    let tokens = server.login(USER1).await;
    let ok = me_with(&server, &format!("Bearer {}", tokens.access), None).await;
    assert_eq!(ok.status(), reqwest::StatusCode::OK);
    let key = Key::new();
    let as_dpop = me_with(
        &server,
        &format!("DPoP {}", tokens.access),
        Some(&me_proof(&server, &key, &tokens.access, "u-1")),
    )
    .await;
    expect_error(
        as_dpop,
        reqwest::StatusCode::UNAUTHORIZED,
        "invalid_dpop_proof",
    )
    .await;
}

#[tokio::test]
async fn a_stolen_bound_token_presented_as_bearer_signs_nobody_out() {
    let server = start().await;
    let key = Key::new();
    let tokens = bound_session(&server, &key, "l-1").await;
    let logout = server
        .auth_post("/api/auth/logout")
        .header(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {}", tokens.access),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), reqwest::StatusCode::NO_CONTENT);
    assert_eq!(server.revoked_reason(&tokens.sid).await, None, "still live");

    // With a proof by the session's key, the owner signs out.
    let mut header = Header::new(Algorithm::ES256);
    header.typ = Some("dpop+jwt".into());
    header.jwk = Some(key.jwk());
    let claims = json!({
        "jti": "l-2", "htm": "POST", "htu": server.url("/api/auth/logout"),
        "iat": now_ms() / 1000, "ath": tokenpair_server::dpop::proof::token_hash(&tokens.access),
    });
    let proof = jsonwebtoken::encode(&header, &claims, &key.0).unwrap();
    let owner = server
        .auth_post("/api/auth/logout")
        .header(
            reqwest::header::AUTHORIZATION,
            format!("DPoP {}", tokens.access),
        )
        .header("DPoP", proof)
        .send()
        .await
        .unwrap();
    assert_eq!(owner.status(), reqwest::StatusCode::NO_CONTENT);
    assert_eq!(
        server.revoked_reason(&tokens.sid).await.as_deref(),
        Some("logout")
    );
}

#[tokio::test]
async fn with_nonces_on_a_resource_answers_use_dpop_nonce_with_a_nonce_that_then_works() {
    let server = start_with(|c| c.dpop.nonce = true).await;
    let key = Key::new();
    // Sign in with the nonce round trip.
    let first = sign_in(
        &server,
        Some(&key.proof_for("POST", &login_url(&server), "x-1", None)),
    )
    .await;
    let nonce = first.headers()["dpop-nonce"].to_str().unwrap().to_owned();
    let proof = key.proof_for("POST", &login_url(&server), "x-2", Some(&nonce));
    let access = granted(
        sign_in(&server, Some(&proof)).await,
        reqwest::StatusCode::OK,
    )
    .await
    .tokens
    .access;
    // A resource request without the nonce: 401 use_dpop_nonce, with a nonce.
    let without = me_with(
        &server,
        &format!("DPoP {access}"),
        Some(&me_proof(&server, &key, &access, "x-3")),
    )
    .await;
    let nonce = without.headers()["dpop-nonce"].to_str().unwrap().to_owned();
    let challenge = without.headers()[reqwest::header::WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .to_owned();
    expect_error(without, reqwest::StatusCode::UNAUTHORIZED, "use_dpop_nonce").await;
    assert!(challenge.contains("use_dpop_nonce"), "{challenge}");
    // The same request with the nonce it gave: answered.
    let with = me_with(
        &server,
        &format!("DPoP {access}"),
        Some(&me_proof_with(&server, &key, &access, "x-4", Some(&nonce))),
    )
    .await;
    assert_eq!(with.status(), reqwest::StatusCode::OK);
}

#[tokio::test]
async fn a_proof_made_at_an_allowed_origin_binds_and_one_made_at_another_origin_is_refused() {
    // The SPA is served at a second name of the same service (ALLOWED_ORIGINS): a proof made
    // there names that origin.
    let server =
        start_with(|c| c.network.allowed_origins = vec!["http://alias.test:8080".into()]).await;
    let key = Key::new();
    let at_alias = key.proof_for("POST", "http://alias.test:8080/api/auth/login", "o-1", None);
    let granted = granted(
        sign_in(&server, Some(&at_alias)).await,
        reqwest::StatusCode::OK,
    )
    .await;
    assert_eq!(granted.body["token_type"], "DPoP");
    let elsewhere = key.proof_for("POST", "http://evil.test:8080/api/auth/login", "o-2", None);
    expect_error(
        sign_in(&server, Some(&elsewhere)).await,
        reqwest::StatusCode::BAD_REQUEST,
        "invalid_dpop_proof",
    )
    .await;
}

#[tokio::test]
async fn the_replay_store_accepts_each_proof_once_when_hundreds_arrive_at_once() {
    let server = start().await;
    let store = replay::ReplayStore::new(server.state.db.clone());
    let until = Timestamp(now_ms() + 60_000);
    // 150 proofs, each sent three times, all at once: batches form while one is written.
    let attempts = (0..450).map(|i| {
        let store = store.clone();
        let jti = format!("c-{}", i % 150);
        tokio::spawn(async move { (jti.clone(), store.first_use("k", &jti, until).await) })
    });
    let mut firsts = std::collections::HashMap::<String, u32>::new();
    for attempt in futures::future::join_all(attempts).await {
        let (jti, first) = attempt.unwrap();
        if first.expect("written") {
            *firsts.entry(jti).or_default() += 1;
        }
    }
    assert_eq!(firsts.len(), 150, "every proof accepted once");
    assert!(firsts.values().all(|n| *n == 1), "and never twice");
    let rows = server
        .db()
        .count("SELECT COUNT(*) FROM dpop_jti WHERE jti_key IS NOT NULL")
        .await;
    assert_eq!(rows, 150);
    // Later, alone: still refused.
    assert!(!store.first_use("k", "c-7", until).await.unwrap());
    assert!(store.first_use("k", "c-new", until).await.unwrap());
}

#[tokio::test]
async fn without_public_url_a_proof_made_behind_a_development_proxy_names_the_forwarded_host() {
    // `trunk serve` on :8080 proxies /api to the server and rewrites Host; the SPA's proof
    // names the page's origin, which the proxy forwards as X-Forwarded-Host.
    let server = start().await;
    let key = Key::new();
    let proof = key.proof_for("POST", "http://127.0.0.1:8080/api/auth/login", "x-1", None);
    let response = server
        .auth_post("/api/auth/login")
        .header("X-Forwarded-Host", "127.0.0.1:8080")
        .header("DPoP", proof)
        .json(&json!({ "username": "user1", "password": "password1" }))
        .send()
        .await
        .unwrap();
    let granted = granted(response, reqwest::StatusCode::OK).await;
    assert_eq!(granted.body["token_type"], "DPoP");
}

#[tokio::test]
async fn over_http_with_dpop_off_a_refresh_needs_no_proof_and_answers_a_bearer_token() {
    let server = start_with(|c| c.dpop.mode = DpopMode::Off).await;
    // A proof at sign-in is ignored: nothing is bound.
    let proof = Key::new().proof_for("POST", &login_url(&server), "o-1", None);
    let granted = granted(
        sign_in(&server, Some(&proof)).await,
        reqwest::StatusCode::OK,
    )
    .await;
    assert_eq!(granted.body["token_type"], "Bearer");
    let refreshed = refresh_with(&server, &granted.tokens.refresh, None).await;
    assert_eq!(refreshed.status(), reqwest::StatusCode::OK);
    let body: serde_json::Value = refreshed.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
}

#[tokio::test]
async fn with_dpop_turned_off_a_bound_session_refreshes_without_a_proof_into_bearer_tokens() {
    // Bound while DPoP was on; then the operator turns it off (DPOP=off): the server no longer
    // checks proofs, so the session goes on, and its new tokens are not bound.
    let server = start().await;
    let tokens = bound_session(&server, &Key::new(), "f-1").await;
    let client = tokenpair_server::security_events::Client::default();
    let pair = server
        .state
        .token_pairs
        .rotate(&tokens.refresh, &client, Proved::Unchecked)
        .await
        .expect("rotated without a proof");
    assert!(pair.dpop_jkt.is_none());
    assert!(claims_of(&pair.access_token).get("cnf").is_none());
    // With DPoP on, the same session still needs its key.
    let next = pair.refresh_token.0.clone();
    let refused = server
        .state
        .token_pairs
        .rotate(&next, &client, Proved::Nothing)
        .await;
    assert!(
        matches!(
            refused,
            Err(tokenpair_server::token_pair::PairError::Refresh(
                tokenpair_server::sessions::RefreshError::DpopProofMissing
            ))
        ),
        "without a proof, a bound session does not move on: {:?}",
        refused.err()
    );
}

#[tokio::test]
async fn with_public_url_set_a_proof_naming_the_host_or_forwarded_host_is_refused() {
    let server = start_with(|c| {
        c.network.public_url =
            tokenpair_server::public_url::PublicUrl::parse("https://tokenpair.test")
                .expect("a public URL")
    })
    .await;
    let key = Key::new();
    for (n, origin) in ["http://127.0.0.1:8080", "https://127.0.0.1:8080"]
        .iter()
        .enumerate()
    {
        let url = format!("{origin}/api/auth/login");
        let proof = key.proof_for("POST", &url, &format!("p-{n}"), None);
        let response = server
            .auth_post("/api/auth/login")
            .header("X-Forwarded-Host", "127.0.0.1:8080")
            .header("DPoP", proof)
            .json(&json!({ "username": "user1", "password": "password1" }))
            .send()
            .await
            .unwrap();
        expect_error(
            response,
            reqwest::StatusCode::BAD_REQUEST,
            "invalid_dpop_proof",
        )
        .await;
    }
    let proof = key.proof_for(
        "POST",
        "https://tokenpair.test/api/auth/login",
        "p-ok",
        None,
    );
    granted_ok(sign_in(&server, Some(&proof)).await).await;
}

#[tokio::test]
async fn a_token_presented_as_dpop_that_is_not_valid_is_refused_with_a_dpop_invalid_token_challenge(
) {
    let server = start().await;
    let key = Key::new();
    let bogus = "not.a.token";
    let response = me_with(
        &server,
        &format!("DPoP {bogus}"),
        Some(&me_proof(&server, &key, bogus, "it-1")),
    )
    .await;
    let challenge = response.headers()[reqwest::header::WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .to_owned();
    expect_error(response, reqwest::StatusCode::UNAUTHORIZED, "invalid_token").await;
    assert!(challenge.starts_with("DPoP "), "{challenge}");
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
    assert!(challenge.contains(r#"algs="ES256 EdDSA""#), "{challenge}");
    // As Bearer, the Bearer challenge.
    let bearer = me_with(&server, &format!("Bearer {bogus}"), None).await;
    let challenge = bearer.headers()[reqwest::header::WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
}
