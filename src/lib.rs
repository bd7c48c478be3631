//! tokenpair SPA: access token in memory, refresh token in an HttpOnly cookie.
//!
//! Read top-down: [`app`] (routes, guards, start-up) → [`session`] (where the access token is
//! kept) → [`client`] (Bearer header, 401 → single refresh → one retry) → [`tabs`] (Web Locks,
//! BroadcastChannel) → [`pages`].

pub mod app;
pub mod client;
pub mod components;
pub mod fetch;
pub mod json;
pub mod jwt;
pub mod pages;
pub mod session;
pub mod tabs;
