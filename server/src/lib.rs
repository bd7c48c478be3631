//! tokenpair-server: the companion backend of the tokenpair SPA.
//!
//! ## A guided tour
//!
//! 1. [`config`] — flags and environment → a validated [`Config`], grouped by concern (network,
//!    tokens, sessions, limits); `DATABASE_URL` picks SQLite (default) or PostgreSQL
//!    ([`db::Database`]).
//! 2. [`state`] — [`AppState`], built once: the database pool ([`db`], migrations applied),
//!    accounts ([`users`]), keys ([`tokens`]), sessions ([`sessions`]) and the token pairs
//!    they hand out ([`token_pair`]), throttle ([`throttle`]), all on one [`clock`]; ids are
//!    typed ([`ids`]).
//! 3. [`http`] — the HTTP edge, and the only layer that knows HTTP: [`http::app`] is the
//!    router and its layers ([`http::headers`], [`http::request_log`]); it mounts each
//!    resource's own router from [`http::routes`], the public keys ([`http::jwks`]) and the SPA
//!    ([`http::spa`]), and describes them all in [`http::openapi`].
//! 4. A request: [`http::csrf`] guards the cookie endpoints, [`http::extract`] turns headers
//!    into a verified caller (the client address: [`http::client_ip`], after [`forwarding`]),
//!    a handler in [`http::routes`] does the work, and [`http::error`] turns every failure into
//!    one JSON shape.
//! 5. The heart: [`http::routes::auth`] signs in and refreshes through [`token_pair`] and
//!    [`sessions::rotation`] (single-use refresh tokens, grace, reuse → family revoked),
//!    [`tokens`] issues and verifies
//!    access JWTs, [`sessions::revocations`] makes a sign-out bite at once on every instance.
//! 6. Passkeys: [`passkeys`] adds them, signs in and re-authenticates with them (WebAuthn),
//!    each ceremony single use on every instance.
//! 7. What happened, for people and operators: [`security_events`], written in the same
//!    transaction as the change each records.
//! 8. Housekeeping: [`maintenance`] prunes what has ended (recording the expiry of a session
//!    that lapsed unnoticed), so the tables stay bounded.
//!
//! The domain modules (everything but [`http`]) never import [`http`].

pub mod authentication;
pub mod clock;
pub mod config;
pub mod db;
pub mod device;
pub mod dpop;
pub mod forwarding;
pub mod hex;
pub mod http;
pub mod ids;
pub mod key_commands;
pub mod key_encryption;
pub mod maintenance;
pub mod passkeys;
pub mod passwords;
pub mod public_url;
pub mod secrets;
pub mod security_events;
pub mod sessions;
pub mod state;
pub mod throttle;
pub mod token_pair;
pub mod tokens;
pub mod trusted_devices;
pub mod users;

pub use config::{Args, Config};
pub use http::app::{router, serve};
pub use state::{AppState, StartupError};
