//! tokenpair-server: the companion backend of the tokenpair SPA.
//!
//! ## A guided tour
//!
//! 1. [`config`] — flags and environment → a validated [`Config`]; `DATABASE_URL` picks
//!    SQLite (default) or PostgreSQL ([`db::Database`]).
//! 2. [`state`] — [`AppState`], built once: the database pool ([`db`], migrations applied),
//!    accounts ([`users`]), keys ([`tokens`]), sessions ([`sessions`]), throttle ([`throttle`]).
//! 3. [`app`] — the router and its layers ([`headers`]: security headers and the body limit in
//!    one layer; [`request_log`]); it mounts each resource's own router from [`routes`] and
//!    the SPA ([`spa`]).
//! 4. A request: [`csrf`] guards the cookie endpoints, [`extract`] turns headers into a
//!    verified caller, a handler in [`routes`] does the work, and [`error`] turns every failure
//!    into one JSON shape.
//! 5. The heart: [`routes::auth`] signs in and refreshes through [`sessions::rotation`]
//!    (single-use refresh tokens, grace, reuse → family revoked), [`tokens`] issues and verifies
//!    access JWTs, [`sessions::revocations`] makes a sign-out bite at once on every instance.
//! 6. Housekeeping: [`maintenance`] prunes what has ended, so the tables stay bounded.

pub mod app;
pub mod body_deadline;
pub mod client_address;
pub mod clock;
pub mod config;
pub mod cookies;
pub mod csrf;
pub mod db;
pub mod device;
pub mod error;
pub mod extract;
pub mod headers;
pub mod key_commands;
pub mod listener;
pub mod maintenance;
pub mod passwords;
pub mod public_url;
pub mod request_log;
pub mod routes;
pub mod secrets;
pub mod sessions;
pub mod spa;
pub mod state;
pub mod throttle;
pub mod tokens;
pub mod trusted_devices;
pub mod users;
pub mod write_deadline;

pub use app::{router, serve};
pub use config::{Args, Config};
pub use state::{AppState, StartupError};
