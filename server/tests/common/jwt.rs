//! JWTs built by hand, so any header or claim can be forged.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

use super::SECRET;

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The `kid` the server gives [`SECRET`].
pub fn kid() -> String {
    tokenpair_server::tokens::key_id(SECRET)
}

/// The header of a genuine access token.
pub fn good_header() -> Value {
    json!({ "alg": "HS256", "typ": "at+jwt", "kid": kid() })
}

/// The claims of a genuine access token for `sid`/`user_id`, valid for 5 minutes.
pub fn good_claims(sid: &str, user_id: i64) -> Value {
    let now = now();
    json!({
        "iss": "tokenpair", "aud": "tokenpair-api", "sub": user_id.to_string(), "sid": sid,
        "jti": "forged-in-a-test", "iat": now, "exp": now + 300,
    })
}

/// `header.claims` base64url-encoded, without a signature.
pub fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    )
}

/// A JWT signed with HMAC-SHA256 under `key`, whatever `header` says.
pub fn sign_hs256(header: &Value, claims: &Value, key: &[u8]) -> String {
    let input = signing_input(header, claims);
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("any key length");
    mac.update(input.as_bytes());
    format!("{input}.{}", b64(&mac.finalize().into_bytes()))
}

pub fn sign_hs384(header: &Value, claims: &Value, key: &[u8]) -> String {
    let input = signing_input(header, claims);
    let mut mac = <Hmac<sha2::Sha384> as Mac>::new_from_slice(key).expect("any key length");
    mac.update(input.as_bytes());
    format!("{input}.{}", b64(&mac.finalize().into_bytes()))
}

pub fn sign_hs512(header: &Value, claims: &Value, key: &[u8]) -> String {
    let input = signing_input(header, claims);
    let mut mac = <Hmac<sha2::Sha512> as Mac>::new_from_slice(key).expect("any key length");
    mac.update(input.as_bytes());
    format!("{input}.{}", b64(&mac.finalize().into_bytes()))
}

/// A genuine-looking token: good header, good claims, signed with [`SECRET`].
pub fn forge(sid: &str, user_id: i64) -> String {
    sign_hs256(&good_header(), &good_claims(sid, user_id), SECRET)
}

/// The decoded header of a JWT.
pub fn header_of(token: &str) -> Value {
    part_of(token, 0)
}

/// The decoded claims of a JWT.
pub fn claims_of(token: &str) -> Value {
    part_of(token, 1)
}

fn part_of(token: &str, i: usize) -> Value {
    let part = token.split('.').nth(i).expect("a JWT part");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}
