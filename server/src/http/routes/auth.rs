//! `/api/auth/*`: register, login, refresh, logout — the cookie-authenticated endpoints
//! (all POST, all behind [`crate::http::csrf::guard`]).
//!
//! Sign-in → [`login`] reserves an attempt ([`crate::throttle`]), checks the password in the
//! Argon2 queue ([`crate::passwords`]) and starts a session ([`crate::sessions`]); the
//! response carries the access token in the body, the refresh token only in the HttpOnly
//! cookie ([`crate::http::cookies`]) and a device cookie ([`crate::trusted_devices`]). [`refresh`]
//! rotates the cookie and issues a new access token.

use std::net::IpAddr;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use tokenpair_api::{Credentials, ErrorBody, TokenResponse, UserSummary};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::authentication::Method;
use crate::dpop::DpopError;
use crate::http::client_ip::ClientIp;
use crate::http::cookies::{
    clear_refresh_cookie, cookie_value, refresh_cookie, PresentedRefresh, RefreshCookie,
};
use crate::http::dpop::DpopProof;
use crate::http::error::{ApiError, RefreshErrorKind};
use crate::http::extract::{presented_token, ApiJson, ApiQuery, Scheme};
use crate::http::step_up::require_recent_session;
use crate::ids::{SessionId, UserId};
use crate::security_events::{Client, Event, Kind};
use crate::sessions::EndReason;
use crate::state::AppState;
use crate::throttle::{retry_after_secs, Attempt, Subject};
use crate::token_pair::TokenPair;
use crate::trusted_devices::DEVICE_COOKIE;
use crate::users::{credentials, Password, User, Username};

/// `/api/auth/*`, every route behind the CSRF guard.
pub fn router(state: &AppState) -> OpenApiRouter<AppState> {
    super::guarded(
        OpenApiRouter::new()
            .routes(routes!(register))
            .routes(routes!(login))
            .routes(routes!(refresh))
            .routes(routes!(logout))
            .routes(routes!(super::reauthenticate::reauthenticate)),
        state,
    )
}

#[utoipa::path(
    post,
    path = "/api/auth/register",
    tag = "auth",
    request_body(content = Credentials, description = "The new account's name and password"),
    params(
        ("X-Requested-With" = String, Header, description = "Must be `XMLHttpRequest` (the CSRF guard)", example = "XMLHttpRequest"),
        ("__Secure-refresh_token" = Option<String>, Cookie, description = "A session this browser still holds: it ends (`session_replaced`)"),
    ),
    responses(
        (status = 201, description = "Registered and signed in: the access token in the body, the refresh token in the cookie", body = TokenResponse,
            headers(("Set-Cookie" = String, description = "`__Secure-refresh_token=…; HttpOnly; Secure; SameSite=Strict; Path=/api/auth; Max-Age=…` and the device cookie"))),
        (status = 409, description = "The name is taken (refused before any hashing)", body = ErrorBody,
            example = json!({"error": "username_taken", "message": "That username is already taken."})),
        (status = 422, description = "A username or password that breaks the rules", body = ErrorBody,
            example = json!({"error": "validation_failed", "message": "Username must be 3 to 32 characters long (it is 2)."})),
        (status = 429, description = "Too many registrations from this address, or password checks under way", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait")),
            examples(
                ("too_many_attempts" = (value = json!({"error": "too_many_attempts", "message": "Too many registrations from this address. Try again in 60 s."}))),
                ("rate_limited" = (value = json!({"error": "rate_limited", "message": "Another sign-in from this address is being checked. Try again in a second."})))
            )),
        (status = 503, description = "The password queue is full", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait")),
            example = json!({"error": "server_busy", "message": "The server is busy. Try again in 1 s."})),
        (status = 400, description = "A body that is not JSON", body = ErrorBody,
            example = json!({"error": "bad_request", "message": "The request body is not valid JSON."})),
        (status = 408, description = "The body did not arrive in time; the connection closes", body = ErrorBody,
            example = json!({"error": "request_timeout", "message": "The request body did not arrive in time."})),
        (status = 413, description = "A body over 16 KiB", body = ErrorBody,
            example = json!({"error": "payload_too_large", "message": "The request body is larger than 16 KiB."})),
        (status = 415, description = "A body that is not `application/json`", body = ErrorBody,
            example = json!({"error": "unsupported_media_type", "message": "Send the body as JSON with `Content-Type: application/json`."})),
        (status = 500, description = "A bug or a database failure (the detail is in the server log)", body = ErrorBody,
            example = json!({"error": "internal_error", "message": "Something went wrong on the server."})),
        (status = 403, description = "The CSRF guard refused the request", body = ErrorBody,
            example = json!({"error": "csrf_rejected", "message": "This endpoint requires the header `X-Requested-With: XMLHttpRequest`."})),
    )
)]
/// `POST /api/auth/register` → 201 and signed in, like login. Throttled per address; a taken
/// name is refused before any password hashing.
pub async fn register(
    State(state): State<AppState>,
    client: ClientIp,
    who: Client,
    dpop: DpopProof,
    presented: PresentedRefresh,
    jar: CookieJar,
    ApiJson(creds): ApiJson<Credentials>,
) -> Result<Response, ApiError> {
    let username = Username::new(&creds.username)?;
    let password = Password::new(creds.password)?;
    let dpop_jkt = dpop.key_to_bind(&state).await?;
    if let Err(wait) = state.throttle.register_attempt(client.key).await? {
        return Err(ApiError::TooManyRegistrations {
            retry_after: retry_after_secs(wait),
        });
    }
    let user = state
        .users
        .register(
            &state.passwords,
            Some(client.key),
            &who,
            &username,
            password,
        )
        .await?;
    tracing::info!(user = user.id.0, ip = %client.addr, "account registered");
    signed_in(
        &state,
        SignedIn {
            user_id: user.id,
            username: user.username,
            client: who,
            dpop_jkt,
            method: Method::Password,
        },
        &presented,
        jar,
        StatusCode::CREATED,
    )
    .await
}

