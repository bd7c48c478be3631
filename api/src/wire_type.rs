//! [`wire_type!`]: each wire type's fields written once.
//!
//! ```ignore
//! wire_type! {
//!     /// Answer of `GET /api/me`.
//!     #[derive(Debug, Clone, PartialEq, Eq)]
//!     pub struct Me {
//!         pub id: i64,
//!         pub username: String,
//!         pub device: String = default,   // `#[serde(default)]` on both sides
//!     }
//! }
//! ```
//! expands to the struct with serde's `Serialize` and `Deserialize` (what the server sends and
//! reads), with the `openapi` feature utoipa's `ToSchema` (the server's OpenAPI document), and, with the `js` feature, to [`FromJs`](crate::js::FromJs),
//! [`ToJs`](crate::js::ToJs) and [`JsField`](crate::js::JsField) impls that read and write the
//! same members in the browser without serde ([`crate::js`]). Field attributes (`#[serde(…)]`,
//! docs) pass through to the struct.

macro_rules! wire_type {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                pub $field:ident : $ty:ty $(= $default:ident)?
            ),* $(,)?
        }
    ) => {
        #[cfg_attr(feature = "openapi", derive(::utoipa::ToSchema))]
        $(#[$meta])*
        #[derive(::serde::Serialize, ::serde::Deserialize)]
        pub struct $name {
            $(
                $(#[$fmeta])*
                $(#[serde($default)])?
                pub $field: $ty,
            )*
        }

        #[cfg(feature = "js")]
        impl $crate::js::FromJs for $name {
            fn from_js(value: &::wasm_bindgen::JsValue) -> Result<Self, String> {
                let members = $crate::js::Members::of(value, stringify!($name))?;
                Ok($name {
                    $($field: wire_type!(@read members, $field $(, $default)?),)*
                })
            }
        }

        #[cfg(feature = "js")]
        impl $crate::js::ToJs for $name {
            fn to_js(&self) -> ::wasm_bindgen::JsValue {
                $crate::js::Builder::new()
                    $(.set(stringify!($field), $crate::js::JsField::write(&self.$field)))*
                    .build()
            }
        }

        #[cfg(feature = "js")]
        impl $crate::js::JsField for $name {
            fn read(value: Option<::wasm_bindgen::JsValue>) -> Result<Self, String> {
                let value = value.ok_or_else(|| "is missing".to_owned())?;
                <$name as $crate::js::FromJs>::from_js(&value)
            }
            fn write(&self) -> ::wasm_bindgen::JsValue {
                <$name as $crate::js::ToJs>::to_js(self)
            }
        }
    };
    (@read $members:ident, $field:ident) => {
        $members.field(stringify!($field))?
    };
    (@read $members:ident, $field:ident, default) => {
        $members.field_or_default(stringify!($field))?
    };
}
