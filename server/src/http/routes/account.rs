//! `/api/account/*`: changing how the account signs in. `POST /api/account/password` is a
//! dangerous action: it needs a recent sign-in ([`Recent`]) *and* the current password, and it
//! ends every other session of the account.

use axum::extract::State;
use axum::Json;
use tokenpair_api::{ErrorBody, PasswordChange, PasswordChanged};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::client_ip::ClientIp;
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::http::routes::reauthenticate::confirm_password;
use crate::http::step_up::Recent;
use crate::ids::SessionId;
use crate::security_events::Client;
use crate::state::AppState;
use crate::users::Password;

/// `/api/account/*`, behind the CSRF guard like every route that changes the account.
pub fn router(state: &AppState) -> OpenApiRouter<AppState> {
    super::guarded(OpenApiRouter::new().routes(routes!(change_password)), state)
}

#[utoipa::path(
    post,
    path = "/api/account/password",
    tag = "account",
    security(("bearer" = [])),
    request_body(content = PasswordChange),
    params(
        ("X-Requested-With" = String, Header, description = "Must be `XMLHttpRequest` (the CSRF guard)", example = "XMLHttpRequest"),
    ),
    responses(
        (status = 200, description = "Changed; every other session of the account ended (this one lives on)", body = PasswordChanged),
        (status = 403, description = "The current password is wrong (counted by the sign-in throttle)", body = ErrorBody,
            example = json!({"error": "invalid_credentials", "message": "Your current password is not right."})),
        (status = 401, description = "A sign-in older than `REAUTH_MAX_AGE` (re-authenticate, then try again), or no valid access token", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer error=\"insufficient_user_authentication\", error_description=\"…\", max_age=600`")),
            examples(
                ("insufficient_user_authentication" = (value = json!({"error": "insufficient_user_authentication", "message": "This action needs a recent sign-in: confirm it is you, then try again."}))),
                ("invalid_token" = (value = json!({"error": "invalid_token", "message": "The access token has expired."})))
            )),
        (status = 422, description = "The new password breaks the rules", body = ErrorBody,
            example = json!({"error": "validation_failed", "message": "Password must be at least 8 characters long."})),
        (status = 429, description = "Too many wrong passwords: the sign-in throttle", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait")),
            example = json!({"error": "too_many_attempts", "message": "Too many failed sign-in attempts. Try again in 4 s."})),
    )
)]
/// `POST /api/account/password` → 200 `{"other_sessions_ended": n}`.
pub async fn change_password(
    State(state): State<AppState>,
    Recent(caller): Recent,
    client: ClientIp,
    who: Client,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<Json<PasswordChanged>, ApiError> {
    // The new one is checked first: a rule broken costs no Argon2 run and no throttle count.
    let new_password = Password::new(body.new_password)?;
    confirm_password(
        &state,
        &client,
        &who,
        caller.user_id,
        body.current_password,
        "password change",
    )
    .await
    .map_err(|e| match e {
        ApiError::InvalidCredentials => ApiError::WrongCurrentPassword,
        other => other,
    })?;
    let hash = state
        .passwords
        .hash(Some(client.key), new_password.into_inner())
        .await?;
    let sid = SessionId::parse(&caller.claims.sid)
        .ok_or_else(|| ApiError::InvalidToken("The access token names no session.".into()))?;
    let ended = state
        .sessions
        .password_changed(caller.user_id, &sid, &hash, &who)
        .await?
        .ok_or_else(|| ApiError::InvalidToken("The session has ended; sign in again.".into()))?;
    tracing::info!(
        user = caller.user_id.0,
        other_sessions_ended = ended,
        "password changed"
    );
    Ok(Json(PasswordChanged {
        other_sessions_ended: u64::try_from(ended).unwrap_or(u64::MAX),
    }))
}
