//! `GET /api/me`: the signed-in user (Bearer). Answered from the user cache — a user never
//! changes, so even the JSON body is made once ([`crate::users::Users::me_json`]): no database
//! read and no serialisation on the hot path.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::error::ApiError;
use crate::extract::Authenticated;
use crate::state::AppState;
use crate::tokens::TokenError;

/// `/api/me`.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/me", get(me))
}

/// `{id, username, created_at}` ([`tokenpair_api::Me`]).
pub async fn me(State(state): State<AppState>, auth: Authenticated) -> Result<Response, ApiError> {
    let body = state
        .users
        .me_json(auth.user_id)
        .await?
        .ok_or(TokenError::Invalid)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}
