//! `/api/sessions`: the user's signed-in devices (Bearer), a page at a time, and revoking one.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use tokenpair_api::{ErrorBody, SessionInfo};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::ApiError;
use crate::http::extract::{ApiPath, ApiQuery, Authenticated};
use crate::http::pagination::{page_response, PageQuery};
use crate::http::step_up::require_recent_token;
use crate::ids::SessionId;
use crate::security_events::Client;
use crate::sessions::store::Cursor;
use crate::sessions::EndReason;
use crate::state::AppState;

/// `/api/sessions` and `/api/sessions/{id}`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(revoke))
}

#[utoipa::path(
    get,
    path = "/api/sessions",
    tag = "account",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of live sessions, newest first", body = [SessionInfo],
            headers(("Link" = String, description = "`</api/sessions?limit=N&cursor=C>; rel=\"next\"` when there are more (RFC 8288)"))),
        (status = 400, description = "A bad `limit` or `cursor`", body = ErrorBody,
            example = json!({"error": "bad_request", "message": "`limit` must be between 1 and 100."})),
        (status = 401, description = "No, a malformed, forged, expired or revoked access token", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"tokenpair\", error=\"invalid_token\", error_description=\"…\"`")),
            example = json!({"error": "invalid_token", "message": "The access token has expired."})),
    )
)]
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
    let next = page.next.map(|c| c.encode());
    Ok(page_response(
        body,
        tokenpair_api::paths::SESSIONS,
        limit,
        next,
    ))
}

#[utoipa::path(
    delete,
    path = "/api/sessions/{id}",
    tag = "account",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "A session id from `GET /api/sessions`")),
    responses(
        (status = 204, description = "The session ended: its access tokens stop working at once, its refresh token fails"),
        (status = 404, description = "No such live session of yours", body = ErrorBody,
            example = json!({"error": "not_found", "message": "No such active session."})),
        (status = 401, description = "No, a malformed, forged, expired or revoked access token; or (ending *another* session) a sign-in older than `REAUTH_MAX_AGE` (RFC 9470: re-authenticate, then try again)", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"tokenpair\", error=\"invalid_token\", error_description=\"…\"`, or `Bearer error=\"insufficient_user_authentication\", error_description=\"…\", max_age=600`")),
            examples(
                ("invalid_token" = (value = json!({"error": "invalid_token", "message": "The access token has expired."}))),
                ("insufficient_user_authentication" = (value = json!({"error": "insufficient_user_authentication", "message": "This action needs a recent sign-in: confirm it is you, then try again."})))
            )),
    )
)]
/// `DELETE /api/sessions/{id}` → 204. Only the caller's own sessions; anything else is 404.
/// The revoked session's access tokens stop working at once and its refresh token fails.
/// Ending another device's session is a dangerous action: it needs a recent sign-in
/// ([`crate::http::step_up`]); ending the caller's own is a sign-out and does not.
pub async fn revoke(
    State(state): State<AppState>,
    auth: Authenticated,
    client: Client,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    // Not a session id of ours (and PostgreSQL refuses text with a NUL byte): nothing to end.
    let ended = match SessionId::parse(&id) {
        Some(sid) => {
            if sid.as_str() != auth.claims.sid {
                require_recent_token(&state, &auth)?;
            }
            state
                .sessions
                .revoke(&sid, Some(auth.user_id), EndReason::Revoked, &client)
                .await?
        }
        None => false,
    };
    if ended {
        tracing::info!(user = auth.user_id.0, session = %id, "session revoked");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("No such active session.".into()))
    }
}
