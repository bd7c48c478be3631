//! End-to-end harness: the real release server (serving the real release SPA from `dist/`) on
//! loopback with a fresh SQLite file, Debian's Chromium driven through chromedriver, and a
//! fault-injecting proxy that can sit between them.
//!
//! * [`server`]: [`Server`], [`ServerOptions`];
//! * [`browser`]: [`Driver`] (chromedriver) and [`Browser`] (one Chromium; dropping it ends
//!   the browser, also when a test panics);
//! * [`proxy`]: [`Proxy`] and its [`Fault`]s;
//! * [`cluster`]: [`Cluster`], `make cluster` (PostgreSQL, two instances, nginx with TLS);
//! * [`page`]: waiting for, reading and clicking elements, windows, reloads;
//! * [`network`]: the page's own network log, to wait for a *fresh* answer after an action;
//! * [`a11y`]: axe-core in the page, colour scheme and viewport emulation, the console log;
//! * [`third_party`]: a second backend shaped like a typical third-party token API, serving
//!   the client's example app built for it.
//!
//! `make test` builds the server and the SPA first. Run alone: `make e2e`.
//! Paths can be overridden with `TOKENPAIR_SERVER_BIN` and `TOKENPAIR_DIST`.

pub mod a11y;
pub mod browser;
pub mod cluster;
pub mod network;
pub mod page;
pub mod proxy;
pub mod server;
pub mod third_party;
pub mod webauthn;

pub use a11y::{axe, Scheme, Violation};
pub use browser::{Browser, Driver, Proc};
pub use cluster::{Cluster, ClusterOptions};
pub use network::{answer_count, answers, wait_for_fresh_answer};
pub use page::*;
pub use proxy::{Exchange, Fault, Proxy};
pub use server::{
    dist_dir, http_get, http_request, http_request_with_body, wait_for_http, HttpAnswer, Server,
    ServerOptions,
};
pub use third_party::ThirdParty;
