//! JSON in the browser: the browser's own `JSON.parse`/`JSON.stringify` plus
//! `serde-wasm-bindgen`, so the serde wire types work without bundling a JSON parser.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Parses JSON text into `T`; the error says what did not fit.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let value = js_sys::JSON::parse(text).map_err(|_| "not JSON".to_owned())?;
    serde_wasm_bindgen::from_value(value).map_err(|e| e.to_string())
}

/// Writes `value` as JSON text (`None` only if it cannot be represented in JSON).
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Option<String> {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    let js = value.serialize(&serializer).ok()?;
    js_sys::JSON::stringify(&js).ok()?.as_string()
}
