//! JSON in the browser: the browser's own `JSON.parse`/`JSON.stringify` with serde types, so
//! no JSON parser is bundled. Decoding goes through [`de`] (a small deserializer that keeps
//! Rust's float formatting out of the bundle), encoding through serde-wasm-bindgen.

use serde::de::DeserializeOwned;
use serde::Serialize;

mod de;

pub use de::Error;

/// Parses JSON text into `T`; the error says what did not fit.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let value = js_sys::JSON::parse(text).map_err(|_| "not JSON".to_owned())?;
    from_value(value)
}

/// Reads a parsed JavaScript value (JSON's data model) into `T`.
pub fn from_value<T: DeserializeOwned>(value: wasm_bindgen::JsValue) -> Result<T, String> {
    T::deserialize(de::Value(value)).map_err(|e| e.to_string())
}

/// `value` as a JavaScript value in JSON's data model.
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<wasm_bindgen::JsValue, String> {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    value.serialize(&serializer).map_err(|e| e.to_string())
}

/// Writes `value` as JSON text; the error says why it cannot be.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, String> {
    js_sys::JSON::stringify(&to_value(value)?)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| "not representable as JSON".to_owned())
}
