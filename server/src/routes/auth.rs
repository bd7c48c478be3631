//! `/api/auth/*`: register, login, refresh, logout — the cookie-authenticated endpoints
//! (all POST, all behind [`crate::csrf::guard`]).
//!
//! Sign-in → [`login`] checks the password and starts a session ([`crate::sessions`]);
//! the response carries the access token in the body and the refresh token only in the
//! HttpOnly cookie ([`crate::cookies`]). [`refresh`] rotates the cookie and issues a new
//! access token.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use tokenpair_api::{Credentials, TokenResponse, UserSummary};

use crate::cookies::{clear_refresh_cookie, refresh_cookie};
use crate::csrf;
use crate::error::ApiError;
use crate::extract::{
    bearer_token, refresh_cookie as cookie_token, user_agent, ApiJson, ApiQuery, ClientIp,
};
use crate::headers::BODY_LIMIT;
use crate::sessions::{EndReason, Grant};
use crate::state::AppState;
use crate::users::{credentials, Password, Username};

/// `/api/auth/*`, every route behind the CSRF guard.
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/auth/register", post(register))
        .route("/api/auth/login", post(login))
        .route("/api/auth/refresh", post(refresh))
        .route("/api/auth/logout", post(logout))
        .route_layer(middleware::from_fn_with_state(state.clone(), csrf::guard))
        // The only routes that read a body: cap it (chunked bodies have no declared length).
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// `POST /api/auth/register` → 201 and signed in, like login.
pub async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    ApiJson(creds): ApiJson<Credentials>,
) -> Result<Response, ApiError> {
    let username = Username::new(&creds.username)?;
    let password = Password::new(creds.password)?;
    let user = state
        .users
        .register(&state.passwords, &username, password)
        .await?;
    tracing::info!(user = user.id, "account registered");
    let jar = end_presented_session(&state, jar).await?;
    let grant = state
        .sessions
        .start(user.id, user.username, user_agent(&headers))
        .await?;
    grant_response(&state, jar, grant, StatusCode::CREATED)
}

/// `POST /api/auth/login` → 200 `{access_token, token_type, expires_in, user}` + cookie.
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    ApiJson(creds): ApiJson<Credentials>,
) -> Result<Response, ApiError> {
    let (username, password) = credentials::sign_in(&creds.username, creds.password)?;
    if let Err(wait) = state.throttle.check(username.as_str(), ip).await? {
        let retry_after = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        return Err(ApiError::TooManyAttempts {
            retry_after: retry_after.max(1),
        });
    }

    let user = state.users.by_name(&username).await?;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    // Same work and same answer whether the user exists or not.
    let valid = state
        .passwords
        .verify(password.into_inner(), stored)
        .await?;
    let Some(user) = user.filter(|_| valid) else {
        state.throttle.record_failure(username.as_str(), ip).await?;
        tracing::info!(%ip, "failed sign-in");
        return Err(ApiError::InvalidCredentials);
    };
    state.throttle.record_success(username.as_str(), ip).await?;

    // Every sign-in starts a new family; a session whose cookie this browser still held ends.
    let jar = end_presented_session(&state, jar).await?;
    let grant = state
        .sessions
        .start(user.id, user.username, user_agent(&headers))
        .await?;
    tracing::info!(user = user.id, session = %grant.session_id, "signed in");
    grant_response(&state, jar, grant, StatusCode::OK)
}

#[derive(Debug, Deserialize)]
pub struct RefreshQuery {
    /// `?optional=1`: the caller (the SPA restoring a session at page load) treats "no session"
    /// as a normal outcome. Without any refresh cookie the answer is then 204 with no body
    /// instead of 401, so a signed-out visit logs no failed request in the browser console.
    /// A cookie that is present but invalid is still a 401.
    optional: Option<String>,
}

