//! Messages between the tabs of one origin, over a `BroadcastChannel`.
//!
//! Every message names the user and the server-side session (the `session_id` of the token
//! response: the same for all tabs sharing one refresh cookie, new for each sign-in), so a
//! receiver can ignore what is stale or foreign (see [`crate::tab_sync`]). The access token
//! only ever travels between same-origin tabs' memory.

use tokenpair_api::TokenResponse;

use crate::wire::{Builder, Fields, FromJson, ToJson};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// What one tab tells the others.
/// On the channel as JSON with a `type` member (`signed_in`, `token`, `signed_out`,
/// `sign_out_confirmed`), written and read without serde ([`crate::wire`]).
#[derive(Clone, Debug)]
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

impl ToJson for TabMessage {
    fn to_json(&self) -> JsValue {
        match self {
            TabMessage::SignedIn { response } => Builder::new()
                .set("type", "signed_in")
                .set("response", response.to_json()),
            TabMessage::Token { response } => Builder::new()
                .set("type", "token")
                .set("response", response.to_json()),
            TabMessage::SignedOut {
                user_id,
                session_id,
                everywhere,
                session_ended,
            } => Builder::new()
                .set("type", "signed_out")
                .set_some("user_id", user_id.map(|id| id as f64))
                .set_some("session_id", session_id.as_deref())
                .set("everywhere", *everywhere)
                .set("session_ended", *session_ended),
            TabMessage::SignOutConfirmed { everywhere } => Builder::new()
                .set("type", "sign_out_confirmed")
                .set("everywhere", *everywhere),
        }
        .build()
    }
}

impl FromJson for TabMessage {
    fn from_json(value: &JsValue) -> Result<Self, String> {
        let f = Fields::of(value, "a tab message")?;
        match f.string("type")?.as_str() {
            "signed_in" => Ok(TabMessage::SignedIn {
                response: f.object("response")?,
            }),
            "token" => Ok(TabMessage::Token {
                response: f.object("response")?,
            }),
            "signed_out" => Ok(TabMessage::SignedOut {
                user_id: f.opt_int("user_id")?,
                session_id: f.opt_string("session_id")?,
                everywhere: f.opt_boolean("everywhere")?.unwrap_or(false),
                session_ended: f.opt_boolean("session_ended")?.unwrap_or(false),
            }),
            "sign_out_confirmed" => Ok(TabMessage::SignOutConfirmed {
                everywhere: f.opt_boolean("everywhere")?.unwrap_or(false),
            }),
            other => Err(["unknown tab message type ", other].concat()),
        }
    }
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
                    .and_then(|s| crate::wire::decode(&s).ok())
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
        if let Some(text) = crate::wire::encode(message) {
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