#[utoipa::path(
    post,
    path = "/api/auth/login",
    tag = "auth",
    request_body(content = Credentials),
    params(
        ("X-Requested-With" = String, Header, description = "Must be `XMLHttpRequest` (the CSRF guard)", example = "XMLHttpRequest"),
        ("__Secure-refresh_token" = Option<String>, Cookie, description = "A session this browser still holds: it ends (`session_replaced`)"),
        ("device" = Option<String>, Cookie, description = "The device cookie of an earlier sign-in: counted against its own throttle, not the account's"),
        ("DPoP" = Option<String>, Header, description = "A DPoP proof (RFC 9449) for this request: the session and its tokens are bound to its key"),
    ),
    responses(
        (status = 200, description = "Signed in: the access token in the body, the refresh token in the cookie", body = TokenResponse,
            headers(("Set-Cookie" = String, description = "`__Secure-refresh_token=…; HttpOnly; Secure; SameSite=Strict; Path=/api/auth; Max-Age=…` and the device cookie"))),
        (status = 401, description = "Wrong username or password (an unknown name gets the same answer after the same work)", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"tokenpair\"`")),
            example = json!({"error": "invalid_credentials", "message": "Wrong username or password."})),
        (status = 422, description = "A missing or wrong-typed field", body = ErrorBody,
            example = json!({"error": "validation_failed", "message": "Enter a username and a password."})),
        (status = 429, description = "The sign-in throttle, or password checks of this address already under way", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait")),
            examples(
                ("too_many_attempts" = (value = json!({"error": "too_many_attempts", "message": "Too many failed sign-in attempts. Try again in 4 s."}))),
                ("rate_limited" = (value = json!({"error": "rate_limited", "message": "Another sign-in from this address is being checked. Try again in a second."})))
            )),
        (status = 503, description = "The password queue is full", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait")),
            example = json!({"error": "server_busy", "message": "The server is busy. Try again in 1 s."})),
        (status = 400, description = "A body that is not JSON; a DPoP proof that does not pass (or none, with `DPOP=required`); a proof without the server's nonce (`DPoP-Nonce` says which)", body = ErrorBody,
            headers(("DPoP-Nonce" = String, description = "With `use_dpop_nonce`: the nonce to make the proof again with")),
            examples(
                ("bad_request" = (value = json!({"error": "bad_request", "message": "The request body is not valid JSON."}))),
                ("invalid_dpop_proof" = (value = json!({"error": "invalid_dpop_proof", "message": "The DPoP proof was made for another URL (`htu`)."}))),
                ("use_dpop_nonce" = (value = json!({"error": "use_dpop_nonce", "message": "Make the DPoP proof again with the nonce in the DPoP-Nonce header."})))
            )),
        (status = 403, description = "The CSRF guard refused the request", body = ErrorBody,
            example = json!({"error": "csrf_rejected", "message": "This endpoint requires the header `X-Requested-With: XMLHttpRequest`."})),
        (status = 408, description = "The body did not arrive in time; the connection closes", body = ErrorBody,
            example = json!({"error": "request_timeout", "message": "The request body did not arrive in time."})),
        (status = 413, description = "A body over 16 KiB", body = ErrorBody,
            example = json!({"error": "payload_too_large", "message": "The request body is larger than 16 KiB."})),
        (status = 415, description = "A body that is not `application/json`", body = ErrorBody,
            example = json!({"error": "unsupported_media_type", "message": "Send the body as JSON with `Content-Type: application/json`."})),
        (status = 500, description = "A bug or a database failure (the detail is in the server log)", body = ErrorBody,
            example = json!({"error": "internal_error", "message": "Something went wrong on the server."})),
    )
)]
/// `POST /api/auth/login` → 200 `{access_token, token_type, expires_in, user}` + cookies.
// One argument per extractor: axum handlers read that way (clippy counts them as arguments).
#[allow(clippy::too_many_arguments)]
pub async fn login(
    State(state): State<AppState>,
    client: ClientIp,
    who: Client,
    dpop: DpopProof,
    headers: HeaderMap,
    presented: PresentedRefresh,
    jar: CookieJar,
    ApiJson(creds): ApiJson<Credentials>,
) -> Result<Response, ApiError> {
    let (username, password) = credentials::sign_in(&creds.username, creds.password)?;
    // Before any password work: a sign-in that must prove a key and cannot costs no Argon2.
    let dpop_jkt = dpop.key_to_bind(&state).await?;
    let user = state.users.by_name(&username).await?;
    let device = cookie_value(&headers, DEVICE_COOKIE);
    let nonce = match (&user, &device) {
        (Some(u), Some(value)) => state.devices.verify(value, u.id),
        _ => None,
    };
    let attempt = match nonce {
        Some(nonce) => Attempt::TrustedDevice { nonce },
        None => Attempt::Untrusted {
            username: username.as_str(),
            addr: client.key,
        },
    };
    // Counted before Argon2 runs: a burst gets no more password checks than the rules allow.
    let reserved = match &user {
        Some(u) => {
            let subject = Subject {
                user_id: u.id,
                client: &who,
            };
            state.throttle.reserve_for(&attempt, subject).await?
        }
        None => state.throttle.reserve(&attempt).await?,
    };
    let reservation = reserved.map_err(|wait| ApiError::TooManyAttempts {
        retry_after: retry_after_secs(wait),
    })?;

    let valid = match check_password(&state, client.key, password, user.as_ref()).await {
        Ok(valid) => valid,
        Err(e) => {
            state.throttle.not_checked(reservation).await?;
            return Err(e);
        }
    };
    let account = user.as_ref().map(|u| u.id);
    let Some(user) = user.filter(|_| valid) else {
        tracing::info!(ip = %client.addr, trusted_device = nonce.is_some(), "failed sign-in");
        // The reservation stays counted. An existing account's owner hears of it (an unknown
        // name is only logged), after the answer: writing it first would make a wrong
        // password at an account slower than one at a name nobody has.
        let failure = account.map(|id| {
            Event::new(Kind::SignInFailed, state.clock.now(), Some(id))
                .client(&who)
                .detail("wrong_password")
        });
        let throttle = state.throttle.clone();
        tokio::spawn(async move {
            if let Err(e) = throttle.failed(reservation, failure).await {
                tracing::warn!(error = %e, "cannot record a failed sign-in's security events");
            }
        });
        return Err(ApiError::InvalidCredentials);
    };
    state.throttle.succeeded(reservation).await?;
    signed_in(
        &state,
        SignedIn {
            user_id: user.id,
            username: user.username,
            client: who,
            dpop_jkt,
            method: Method::Password,
        },
        &presented,
        jar,
        StatusCode::OK,
    )
    .await
}

