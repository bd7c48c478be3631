//! Messages between the tabs of one origin, over a `BroadcastChannel`.
//!
//! Every message names the sign-in it is about — the user, and the server-side session id
//! when the backend gives one — so a receiver can ignore what is stale or foreign (see
//! [`crate::tab_sync`]). The access token only ever travels between same-origin tabs' memory.
//! On the channel a message is a plain object (structured clone) whose `kind` is `signed_in`,
//! `token`, `signed_out`, `sign_out_confirmed` or `sign_out_stopped`; the user goes through
//! serde, the rest is read field by field.

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::auth_state::SignOutScope;
use crate::protocol::{Grant, TokenType};
use crate::time::{from_ms, Instant};
use crate::token::AccessToken;

/// A grant as it travels: lifetimes as milliseconds left when it was sent.
#[derive(Clone, Debug)]
pub(crate) struct WireGrant<U> {
    access_token: String,
    dpop: bool,
    expires_in_ms: f64,
    session_id: Option<String>,
    idle_ms: Option<f64>,
    absolute_ms: Option<f64>,
    user: U,
    /// `Date.now()` when sent: the receiver subtracts the time in transit (a frozen tab may
    /// get the message late).
    sent_at: f64,
}

impl<U: Clone> WireGrant<U> {
    /// The token this tab holds, as it is now.
    pub(crate) fn of(token: &AccessToken, user: &U) -> Self {
        let now = Instant::now();
        let (idle_ms, absolute_ms) = token.session_left_ms(&now);
        WireGrant {
            access_token: token.bearer().to_owned(),
            dpop: token.token_type() == TokenType::Dpop,
            expires_in_ms: token.remaining_ms(&now),
            session_id: token.session_id().map(str::to_owned),
            idle_ms,
            absolute_ms,
            user: user.clone(),
            sent_at: now.wall_ms,
        }
    }

    /// The grant as of now, at the receiver.
    pub(crate) fn grant(self) -> Grant<U> {
        let transit = (js_sys::Date::now() - self.sent_at).max(0.0);
        let left = |ms: f64| from_ms(ms - transit);
        let token_type = if self.dpop {
            TokenType::Dpop
        } else {
            TokenType::Bearer
        };
        Grant::new(self.access_token, left(self.expires_in_ms), self.user)
            .with_token_type(token_type)
            .with_session_id(self.session_id)
            .with_session_end(self.idle_ms.map(left), self.absolute_ms.map(left))
    }
}

/// How a sign-out another tab reports came about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TabSignOut {
    /// The user signed out (the server may not have confirmed it yet).
    ByUser(SignOutScope),
    /// The server refused the refresh: the session has ended.
    SessionEnded,
}

/// What one tab tells the others.
#[derive(Clone, Debug)]
pub(crate) enum TabMessage<U> {
    /// A new sign-in: every tab adopts it.
    SignedIn { grant: WireGrant<U> },
    /// A refreshed access token for the sign-in `grant` names.
    Token { grant: WireGrant<U> },
    /// Signed out of a sign-in: by the user, or because the server refused the refresh.
    SignedOut {
        user: Option<U>,
        session_id: Option<String>,
        how: TabSignOut,
    },
    /// The server confirmed the sign-out.
    SignOutConfirmed { scope: SignOutScope },
    /// The server refused the sign-out for good; nobody retries it any more.
    SignOutStopped { status: u16, code: String },
}

// On the channel: a plain object `{kind, …}` (structured clone), the user through serde.

fn field(object: &JsValue, name: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

fn set(object: &Object, name: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(object, &JsValue::from_str(name), &value.into());
}

fn set_some(object: &Object, name: &str, value: Option<impl Into<JsValue>>) {
    if let Some(value) = value {
        set(object, name, value);
    }
}

/// How the user travels: the protocol's [`user_to_js`](crate::Protocol::user_to_js) and back.
pub(crate) struct UserCodec<'a, U> {
    pub(crate) to_js: &'a dyn Fn(&U) -> JsValue,
    pub(crate) from_js: &'a dyn Fn(&JsValue) -> Result<U, String>,
}

impl<U> WireGrant<U> {
    fn to_js(&self, codec: &UserCodec<U>) -> JsValue {
        let o = Object::new();
        set(&o, "access_token", self.access_token.as_str());
        set(&o, "dpop", self.dpop);
        set(&o, "expires_in_ms", self.expires_in_ms);
        set_some(&o, "session_id", self.session_id.as_deref());
        set_some(&o, "idle_ms", self.idle_ms);
        set_some(&o, "absolute_ms", self.absolute_ms);
        set(&o, "user", (codec.to_js)(&self.user));
        set(&o, "sent_at", self.sent_at);
        o.into()
    }

