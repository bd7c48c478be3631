//! The harness of the integration tests, by concern:
//!
//! * [`server`] — the real server in-process on 127.0.0.1, restarts, a second instance;
//! * [`db`] — the test database on this run's backend (SQLite or PostgreSQL), seeding, looks
//!   into the tables;
//! * [`http`] — requests and exact assertions on token responses, cookies and error bodies;
//! * [`jwt`] — hand-built JWTs, so any header or claim can be forged;
//! * [`wait`] — waiting on a condition, never on a guessed sleep;
//! * `passkey.rs` — a software passkey and browser (only the tests that declare it:
//!   `#[path = "common/passkey.rs"] mod passkey;`).
//!
//! Cookies are handled by hand (no cookie store) so tests can assert exact `Set-Cookie`s.

#![allow(dead_code, unused_imports)]

pub mod db;
pub mod http;
pub mod jwt;
pub mod server;
pub mod wait;

pub use db::*;
pub use http::*;
pub use jwt::*;
pub use server::*;
pub use wait::*;

/// The access-token key of every test server (forged tokens are signed with it).
pub const SECRET: &[u8] = b"integration-tests-only-secret-0123456789-abcdefgh";
pub const XRW: (&str, &str) = ("x-requested-with", "XMLHttpRequest");
pub const USER1: (&str, &str) = ("user1", "password1");
pub const USER2: (&str, &str) = ("user2", "password2");
pub const USER1_ID: i64 = 1;
pub const USER2_ID: i64 = 2;
