//! Times for people: "5 minutes ago" in the user's language (`Intl.RelativeTimeFormat`), and
//! the exact local date and time (`Date.prototype.toLocaleString`) for a tooltip or a column.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = Intl)]
    type RelativeTimeFormat;

    #[wasm_bindgen(constructor, js_namespace = Intl)]
    fn new(locales: &JsValue, options: &JsValue) -> RelativeTimeFormat;

    #[wasm_bindgen(method)]
    fn format(this: &RelativeTimeFormat, value: f64, unit: &str) -> String;

    #[wasm_bindgen(js_name = Date)]
    type LocalDate;

    #[wasm_bindgen(constructor, js_class = "Date")]
    fn new(ms: f64) -> LocalDate;

    #[wasm_bindgen(method, js_class = "Date", js_name = toLocaleString)]
    fn to_locale_string(this: &LocalDate) -> String;
}

/// Milliseconds since the epoch for an RFC 3339 time, if it parses.
pub fn parse_ms(rfc3339: &str) -> Option<f64> {
    let ms = js_sys::Date::parse(rfc3339);
    (!ms.is_nan()).then_some(ms)
}

/// "3 minutes ago", "in 2 days", "now" — relative to `now_ms`, in the user's locale.
pub fn relative(at_ms: f64, now_ms: f64) -> String {
    let seconds = (at_ms - now_ms) / 1000.0;
    let (value, unit) = match seconds.abs() {
        s if s < 60.0 => (seconds, "second"),
        s if s < 3_600.0 => (seconds / 60.0, "minute"),
        s if s < 86_400.0 => (seconds / 3_600.0, "hour"),
        _ => (seconds / 86_400.0, "day"),
    };
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"numeric".into(), &"auto".into());
    RelativeTimeFormat::new(&JsValue::UNDEFINED, &options).format(value.trunc(), unit)
}

/// The exact local date and time, in the user's locale.
pub fn local(at_ms: f64) -> String {
    LocalDate::new(at_ms).to_locale_string()
}