/// One Argon2 run, whether the user exists or not: same work, same answer.
async fn check_password(
    state: &AppState,
    ip: IpAddr,
    password: Password,
    user: Option<&User>,
) -> Result<bool, ApiError> {
    let stored = user.map(|u| u.password_hash.clone());
    Ok(state
        .passwords
        .verify(Some(ip), password.into_inner(), stored)
        .await?)
}

/// After a successful sign-in or registration: a new session (every sign-in starts a new
/// family; a session whose cookie this browser still held ends), the token response, and a
/// fresh device cookie.
/// Who just signed in, from where.
pub(crate) struct SignedIn {
    pub user_id: UserId,
    pub username: String,
    pub client: Client,
    /// The DPoP key the sign-in proved, to bind the session to.
    pub dpop_jkt: Option<String>,
    /// How they proved who they are (the tokens' `amr`).
    pub method: Method,
}

pub(crate) async fn signed_in(
    state: &AppState,
    who: SignedIn,
    presented: &PresentedRefresh,
    jar: CookieJar,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let SignedIn {
        user_id,
        username,
        client,
        dpop_jkt,
        method,
    } = who;
    end_presented_session(state, presented, &client).await?;
    let pair = state
        .token_pairs
        .start(user_id, username, &client, dpop_jkt, method)
        .await?;
    let ip = client.addr.map(|a| a.to_string()).unwrap_or_default();
    tracing::info!(user = user_id.0, session = %pair.session_id, %ip, "signed in");
    let jar = jar.add(state.devices.issue(user_id));
    Ok(token_response(jar, pair, status))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RefreshQuery {
    /// `?optional=1`: the caller (the SPA restoring a session at page load) treats "no session"
    /// as a normal outcome. Without any refresh cookie the answer is then 204 with no body
    /// instead of 401, so a signed-out visit logs no failed request in the browser console.
    /// A cookie that is present but invalid is still a 401.
    #[param(example = "1")]
    optional: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/auth/refresh",
    tag = "auth",
    security(("refresh_cookie" = []), ()),
    params(
        RefreshQuery,
        ("X-Requested-With" = String, Header, description = "Must be `XMLHttpRequest` (the CSRF guard)", example = "XMLHttpRequest"),
    ),
    responses(
        (status = 200, description = "A new access token and the rotated cookie", body = TokenResponse,
            headers(("Set-Cookie" = String, description = "The rotated `__Secure-refresh_token`"))),
        (status = 204, description = "`?optional=1` and no refresh cookie at all: nobody is signed in"),
        (status = 401, description = "The cookie is worthless: unknown, reused (the session was ended) or the session ended; the cookie is cleared", body = ErrorBody,
            headers(
                ("WWW-Authenticate" = String, description = "`Bearer realm=\"tokenpair\", error=\"invalid_token\"`"),
                ("Set-Cookie" = String, description = "Clears `__Secure-refresh_token`")
            ),
            examples(
                ("invalid_refresh_token" = (value = json!({"error": "invalid_refresh_token", "message": "The refresh token is missing or not recognised. Please sign in."}))),
                ("refresh_token_reused" = (value = json!({"error": "refresh_token_reused", "message": "This refresh token was already used, so the session was ended for safety. Please sign in again."}))),
                ("session_expired" = (value = json!({"error": "session_expired", "message": "Your session has ended. Please sign in again."})))
            )),
        (status = 429, description = "The session refreshed `REFRESH_RATE_LIMIT` times this minute; the token stays valid", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait")),
            example = json!({"error": "rate_limited", "message": "This session refreshed too often. Try again in a moment."})),
        (status = 400, description = "More than one refresh cookie: nothing was changed", body = ErrorBody,
            example = json!({"error": "multiple_refresh_cookies", "message": "The request carried more than one refresh_token cookie, so it is unclear which session it is for; nothing was changed. Clear this site's cookies and sign in again."})),
        (status = 403, description = "The CSRF guard refused the request", body = ErrorBody,
            example = json!({"error": "csrf_rejected", "message": "This endpoint requires the header `X-Requested-With: XMLHttpRequest`."})),
        (status = 500, description = "A bug or a database failure (the detail is in the server log)", body = ErrorBody,
            example = json!({"error": "internal_error", "message": "Something went wrong on the server."})),
    )
)]
/// `POST /api/auth/refresh[?optional=1]` (cookie only) → a new access token and the rotated
/// cookie. Only an answer that proves the cookie worthless (401) clears it: after a 5xx, a
/// 429 or a refused request the same token may still work.
pub async fn refresh(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<RefreshQuery>,
    who: Client,
    dpop: DpopProof,
    presented: PresentedRefresh,
    jar: CookieJar,
) -> Response {
    let optional = matches!(query.optional.as_deref(), Some("1" | "true"));
    let jar = presented.answer(jar);
    let result = match presented.cookie {
        RefreshCookie::One { token, .. } => match dpop.key_proved(&state).await {
            Ok(proved) => state
                .token_pairs
                .rotate(&token, &who, proved.as_proved())
                .await
                .map_err(ApiError::from),
            Err(e) => Err(e),
        },
        RefreshCookie::Absent if optional => {
            return (
                StatusCode::NO_CONTENT,
                jar,
                [(axum::http::header::CACHE_CONTROL, "no-store")],
            )
                .into_response()
        }
        RefreshCookie::Absent => Err(ApiError::Refresh(RefreshErrorKind::Invalid)),
        RefreshCookie::Several => Err(ApiError::MultipleRefreshCookies),
    };
    if let Ok(pair) = &result {
        tracing::info!(session = %pair.session_id, "refreshed");
    }
    match result {
        Ok(pair) => token_response(jar, pair, StatusCode::OK),
        Err(e) if e.ends_refresh_cookie() => (jar.add(clear_refresh_cookie()), e).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogoutQuery {
    /// `global`: end every session of the user; left out (or `session`): this one.
    #[param(example = "global")]
    scope: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/auth/logout",
    tag = "auth",
    security(("refresh_cookie" = []), ("bearer" = []), ()),
    params(
        LogoutQuery,
        ("X-Requested-With" = String, Header, description = "Must be `XMLHttpRequest` (the CSRF guard)", example = "XMLHttpRequest"),
    ),
    responses(
        (status = 204, description = "Signed out (or nothing to end); the cookie is cleared",
            headers(("Set-Cookie" = String, description = "Clears `__Secure-refresh_token`"))),
        (status = 422, description = "An unknown `scope`", body = ErrorBody,
            example = json!({"error": "validation_failed", "message": "Unknown logout scope \"all\": use `global` or leave it out."})),
        (status = 401, description = "`scope=global` from a session whose sign-in is older than `REAUTH_MAX_AGE` (RFC 9470): re-authenticate, then try again. Nothing was changed; the cookie stays", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer error=\"insufficient_user_authentication\", error_description=\"…\", max_age=600` (`DPoP …` for a DPoP-bound session)")),
            example = json!({"error": "insufficient_user_authentication", "message": "This action needs a recent sign-in: confirm it is you, then try again."})),
        (status = 400, description = "More than one refresh cookie: nothing was changed", body = ErrorBody,
            example = json!({"error": "multiple_refresh_cookies", "message": "The request carried more than one refresh_token cookie, so it is unclear which session it is for; nothing was changed. Clear this site's cookies and sign in again."})),
        (status = 403, description = "The CSRF guard refused the request", body = ErrorBody,
            example = json!({"error": "csrf_rejected", "message": "This endpoint requires the header `X-Requested-With: XMLHttpRequest`."})),
        (status = 500, description = "A bug or a database failure (the detail is in the server log)", body = ErrorBody,
            example = json!({"error": "internal_error", "message": "Something went wrong on the server."})),
    )
)]
/// `POST /api/auth/logout[?scope=global]` → 204. Ends this session (or every session of the
/// user) and clears the cookie. Acts only for a *current* credential: the session's current
/// refresh token (or its predecessor within grace), or else a valid access token of a live
/// session. Anything else — a rotated or ended token, a revoked access token — still gets the
/// 204 and the cleared cookie, but ends nothing.
pub async fn logout(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<LogoutQuery>,
    headers: HeaderMap,
    dpop: DpopProof,
    who: Client,
    presented: PresentedRefresh,
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
    let jar = presented.answer(jar);
    let mut session = match presented.cookie {
        RefreshCookie::One { token, .. } => state.sessions.live_session_of_token(&token).await?,
        RefreshCookie::Absent => None,
        RefreshCookie::Several => return Err(ApiError::MultipleRefreshCookies),
    };
    if session.is_none() {
        session = live_session_of_bearer(&state, &headers, &dpop).await?;
    }
    if let Some((sid, user_id)) = session {
        if global {
            // A dangerous action: it needs a recent sign-in (the cookie stays as it is).
            require_recent_session(&state, &sid).await?;
            let n = state
                .sessions
                .revoke_all(user_id, EndReason::LogoutGlobal, &sid, &who)
                .await?;
            tracing::info!(user = user_id.0, sessions = n, "signed out everywhere");
        } else {
            state
                .sessions
                .revoke(&sid, Some(user_id), EndReason::Logout, &who)
                .await?;
            tracing::info!(user = user_id.0, session = %sid, "signed out");
        }
    }
    Ok((jar.add(clear_refresh_cookie()), StatusCode::NO_CONTENT).into_response())
}

