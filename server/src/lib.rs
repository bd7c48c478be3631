//! tokenpair-server: the companion backend of the tokenpair SPA.
//!
//! Read top-down: [`config`] → [`app`] (router) → [`routes::auth`] (sign-in, refresh, logout)
//! → [`tokens`] (access JWTs) and [`sessions`] (refresh rotation, reuse detection) →
//! [`error`] (every error → HTTP in one place).

pub mod app;
pub mod config;
pub mod cookies;
pub mod csrf;
pub mod db;
pub mod device;
pub mod error;
pub mod extract;
pub mod passwords;
pub mod routes;
pub mod sessions;
pub mod spa;
pub mod throttle;
pub mod tokens;
pub mod users;

pub use app::{router, serve, AppState, StartupError};
pub use config::{Args, Config};
