//! The router and its layers, and `serve`.
//!
//! ```text
//! /api/auth/{register,login,refresh,logout}  POST, CSRF-guarded, cookie   routes/auth.rs
//! /api/me                                     GET, Bearer                  routes/me.rs
//! /api/sessions, /api/sessions/{id}           GET / DELETE, Bearer         routes/sessions.rs
//! /api/security-events[/notice]               GET / POST, Bearer           routes/security_events.rs
//! /api/health                                 GET                          routes/mod.rs
//! /api/openapi.json                           GET, this API described      http/openapi.rs
//! /.well-known/jwks.json                      GET, public keys             http/jwks.rs
//! /api/*  (anything else)                     JSON 404 / 405               routes/mod.rs
//! everything else                             the SPA                      spa.rs
//! ```

use std::future::Future;

use axum::Router;
use tokio::net::TcpListener;
use tower_http::timeout::RequestBodyTimeoutLayer;

use super::{jwks, openapi, routes, spa};
use crate::http::headers::SetHeaders;
use crate::http::listener::{default_max_connections, serve_connections, ConnectionLimits};
use crate::http::request_log::RequestLog;
use crate::maintenance;
use crate::state::{AppState, StartupError};

pub use crate::http::headers::BODY_LIMIT;

pub fn router(state: AppState) -> Router {
    // A body that trickles in slower than this is cut off (the head has its own limit, see
    // [`crate::http::listener`]).
    let body_timeout = RequestBodyTimeoutLayer::new(state.config.network.header_read_timeout);
    let (api, mut document) = routes::api(&state).split_for_parts();
    let (keys, keys_document) = jwks::router().split_for_parts();
    document.merge(keys_document);
    // Made once, here: the only place that sees every route. (Kept in the state rather than
    // in a layer, which would cost every API request an extension insert.)
    let _ = state.openapi.set(openapi::serialise(&document));
    let api = routes::catch_alls(api);
    Router::new()
        .merge(api_layers(api))
        .merge(keys)
        .merge(spa::router(&state))
        .layer(SetHeaders::every_response())
        .layer(RequestLog)
        .layer(body_timeout)
        .with_state(state)
}

/// What every `/api` response gets: headers that keep tokens and personal data out of every
/// cache and any rendering context, and the 413 for a declared body over the limit
/// ([`crate::http::headers`]). (The routes that read a body also cap what they read: `routes::auth`.)
fn api_layers(api: Router<AppState>) -> Router<AppState> {
    api.layer(SetHeaders::api(BODY_LIMIT))
}

/// Serves until `shutdown` resolves, then shuts down within `SHUTDOWN_TIMEOUT`
/// ([`crate::http::listener`]). Also runs the periodic prune job ([`crate::maintenance`]) and the
/// database health watch ([`crate::db::health`]).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartupError> {
    let prune = maintenance::spawn(state.clone());
    let watch = state.health.spawn_watch();
    let keys = state.tokens.spawn_reload();
    let config = &state.config;
    let limits = ConnectionLimits {
        header_read_timeout: config.network.header_read_timeout,
        max_connections: match config.network.max_connections {
            0 => default_max_connections(),
            n => n,
        },
        shutdown_timeout: config.network.shutdown_timeout,
    };
    serve_connections(listener, router(state), limits, shutdown).await;
    prune.abort();
    watch.abort();
    if let Some(keys) = keys {
        keys.abort();
    }
    Ok(())
}