/// The session of a valid, unrevoked access token whose session is still live. A DPoP-bound
/// token counts only as `Authorization: DPoP` with a proof by its key: a stolen bound token
/// presented as Bearer signs nobody out.
pub(crate) async fn live_session_of_bearer(
    state: &AppState,
    headers: &HeaderMap,
    dpop: &DpopProof,
) -> Result<Option<(SessionId, UserId)>, ApiError> {
    let Some((scheme, token)) = presented_token(headers) else {
        return Ok(None);
    };
    let Ok(claims) = state.tokens.verify_fresh(token).await else {
        return Ok(None);
    };
    match (&claims.cnf, scheme, dpop.proof.as_deref()) {
        (None, Scheme::Bearer, _) => {}
        (Some(cnf), Scheme::Dpop, Some(proof)) => {
            // A nonce to ask for, or a database error, is an answer of its own: a 204 would
            // tell the client its session ended when it did not.
            let proved = match state
                .dpop
                .check(proof, &dpop.method, &dpop.urls, Some(token))
                .await
            {
                Ok(verified) => verified,
                Err(e @ (DpopError::UseNonce { .. } | DpopError::Db(_))) => {
                    return Err(ApiError::dpop(e, false))
                }
                Err(_) => return Ok(None),
            };
            if proved.jkt != cnf.jkt {
                return Ok(None);
            }
        }
        _ => return Ok(None),
    }
    let (Some(user_id), Some(sid)) = (claims.user_id(), claims.session_id()) else {
        return Ok(None);
    };
    if state.sessions.revocations().is_revoked(sid.as_str())
        || !state.sessions.is_live(&sid, user_id).await?
    {
        return Ok(None);
    }
    Ok(Some((sid, user_id)))
}

