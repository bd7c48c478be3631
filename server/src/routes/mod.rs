//! HTTP handlers, one module per resource.

pub mod auth;
pub mod me;
pub mod sessions;

use axum::Json;
use serde_json::{json, Value};

use crate::error::ApiError;

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
