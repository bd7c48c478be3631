//! A resource server that accepts tokenpair's access tokens **without any secret and without
//! the database**: it fetches the public keys from `/.well-known/jwks.json` and verifies each
//! Bearer token with `jsonwebtoken` alone. Copy this file into your own service.
//!
//! ```text
//! cargo run -p tokenpair-server --example resource_server -- \
//!     --jwks http://127.0.0.1:8080/.well-known/jwks.json --port 9090
//! curl -H "Authorization: Bearer $ACCESS_TOKEN" http://127.0.0.1:9090/hello
//! ```
//!
//! The rules a verifier must keep (RFC 8725, RFC 9068):
//! * pick the key by the token's `kid`, among the JWKS's keys only — never from `jku`/`jwk`
//!   headers; an unknown `kid` means "refetch the JWKS once" (the issuer may have rotated),
//!   then refuse;
//! * take the algorithm from the **key**, never from the token header: a key published as
//!   `alg: EdDSA` verifies EdDSA signatures and nothing else (this is what stops an HS256 token
//!   "signed" with the public key);
//! * check `typ: at+jwt`, `iss`, `aud` and `exp`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use clap::Parser;
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::RwLock;

/// Refetch the JWKS for an unknown `kid` at most this often.
const REFETCH_AT_MOST_EVERY: Duration = Duration::from_secs(10);

/// The claims this service uses.
#[derive(Debug, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub sid: String,
    pub exp: u64,
}

/// Verifies tokenpair access tokens against the issuer's JWKS.
pub struct Verifier {
    jwks_url: String,
    issuer: String,
    audience: String,
    http: reqwest::Client,
    /// The keys, and when an unknown `kid` last made us refetch them.
    keys: RwLock<(JwkSet, Option<Instant>)>,
}

impl Verifier {
    /// Fetches the JWKS once to start with.
    pub async fn new(jwks_url: &str, issuer: &str, audience: &str) -> Result<Self, String> {
        let http = reqwest::Client::new();
        let set = fetch(&http, jwks_url).await?;
        Ok(Verifier {
            jwks_url: jwks_url.to_owned(),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            http,
            keys: RwLock::new((set, None)),
        })
    }

    /// The token's claims, or why it is refused.
    pub async fn verify(&self, token: &str) -> Result<Claims, String> {
        let header = decode_header(token).map_err(|e| format!("malformed token: {e}"))?;
        if header.typ.as_deref() != Some("at+jwt") {
            return Err("not an access token (typ must be at+jwt)".into());
        }
        let kid = header.kid.ok_or("the token names no key (kid)")?;
        let jwk = match self.key(&kid).await {
            Some(jwk) => jwk,
            None => {
                self.refetch().await?;
                self.key(&kid).await.ok_or(format!("unknown key {kid}"))?
            }
        };
        // The algorithm comes from the published key, not from the token.
        if jwk.common.key_algorithm != Some(KeyAlgorithm::EdDSA) {
            return Err(format!("key {kid} is not an EdDSA key"));
        }
        let key = DecodingKey::from_jwk(&jwk).map_err(|e| format!("bad key {kid}: {e}"))?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        decode::<Claims>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| format!("invalid token: {e}"))
    }

    async fn key(&self, kid: &str) -> Option<Jwk> {
        self.keys.read().await.0.find(kid).cloned()
    }

    async fn refetch(&self) -> Result<(), String> {
        let mut keys = self.keys.write().await;
        if keys
            .1
            .is_some_and(|at| at.elapsed() < REFETCH_AT_MOST_EVERY)
        {
            return Ok(());
        }
        *keys = (
            fetch(&self.http, &self.jwks_url).await?,
            Some(Instant::now()),
        );
        Ok(())
    }
}

async fn fetch(http: &reqwest::Client, url: &str) -> Result<JwkSet, String> {
    http.get(url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| format!("cannot fetch the JWKS from {url}: {e}"))?
        .json::<JwkSet>()
        .await
        .map_err(|e| format!("the JWKS at {url} is not a JWK set: {e}"))
}

/// `GET /hello`: 200 `{"hello": <sub>, "session": <sid>}` for a valid token, else 401.
pub fn app(verifier: Arc<Verifier>) -> Router {
    Router::new()
        .route("/hello", get(hello))
        .with_state(verifier)
}

async fn hello(
    State(verifier): State<Arc<Verifier>>,
    headers: HeaderMap,
) -> (StatusCode, Json<Value>) {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(token) = token else {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "send Authorization: Bearer <access token>" })),
        );
    };
    match verifier.verify(token).await {
        Ok(claims) => (
            StatusCode::OK,
            Json(json!({ "hello": claims.sub, "session": claims.sid })),
        ),
        Err(why) => (StatusCode::UNAUTHORIZED, Json(json!({ "error": why }))),
    }
}

/// A resource server that trusts tokenpair's access tokens through its JWKS.
#[derive(Debug, Parser)]
struct Args {
    /// The issuer's JWKS URL.
    #[arg(long, default_value = "http://127.0.0.1:8080/.well-known/jwks.json")]
    jwks: String,
    /// The `iss` to require.
    #[arg(long, default_value = "tokenpair")]
    issuer: String,
    /// The `aud` to require.
    #[arg(long, default_value = "tokenpair-api")]
    audience: String,
    /// Port to listen on, on 127.0.0.1 (0: any free one).
    #[arg(long, default_value_t = 9090)]
    port: u16,
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    let verifier = Verifier::new(&args.jwks, &args.issuer, &args.audience).await?;
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], args.port)))
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("listening on http://{addr}  (GET /hello with a tokenpair access token)");
    axum::serve(listener, app(Arc::new(verifier)))
        .await
        .map_err(|e| e.to_string())
}
