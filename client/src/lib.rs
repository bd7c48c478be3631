//! # tokenpair-client
//!
//! Access token **in memory only**; refresh token **only in an HttpOnly cookie** the server
//! sets. This crate is the browser half of that pattern, for any Leptos 0.8 CSR app.
//!
//! ## A guided tour, in the order a request lives through it
//! 1. [`context`] — `provide_auth(ClientConfig::default())` creates a [`TokenClient`], puts it
//!    in the Leptos context and starts it: the session is restored through the cookie.
//! 2. [`state`] — **where the token is kept**: [`AuthStore`], a few signals (auth state,
//!    [`SessionVersion`], notice, problem, pending sign-out, timeline). Nothing is written to
//!    any browser storage.
//! 3. [`endpoints`] / [`sign_out`] — the cookie endpoints (sign in, register, sign out) on
//!    their own handle, [`AuthEndpoints`], each inside the cross-tab lock.
//! 4. [`api`] — **where the 401 retry happens**: [`ApiClient`] attaches
//!    `Authorization: Bearer …`; on a 401 it refreshes once and retries once.
//! 5. [`refresh`] — **where rotation is asked for**: single flight, the Web Lock ([`lock`]),
//!    re-checks under the lock, the answer broadcast to the other tabs ([`tabs`],
//!    [`tab_sync`]) before the lock is released; only three refusal codes end a session.
//! 6. [`probe`] and [`timers`] — when the server is unavailable (backoff, jitter,
//!    `Retry-After`, offline), and when time passes without us (proactive refresh, wake from
//!    sleep, tab focus).
//! 7. [`transport`] — every request has a deadline; the network is a trait, so all of the
//!    above is tested against a fake server in a real browser.
//!
//! [`redirect`] resolves `?next=` without an open redirect; [`config`] holds every knob.

#![warn(missing_docs)]

pub mod api;
pub mod backoff;
pub mod client;
pub mod clock;
pub mod config;
pub mod context;
mod core;
pub mod endpoints;
pub mod error;
pub mod events;
pub mod json;
mod listener;
pub mod lock;
pub mod probe;
pub mod problem;
pub mod redirect;
pub mod refresh;
pub mod sign_out;
pub mod state;
pub mod tab_sync;
pub mod tabs;
pub mod timers;
pub mod transport;
pub mod wire;

pub use api::ApiClient;
pub use client::TokenClient;
pub use clock::Instant;
pub use config::{Backoff, ClientConfig, Endpoints};
pub use context::{provide_auth, provide_auth_with, use_auth, Auth};
pub use endpoints::AuthEndpoints;
pub use error::ClientError;
pub use events::{Event, EventKind};
pub use problem::Problem;
pub use redirect::{login_redirect, safe_return_path, safe_return_path_for};
pub use refresh::{RefreshOutcome, RefreshReason};
pub use state::{
    AccessToken, AuthState, AuthStore, Notice, SessionEnding, SessionVersion, SignOutScope,
};
pub use transport::{FetchTransport, HttpRequest, HttpResponse, Method, Transport, TransportError};
