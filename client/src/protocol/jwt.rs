//! Reading an access token's claims, for backends whose token response does not say
//! everything (no `expires_in`, no user object). The signature is **not** checked — the
//! browser has no reason to trust or distrust its own token; the server checks it.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Deserialize;

/// The claims of JWT `token` (its middle part), read into `T` through serde.
pub fn claims<T: DeserializeOwned>(token: &str) -> Result<T, String> {
    let payload = token
        .split('.')
        .nth(1)
        .ok_or_else(|| "not a JWT (no payload part)".to_owned())?;
    let bytes =
        base64url_decode(payload).ok_or_else(|| "the JWT payload is not base64url".to_owned())?;
    let text = String::from_utf8(bytes).map_err(|_| "the JWT payload is not UTF-8".to_owned())?;
    crate::json::from_str(&text)
}

#[derive(Deserialize)]
struct Exp {
    exp: f64,
}

/// How long JWT `token` is valid from `now_ms` (`Date.now()`), from its `exp` claim. Prefer the
/// server's `expires_in` where there is one: this reads the local wall clock, which may be
/// wrong.
pub fn expires_in(token: &str, now_ms: f64) -> Result<Duration, String> {
    let Exp { exp } = claims(token)?;
    Ok(crate::time::from_ms(exp * 1000.0 - now_ms))
}

/// Decodes unpadded (or padded) base64url.
pub fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}
