//! Splitting and decoding a JWT for display. Display only: the SPA never trusts or verifies
//! the token's contents — the server does.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde_json::Value;

#[derive(Clone, Debug, PartialEq)]
pub struct DecodedJwt {
    pub header_b64: String,
    pub payload_b64: String,
    pub signature_b64: String,
    pub header: Value,
    pub payload: Value,
}

pub fn decode(token: &str) -> Option<DecodedJwt> {
    let mut parts = token.split('.');
    let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let json = |b64: &str| -> Option<Value> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(b64).ok()?).ok()
    };
    Some(DecodedJwt {
        header_b64: h.into(),
        payload_b64: p.into(),
        signature_b64: s.into(),
        header: json(h)?,
        payload: json(p)?,
    })
}

/// Pretty JSON for display.
pub fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}
