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
    /// Every member of the header, the same way (`alg`, `typ`, `kid`).
    pub header_members: Vec<(String, String)>,
}

impl DecodedJwt {
    /// The value of one claim as JSON text (`"tokenpair"`, `1767000000`), if present.
    pub fn claim(&self, name: &str) -> Option<&str> {
        find(&self.claims, name)
    }

    /// The thumbprint of the key the token is bound to (`cnf.jkt`, RFC 9449), if it is.
    pub fn bound_key(&self) -> Option<String> {
        let cnf = JSON::parse(self.claim("cnf")?).ok()?;
        js_sys::Reflect::get(&cnf, &JsValue::from_str("jkt"))
            .ok()?
            .as_string()
    }

    /// A string member of the header without its quotes (`EdDSA`), if present.
    pub fn header_text(&self, name: &str) -> Option<&str> {
        find(&self.header_members, name).map(|v| v.trim_matches('"'))
    }
}

fn find<'a>(members: &'a [(String, String)], name: &str) -> Option<&'a str> {
    members
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Every top-level member of a JSON object with its value as JSON text, in order.
fn members(object: &JsValue) -> Option<Vec<(String, String)>> {
    Some(
        js_sys::Object::entries(object.dyn_ref::<js_sys::Object>()?)
            .iter()
            .filter_map(|entry| {
                let pair = js_sys::Array::from(&entry);
                Some((pair.get(0).as_string()?, to_json(&pair.get(1), false)?))
            })
            .collect(),
    )
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
    let claims = members(&payload)?;
    let header_members = members(&header)?;
    Some(DecodedJwt {
        header_b64: h.into(),
        payload_b64: p.into(),
        signature_b64: s.into(),
        header: to_json(&header, true)?,
        payload: to_json(&payload, true)?,
        claims,
        header_members,
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