/// Ends the session of a refresh cookie the request still carries (sign-in replaces it) — only
/// if there is exactly one and it is that session's current credential.
async fn end_presented_session(
    state: &AppState,
    presented: &PresentedRefresh,
    client: &Client,
) -> Result<(), ApiError> {
    if let RefreshCookie::One { token, .. } = &presented.cookie {
        if let Some((sid, uid)) = state.sessions.live_session_of_token(token).await? {
            state
                .sessions
                .revoke(&sid, Some(uid), EndReason::Replaced, client)
                .await?;
        }
    }
    Ok(())
}

/// The token response: access token in the body, refresh token in the cookie (kept until the
/// session's absolute end).
fn token_response(jar: CookieJar, pair: TokenPair, status: StatusCode) -> Response {
    let body = TokenResponse {
        access_token: pair.access_token,
        token_type: if pair.dpop_jkt.is_some() {
            "DPoP".into()
        } else {
            "Bearer".into()
        },
        expires_in: pair.expires_in,
        session_id: pair.session_id.to_string(),
        idle_expires_in: Some(pair.idle_expires_in.as_secs()),
        session_expires_in: Some(pair.session_expires_in.as_secs()),
        user: UserSummary {
            id: pair.user_id.0,
            username: pair.username,
        },
    };
    let jar = jar.add(refresh_cookie(
        pair.refresh_token.0,
        pair.session_expires_in,
    ));
    (status, jar, Json(body)).into_response()
}
