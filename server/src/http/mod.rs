//! The HTTP edge: routing, extractors, cookies, CSRF, headers, connections and the one place
//! errors become responses. Everything below it (sessions, tokens, throttle, users, …) knows
//! nothing of HTTP and never imports this module.

pub mod app;
pub mod body_deadline;
pub mod client_ip;
pub mod cookies;
pub mod csrf;
pub mod dpop;
pub mod error;
pub mod extract;
pub mod headers;
pub mod jwks;
pub mod listener;
pub mod openapi;
pub mod pagination;
pub mod request_log;
pub mod routes;
pub mod spa;
pub mod step_up;
pub mod write_deadline;
