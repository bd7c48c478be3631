//! [`effect`]: `Effect::new` with its closure boxed.
//!
//! `Effect::new` is generic over its closure, so each effect in the app compiles its own copy
//! of the effect machinery (about 1 KB of wasm). Boxed, they share one copy per value type.
//! The `view!` macro does the same for `{move || …}` children and attributes already.

use leptos::prelude::*;

/// Runs `f` now and again whenever a signal it read changes; `f` gets its previous result.
pub fn effect<T: 'static>(f: impl FnMut(Option<T>) -> T + 'static) {
    let f: Box<dyn FnMut(Option<T>) -> T> = Box::new(f);
    Effect::new(f);
}
