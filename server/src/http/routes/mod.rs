//! The API's HTTP handlers, one module per resource; each module owns its router (with its
//! full paths — no `nest`, which would rewrite every request's URI), and [`api`] puts them
//! together.

pub mod auth;
pub mod me;
pub mod security_events;
pub mod sessions;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use serde_json::json;

use crate::http::error::ApiError;
use crate::state::AppState;

/// Everything under `/api` (without the layers, which [`crate::http::app`] adds): unknown paths get
/// the JSON 404, known paths with a wrong method the JSON 405.
pub fn api(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(auth::router(state))
        .merge(me::router())
        .merge(sessions::router())
        .merge(security_events::router())
        .route("/api/health", get(health))
        .route("/api", any(not_found))
        .route("/api/", any(not_found))
        .route("/api/{*rest}", any(not_found))
        .method_not_allowed_fallback(method_not_allowed)
}

/// `GET /api/health` → 200 `{"status":"ok"}` while the database takes writes; otherwise 503
/// `{"status":"unavailable","error":"database_unavailable","message":"<why>"}`
/// ([`crate::db::health`]).
pub async fn health(State(state): State<AppState>) -> Response {
    match state.health.check().await {
        Ok(()) => Json(json!({ "status": "ok" })).into_response(),
        Err(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "status": "unavailable",
                "error": tokenpair_api::codes::DATABASE_UNAVAILABLE,
                "message": why.reason,
            })),
        )
            .into_response(),
    }
}

/// Unknown `/api/*` paths: JSON 404 (never the SPA's index.html).
pub async fn not_found() -> ApiError {
    ApiError::not_found()
}

/// Known path, wrong method: JSON 405.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
