//! `/api/sessions`: the user's signed-in devices (Bearer), a page at a time, and revoking one.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};

use crate::http::error::ApiError;
use crate::http::extract::{ApiPath, ApiQuery, Authenticated};
use crate::http::pagination::{link_next, PageQuery};
use crate::security_events::Client;
use crate::sessions::store::Cursor;
use crate::sessions::EndReason;
use crate::state::AppState;

/// `/api/sessions` and `/api/sessions/{id}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/sessions", get(list))
        .route("/api/sessions/{id}", delete(revoke))
}

/// `GET /api/sessions[?limit=N][&cursor=C]` → a JSON array of live sessions, newest first;
/// `current` marks the caller's. When there are more, a `Link: <…>; rel="next"` header
/// (RFC 8288) gives the URL of the next page.
pub async fn list(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Response, ApiError> {
    let limit = query.limit()?;
    let cursor = query.cursor(Cursor::parse)?;
    let page = state
        .sessions
        .list(auth.user_id, limit, cursor.as_ref())
        .await?;
    let body: Vec<_> = page
        .rows
        .iter()
        .map(|r| r.to_api(&auth.claims.sid))
        .collect();
    let mut response = Json(body).into_response();
    let next = page.next.map(|c| c.encode());
    link_next(&mut response, tokenpair_api::paths::SESSIONS, limit, next);
    Ok(response)
}

/// `DELETE /api/sessions/{id}` → 204. Only the caller's own sessions; anything else is 404.
/// The revoked session's access tokens stop working at once and its refresh token fails.
pub async fn revoke(
    State(state): State<AppState>,
    auth: Authenticated,
    client: Client,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    if state
        .sessions
        .revoke(&id, Some(auth.user_id), EndReason::Revoked, &client)
        .await?
    {
        tracing::info!(user = auth.user_id, session = %id, "session revoked");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("No such active session.".into()))
    }
}
