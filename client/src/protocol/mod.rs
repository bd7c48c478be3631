//! The seam between the client and a backend: [`Protocol`].
//!
//! The client decides *when* to sign in, refresh, retry and sign out, across tabs and through
//! outages. A `Protocol` decides *what that looks like on the wire*: where the endpoints are,
//! how a sign-in request is built from the app's own credentials, how a token response is
//! read into a [`Grant`] (with the app's own user type), which refresh refusals end a
//! session, and what a completed logout looks like. [`TokenpairProtocol`] is tokenpair's; the
//! docs/client.md's "Use the client with your own backend" implements one for an OAuth 2.0-shaped API
//! (`client/examples/third_party_app.rs`).
//!
//! Five methods have no default: [`Protocol::endpoints`], [`Protocol::sign_in_request`],
//! [`Protocol::read_grant`], and the user's form on the tab channel,
//! [`Protocol::user_to_js`] / [`Protocol::user_from_js`] (with serde, one line each:
//! [`crate::json::to_value`] and [`crate::json::from_value`]).

pub mod jwt;
mod seam;
pub mod tokenpair;

pub use seam::{Endpoints, Grant, LogoutVerdict, Protocol, RefreshVerdict, TokenType};
pub use tokenpair::TokenpairProtocol;
