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
//! * keep the JWKS only as long as its `Cache-Control: max-age` says (tokenpair: 600 s), then
//!   fetch it again and **replace** it: a key the issuer retired — or removed after a leak —
//!   stops being trusted here too;
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
/// How long a JWKS without `Cache-Control: max-age` is kept, and the longest any is kept.
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);
const LONGEST_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

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
    keys: RwLock<Keys>,
}

/// The JWKS as last fetched.
struct Keys {
    set: JwkSet,
    /// Fetched at; kept until `fetched + max_age`.
    fetched: Instant,
    max_age: Duration,
    /// When an unknown `kid` last made us refetch.
    refetched_for_unknown_kid: Option<Instant>,
}

impl Keys {
    fn fresh(&self) -> bool {
        self.fetched.elapsed() < self.max_age
    }
}

impl Verifier {
    /// Fetches the JWKS once to start with.
    pub async fn new(jwks_url: &str, issuer: &str, audience: &str) -> Result<Self, String> {
        let http = reqwest::Client::new();
        let (set, max_age) = fetch(&http, jwks_url).await?;
        Ok(Verifier {
            jwks_url: jwks_url.to_owned(),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            http,
            keys: RwLock::new(Keys {
                set,
                fetched: Instant::now(),
                max_age,
                refetched_for_unknown_kid: None,
            }),
        })
    }

    /// The token's claims, or why it is refused.
    pub async fn verify(&self, token: &str) -> Result<Claims, String> {
        let header = decode_header(token).map_err(|e| format!("malformed token: {e}"))?;
        if header.typ.as_deref() != Some("at+jwt") {
            return Err("not an access token (typ must be at+jwt)".into());
        }
        let kid = header.kid.ok_or("the token names no key (kid)")?;
        if !self.keys.read().await.fresh() {
            self.refetch(false).await?;
        }
        let jwk = match self.key(&kid).await {
            Some(jwk) => jwk,
            None => {
                self.refetch(true).await?;
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
        self.keys.read().await.set.find(kid).cloned()
    }

    /// Replaces the keys with the issuer's current set (keys that left it are gone). For an
    /// unknown `kid`, at most every [`REFETCH_AT_MOST_EVERY`].
    async fn refetch(&self, for_unknown_kid: bool) -> Result<(), String> {
        let mut keys = self.keys.write().await;
        if for_unknown_kid
            && keys
                .refetched_for_unknown_kid
                .is_some_and(|at| at.elapsed() < REFETCH_AT_MOST_EVERY)
        {
            return Ok(());
        }
        if !for_unknown_kid && keys.fresh() {
            return Ok(()); // another request refetched meanwhile
        }
        let (set, max_age) = fetch(&self.http, &self.jwks_url).await?;
        keys.set = set;
        keys.fetched = Instant::now();
        keys.max_age = max_age;
        if for_unknown_kid {
            keys.refetched_for_unknown_kid = Some(Instant::now());
        }
        Ok(())
    }
}

/// The JWKS at `url`, and how long it may be kept (its `Cache-Control: max-age`).
async fn fetch(http: &reqwest::Client, url: &str) -> Result<(JwkSet, Duration), String> {
    let response = http
        .get(url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| format!("cannot fetch the JWKS from {url}: {e}"))?;
    let max_age = response
        .headers()
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .and_then(max_age)
        .unwrap_or(DEFAULT_MAX_AGE)
        .min(LONGEST_MAX_AGE);
    let set = response
        .json::<JwkSet>()
        .await
        .map_err(|e| format!("the JWKS at {url} is not a JWK set: {e}"))?;
    Ok((set, max_age))
}

/// `max-age=N` of a `Cache-Control` value (`no-store`/`no-cache`: keep it no time at all).
fn max_age(cache_control: &str) -> Option<Duration> {
    let directives = cache_control.split(',').map(str::trim);
    let mut found = None;
    for directive in directives {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return Some(Duration::ZERO);
        }
        if let Some(n) = lower.strip_prefix("max-age=") {
            found = n.trim_matches('"').parse().ok().map(Duration::from_secs);
        }
    }
    found
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
