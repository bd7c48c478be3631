//! Coordination between tabs of the same origin.
//!
//! * [`with_lock`]: runs a refresh while holding a Web Lock (`navigator.locks`), so two tabs
//!   never refresh at the same moment. Where Web Locks are unavailable (an insecure context),
//!   the refresh just runs: the server's grace window still keeps both tabs signed in.
//! * [`Channel`]: a BroadcastChannel that tells the other tabs about a sign-in, a new access
//!   token and a sign-out. The access token only ever travels between same-origin tabs' memory.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use tokenpair_api::TokenResponse;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

pub const LOCK_NAME: &str = "tokenpair-refresh";
pub const CHANNEL_NAME: &str = "tokenpair-auth";

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["navigator", "locks"], js_name = request)]
    fn lock_request(
        name: &str,
        callback: &Closure<dyn FnMut(JsValue) -> js_sys::Promise>,
    ) -> js_sys::Promise;
}

fn web_locks_available() -> bool {
    web_sys::window()
        .map(|w| w.navigator())
        .and_then(|n| js_sys::Reflect::get(&n, &JsValue::from_str("locks")).ok())
        .is_some_and(|locks| !locks.is_undefined() && !locks.is_null())
}

/// Runs `f` while holding the exclusive Web Lock `name` (or without a lock where unsupported).
/// `None` only if the browser refused the lock request, in which case `f` did not run.
pub async fn with_lock<F, Fut, T>(name: &str, f: F) -> Option<T>
where
    F: FnOnce() -> Fut + 'static,
    Fut: Future<Output = T> + 'static,
    T: 'static,
{
    if !web_locks_available() {
        return Some(f().await);
    }
    let out: Rc<RefCell<Option<T>>> = Rc::default();
    let out_in_lock = out.clone();
    let mut f = Some(f);
    let callback = Closure::<dyn FnMut(JsValue) -> js_sys::Promise>::new(move |_lock: JsValue| {
        let f = f.take();
        let out = out_in_lock.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            if let Some(f) = f {
                let value = f().await;
                *out.borrow_mut() = Some(value);
            }
            Ok(JsValue::UNDEFINED)
        })
    });
    let _ = wasm_bindgen_futures::JsFuture::from(lock_request(name, &callback)).await;
    drop(callback);
    let value = out.borrow_mut().take();
    value
}

/// A message between tabs.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")] // externally tagged: no buffering deserializer in the bundle
pub enum TabMessage {
    SignedIn { response: TokenResponse },
    Token { response: TokenResponse },
    SignedOut,
}

/// The BroadcastChannel; dropping it closes the channel and its handler.
pub struct Channel {
    channel: web_sys::BroadcastChannel,
    _on_message: Closure<dyn FnMut(web_sys::MessageEvent)>,
}

impl Channel {
    /// Opens the channel and calls `on_message` for every message another tab posts.
    pub fn open(on_message: impl Fn(TabMessage) + 'static) -> Option<Channel> {
        let channel = web_sys::BroadcastChannel::new(CHANNEL_NAME).ok()?;
        let handler =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                if let Some(msg) = e
                    .data()
                    .as_string()
                    .and_then(|s| crate::json::from_str(&s).ok())
                {
                    on_message(msg);
                }
            });
        channel.set_onmessage(Some(handler.as_ref().unchecked_ref()));
        Some(Channel {
            channel,
            _on_message: handler,
        })
    }

    pub fn post(&self, message: &TabMessage) {
        if let Some(text) = crate::json::to_string(message) {
            let _ = self.channel.post_message(&JsValue::from_str(&text));
        }
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        self.channel.set_onmessage(None);
        self.channel.close();
    }
}
