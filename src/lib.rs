//! tokenpair SPA: access token in memory, refresh token in an HttpOnly cookie.
//!
//! The token handling is the `tokenpair-client` crate (`client/`), used here exactly as any
//! other Leptos app would use it. Read top-down: [`app`] (routes and guards) →
//! [`context`] (what every view shares) → [`loading`] (data for views through the Bearer
//! client) → [`pages`] and [`components`].

pub mod app;
pub mod components;
pub mod context;
pub mod effect;
pub mod jwt;
pub mod loading;
pub mod pages;
pub mod router;
pub mod time;
