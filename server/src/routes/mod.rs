//! The API's HTTP handlers, one module per resource; each module owns its router, and
//! [`api`] puts them together under `/api`.

pub mod auth;
pub mod me;
pub mod sessions;

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::state::AppState;

/// Everything under `/api` (without the layers, which [`crate::app`] adds).
pub fn api(state: &AppState) -> Router<AppState> {
    Router::new()
        .nest("/auth", auth::router(state))
        .merge(me::router())
        .merge(sessions::router())
        .route("/health", get(health))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

/// `GET /api/health`: liveness for scripts and tests.
pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Unknown `/api/*` paths: JSON 404 (never the SPA's index.html).
pub async fn not_found() -> ApiError {
    ApiError::not_found()
}

/// Known path, wrong method: JSON 405.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
