//! The API's HTTP handlers, one module per resource; each module owns its router (with its
//! full paths — no `nest`, which would rewrite every request's URI), and [`api`] puts them
//! together.

pub mod account;
pub mod auth;
pub mod me;
pub mod passkey_sign_in;
pub mod passkeys;
pub mod reauthenticate;
pub mod security_events;
pub mod sessions;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use tokenpair_api::HealthStatus;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::csrf;
use crate::http::error::ApiError;
use crate::http::headers::BODY_LIMIT;
use crate::http::openapi::{self, ApiDoc};
use crate::state::AppState;

/// Every documented route under `/api` (without the layers, which [`crate::http::app`] adds),
/// each registered with its OpenAPI description ([`crate::http::openapi`]).
pub fn api(state: &AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth::router(state))
        .merge(passkey_sign_in::router(state))
        .merge(account::router(state))
        .merge(me::router())
        .merge(sessions::router())
        .merge(passkeys::router(state))
        .merge(security_events::router())
        .routes(routes!(health))
        .routes(routes!(openapi::openapi_json))
}

/// `routes` behind the CSRF guard, with their body capped at [`BODY_LIMIT`] (a chunked body
/// has no declared length) and read whole within the deadline of
/// [`crate::http::body_deadline`]: every route that reads a body, or changes what the account
/// signs in with, is one of these.
pub fn guarded(routes: OpenApiRouter<AppState>, state: &AppState) -> OpenApiRouter<AppState> {
    routes
        .route_layer(middleware::from_fn_with_state(state.clone(), csrf::guard))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::http::body_deadline::read_whole_body,
        ))
}

/// The rest of `/api` (not in the document): unknown paths get the JSON 404, known paths with
/// a wrong method the JSON 405.
pub fn catch_alls(api: Router<AppState>) -> Router<AppState> {
    api.route("/api", any(not_found))
        .route("/api/", any(not_found))
        .route("/api/{*rest}", any(not_found))
        .method_not_allowed_fallback(method_not_allowed)
}

/// `GET /api/health` → 200 `{"status":"ok"}` while the database takes writes; otherwise 503
/// `{"status":"unavailable","error":"database_unavailable","message":"<why>"}`
/// ([`crate::db::health`]).
#[utoipa::path(
    get,
    path = "/api/health",
    tag = "service",
    responses(
        (status = 200, description = "The database takes writes", body = HealthStatus,
            example = json!({"status": "ok"})),
        (status = 503, description = "The database refuses writes, is too slow, or its SQLite file was deleted or replaced", body = HealthStatus,
            example = json!({"status": "unavailable", "error": "database_unavailable", "message": "the database refuses writes"})),
    )
)]
pub async fn health(State(state): State<AppState>) -> Response {
    match state.health.check().await {
        Ok(()) => Json(HealthStatus {
            status: "ok".into(),
            error: None,
            message: None,
        })
        .into_response(),
        Err(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(HealthStatus {
                status: "unavailable".into(),
                error: Some(
                    tokenpair_api::ErrorCode::DatabaseUnavailable
                        .as_str()
                        .into(),
                ),
                message: Some(why.reason.to_string()),
            }),
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
