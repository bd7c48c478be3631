//! `/api/sessions`: the user's signed-in devices (Bearer), and revoking one of them.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use tokenpair_api::SessionInfo;

use crate::error::ApiError;
use crate::extract::{ApiPath, Authenticated};
use crate::sessions::EndReason;
use crate::state::AppState;

/// `/api/sessions` and `/api/sessions/{id}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/sessions", get(list))
        .route("/api/sessions/{id}", delete(revoke))
}

/// `GET /api/sessions` → the live sessions, newest first; `current` marks the caller's.
pub async fn list(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<Vec<SessionInfo>>, ApiError> {
    let rows = state.sessions.list(auth.user_id).await?;
    Ok(Json(
        rows.iter().map(|r| r.to_api(&auth.claims.sid)).collect(),
    ))
}

/// `DELETE /api/sessions/{id}` → 204. Only the caller's own sessions; anything else is 404.
/// The revoked session's access tokens stop working at once and its refresh token fails.
pub async fn revoke(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    if state
        .sessions
        .revoke(&id, Some(auth.user_id), EndReason::Revoked)
        .await?
    {
        tracing::info!(user = auth.user_id, session = %id, "session revoked");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("No such active session.".into()))
    }
}
