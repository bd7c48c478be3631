//! `GET /api/me`: the signed-in user (Bearer). Answered from the user cache — a user never
//! changes, so even the JSON body is made once ([`crate::users::Users::me_json`]): no database
//! read and no serialisation on the hot path.

use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use tokenpair_api::{ErrorBody, Me};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::ApiError;
use crate::http::extract::Authenticated;
use crate::state::AppState;
use crate::tokens::TokenError;

/// `/api/me`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(me))
}

#[utoipa::path(
    get,
    path = "/api/me",
    tag = "account",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed-in user", body = Me),
        (status = 401, description = "No, a malformed, forged, expired or revoked access token", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"tokenpair\", error=\"invalid_token\", error_description=\"…\"`")),
            example = json!({"error": "invalid_token", "message": "The access token has expired."})),
    )
)]
/// `{id, username, created_at}` ([`tokenpair_api::Me`]).
pub async fn me(caller: Caller) -> Result<Response, ApiError> {
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        caller.me_json,
    )
        .into_response())
}

/// The authenticated caller's `/api/me` body, looked up through the borrowed state (the hot
/// path skips `State`'s clone of the state).
pub struct Caller {
    me_json: Bytes,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let auth = Authenticated::from_request_parts(parts, state).await?;
        let me_json = state
            .users
            .me_json(auth.user_id)
            .await?
            .ok_or(TokenError::Invalid)?;
        Ok(Caller { me_json })
    }
}
