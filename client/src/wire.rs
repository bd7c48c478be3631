//! tokenpair-api's wire types to and from JSON **without serde**: the browser's own
//! `JSON.parse`/`JSON.stringify` and a few field reads ([`FromJson`], [`ToJson`]).
//!
//! The client and the SPA decode only these few types, and serde's generic machinery (its
//! visitors, its error messages with their float formatting) was a sizeable part of the wasm.
//! Any other type still goes through serde ([`crate::json`], [`crate::ApiClient::get_json`]):
//! nothing of it is compiled into a bundle that does not use it.
//!
//! Decoding is as lenient as serde's derive was: unknown fields are ignored, optional fields
//! may be missing or `null`, and a wrong or missing required field is an error naming it.

use js_sys::{Object, Reflect, JSON};
use tokenpair_api::{Credentials, ErrorBody, Me, SessionInfo, TokenResponse, UserSummary};
use wasm_bindgen::{JsCast, JsValue};

/// A type read from a parsed JSON value.
pub trait FromJson: Sized {
    /// Reads `value`; the error names what did not fit.
    fn from_json(value: &JsValue) -> Result<Self, String>;
}

/// A type written as a JSON value.
pub trait ToJson {
    /// The value to stringify.
    fn to_json(&self) -> JsValue;
}

/// Parses JSON text into `T`.
pub fn decode<T: FromJson>(text: &str) -> Result<T, String> {
    let value = JSON::parse(text).map_err(|_| "not JSON".to_owned())?;
    T::from_json(&value)
}

/// `value` as JSON text.
pub fn encode<T: ToJson + ?Sized>(value: &T) -> Option<String> {
    JSON::stringify(&value.to_json()).ok()?.as_string()
}

/// Reads the fields of one JSON object.
pub struct Fields<'a>(&'a JsValue);

