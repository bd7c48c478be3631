//! The router and its layers, and `serve`.
//!
//! ```text
//! /api/auth/{register,login,refresh,logout}  POST, CSRF-guarded, cookie   routes/auth.rs
//! /api/me                                     GET, Bearer                  routes/me.rs
//! /api/sessions, /api/sessions/{id}           GET / DELETE, Bearer         routes/sessions.rs
//! /api/health                                 GET                          routes/mod.rs
//! /api/*  (anything else)                     JSON 404 / 405               routes/mod.rs
//! everything else                             the SPA                      spa.rs
//! ```

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;

use crate::headers::SetHeaders;
use crate::request_log::RequestLog;
use crate::state::{AppState, StartupError};
use crate::{maintenance, routes, spa};

pub use crate::headers::BODY_LIMIT;

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(api_layers(routes::api(&state)))
        .merge(spa::router(&state))
        .layer(SetHeaders::every_response())
        .layer(RequestLog)
        .with_state(state)
}

/// What every `/api` response gets: headers that keep tokens and personal data out of every
/// cache and any rendering context, and the 413 for a declared body over the limit
/// ([`crate::headers`]). (The routes that read a body also cap what they read: `routes::auth`.)
fn api_layers(api: Router<AppState>) -> Router<AppState> {
    api.layer(SetHeaders::api(BODY_LIMIT))
}

/// Serves until `shutdown` resolves. Also runs the periodic prune job
/// ([`crate::maintenance`]).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartupError> {
    let prune = maintenance::spawn(state.clone());
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    prune.abort();
    result.map_err(StartupError::Serve)
}
