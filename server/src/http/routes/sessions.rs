//! `/api/sessions`: the user's signed-in devices (Bearer), a page at a time, and revoking one.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;

use crate::http::error::ApiError;
use crate::http::extract::{ApiPath, ApiQuery, Authenticated};
use crate::sessions::store::Cursor;
use crate::sessions::EndReason;
use crate::state::AppState;

/// Sessions per page unless `?limit=` says otherwise, and the most a page can have.
pub const DEFAULT_PAGE: u32 = 20;
pub const MAX_PAGE: u32 = 100;

/// `/api/sessions` and `/api/sessions/{id}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/sessions", get(list))
        .route("/api/sessions/{id}", delete(revoke))
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

/// `GET /api/sessions[?limit=N][&cursor=C]` → a JSON array of live sessions, newest first;
/// `current` marks the caller's. When there are more, a `Link: <…>; rel="next"` header
/// (RFC 8288) gives the URL of the next page.
pub async fn list(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Response, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "`limit` must be between 1 and {MAX_PAGE}."
        )));
    }
    let cursor = match query.cursor.as_deref() {
        None => None,
        Some(c) => Some(Cursor::parse(c).ok_or_else(|| {
            ApiError::BadRequest("`cursor` is not one this server gave out.".into())
        })?),
    };
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
    if let Some(next) = page.next {
        let link = format!(
            "<{}?limit={limit}&cursor={}>; rel=\"next\"",
            tokenpair_api::paths::SESSIONS,
            next.encode()
        );
        if let Ok(value) = HeaderValue::from_str(&link) {
            response.headers_mut().insert(header::LINK, value);
        }
    }
    Ok(response)
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