    fn from_js(o: &JsValue, codec: &UserCodec<U>) -> Option<Self> {
        Some(WireGrant {
            access_token: field(o, "access_token").as_string()?,
            dpop: field(o, "dpop").as_bool().unwrap_or(false),
            expires_in_ms: field(o, "expires_in_ms").as_f64()?,
            session_id: field(o, "session_id").as_string(),
            idle_ms: field(o, "idle_ms").as_f64(),
            absolute_ms: field(o, "absolute_ms").as_f64(),
            user: (codec.from_js)(&field(o, "user")).ok()?,
            sent_at: field(o, "sent_at").as_f64()?,
        })
    }
}

impl<U> TabMessage<U> {
    pub(crate) fn to_js(&self, codec: &UserCodec<U>) -> JsValue {
        let o = Object::new();
        let kind = match self {
            TabMessage::SignedIn { grant } => {
                set(&o, "grant", grant.to_js(codec));
                "signed_in"
            }
            TabMessage::Token { grant } => {
                set(&o, "grant", grant.to_js(codec));
                "token"
            }
            TabMessage::SignedOut {
                user,
                session_id,
                how,
            } => {
                set_some(&o, "user", user.as_ref().map(|u| (codec.to_js)(u)));
                set_some(&o, "session_id", session_id.as_deref());
                let everywhere = *how == TabSignOut::ByUser(SignOutScope::Everywhere);
                set(&o, "everywhere", everywhere);
                set(&o, "session_ended", *how == TabSignOut::SessionEnded);
                "signed_out"
            }
            TabMessage::SignOutConfirmed { scope } => {
                set(&o, "everywhere", *scope == SignOutScope::Everywhere);
                "sign_out_confirmed"
            }
            TabMessage::SignOutStopped { status, code } => {
                set(&o, "status", u32::from(*status));
                set(&o, "code", code.as_str());
                "sign_out_stopped"
            }
        };
        set(&o, "kind", kind);
        o.into()
    }

    /// The message `o` holds; `None` for anything else (another app's message, a newer
    /// version's).
    pub(crate) fn from_js(o: &JsValue, codec: &UserCodec<U>) -> Option<Self> {
        let flag = |name| field(o, name).as_bool().unwrap_or(false);
        let scope = || {
            if flag("everywhere") {
                SignOutScope::Everywhere
            } else {
                SignOutScope::ThisDevice
            }
        };
        Some(match field(o, "kind").as_string()?.as_str() {
            "signed_in" => TabMessage::SignedIn {
                grant: WireGrant::from_js(&field(o, "grant"), codec)?,
            },
            "token" => TabMessage::Token {
                grant: WireGrant::from_js(&field(o, "grant"), codec)?,
            },
            "signed_out" => TabMessage::SignedOut {
                user: match field(o, "user") {
                    v if v.is_undefined() || v.is_null() => None,
                    v => Some((codec.from_js)(&v).ok()?),
                },
                session_id: field(o, "session_id").as_string(),
                how: if flag("session_ended") {
                    TabSignOut::SessionEnded
                } else {
                    TabSignOut::ByUser(scope())
                },
            },
            "sign_out_confirmed" => TabMessage::SignOutConfirmed { scope: scope() },
            "sign_out_stopped" => TabMessage::SignOutStopped {
                status: field(o, "status").as_f64().map_or(0, |n| n as u16),
                code: field(o, "code").as_string().unwrap_or_default(),
            },
            _ => return None,
        })
    }
}

/// The BroadcastChannel; dropping it closes the channel and removes its handler.
pub(crate) struct Channel {
    channel: web_sys::BroadcastChannel,
    _on_message: Closure<dyn FnMut(web_sys::MessageEvent)>,
}

impl Channel {
    /// Opens channel `name` and calls `on_message` for every message another tab (or another
    /// client in this page) posts. `None` where BroadcastChannel is unavailable.
    /// Messages are read raw: the caller decodes them ([`TabMessage::from_js`]).
    pub(crate) fn open(name: &str, on_message: impl Fn(JsValue) + 'static) -> Option<Channel> {
        let channel = web_sys::BroadcastChannel::new(name).ok()?;
        let handler =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                on_message(e.data());
            });
        channel.set_onmessage(Some(handler.as_ref().unchecked_ref()));
        Some(Channel {
            channel,
            _on_message: handler,
        })
    }

    /// Posts `message` to every other listener.
    pub(crate) fn post(&self, message: &JsValue) {
        let _ = self.channel.post_message(message);
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        self.channel.set_onmessage(None);
        self.channel.close();
    }
}
