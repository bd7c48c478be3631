//! `GET /.well-known/jwks.json`: the public keys a valid access token may carry (RFC 7517),
//! for any service that wants to verify tokens without holding a key that could mint them.
//!
//! Every Ed25519 key of the set is listed — the next one (published before it signs), the
//! current one, and retired ones until their last token has expired ([`super::key_store`]).
//! Each is `{"kty":"OKP","crv":"Ed25519","x":…,"kid":…,"use":"sig","alg":"EdDSA"}`: public
//! members only. In HS256 mode the set is empty (a shared secret is never published).
//!
//! `Cache-Control: public, max-age=600`: a key is published at least 20 minutes (twice that)
//! before it signs, so a verifier that honours the cache time always knows it in time.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde_json::{json, Value};

use crate::state::AppState;
use crate::tokens::key_store::JWKS_MAX_AGE;
use crate::tokens::keys::KeySet;

pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// The JWKS of a key set, keys in activation order.
pub fn document(set: &KeySet) -> Value {
    let keys: Vec<Value> = set
        .signing
        .iter()
        .filter_map(|slot| {
            let public = set.verifying.get(&slot.kid)?.public?;
            Some(json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": URL_SAFE_NO_PAD.encode(public),
                "kid": slot.kid,
                "use": "sig",
                "alg": "EdDSA",
            }))
        })
        .collect();
    json!({ "keys": keys })
}

pub fn router() -> Router<AppState> {
    Router::new().route(JWKS_PATH, get(jwks))
}

/// `GET /.well-known/jwks.json`.
pub async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    let cache = format!("public, max-age={}", JWKS_MAX_AGE.as_secs());
    (
        [
            (header::CACHE_CONTROL, cache),
            (header::CONTENT_TYPE, "application/jwk-set+json".to_owned()),
        ],
        Json(document(&state.tokens.key_set())),
    )
}
