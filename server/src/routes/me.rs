//! `GET /api/me`: the signed-in user (Bearer). Answered from the user cache: no database read
//! on the hot path.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use tokenpair_api::Me;

use crate::db::rfc3339;
use crate::error::ApiError;
use crate::extract::Authenticated;
use crate::state::AppState;
use crate::tokens::TokenError;

/// `/api/me`.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/me", get(me))
}

pub async fn me(State(state): State<AppState>, auth: Authenticated) -> Result<Json<Me>, ApiError> {
    let user = state
        .users
        .by_id(auth.user_id)
        .await?
        .ok_or(TokenError::Invalid)?;
    Ok(Json(Me {
        id: user.id,
        username: user.username.clone(),
        created_at: rfc3339(user.created_at),
    }))
}
