//! The wire types as browser values, without serde (feature `js`).
//!
//! [`wire_type!`](crate::wire_type) writes each type's fields once; from that one list it
//! derives serde's `Serialize`/`Deserialize` (the server) and, here, [`FromJs`]/[`ToJs`] (the
//! browser): a parsed JSON value read field by field through `Reflect`. serde's generic
//! machinery costs a WebAssembly bundle several times more than these few reads, and the
//! SPA decodes only these types. Decoding is as lenient as serde's derive: unknown fields are
//! ignored, optional fields may be missing or `null`, a wrong or missing required field is an
//! error naming it.

use js_sys::{Array, Object, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};

/// A type read from a parsed JSON value.
pub trait FromJs: Sized {
    /// Reads `value`; the error names what did not fit.
    fn from_js(value: &JsValue) -> Result<Self, String>;
}

/// A type written as a JSON value.
pub trait ToJs {
    /// The value to stringify.
    fn to_js(&self) -> JsValue;
}

/// Parses JSON text into `T`.
pub fn parse<T: FromJs>(text: &str) -> Result<T, String> {
    let value = JSON::parse(text).map_err(|_| "not JSON".to_owned())?;
    T::from_js(&value)
}

/// `value` as JSON text.
pub fn stringify<T: ToJs + ?Sized>(value: &T) -> String {
    JSON::stringify(&value.to_js())
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

/// The members of a JSON object, for the generated code.
#[doc(hidden)]
pub struct Members<'a>(&'a JsValue);

impl<'a> Members<'a> {
    /// `value` if it is a JSON object (not an array, not null).
    pub fn of(value: &'a JsValue, what: &str) -> Result<Members<'a>, String> {
        if value.is_object() && !Array::is_array(value) {
            Ok(Members(value))
        } else {
            Err(["expected ", what, " as a JSON object"].concat())
        }
    }

    /// Member `name` (missing or `null` is `None`).
    pub fn get(&self, name: &str) -> Option<JsValue> {
        let v = Reflect::get(self.0, &JsValue::from_str(name)).ok()?;
        (!v.is_undefined() && !v.is_null()).then_some(v)
    }

    /// Member `name` as `T`; the error names the member.
    pub fn field<T: JsField>(&self, name: &str) -> Result<T, String> {
        T::read(self.get(name)).map_err(|why| ["field `", name, "` ", &why].concat())
    }

    /// Member `name` as `T`, or `T::default()` when missing (`#[serde(default)]`).
    pub fn field_or_default<T: JsField + Default>(&self, name: &str) -> Result<T, String> {
        match self.get(name) {
            None => Ok(T::default()),
            some => T::read(some).map_err(|why| ["field `", name, "` ", &why].concat()),
        }
    }
}

/// Builds a JSON object, for the generated code.
#[doc(hidden)]
pub struct Builder(Object);

impl Builder {
    /// An empty object.
    pub fn new() -> Self {
        Builder(Object::new())
    }

    /// Sets member `name` (skipped when the value is `undefined`, as for `None`).
    pub fn set(self, name: &str, value: JsValue) -> Self {
        if !value.is_undefined() {
            let _ = Reflect::set(&self.0, &JsValue::from_str(name), &value);
        }
        self
    }

    /// The object.
    pub fn build(self) -> JsValue {
        self.0.into()
    }
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

/// A field's type, as the generated code reads and writes it.
pub trait JsField: Sized {
    /// Reads a member that may be missing (`None`).
    fn read(value: Option<JsValue>) -> Result<Self, String>;
    /// The member's value (`undefined`: leave the member out).
    fn write(&self) -> JsValue;
}

fn required(value: Option<JsValue>) -> Result<JsValue, String> {
    value.ok_or_else(|| "is missing".to_owned())
}

/// A JSON number that is an integer JSON can hold exactly (|n| ≤ 2^53 − 1).
fn exact_integer(value: &JsValue) -> Option<i64> {
    let n = value.as_f64()?;
    (n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_991.0).then_some(n as i64)
}

impl JsField for String {
    fn read(value: Option<JsValue>) -> Result<Self, String> {
        required(value)?
            .as_string()
            .ok_or_else(|| "is not a string".to_owned())
    }
    fn write(&self) -> JsValue {
        JsValue::from_str(self)
    }
}

impl JsField for bool {
    fn read(value: Option<JsValue>) -> Result<Self, String> {
        required(value)?
            .as_bool()
            .ok_or_else(|| "is not true or false".to_owned())
    }
    fn write(&self) -> JsValue {
        JsValue::from_bool(*self)
    }
}

impl JsField for i64 {
    fn read(value: Option<JsValue>) -> Result<Self, String> {
        exact_integer(&required(value)?).ok_or_else(|| "is not an integer".to_owned())
    }
    fn write(&self) -> JsValue {
        JsValue::from_f64(*self as f64)
    }
}

impl JsField for u64 {
    fn read(value: Option<JsValue>) -> Result<Self, String> {
        exact_integer(&required(value)?)
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| "is not a positive integer".to_owned())
    }
    fn write(&self) -> JsValue {
        JsValue::from_f64(*self as f64)
    }
}

impl<T: JsField> JsField for Option<T> {
    fn read(value: Option<JsValue>) -> Result<Self, String> {
        match value {
            None => Ok(None),
            v => T::read(v).map(Some),
        }
    }
    fn write(&self) -> JsValue {
        self.as_ref().map_or(JsValue::UNDEFINED, JsField::write)
    }
}

impl<T: FromJs> FromJs for Vec<T> {
    fn from_js(value: &JsValue) -> Result<Self, String> {
        let array = value
            .dyn_ref::<Array>()
            .ok_or_else(|| "expected a JSON array".to_owned())?;
        let mut items = Vec::with_capacity(array.length() as usize);
        for item in array.iter() {
            items.push(T::from_js(&item)?);
        }
        Ok(items)
    }
}
