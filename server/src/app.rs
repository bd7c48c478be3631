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

use axum::extract::DefaultBodyLimit;
use axum::Router;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::headers::SetHeaders;
use crate::state::{AppState, StartupError};
use crate::{maintenance, routes, spa};

/// Request bodies above this are refused with 413.
pub const BODY_LIMIT: usize = 16 * 1024;

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(api_layers(routes::api(&state)))
        .merge(spa::router(&state))
        .layer(SetHeaders::every_response())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// What every `/api` response gets: the body limit, and headers that keep tokens and personal
/// data out of every cache and any rendering context ([`crate::headers`]).
fn api_layers(api: Router<AppState>) -> Router<AppState> {
    api.layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(SetHeaders::api(BODY_LIMIT))
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
