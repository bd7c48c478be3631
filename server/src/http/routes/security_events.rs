//! `/api/security-events`: the account's security activity (Bearer), newest first, a page at
//! a time — the same `?limit=&cursor=` and `Link: rel="next"` as `/api/sessions`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use tokenpair_api::{ErrorBody, SecurityEvent};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::ApiError;
use crate::http::extract::{ApiQuery, Authenticated};
use crate::http::pagination::{page_response, PageQuery};
use crate::security_events::Cursor;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(notice))
}

#[utoipa::path(
    post,
    path = "/api/security-events/notice",
    tag = "account",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The newest alarming event not shown before; from now on it counts as shown", body = SecurityEvent),
        (status = 204, description = "Nothing new to tell"),
        (status = 401, description = "No, a malformed, forged, expired or revoked access token", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"tokenpair\", error=\"invalid_token\", error_description=\"…\"`")),
            example = json!({"error": "invalid_token", "message": "The access token has expired."})),
    )
)]
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

#[utoipa::path(
    get,
    path = "/api/security-events",
    tag = "account",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of the account's security events, newest first", body = [SecurityEvent],
            headers(("Link" = String, description = "`</api/security-events?limit=N&cursor=C>; rel=\"next\"` when there are more (RFC 8288)"))),
        (status = 400, description = "A bad `limit` or `cursor`", body = ErrorBody,
            example = json!({"error": "bad_request", "message": "`cursor` is not one this server gave out."})),
        (status = 401, description = "No, a malformed, forged, expired or revoked access token", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"tokenpair\", error=\"invalid_token\", error_description=\"…\"`")),
            example = json!({"error": "invalid_token", "message": "The access token has expired."})),
    )
)]
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
    let next = page.next.map(|c| c.encode());
    Ok(page_response(
        body,
        tokenpair_api::paths::SECURITY_EVENTS,
        limit,
        next,
    ))
}
