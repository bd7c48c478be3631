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
use axum::Json;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;
use crate::tokens::key_store::JWKS_MAX_AGE;
use crate::tokens::keys::KeySet;

pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// A JWK Set (RFC 7517): public keys only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "ed25519-9f3a1c2b7d4e5f60", "use": "sig", "alg": "EdDSA"}]}))]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

/// One Ed25519 public key (RFC 8037).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Jwk {
    /// Always `OKP`.
    pub kty: String,
    /// Always `Ed25519`.
    pub crv: String,
    /// The public key, base64url without padding.
    pub x: String,
    /// The `kid` an access token's header names.
    pub kid: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub use_: String,
    /// Always `EdDSA`.
    pub alg: String,
}

/// The JWKS of a key set, keys in activation order.
pub fn document(set: &KeySet) -> JwkSet {
    let keys = set
        .signing
        .iter()
        .filter_map(|slot| {
            let public = set.verifying.get(&slot.kid)?.public?;
            Some(Jwk {
                kty: "OKP".into(),
                crv: "Ed25519".into(),
                x: URL_SAFE_NO_PAD.encode(public),
                kid: slot.kid.clone(),
                use_: "sig".into(),
                alg: "EdDSA".into(),
            })
        })
        .collect();
    JwkSet { keys }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(jwks))
}

#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "service",
    responses((status = 200, description = "The public keys access tokens may be signed with (empty in HS256 mode)", body = JwkSet,
        content_type = "application/jwk-set+json",
        headers(("Cache-Control" = String, description = "`public, max-age=600`: a key is published at least twice that long before it signs"))))
)]
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
