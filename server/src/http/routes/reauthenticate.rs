//! `POST /api/auth/reauthenticate` (RFC 9470 step-up): the signed-in person proves who they are
//! again — their password, or a passkey — and gets a new access token with a fresh
//! `auth_time`, for the **same session** (no new refresh family, no new cookie). Dangerous
//! actions then pass [`crate::http::step_up`] for `REAUTH_MAX_AGE`.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use tokenpair_api::{ErrorBody, TokenResponse, UserSummary};

use crate::authentication::Method;
use crate::http::client_ip::ClientIp;
use crate::http::cookies::{PresentedRefresh, RefreshCookie};
use crate::http::dpop::DpopProof;
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::http::routes::auth::live_session_of_bearer;
use crate::http::routes::passkey_sign_in::confirm_passkey;
use crate::ids::{SessionId, UserId};
use crate::security_events::{Client, Event, Kind};
use crate::state::AppState;
use crate::throttle::{retry_after_secs, Attempt, Subject};
use crate::token_pair::FreshToken;
use crate::users::Password;

/// Body of `POST /api/auth/reauthenticate`: exactly one of the two.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"password": "password1"}))]
pub struct Reauthentication {
    /// The account's password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// A passkey assertion: `credential.toJSON()` of `navigator.credentials.get` made with
    /// the options of `POST /api/auth/passkey/options`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub credential: Option<serde_json::Value>,
}

#[utoipa::path(
    post,
    path = "/api/auth/reauthenticate",
    tag = "auth",
    security(("bearer" = []), ("refresh_cookie" = [])),
    request_body(content = Reauthentication),
    params(
        ("X-Requested-With" = String, Header, description = "Must be `XMLHttpRequest` (the CSRF guard)", example = "XMLHttpRequest"),
    ),
    responses(
        (status = 200, description = "Re-authenticated: a new access token whose `auth_time` is now, for the same session (no cookie is set)", body = TokenResponse),
        (status = 401, description = "Wrong password; or no live session (no valid access token, no refresh cookie)", body = ErrorBody,
            examples(
                ("invalid_credentials" = (value = json!({"error": "invalid_credentials", "message": "Wrong username or password."}))),
                ("invalid_token" = (value = json!({"error": "invalid_token", "message": "Sign in first: there is no session to re-authenticate."})))
            )),
        (status = 400, description = "A passkey assertion refused (unknown or used challenge, another origin, another account's passkey, a bad signature)", body = ErrorBody,
            example = json!({"error": "passkey_refused", "message": "This passkey prompt was already used or has expired: try again."})),
        (status = 422, description = "Neither a password nor a passkey assertion", body = ErrorBody,
            example = json!({"error": "validation_failed", "message": "Send your password or a passkey assertion."})),
        (status = 429, description = "Too many wrong passwords: the sign-in throttle", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait")),
            example = json!({"error": "too_many_attempts", "message": "Too many failed sign-in attempts. Try again in 4 s."})),
    )
)]
/// `POST /api/auth/reauthenticate` → 200 [`TokenResponse`] (no `Set-Cookie`).
pub async fn reauthenticate(
    State(state): State<AppState>,
    client: ClientIp,
    who: Client,
    dpop: DpopProof,
    headers: HeaderMap,
    presented: PresentedRefresh,
    ApiJson(body): ApiJson<Reauthentication>,
) -> Result<Response, ApiError> {
    // The access token names the session; without one (it expired while the person typed),
    // the refresh cookie does.
    let mut session = live_session_of_bearer(&state, &headers, &dpop).await?;
    if session.is_none() {
        if let RefreshCookie::One { token, .. } = &presented.cookie {
            session = state.sessions.live_session_of_token(token).await?;
        }
    }
    let Some((sid, user_id)) = session else {
        return Err(ApiError::InvalidToken(
            "Sign in first: there is no session to re-authenticate.".into(),
        ));
    };
    let method = match (body.password, body.credential) {
        (Some(password), None) => {
            confirm_password(&state, &client, &who, user_id, password, "reauthentication").await?;
            Method::Password
        }
        (None, Some(credential)) => {
            confirm_passkey(&state, &who, user_id, credential).await?;
            Method::Passkey
        }
        _ => {
            return Err(ApiError::Validation(
                "Send your password or a passkey assertion.".into(),
            ))
        }
    };
    let fresh = state
        .token_pairs
        .reauthenticated(&sid, user_id, method, &who)
        .await?
        .ok_or_else(|| ApiError::InvalidToken("The session has ended; sign in again.".into()))?;
    tracing::info!(user = user_id.0, session = %sid, amr = method.as_str(), "re-authenticated");
    Ok(Json(fresh_token_response(fresh)).into_response())
}

fn fresh_token_response(fresh: FreshToken) -> TokenResponse {
    TokenResponse {
        access_token: fresh.access_token,
        token_type: if fresh.dpop_jkt.is_some() {
            "DPoP".into()
        } else {
            "Bearer".into()
        },
        expires_in: fresh.expires_in,
        session_id: SessionId::to_string(&fresh.session_id),
        idle_expires_in: None,
        session_expires_in: Some(fresh.session_expires_in.as_secs()),
        user: UserSummary {
            id: fresh.user_id.0,
            username: fresh.username,
        },
    }
}

/// Checks signed-in `user_id`'s password, counted by the sign-in throttle like a sign-in (a
/// stolen token cannot guess it faster than a sign-in form could). A wrong one is a `failure`
/// event (`reauthentication_failed` … `wrong_password`) and 401 `invalid_credentials`.
pub(crate) async fn confirm_password(
    state: &AppState,
    client: &ClientIp,
    who: &Client,
    user_id: UserId,
    password: String,
    purpose: &'static str,
) -> Result<(), ApiError> {
    let password = Password::for_sign_in(password)?;
    let user = state
        .users
        .by_id(user_id)
        .await?
        .ok_or(ApiError::InvalidCredentials)?;
    let attempt = Attempt::Untrusted {
        username: user.username.as_str(),
        addr: client.key,
    };
    let subject = Subject {
        user_id,
        client: who,
    };
    let reservation = state
        .throttle
        .reserve_for(&attempt, subject)
        .await?
        .map_err(|wait| ApiError::TooManyAttempts {
            retry_after: retry_after_secs(wait),
        })?;
    let valid = match state
        .passwords
        .verify(
            Some(client.key),
            password.into_inner(),
            Some(user.password_hash.clone()),
        )
        .await
    {
        Ok(valid) => valid,
        Err(e) => {
            state.throttle.not_checked(reservation).await?;
            return Err(e.into());
        }
    };
    if !valid {
        tracing::info!(user = user_id.0, purpose, "wrong password");
        let failure = Event::new(
            Kind::ReauthenticationFailed,
            state.clock.now(),
            Some(user_id),
        )
        .client(who)
        .detail("wrong_password");
        state.throttle.failed(reservation, Some(failure)).await?;
        return Err(ApiError::InvalidCredentials);
    }
    state.throttle.succeeded(reservation).await?;
    Ok(())
}
