//! **Where dangerous actions demand a recent sign-in** (RFC 9470 step-up): [`Recent`], the
//! caller of a route that ends other sessions or changes how the account signs in. An access
//! token whose `auth_time` is older than `REAUTH_MAX_AGE` gets 401
//! `insufficient_user_authentication` with
//! `WWW-Authenticate: Bearer error="insufficient_user_authentication", …, max_age=600` (`DPoP`
//! for a DPoP-bound token); the client re-authenticates (`POST /api/auth/reauthenticate`) and
//! sends the request once more.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::authentication::Authentication;
use crate::http::error::ApiError;
use crate::http::extract::Authenticated;
use crate::ids::SessionId;
use crate::state::AppState;

/// The caller of a dangerous route: [`Authenticated`], with a recent enough authentication.
#[derive(Debug, Clone)]
pub struct Recent(pub Authenticated);

impl FromRequestParts<AppState> for Recent {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let who = Authenticated::from_request_parts(parts, state).await?;
        require_recent_token(state, &who)?;
        Ok(Recent(who))
    }
}

/// Refuses `who` unless their token's `auth_time` is within `REAUTH_MAX_AGE` (a token without
/// one, issued before step-up existed, never is).
pub fn require_recent_token(state: &AppState, who: &Authenticated) -> Result<(), ApiError> {
    let recency = state.config.sessions.reauth;
    match who.claims.auth_time {
        Some(at) if recency.allows(at, state.clock.now()) => Ok(()),
        _ => Err(ApiError::InsufficientUserAuthentication {
            max_age: recency.max_age_secs(),
            dpop: who.claims.cnf.is_some(),
        }),
    }
}

/// Refuses an action authorised by the refresh cookie (sign out everywhere) unless session
/// `sid`'s own authentication is recent. A session that is no longer live passes: the action
/// ends nothing there.
pub async fn require_recent_session(state: &AppState, sid: &SessionId) -> Result<(), ApiError> {
    let Some((auth, dpop_jkt)) = state.sessions.authentication(sid).await? else {
        return Ok(());
    };
    let recency = state.config.sessions.reauth;
    if recency.allows(Authentication::auth_time(auth), state.clock.now()) {
        return Ok(());
    }
    Err(ApiError::InsufficientUserAuthentication {
        max_age: recency.max_age_secs(),
        dpop: dpop_jkt.is_some(),
    })
}
