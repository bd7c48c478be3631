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

const URL: &str = "http://127.0.0.1/api/me";

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
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(self.jwk());
        let mut claims = json!({
            "jti": jti, "htm": "GET", "htu": URL, "iat": now_ms() / 1000,
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
    let verified = on_a.check(&proof, "GET", URL, None).await.unwrap();
    assert_eq!(
        verified.jkt,
        key.jwk().thumbprint(ThumbprintHash::SHA256).unwrap()
    );
    assert!(matches!(
        on_b.check(&proof, "GET", URL, None).await,
        Err(DpopError::Replayed)
    ));
    assert!(matches!(
        on_a.check(&proof, "GET", URL, None).await,
        Err(DpopError::Replayed)
    ));
    // Another proof of the same key is a new one.
    on_b.check(&key.proof("jti-2", None), "GET", URL, None)
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
    let nonce = match on_a.check(&key.proof("n-1", None), "GET", URL, None).await {
        Err(DpopError::UseNonce { nonce }) => nonce,
        other => panic!("expected use_dpop_nonce, got {other:?}"),
    };
    assert_eq!(
        on_b.nonce(),
        Some(nonce.clone()),
        "every instance makes the same"
    );
    on_b.check(&key.proof("n-2", Some(&nonce)), "GET", URL, None)
        .await
        .unwrap();
    assert!(matches!(
        on_a.check(&key.proof("n-3", Some("0.forged")), "GET", URL, None)
            .await,
        Err(DpopError::UseNonce { .. })
    ));
}

#[tokio::test]
async fn seen_proofs_are_pruned_once_their_iat_window_has_passed() {
    let server = start().await;
    let on = dpop(&server, DpopPolicy::default());
    on.check(&Key::new().proof("p-1", None), "GET", URL, None)
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
