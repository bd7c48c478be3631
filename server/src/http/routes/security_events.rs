//! `/api/security-events`: the account's security activity (Bearer), newest first, a page at
//! a time — the same `?limit=&cursor=` and `Link: rel="next"` as `/api/sessions`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::http::error::ApiError;
use crate::http::extract::{ApiQuery, Authenticated};
use crate::http::pagination::{link_next, PageQuery};
use crate::security_events::Cursor;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(tokenpair_api::paths::SECURITY_EVENTS, get(list))
        .route(tokenpair_api::paths::SECURITY_NOTICE, post(notice))
}

/// `POST /api/security-events/notice` → 200 with the newest alarming event (a replayed refresh
/// token) the caller has not been shown yet, which from then on counts as shown; 204 when there
/// is none. The dashboard asks once when it opens, so the notice appears once.
pub async fn notice(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Response, ApiError> {
    Ok(match state.events.take_notice(auth.user_id).await? {
        Some(event) => Json(event.to_api(&auth.claims.sid)).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// `GET /api/security-events[?limit=N][&cursor=C]` → a JSON array of the caller's events,
/// newest first; `current` marks those of the caller's own session.
pub async fn list(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Response, ApiError> {
    let limit = query.limit()?;
    let cursor = query.cursor(Cursor::parse)?;
    let page = state
        .events
        .list(auth.user_id, limit, cursor.as_ref())
        .await?;
    let body: Vec<_> = page
        .rows
        .iter()
        .map(|e| e.to_api(&auth.claims.sid))
        .collect();
    let mut response = Json(body).into_response();
    let next = page.next.map(|c| c.encode());
    link_next(
        &mut response,
        tokenpair_api::paths::SECURITY_EVENTS,
        limit,
        next,
    );
    Ok(response)
}