/// `POST /api/auth/refresh[?optional=1]` (cookie only) → a new access token and the rotated
/// cookie. Every failure clears the cookie.
pub async fn refresh(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<RefreshQuery>,
    jar: CookieJar,
) -> Response {
    let optional = matches!(query.optional.as_deref(), Some("1" | "true"));
    let result = match cookie_token(&jar) {
        Some(token) => state.sessions.rotate(&token).await.map_err(ApiError::from),
        None if optional => {
            return (
                StatusCode::NO_CONTENT,
                [(axum::http::header::CACHE_CONTROL, "no-store")],
            )
                .into_response()
        }
        None => Err(ApiError::Refresh(crate::error::RefreshErrorKind::Invalid)),
    };
    if let Ok(grant) = &result {
        tracing::info!(session = %grant.session_id, "refreshed");
    }
    match result.and_then(|grant| grant_response(&state, jar.clone(), grant, StatusCode::OK)) {
        Ok(response) => response,
        Err(e) => (jar.add(clear_refresh_cookie()), e).into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct LogoutQuery {
    scope: Option<String>,
}

/// `POST /api/auth/logout[?scope=global]` → 204. Ends this session (or every session of the
/// user) and clears the cookie. Idempotent: without a valid session it only clears the cookie.
pub async fn logout(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<LogoutQuery>,
    headers: HeaderMap,
    jar: CookieJar,
) -> Result<Response, ApiError> {
    let global = match query.scope.as_deref() {
        None | Some("session") => false,
        Some("global") => true,
        Some(other) => {
            return Err(ApiError::Validation(format!(
                "Unknown logout scope {other:?}: use `global` or leave it out."
            )))
        }
    };
    // Identify the session: by the cookie, or else by a (still valid) access token.
    let mut session = match cookie_token(&jar) {
        Some(token) => state.sessions.session_of_token(&token).await?,
        None => None,
    };
    if session.is_none() {
        if let Some(claims) = bearer_token(&headers).and_then(|t| state.tokens.verify(t).ok()) {
            session = claims.user_id().map(|uid| (claims.sid.clone(), uid));
        }
    }
    if let Some((sid, user_id)) = session {
        if global {
            let n = state
                .sessions
                .revoke_all(user_id, EndReason::LogoutGlobal)
                .await?;
            tracing::info!(user = user_id, sessions = n, "signed out everywhere");
        } else {
            state
                .sessions
                .revoke(&sid, Some(user_id), EndReason::Logout)
                .await?;
            tracing::info!(user = user_id, session = %sid, "signed out");
        }
    }
    Ok((jar.add(clear_refresh_cookie()), StatusCode::NO_CONTENT).into_response())
}

/// Ends the session of a refresh cookie the request still carries (sign-in replaces it).
async fn end_presented_session(state: &AppState, jar: CookieJar) -> Result<CookieJar, ApiError> {
    if let Some(token) = cookie_token(&jar) {
        if let Some((sid, uid)) = state.sessions.session_of_token(&token).await? {
            state
                .sessions
                .revoke(&sid, Some(uid), EndReason::Replaced)
                .await?;
        }
    }
    Ok(jar)
}

/// The token response: access token in the body, refresh token in the cookie.
fn grant_response(
    state: &AppState,
    jar: CookieJar,
    grant: Grant,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let not_after = u64::try_from(grant.expires_at / 1000).unwrap_or(0);
    let issued = state
        .tokens
        .issue(grant.user_id, &grant.session_id, not_after)?;
    // What the client needs for its "you will be signed out" warning: the session ends at its
    // idle deadline (this refresh moved it) or its absolute end, whichever comes first.
    let session_left = std::time::Duration::from_millis(
        u64::try_from(grant.expires_at - crate::db::now_ms()).unwrap_or(0),
    );
    let idle_left = state.config.refresh_token_idle_timeout.min(session_left);
    let body = TokenResponse {
        access_token: issued.token,
        token_type: "Bearer".into(),
        expires_in: issued.expires_in,
        session_id: grant.session_id,
        idle_expires_in: Some(idle_left.as_secs()),
        session_expires_in: Some(session_left.as_secs()),
        user: UserSummary {
            id: grant.user_id,
            username: grant.username,
        },
    };
    let jar = jar.add(refresh_cookie(grant.refresh_token.0, grant.expires_at));
    Ok((status, jar, Json(body)).into_response())
}
