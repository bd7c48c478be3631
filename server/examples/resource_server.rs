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
//!
//! A token bound to a browser's key (DPoP, RFC 9449: the claim `cnf.jkt`) is accepted only as
//! `Authorization: DPoP <token>` with a `DPoP` proof that the holder of that key made for this
//! very request ([`check_proof`]): a copy of the token alone is refused, as Bearer or with a
//! proof by another key. An unbound token is accepted only as Bearer.
//!
//! ```text
//! curl -H "Authorization: DPoP $ACCESS_TOKEN" -H "DPoP: $PROOF" http://127.0.0.1:9090/hello
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use clap::Parser;
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, ThumbprintHash};
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::sync::RwLock;

/// Refetch the JWKS for an unknown `kid` at most this often.
const REFETCH_AT_MOST_EVERY: Duration = Duration::from_secs(10);
/// How long a JWKS without `Cache-Control: max-age` is kept, and the longest any is kept.
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);
const LONGEST_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// How far a DPoP proof's `iat` may be from this service's clock, either way.
const PROOF_WINDOW_SECS: u64 = 60;

/// The claims this service uses.
#[derive(Debug, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub sid: String,
    pub exp: u64,
    /// The key the token is bound to, if it is (DPoP).
    pub cnf: Option<Confirmation>,
}

/// `cnf`: the RFC 7638 thumbprint of the key that must prove every use of the token.
#[derive(Debug, Deserialize)]
pub struct Confirmation {
    pub jkt: String,
}

/// The claims of a DPoP proof this service checks.
#[derive(Debug, Deserialize)]
struct ProofClaims {
    jti: String,
    htm: String,
    htu: String,
    iat: u64,
    ath: Option<String>,
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

/// `GET /hello`: 200 `{"hello": <sub>, "session": <sid>}` for a valid token (with its proof,
/// if it is bound), else 401.
pub fn app(verifier: Arc<Verifier>) -> Router {
    let state = Service {
        verifier,
        seen_proofs: Arc::new(Mutex::new(HashMap::new())),
    };
    Router::new().route("/hello", get(hello)).with_state(state)
}

/// The verifier, and the ids of the proofs already used (each is accepted once; kept for the
/// proof window, then dropped). One process: several instances would share them (tokenpair
/// keeps them in its database).
#[derive(Clone)]
struct Service {
    verifier: Arc<Verifier>,
    seen_proofs: Arc<Mutex<HashMap<String, u64>>>,
}

/// A refusal: 401 with the scheme's `WWW-Authenticate` and a JSON `error`.
fn refuse(dpop: bool, error: &str, why: String) -> Response {
    let challenge = if dpop {
        format!(r#"DPoP error="{error}", algs="ES256 EdDSA""#)
    } else {
        format!(r#"Bearer error="{error}""#)
    };
    let mut response = (StatusCode::UNAUTHORIZED, Json(json!({ "error": why }))).into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

async fn hello(State(service): State<Service>, headers: HeaderMap) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let (dpop, token) = match authorization.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => (false, token),
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("dpop") => (true, token),
        _ => {
            return refuse(
                false,
                "invalid_request",
                "send Authorization: Bearer <access token> (or DPoP <token> with a DPoP proof)"
                    .into(),
            )
        }
    };
    let claims = match service.verifier.verify(token).await {
        Ok(claims) => claims,
        Err(why) => return refuse(dpop, "invalid_token", why),
    };
    match (&claims.cnf, dpop) {
        (Some(cnf), true) => {
            let url = request_url(&headers, "/hello");
            // Exactly one `DPoP` header (RFC 9449 §4.3).
            let mut proofs = headers.get_all("dpop").iter();
            let proof = match (proofs.next(), proofs.next()) {
                (Some(v), None) => v.to_str().ok(),
                _ => None,
            };
            if let Err(why) = check_proof(proof, "GET", &url, token, &cnf.jkt, &service.seen_proofs)
            {
                return refuse(true, "invalid_dpop_proof", why);
            }
        }
        (Some(_), false) => {
            return refuse(
                true,
                "invalid_token",
                "this token is bound to a key (DPoP): send it as Authorization: DPoP with a proof"
                    .into(),
            )
        }
        (None, true) => {
            return refuse(
                true,
                "invalid_token",
                "this token is not bound to a key: send it as Bearer".into(),
            )
        }
        (None, false) => {}
    }
    (
        StatusCode::OK,
        Json(json!({ "hello": claims.sub, "session": claims.sid })),
    )
        .into_response()
}

/// The URL the client reached, as a proof's `htu` names it. This example is reached directly;
/// behind a proxy use your public origin instead of the `Host` header.
fn request_url(headers: &HeaderMap, path: &str) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    format!("http://{host}{path}")
}

/// Checks a DPoP proof (RFC 9449 §4.3) for `method url` presenting `token`, made by the key
/// whose thumbprint is `jkt`: `typ`, `alg` (ES256 or EdDSA, never `none` or HMAC), a public
/// `jwk` in the header that verifies the signature, `htm`, `htu`, `iat` within the window,
/// `ath` = SHA-256 of the token, and a `jti` not seen before.
pub fn check_proof(
    proof: Option<&str>,
    method: &str,
    url: &str,
    token: &str,
    jkt: &str,
    seen: &Mutex<HashMap<String, u64>>,
) -> Result<(), String> {
    let proof = proof.ok_or("no DPoP proof")?;
    let header = decode_header(proof).map_err(|e| format!("malformed proof: {e}"))?;
    if header.typ.as_deref() != Some("dpop+jwt") {
        return Err("the proof's typ must be dpop+jwt".into());
    }
    if !matches!(header.alg, Algorithm::ES256 | Algorithm::EdDSA) {
        return Err(format!("the proof's alg {:?} is not allowed", header.alg));
    }
    // The header's raw JSON: a private key (`d`) in it is refused, whatever the parser keeps.
    let raw = proof
        .split('.')
        .next()
        .and_then(|h| URL_SAFE_NO_PAD.decode(h).ok())
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .ok_or("malformed proof header")?;
    if raw["jwk"].get("d").is_some() {
        return Err("the proof's jwk holds a private key".into());
    }
    let jwk = header.jwk.ok_or("the proof carries no jwk")?;
    let thumbprint = jwk
        .thumbprint(ThumbprintHash::SHA256)
        .map_err(|e| format!("the proof's jwk: {e}"))?;
    if thumbprint != jkt {
        return Err("the proof is made by another key than the token's".into());
    }
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| format!("the proof's jwk: {e}"))?;
    let mut validation = Validation::new(header.alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    let claims = decode::<ProofClaims>(proof, &key, &validation)
        .map_err(|e| format!("invalid proof: {e}"))?
        .claims;
    if claims.htm != method || claims.htu != url {
        return Err(format!("the proof is for {} {}", claims.htm, claims.htu));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    if claims.iat.abs_diff(now) > PROOF_WINDOW_SECS {
        return Err("the proof's iat is outside the window".into());
    }
    let ath = URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()));
    if claims.ath.as_deref() != Some(ath.as_str()) {
        return Err("the proof's ath does not match the token".into());
    }
    let mut seen = seen.lock().map_err(|_| "replay store unavailable")?;
    // Kept while the proof could still pass its `iat` check (whole seconds: one more).
    seen.retain(|_, until| *until >= now);
    let key = format!("{jkt}:{}", claims.jti);
    if seen.contains_key(&key) {
        return Err("the proof was used before".into());
    }
    seen.insert(key, claims.iat + PROOF_WINDOW_SECS + 1);
    Ok(())
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
