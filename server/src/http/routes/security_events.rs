//! `/api/security-events`: the account's security activity (Bearer), newest first, a page at
//! a time — the same `?limit=&cursor=` and `Link: rel="next"` as `/api/sessions`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::http::error::ApiError;
use crate::http::extract::{ApiQuery, Authenticated};
use crate::http::pagination::{link_next, PageQuery};
use crate::security_events::Cursor;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(tokenpair_api::paths::SECURITY_EVENTS, get(list))
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
