//! # tokenpair-client
//!
//! Access token **in memory only**; refresh token **only in an HttpOnly cookie** the server
//! sets. This crate is the browser half of that pattern, for any Leptos 0.8 CSR app and any
//! backend that speaks it: tokenpair's own ([`TokenpairProtocol`], the default) or yours
//! (implement [`Protocol`]).
//!
//! ## A guided tour of the source, in the order a request lives through it
//! 1. `context.rs` — [`provide_auth`]`(protocol, config)` creates a [`TokenClient`], puts it
//!    in the Leptos context and starts it: the session is restored through the cookie.
//! 2. `state.rs` — **where the token is kept**: in memory, in plain `RefCell`s, mirrored into
//!    the [`AuthStore`] signals views read (`store.rs`); its words (`AuthState`,
//!    `SessionVersion`, …) are in `auth_state.rs`. Nothing is written to any browser storage.
//! 3. `sign_in.rs` — a sign-in through the [`Protocol`] (or a session adopted from
//!    elsewhere), inside the cross-tab lock (`lock/`); `core.rs` is the one place where a new
//!    token takes effect (store, timers, probe, broadcast to the other tabs, [`AuthEvent`]s).
//! 4. `api.rs` — **where the 401 retry happens**: [`ApiClient`] attaches the token (only to
//!    allowed origins, never to a cookie endpoint: `http/target.rs`); on a 401 it refreshes
//!    once and retries once.
//! 5. `refresh.rs` — **where rotation is asked for**: single flight (`single_flight.rs`), the
//!    lock, re-checks under the lock, the answer judged by the protocol and broadcast before
//!    the lock is released.
//! 6. `recovery.rs` — when the server is unavailable (backoff, jitter, `Retry-After`,
//!    offline) and when time passes without us (wake from sleep, tab focus); `timers.rs` and
//!    `probe.rs` hold their state.
//! 7. `sign_out.rs` — sign-out the server confirms, retried only while that can help
//!    (`pending_sign_out.rs` remembers it across reloads).
//! 8. `tab_sync.rs` — what the other tabs' messages do here (`tabs.rs` is the channel).
//! 9. [`http`] — requests and answers as data, every request with a deadline, `fetch` through
//!    gloo-net behind a [`Transport`] trait, so all of the above is tested against a fake
//!    server in a real browser.
//!
//! [`safe_return_path`] resolves `?next=` without an open redirect; [`ClientConfig`] holds
//! every knob.

#![warn(missing_docs)]

mod api;
mod auth;
mod auth_state;
mod backoff;
mod client;
mod config;
mod context;
mod core;
pub mod dpop;
mod error;
mod events;
pub mod http;
pub mod json;
mod listener;
mod lock;
pub mod passkey;
mod pending_sign_out;
mod probe;
mod problem;
pub mod protocol;
mod recovery;
mod redirect;
mod refresh;
mod send;
mod sign_in;
mod sign_out;
mod single_flight;
mod state;
mod step_up;
mod store;
mod tab_sync;
mod tabs;
mod time;
mod timeline;
mod timers;
mod token;

pub use api::{ApiClient, MAX_PAGES};
pub use auth::AuthEndpoints;
pub use auth_state::{AuthState, Notice, SessionEnding, SessionVersion, SignOutScope};
pub use client::TokenClient;
pub use config::{Backoff, ClientConfig, ClientConfigBuilder, LockMode};
pub use context::{provide_auth, provide_auth_with, use_auth, Auth};
pub use error::{ApiError, ClientError};
pub use events::{AuthEvent, ListenerId, RefreshFailure, SignOutReason};
pub use http::{
    Body, CredentialsMode, FetchTransport, Method, Request, Response, Transport, TransportError,
};
pub use lock::web_locks_available;
pub use problem::Problem;
pub use protocol::tokenpair::{PasswordCredentials, TokenpairSignIn, TokenpairUser};
pub use protocol::{
    Endpoints, Grant, LogoutVerdict, Protocol, RefreshVerdict, TokenType, TokenpairProtocol,
};
pub use redirect::{login_redirect, safe_return_path, safe_return_path_for};
pub use single_flight::{RefreshOutcome, RefreshReason};
pub use step_up::{ReauthenticationRequest, StepUp, INSUFFICIENT_USER_AUTHENTICATION};
pub use store::AuthStore;
pub use time::Instant;
pub use timeline::{TimelineEntry, TimelineKind, TIMELINE_LEN};
pub use token::AccessToken;