impl<'a> Fields<'a> {
    /// `value` if it is a JSON object (not an array, not null).
    pub fn of(value: &'a JsValue, what: &str) -> Result<Fields<'a>, String> {
        if value.is_object() && !js_sys::Array::is_array(value) {
            Ok(Fields(value))
        } else {
            Err(["expected ", what, " as a JSON object"].concat())
        }
    }

    fn raw(&self, name: &str) -> JsValue {
        Reflect::get(self.0, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
    }

    /// A field that may be missing or `null`.
    fn present(&self, name: &str) -> Option<JsValue> {
        let v = self.raw(name);
        (!v.is_undefined() && !v.is_null()).then_some(v)
    }

    /// A required string.
    pub fn string(&self, name: &str) -> Result<String, String> {
        self.opt_string(name)?.ok_or_else(|| missing(name))
    }

    /// A string that may be missing or `null`.
    pub fn opt_string(&self, name: &str) -> Result<Option<String>, String> {
        match self.present(name) {
            None => Ok(None),
            Some(v) => v
                .as_string()
                .map(Some)
                .ok_or_else(|| wrong(name, "a string")),
        }
    }

    /// A required `true`/`false`.
    pub fn boolean(&self, name: &str) -> Result<bool, String> {
        self.present(name)
            .ok_or_else(|| missing(name))?
            .as_bool()
            .ok_or_else(|| wrong(name, "true or false"))
    }

    /// A `true`/`false` that may be missing or `null`.
    pub fn opt_boolean(&self, name: &str) -> Result<Option<bool>, String> {
        match self.present(name) {
            None => Ok(None),
            Some(v) => v
                .as_bool()
                .map(Some)
                .ok_or_else(|| wrong(name, "true or false")),
        }
    }

    /// A required integer.
    pub fn int(&self, name: &str) -> Result<i64, String> {
        self.opt_int(name)?.ok_or_else(|| missing(name))
    }

    /// An integer (exactly representable in JSON) that may be missing or `null`.
    pub fn opt_int(&self, name: &str) -> Result<Option<i64>, String> {
        match self.present(name) {
            None => Ok(None),
            Some(v) => exact_integer(&v)
                .map(Some)
                .ok_or_else(|| wrong(name, "an integer")),
        }
    }

    /// A required non-negative integer.
    pub fn uint(&self, name: &str) -> Result<u64, String> {
        self.opt_uint(name)?.ok_or_else(|| missing(name))
    }

    /// A non-negative integer that may be missing or `null`.
    pub fn opt_uint(&self, name: &str) -> Result<Option<u64>, String> {
        match self.opt_int(name)? {
            None => Ok(None),
            Some(n) => u64::try_from(n)
                .map(Some)
                .map_err(|_| wrong(name, "a positive integer")),
        }
    }

    /// A required nested value.
    pub fn object<T: FromJson>(&self, name: &str) -> Result<T, String> {
        T::from_json(&self.present(name).ok_or_else(|| missing(name))?)
    }
}

/// A JSON number that is an integer JSON can hold exactly (|n| ≤ 2^53 − 1).
fn exact_integer(value: &JsValue) -> Option<i64> {
    let n = value.as_f64()?;
    (n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_991.0).then_some(n as i64)
}

fn missing(name: &str) -> String {
    ["missing field `", name, "`"].concat()
}

fn wrong(name: &str, expected: &str) -> String {
    ["field `", name, "` is not ", expected].concat()
}

/// Builds a JSON object.
#[derive(Default)]
pub struct Builder(Object);

impl Builder {
    /// An empty object.
    pub fn new() -> Self {
        Builder(Object::new())
    }

    /// Sets `name`.
    pub fn set(self, name: &str, value: impl Into<JsValue>) -> Self {
        let _ = Reflect::set(&self.0, &JsValue::from_str(name), &value.into());
        self
    }

    /// Sets `name` only when there is a value.
    pub fn set_some(self, name: &str, value: Option<impl Into<JsValue>>) -> Self {
        match value {
            Some(v) => self.set(name, v),
            None => self,
        }
    }

    /// The object.
    pub fn build(self) -> JsValue {
        self.0.unchecked_into()
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(value: &JsValue) -> Result<Self, String> {
        let array = value
            .dyn_ref::<js_sys::Array>()
            .ok_or_else(|| "expected a JSON array".to_owned())?;
        array.iter().map(|item| T::from_json(&item)).collect()
    }
}

impl FromJson for i64 {
    fn from_json(value: &JsValue) -> Result<Self, String> {
        exact_integer(value).ok_or_else(|| "expected an integer".into())
    }
}

impl FromJson for UserSummary {
    fn from_json(value: &JsValue) -> Result<Self, String> {
        let f = Fields::of(value, "a user")?;
        Ok(UserSummary {
            id: f.int("id")?,
            username: f.string("username")?,
        })
    }
}

impl ToJson for UserSummary {
    fn to_json(&self) -> JsValue {
        Builder::new()
            .set("id", self.id as f64)
            .set("username", self.username.as_str())
            .build()
    }
}

impl FromJson for TokenResponse {
    fn from_json(value: &JsValue) -> Result<Self, String> {
        let f = Fields::of(value, "a token response")?;
        Ok(TokenResponse {
            access_token: f.string("access_token")?,
            token_type: f.string("token_type")?,
            expires_in: f.uint("expires_in")?,
            session_id: f.string("session_id")?,
            idle_expires_in: f.opt_uint("idle_expires_in")?,
            session_expires_in: f.opt_uint("session_expires_in")?,
            user: f.object("user")?,
        })
    }
}

impl ToJson for TokenResponse {
    fn to_json(&self) -> JsValue {
        Builder::new()
            .set("access_token", self.access_token.as_str())
            .set("token_type", self.token_type.as_str())
            .set("expires_in", self.expires_in as f64)
            .set("session_id", self.session_id.as_str())
            .set_some("idle_expires_in", self.idle_expires_in.map(|s| s as f64))
            .set_some(
                "session_expires_in",
                self.session_expires_in.map(|s| s as f64),
            )
            .set("user", self.user.to_json())
            .build()
    }
}

impl FromJson for ErrorBody {
    fn from_json(value: &JsValue) -> Result<Self, String> {
        let f = Fields::of(value, "an error body")?;
        Ok(ErrorBody {
            error: f.string("error")?,
            message: f.string("message")?,
        })
    }
}

impl FromJson for Me {
    fn from_json(value: &JsValue) -> Result<Self, String> {
        let f = Fields::of(value, "the user")?;
        Ok(Me {
            id: f.int("id")?,
            username: f.string("username")?,
            created_at: f.string("created_at")?,
        })
    }
}

impl FromJson for SessionInfo {
    fn from_json(value: &JsValue) -> Result<Self, String> {
        let f = Fields::of(value, "a session")?;
        Ok(SessionInfo {
            id: f.string("id")?,
            created_at: f.string("created_at")?,
            last_used_at: f.string("last_used_at")?,
            expires_at: f.string("expires_at")?,
            user_agent: f.opt_string("user_agent")?,
            device: f.opt_string("device")?.unwrap_or_default(),
            current: f.boolean("current")?,
        })
    }
}

impl ToJson for Credentials {
    fn to_json(&self) -> JsValue {
        Builder::new()
            .set("username", self.username.as_str())
            .set("password", self.password.as_str())
            .build()
    }
}
