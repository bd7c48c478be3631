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

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use tokio::net::TcpListener;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::state::{AppState, StartupError};
use crate::{maintenance, routes, spa};

/// Request bodies above this are refused with 413.
pub const BODY_LIMIT: usize = 16 * 1024;

pub fn router(state: AppState) -> Router {
    // `nest("/api", …)` matches `/api` and `/api/<something>` but not `/api/` itself, which
    // would otherwise fall through to the SPA: answer it with the API's JSON 404 as well.
    let api_slash = Router::new().route("/api/", any(routes::not_found));

    Router::new()
        .nest("/api", api_layers(routes::api(&state)))
        .merge(api_layers(api_slash))
        .merge(spa::router(&state))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// What every `/api` response gets: the body limit, and headers that keep tokens and personal
/// data out of every cache and any rendering context.
fn api_layers(api: Router<AppState>) -> Router<AppState> {
    api.layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(refuse_large_bodies))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::PRAGMA,
            HeaderValue::from_static("no-cache"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ))
}

/// 413 up front for a declared `Content-Length` over the limit, whatever the route reads.
async fn refuse_large_bodies(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
        return ApiError::PayloadTooLarge.into_response();
    }
    next.run(request).await
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
