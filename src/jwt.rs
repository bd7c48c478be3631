//! Splitting and decoding a JWT for display. Display only: the SPA never trusts or verifies
//! the token's contents — the server does.
//!
//! Decoding uses the browser's own `atob` and `JSON` rather than Rust crates: the inspector
//! only shows text, and this keeps a JSON value model and a float formatter out of the bundle.

use js_sys::JSON;
use wasm_bindgen::{JsCast, JsValue};

#[derive(Clone, Debug, PartialEq)]
pub struct DecodedJwt {
    pub header_b64: String,
    pub payload_b64: String,
    pub signature_b64: String,
    /// The header as indented JSON.
    pub header: String,
    /// The payload as indented JSON.
    pub payload: String,
    /// Every top-level claim of the payload with its value as JSON text, in token order.
    pub claims: Vec<(String, String)>,
}

impl DecodedJwt {
    /// The value of one claim as JSON text (`"tokenpair"`, `1767000000`), if present.
    pub fn claim(&self, name: &str) -> Option<&str> {
        self.claims
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Splits `header.payload.signature` and decodes the two JSON parts; `None` if it is not a JWT.
pub fn decode(token: &str) -> Option<DecodedJwt> {
    let mut parts = token.split('.');
    let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header = parse_part(h)?;
    let payload = parse_part(p)?;
    let claims = js_sys::Object::entries(payload.dyn_ref::<js_sys::Object>()?)
        .iter()
        .filter_map(|entry| {
            let pair = js_sys::Array::from(&entry);
            Some((pair.get(0).as_string()?, to_json(&pair.get(1), false)?))
        })
        .collect();
    Some(DecodedJwt {
        header_b64: h.into(),
        payload_b64: p.into(),
        signature_b64: s.into(),
        header: to_json(&header, true)?,
        payload: to_json(&payload, true)?,
        claims,
    })
}

/// base64url (no padding) → UTF-8 text → a parsed JSON object.
fn parse_part(b64: &str) -> Option<JsValue> {
    let mut standard: String = b64
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    while !standard.len().is_multiple_of(4) {
        standard.push('=');
    }
    // `atob` answers one char per byte; the bytes are UTF-8.
    let binary = web_sys::window()?.atob(&standard).ok()?;
    let bytes: Vec<u8> = binary.chars().map(|c| c as u32 as u8).collect();
    let text = String::from_utf8(bytes).ok()?;
    let value = JSON::parse(&text).ok()?;
    value.is_object().then_some(value)
}

fn to_json(value: &JsValue, indent: bool) -> Option<String> {
    let text = if indent {
        JSON::stringify_with_replacer_and_space(value, &JsValue::NULL, &JsValue::from(2))
    } else {
        JSON::stringify(value)
    };
    text.ok()?.as_string()
}
