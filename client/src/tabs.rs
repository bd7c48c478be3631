//! Messages between the tabs of one origin, over a `BroadcastChannel`.
//!
//! Every message names the user and the server-side session (the `session_id` of the token
//! response: the same for all tabs sharing one refresh cookie, new for each sign-in), so a
//! receiver can ignore what is stale or foreign (see [`crate::tab_sync`]). The access token
//! only ever travels between same-origin tabs' memory.

use serde::{Deserialize, Serialize};
use tokenpair_api::TokenResponse;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// What one tab tells the others.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")] // externally tagged: no buffering deserializer in the bundle
pub enum TabMessage {
    /// A new sign-in (password or register): every tab adopts it.
    SignedIn {
        /// The new sign-in's token response.
        response: TokenResponse,
    },
    /// A refreshed access token for the session `response.session_id`.
    Token {
        /// The refresh's token response.
        response: TokenResponse,
    },
    /// Signed out of `session_id` (of user `user_id`): by the user (`everywhere` if all
    /// sessions end; the server may not have confirmed it yet), or because the server refused
    /// the refresh (`session_ended`).
    SignedOut {
        /// The user who was signed in, if known.
        user_id: Option<i64>,
        /// The server session that ended, if known.
        session_id: Option<String>,
        /// Every session of the user ends.
        everywhere: bool,
        /// The server refused the refresh (not a sign-out by the user).
        session_ended: bool,
    },
    /// The server confirmed the sign-out.
    SignOutConfirmed {
        /// It was a sign-out everywhere.
        everywhere: bool,
    },
}

/// The BroadcastChannel; dropping it closes the channel and removes its handler.
pub struct Channel {
    channel: web_sys::BroadcastChannel,
    _on_message: Closure<dyn FnMut(web_sys::MessageEvent)>,
}

impl Channel {
    /// Opens channel `name` and calls `on_message` for every message another tab (or another
    /// client in this page) posts. `None` where BroadcastChannel is unavailable.
    pub fn open(name: &str, on_message: impl Fn(TabMessage) + 'static) -> Option<Channel> {
        let channel = web_sys::BroadcastChannel::new(name).ok()?;
        let handler =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                if let Some(message) = e
                    .data()
                    .as_string()
                    .and_then(|s| crate::json::from_str(&s).ok())
                {
                    on_message(message);
                }
            });
        channel.set_onmessage(Some(handler.as_ref().unchecked_ref()));
        Some(Channel {
            channel,
            _on_message: handler,
        })
    }

    /// Posts `message` to every other listener.
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
